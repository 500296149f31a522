// SPDX-License-Identifier: MIT
// Reference model of the guest page allocator (assembly/mm/*): the same algorithm in plain
// TypeScript over typed arrays, written to be obviously right rather than clever. It is the oracle
// of the differential tests and the JS baseline of `npm run bench`. Model: no hooks (reclaim,
// compaction and OOM free nothing), no host: a write only bumps the content version.

import * as abi from "../../host/guest/abi.generated.js";

const NIL = 0xffffffff;
const NR_ZONES = abi.NR_ZONES;
const NR_ORDERS = abi.NR_ORDERS;
const NR_MT = abi.NR_MIGRATETYPES;
const MAX_ORDER = abi.MAX_ORDER;
const PB_ORDER = abi.PAGEBLOCK_ORDER;
const PB_PAGES = abi.PAGEBLOCK_NR_PAGES;
const NR_PCP_LISTS = (abi.PAGE_ALLOC_COSTLY_ORDER + 1) * abi.MT_PCPTYPES;
const ZONE_LISTS = NR_ORDERS * NR_MT;
const FIRMWARE_FRAMES = 256;
const RAMWIN_PFN = 256;
const RAMWIN_FRAMES = 256;
const DMA32_END_PFN = 1 << 20;
const ALLOC_MIN_RESERVE = 1, ALLOC_NON_BLOCK = 2, ALLOC_HIGHATOMIC = 4, ALLOC_OOM = 8;
const RMQUEUE_NORMAL = 0, RMQUEUE_CLAIM = 1, RMQUEUE_STEAL = 2;

export interface RefBuddyConfig {
  frames: number;
  nrCpus?: number;
  movableStartPfn?: number;
  bootEndPfn?: number;
  initOnAlloc?: boolean;
  minFreeKbytes?: number;
  watermarkScaleFactor?: number;
  watermarkBoostFactor?: number;
}

/** Per-zone state; the same fields as assembly/mm/zone.ts. */
interface RefZone {
  start: number;
  end: number;
  managed: number;
  free: number;
  /** nr_free_highatomic and nr_reserved_highatomic */
  freeHa: number;
  reservedHa: number;
  wmark: [number, number, number];
  boost: number;
  boosted: boolean;
  nrFree: Uint32Array;
  batch: number;
  high: number;
}

export class RefBuddy {
  readonly frames: number;
  readonly nrCpus: number;
  readonly pflags: Uint8Array;
  readonly porder: Uint8Array;
  readonly next: Uint32Array;
  readonly prev: Uint32Array;
  readonly versions: Uint32Array;
  readonly pageblock: Uint8Array;
  readonly zones: RefZone[] = [];
  // List heads: zone free lists first (zone, order, mt), then pcp lists (cpu, zone, order, mt).
  private readonly lh: Uint32Array;
  private readonly lt: Uint32Array;
  private readonly lc: Uint32Array;
  private readonly pcpCount: Uint32Array; // per (cpu, zone)
  private readonly initOnAlloc: boolean;
  private readonly cfg: RefBuddyConfig;
  currentCpu = 0;
  minFreeKbytes = 0;
  nrFreePages = 0;
  managedPages = 0;
  nrPcp = 0;
  pgalloc = 0;
  pgfree = 0;
  extfragFails = 0;
  compactStall = 0;
  private rmqueueMode = RMQUEUE_NORMAL;
  private pbFree = 0;
  private pbMovable = 0;

  constructor(cfg: RefBuddyConfig) {
    this.cfg = cfg;
    const n = cfg.frames;
    this.frames = n;
    this.nrCpus = Math.min(256, Math.max(1, cfg.nrCpus ?? 1));
    this.pflags = new Uint8Array(n);
    this.porder = new Uint8Array(n);
    this.next = new Uint32Array(n).fill(NIL);
    this.prev = new Uint32Array(n).fill(NIL);
    this.versions = new Uint32Array(n);
    this.pageblock = new Uint8Array(Math.ceil(n / PB_PAGES)).fill(abi.MT_MOVABLE);
    const nLists = NR_ZONES * ZONE_LISTS + this.nrCpus * NR_ZONES * NR_PCP_LISTS;
    this.lh = new Uint32Array(nLists).fill(NIL);
    this.lt = new Uint32Array(nLists).fill(NIL);
    this.lc = new Uint32Array(nLists);
    this.pcpCount = new Uint32Array(this.nrCpus * NR_ZONES);
    this.initOnAlloc = cfg.initOnAlloc ?? true;
    for (let z = 0; z < NR_ZONES; z++) {
      this.zones.push({ start: 0, end: 0, managed: 0, free: 0, freeHa: 0, reservedHa: 0, wmark: [0, 0, 0], boost: 0, boosted: false, nrFree: new Uint32Array(NR_ORDERS), batch: 0, high: 0 });
    }
    for (let p = RAMWIN_PFN; p < RAMWIN_PFN + RAMWIN_FRAMES; p++) this.pflags[p] = abi.PT_RAMWIN;
    this.boot();
  }

  // ---- lists ----
  /** Sets the type byte of the 2^order frames at `pfn` (a plain store for single pages). */
  private mark(pfn: number, order: number, value: number): void {
    if (order === 0) this.pflags[pfn] = value;
    else this.pflags.fill(value, pfn, pfn + (1 << order));
  }
  private listAddHead(l: number, pfn: number): void {
    const h = this.lh[l];
    this.prev[pfn] = NIL;
    this.next[pfn] = h;
    if (h !== NIL) this.prev[h] = pfn; else this.lt[l] = pfn;
    this.lh[l] = pfn;
    this.lc[l]++;
  }
  private listAddTail(l: number, pfn: number): void {
    const t = this.lt[l];
    this.next[pfn] = NIL;
    this.prev[pfn] = t;
    if (t !== NIL) this.next[t] = pfn; else this.lh[l] = pfn;
    this.lt[l] = pfn;
    this.lc[l]++;
  }
  private listDel(l: number, pfn: number): void {
    const n = this.next[pfn], p = this.prev[pfn];
    if (p !== NIL) this.next[p] = n; else this.lh[l] = n;
    if (n !== NIL) this.prev[n] = p; else this.lt[l] = p;
    this.next[pfn] = NIL;
    this.prev[pfn] = NIL;
    this.lc[l]--;
  }
  private freeList(z: number, order: number, mt: number): number { return z * ZONE_LISTS + order * NR_MT + mt; }
  private pcpList(cpu: number, z: number, order: number, mt: number): number {
    return NR_ZONES * ZONE_LISTS + (cpu * NR_ZONES + z) * NR_PCP_LISTS + order * abi.MT_PCPTYPES + mt;
  }

  // ---- small accessors ----
  private orderOf(pfn: number): number { return this.porder[pfn] & 0x0f; }
  private listMtOf(pfn: number): number { return this.porder[pfn] >>> 4; }
  pageblockMt(pfn: number): number { return this.pageblock[pfn >>> PB_ORDER] & abi.PB_MT_MASK; }
  private setPageblockMt(pfn: number, mt: number): void {
    const i = pfn >>> PB_ORDER;
    this.pageblock[i] = (this.pageblock[i] & ~abi.PB_MT_MASK) | mt;
  }
  pfnZone(pfn: number): number { return (this.pageblock[pfn >>> PB_ORDER] & abi.PB_ZONE_MASK) >>> abi.PB_ZONE_SHIFT; }
  private setRangeZone(start: number, end: number, z: number): void {
    if (start >= end) return;
    for (let pb = start >>> PB_ORDER; pb < Math.ceil(end / PB_PAGES); pb++) {
      this.pageblock[pb] = (this.pageblock[pb] & ~abi.PB_ZONE_MASK) | (z << abi.PB_ZONE_SHIFT);
    }
  }
  private spans(z: number, pfn: number): boolean { return pfn >= this.zones[z].start && pfn < this.zones[z].end; }
  private accountFreepages(z: number, nr: number, mt: number): void {
    if (mt === abi.MT_ISOLATE) return;
    this.zones[z].free += nr;
    this.nrFreePages += nr;
    if (mt === abi.MT_HIGHATOMIC) this.zones[z].freeHa += nr;
  }

  // ---- buddy core ----
  private addToFreeList(z: number, pfn: number, order: number, mt: number, tail: boolean): void {
    this.pflags[pfn] = abi.PT_FREE | abi.PG_BUDDY;
    this.porder[pfn] = (mt << 4) | order;
    const l = this.freeList(z, order, mt);
    if (tail) this.listAddTail(l, pfn); else this.listAddHead(l, pfn);
    this.zones[z].nrFree[order]++;
  }
  private delFromFreeList(z: number, pfn: number, order: number, mt: number): void {
    this.listDel(this.freeList(z, order, mt), pfn);
    this.pflags[pfn] = abi.PT_FREE;
    this.zones[z].nrFree[order]--;
  }
  private moveToFreeList(z: number, pfn: number, order: number, oldMt: number, newMt: number): void {
    this.listDel(this.freeList(z, order, oldMt), pfn);
    this.porder[pfn] = (newMt << 4) | order;
    this.listAddTail(this.freeList(z, order, newMt), pfn);
    this.accountFreepages(z, -(1 << order), oldMt);
    this.accountFreepages(z, 1 << order, newMt);
  }
  private isBuddy(z: number, pfn: number, order: number): boolean {
    return (this.pflags[pfn] & abi.PG_BUDDY) !== 0 && this.orderOf(pfn) === order && this.pfnZone(pfn) === z;
  }
  private changePageblockRange(pfn: number, order: number, mt: number): void {
    const n = order >= PB_ORDER ? 1 << (order - PB_ORDER) : 1;
    for (let i = 0; i < n; i++) this.setPageblockMt(pfn + i * PB_PAGES, mt);
  }
  private static mergeable(mt: number): boolean { return mt < abi.MT_PCPTYPES; }

  private freeOneBlock(z: number, pfn: number, order: number, mt: number, fpi: number): void {
    this.accountFreepages(z, 1 << order, mt);
    while (order < MAX_ORDER) {
      const buddy = (pfn ^ (1 << order)) >>> 0;
      if (buddy >= this.frames || !this.isBuddy(z, buddy, order)) break;
      const buddyMt = this.listMtOf(buddy);
      if (order >= PB_ORDER && mt !== buddyMt && (!RefBuddy.mergeable(mt) || !RefBuddy.mergeable(buddyMt))) break;
      this.delFromFreeList(z, buddy, order, buddyMt);
      if (buddyMt !== mt) {
        this.accountFreepages(z, -(1 << order), buddyMt);
        this.accountFreepages(z, 1 << order, mt);
        if (order >= PB_ORDER) this.changePageblockRange(buddy, order, mt);
      }
      pfn = pfn & buddy;
      order++;
    }
    let tail: boolean;
    if (fpi & abi.FPI_TO_TAIL) tail = true;
    else if (order >= MAX_ORDER - 1) tail = false;
    else {
      const higher = pfn & (pfn ^ (1 << order));
      const hb = (higher ^ (1 << (order + 1))) >>> 0;
      tail = hb < this.frames && this.isBuddy(z, hb, order + 1);
    }
    this.addToFreeList(z, pfn, order, mt, tail);
  }

  private freeBlockToBuddy(z: number, pfn: number, order: number, fpi: number): void {
    if (order <= PB_ORDER) { this.freeOneBlock(z, pfn, order, this.pageblockMt(pfn), fpi); return; }
    for (let p = pfn; p < pfn + (1 << order); p += PB_PAGES) this.freeOneBlock(z, p, PB_ORDER, this.pageblockMt(p), fpi);
  }

  private expand(z: number, pfn: number, low: number, high: number, mt: number): number {
    let added = 0;
    while (high > low) {
      high--;
      const size = 1 << high;
      this.addToFreeList(z, pfn + size, high, mt, false);
      added += size;
    }
    return added;
  }
  private pageDelAndExpand(z: number, pfn: number, low: number, high: number, mt: number): void {
    this.delFromFreeList(z, pfn, high, mt);
    const added = this.expand(z, pfn, low, high, mt);
    this.accountFreepages(z, -((1 << high) - added), mt);
  }
  private rmqueueSmallest(z: number, order: number, mt: number): number {
    for (let o = order; o < NR_ORDERS; o++) {
      const pfn = this.lh[this.freeList(z, o, mt)];
      if (pfn === NIL) continue;
      this.pageDelAndExpand(z, pfn, order, o, mt);
      return pfn;
    }
    return NIL;
  }
  private static fallback(mt: number, i: number): number {
    if (mt === abi.MT_UNMOVABLE) return i === 0 ? abi.MT_RECLAIMABLE : abi.MT_MOVABLE;
    if (mt === abi.MT_MOVABLE) return i === 0 ? abi.MT_RECLAIMABLE : abi.MT_UNMOVABLE;
    return i === 0 ? abi.MT_UNMOVABLE : abi.MT_MOVABLE;
  }
  private findSuitableFallback(z: number, order: number, mt: number, claimable: boolean): number {
    if (claimable && !(order >= PB_ORDER || order >= (PB_ORDER >> 1) || mt === abi.MT_RECLAIMABLE || mt === abi.MT_UNMOVABLE)) return -2;
    if (this.zones[z].nrFree[order] === 0) return -1;
    for (let i = 0; i < 2; i++) {
      const f = RefBuddy.fallback(mt, i);
      if (this.lh[this.freeList(z, order, f)] !== NIL) return f;
    }
    return -1;
  }
  private boostWatermark(z: number): boolean {
    const zone = this.zones[z];
    const factor = this.cfg.watermarkBoostFactor ?? 15000;
    if (factor === 0) return false;
    if (PB_PAGES * 4 > zone.managed) return false;
    let maxBoost = Math.floor(zone.wmark[abi.WMARK_HIGH] * factor / 10000);
    if (maxBoost === 0) return false;
    maxBoost = Math.max(PB_PAGES, maxBoost);
    zone.boost = Math.min(zone.boost + PB_PAGES, maxBoost);
    zone.boosted = true;
    return true;
  }
  private prepMoveFreepagesBlock(z: number, pfn: number): boolean {
    const start = pfn - (pfn % PB_PAGES);
    const end = start + PB_PAGES;
    if (!this.spans(z, start) || !this.spans(z, end - 1)) return false;
    let free = 0, movable = 0;
    for (let p = start; p < end;) {
      const f = this.pflags[p];
      if (f & abi.PG_BUDDY) { const n = 1 << this.orderOf(p); free += n; p += n; continue; }
      const t = f & abi.PT_MASK;
      if (t === abi.PT_ANON || t === abi.PT_FILE || t === abi.PT_BALLOON) movable++;
      p++;
    }
    this.pbFree = free;
    this.pbMovable = movable;
    return true;
  }
  private moveFreepagesBlock(z: number, start: number, newMt: number): number {
    let moved = 0;
    for (let p = start; p < start + PB_PAGES;) {
      if ((this.pflags[p] & abi.PG_BUDDY) === 0) { p++; continue; }
      const order = this.orderOf(p);
      this.moveToFreeList(z, p, order, this.listMtOf(p), newMt);
      p += 1 << order;
      moved += 1 << order;
    }
    return moved;
  }
  private tryToClaimBlock(z: number, pfn: number, co: number, order: number, startMt: number, blockMt: number): number {
    if (co >= PB_ORDER) {
      this.delFromFreeList(z, pfn, co, blockMt);
      this.accountFreepages(z, -(1 << co), blockMt);
      this.changePageblockRange(pfn, co, startMt);
      const added = this.expand(z, pfn, order, co, startMt);
      this.accountFreepages(z, added, startMt);
      return pfn;
    }
    this.boostWatermark(z);
    if (!this.prepMoveFreepagesBlock(z, pfn)) return NIL;
    const free = this.pbFree, movable = this.pbMovable;
    let alike = 0;
    if (startMt === abi.MT_MOVABLE) alike = movable;
    else if (blockMt === abi.MT_MOVABLE) alike = PB_PAGES - (free + movable);
    if (free + alike >= 1 << (PB_ORDER - 1)) {
      const start = pfn - (pfn % PB_PAGES);
      this.moveFreepagesBlock(z, start, startMt);
      this.setPageblockMt(start, startMt);
      return this.rmqueueSmallest(z, order, startMt);
    }
    return NIL;
  }
  private rmqueueClaim(z: number, order: number, mt: number): number {
    for (let o = MAX_ORDER; o >= order; o--) {
      const f = this.findSuitableFallback(z, o, mt, true);
      if (f === -1) continue;
      if (f === -2) break;
      const page = this.tryToClaimBlock(z, this.lh[this.freeList(z, o, f)], o, order, mt, f);
      if (page !== NIL) { if (o < PB_ORDER) this.extfragFails++; return page; }
    }
    return NIL;
  }
  private rmqueueSteal(z: number, order: number, mt: number): number {
    for (let o = order; o < NR_ORDERS; o++) {
      const f = this.findSuitableFallback(z, o, mt, false);
      if (f === -1) continue;
      const pfn = this.lh[this.freeList(z, o, f)];
      this.pageDelAndExpand(z, pfn, order, o, f);
      if (o < PB_ORDER) this.extfragFails++;
      return pfn;
    }
    return NIL;
  }
  private rmqueue(z: number, order: number, mt: number): number {
    let page = NIL;
    if (this.rmqueueMode === RMQUEUE_NORMAL) {
      page = this.rmqueueSmallest(z, order, mt);
      if (page !== NIL) return page;
    }
    if (this.rmqueueMode <= RMQUEUE_CLAIM) {
      page = this.rmqueueClaim(z, order, mt);
      if (page !== NIL) { this.rmqueueMode = RMQUEUE_NORMAL; return page; }
    }
    page = this.rmqueueSteal(z, order, mt);
    if (page !== NIL) this.rmqueueMode = RMQUEUE_STEAL;
    return page;
  }

  // ---- pcp ----
  private static batchsize(managed: number): number {
    let b = Math.min(managed >>> 10, 256);
    b = Math.floor(b / 4);
    if (b < 1) b = 1;
    const x = b + Math.floor(b / 2);
    const batch = (1 << (31 - Math.clz32(x))) - 1;
    return batch < 1 ? 1 : batch;
  }
  private pcpUpdate(z: number): void {
    const zone = this.zones[z];
    zone.batch = RefBuddy.batchsize(zone.managed);
    zone.high = Math.max(Math.floor(zone.wmark[abi.WMARK_LOW] / this.nrCpus), zone.batch * 4);
  }
  private pcpAlloc(z: number, order: number, mt: number): number {
    const l = this.pcpList(this.currentCpu, z, order, mt);
    const ci = this.currentCpu * NR_ZONES + z;
    if (this.lh[l] === NIL) {
      let batch = this.zones[z].batch;
      if (order > 0) batch = Math.max(batch >>> order, 2);
      this.rmqueueMode = RMQUEUE_NORMAL;
      let got = 0;
      for (; got < batch; got++) {
        const pfn = this.rmqueue(z, order, mt);
        if (pfn === NIL) break;
        this.mark(pfn, order, abi.PT_PCP);
        this.porder[pfn] = (mt << 4) | order;
        this.listAddTail(l, pfn);
      }
      if (got === 0) return NIL;
      this.pcpCount[ci] += got << order;
      this.nrPcp += got << order;
    }
    const pfn = this.lh[l];
    this.listDel(l, pfn);
    this.pcpCount[ci] -= 1 << order;
    this.nrPcp -= 1 << order;
    return pfn;
  }
  private pcpFree(z: number, pfn: number, order: number): boolean {
    let mt = this.pageblockMt(pfn);
    if (mt >= abi.MT_PCPTYPES) {
      if (mt === abi.MT_ISOLATE) return false;
      mt = abi.MT_MOVABLE;
    }
    const ci = this.currentCpu * NR_ZONES + z;
    this.mark(pfn, order, abi.PT_PCP);
    this.porder[pfn] = (mt << 4) | order;
    this.listAddHead(this.pcpList(this.currentCpu, z, order, mt), pfn);
    this.pcpCount[ci] += 1 << order;
    this.nrPcp += 1 << order;
    if (this.pcpCount[ci] >= this.zones[z].high) this.freePcppagesBulk(this.currentCpu, z, this.zones[z].batch, order * abi.MT_PCPTYPES + mt);
    return true;
  }
  private freePcppagesBulk(cpu: number, z: number, count: number, pindex: number): void {
    const ci = cpu * NR_ZONES + z;
    let left = Math.min(count, this.pcpCount[ci]);
    let idx = pindex - 1;
    let freed = 0;
    while (left > 0) {
      let l: number;
      do {
        idx++;
        if (idx > NR_PCP_LISTS - 1) idx = 0;
        l = this.pcpList(cpu, z, 0, 0) + idx;
      } while (this.lh[l] === NIL);
      const order = Math.floor(idx / abi.MT_PCPTYPES);
      do {
        const pfn = this.lt[l];
        this.listDel(l, pfn);
        this.mark(pfn, order, abi.PT_FREE);
        this.freeOneBlock(z, pfn, order, this.pageblockMt(pfn), abi.FPI_NONE);
        left -= 1 << order;
        freed += 1 << order;
      } while (left > 0 && this.lh[l] !== NIL);
    }
    this.pcpCount[ci] -= freed;
    this.nrPcp -= freed;
  }
  drainPcp(): void {
    for (let c = 0; c < this.nrCpus; c++) {
      for (let z = 0; z < NR_ZONES; z++) {
        const n = this.pcpCount[c * NR_ZONES + z];
        if (n !== 0) this.freePcppagesBulk(c, z, n, 0);
      }
    }
  }
  setCpu(cpu: number): boolean {
    if (cpu >= this.nrCpus) return false;
    this.currentCpu = cpu;
    return true;
  }

  // ---- watermarks ----
  private setupWmarks(): void {
    let lowmem = 0;
    for (let z = 0; z < NR_ZONES; z++) if (z !== abi.ZONE_MOVABLE) lowmem += this.zones[z].managed;
    if (this.cfg.minFreeKbytes !== undefined) this.minFreeKbytes = this.cfg.minFreeKbytes;
    else {
      const kb = lowmem * 4;
      let k = Math.floor(Math.sqrt(kb * 16));
      while (k * k > kb * 16) k--;
      while ((k + 1) * (k + 1) <= kb * 16) k++;
      this.minFreeKbytes = Math.min(262144, Math.max(128, k));
    }
    const pagesMin = this.minFreeKbytes >>> 2;
    const scale = this.cfg.watermarkScaleFactor ?? 10;
    for (let z = 0; z < NR_ZONES; z++) {
      const zone = this.zones[z];
      const prop = lowmem === 0 ? 0 : Math.floor(pagesMin * zone.managed / lowmem);
      let min = prop;
      if (z === abi.ZONE_MOVABLE) min = Math.min(128, Math.max(32, Math.floor(zone.managed / 1024)));
      const tmp = Math.max(prop >>> 2, Math.floor(zone.managed * scale / 10000));
      zone.wmark = [min, min + tmp, min + 2 * tmp];
      zone.boost = 0;
    }
  }
  /** __zone_watermark_ok against an absolute mark. */
  watermarkOkFlags(z: number, order: number, mark: number, flags: number): boolean {
    const zone = this.zones[z];
    let freePages = zone.free - ((1 << order) - 1);
    if (!(flags & (ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC | ALLOC_OOM))) freePages -= zone.freeHa;
    let min = mark;
    if (flags & ALLOC_MIN_RESERVE) {
      min -= Math.floor(min / 2);
      if (flags & ALLOC_NON_BLOCK) min -= Math.floor(min / 4);
    }
    if (flags & ALLOC_OOM) min -= Math.floor(min / 2);
    if (freePages <= min) return false;
    if (order === 0) return true;
    for (let o = order; o < NR_ORDERS; o++) {
      if (zone.nrFree[o] === 0) continue;
      for (let mt = 0; mt < abi.MT_PCPTYPES; mt++) if (this.lh[this.freeList(z, o, mt)] !== NIL) return true;
      if ((flags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) && this.lh[this.freeList(z, o, abi.MT_HIGHATOMIC)] !== NIL) return true;
    }
    return false;
  }
  wmarkPages(z: number, mark: number): number { return this.zones[z].wmark[mark] + this.zones[z].boost; }

  // ---- boot ----
  private freeRangeCore(z: number, start: number, end: number): void {
    if (start >= end) return;
    this.pflags.fill(abi.PT_FREE, start, end);
    for (let p = start; p < end;) {
      let order = p === 0 ? MAX_ORDER : Math.min(MAX_ORDER, 31 - Math.clz32(p & -p));
      while (p + (1 << order) > end) order--;
      this.freeBlockToBuddy(z, p, order, abi.FPI_TO_TAIL);
      p += 1 << order;
    }
    this.zones[z].managed += end - start;
    this.managedPages += end - start;
  }
  private boot(): void {
    let bootEnd = this.frames;
    if (this.cfg.bootEndPfn !== undefined && this.cfg.bootEndPfn < bootEnd) bootEnd = this.cfg.bootEndPfn - (this.cfg.bootEndPfn % PB_PAGES);
    let movStart = bootEnd;
    if (this.cfg.movableStartPfn !== undefined) {
      const m = Math.ceil(this.cfg.movableStartPfn / (1 << MAX_ORDER)) * (1 << MAX_ORDER);
      if (m < bootEnd) movStart = m;
    }
    const dmaEnd = Math.min(DMA32_END_PFN, movStart);
    const spans: [number, number][] = [[0, dmaEnd], [dmaEnd, movStart], [movStart, bootEnd]];
    this.setRangeZone(0, this.frames, abi.ZONE_NORMAL);
    for (let z = 0; z < NR_ZONES; z++) {
      this.zones[z].start = spans[z][0];
      this.zones[z].end = spans[z][1];
      this.setRangeZone(spans[z][0], spans[z][1], z);
    }
    for (let z = 0; z < NR_ZONES; z++) {
      let s = this.zones[z].start;
      const e = this.zones[z].end;
      if (s < FIRMWARE_FRAMES) s = Math.min(FIRMWARE_FRAMES, e);
      const ws = RAMWIN_PFN, we = RAMWIN_PFN + RAMWIN_FRAMES;
      if (we <= s || ws >= e) this.freeRangeCore(z, s, e);
      else {
        this.freeRangeCore(z, s, Math.max(ws, s));
        this.freeRangeCore(z, Math.min(we, e), e);
      }
    }
    this.setupWmarks();
    for (let z = 0; z < NR_ZONES; z++) this.pcpUpdate(z);
  }

  // ---- API ----
  private prepNewPage(pfn: number, order: number, mt: number): void {
    const n = 1 << order;
    if (order > 0) this.pflags.fill(abi.PT_ALLOC, pfn, pfn + n);
    this.pflags[pfn] = abi.PT_ALLOC | abi.PG_HEAD;
    this.porder[pfn] = (mt << 4) | order;
    if (this.initOnAlloc) {
      for (let i = 0; i < n; i++) {
        const v = (this.versions[pfn + i] + 1) >>> 0;
        this.versions[pfn + i] = v === 0 ? 1 : v;
      }
    }
    this.pgalloc += n;
  }
  private rmqueueZone(z: number, order: number, mt: number, flags: number): number {
    if (order <= abi.PAGE_ALLOC_COSTLY_ORDER) {
      const pfn = this.pcpAlloc(z, order, mt);
      if (pfn !== NIL) return pfn;
    }
    this.rmqueueMode = RMQUEUE_NORMAL;
    let pfn = NIL;
    if (order > 0 && (flags & ALLOC_HIGHATOMIC)) pfn = this.rmqueueSmallest(z, order, abi.MT_HIGHATOMIC);
    if (pfn === NIL) {
      pfn = this.rmqueue(z, order, mt);
      if (pfn === NIL && (flags & ALLOC_NON_BLOCK)) pfn = this.rmqueueSmallest(z, order, abi.MT_HIGHATOMIC);
    }
    return pfn;
  }
  private getPage(order: number, mt: number, highest: number, markId: number, flags: number): number {
    for (let z = highest; z >= 0; z--) {
      if (this.zones[z].managed === 0) continue;
      if (!this.watermarkOkFlags(z, order, this.wmarkPages(z, markId), flags)) {
        // zone_watermark_fast: __GFP_HIGH order-0 requests ignore the boost at MIN
        const zone = this.zones[z];
        if (order !== 0 || !(flags & ALLOC_MIN_RESERVE) || markId !== abi.WMARK_MIN || zone.boost === 0
            || !this.watermarkOkFlags(z, 0, zone.wmark[abi.WMARK_MIN], flags)) continue;
      }
      const pfn = this.rmqueueZone(z, order, mt, flags);
      if (pfn === NIL) continue;
      this.zones[z].boosted = false;
      this.prepNewPage(pfn, order, mt);
      if (flags & ALLOC_HIGHATOMIC) this.reserveHighatomic(pfn, order, z);
      return pfn;
    }
    return NIL;
  }
  /** reserve_highatomic_pageblock, capped at managed / 100 + a pageblock. */
  private reserveHighatomic(pfn: number, order: number, z: number): void {
    const zone = this.zones[z];
    if (zone.reservedHa >= Math.floor(zone.managed / 100) + PB_PAGES) return;
    if (!RefBuddy.mergeable(this.pageblockMt(pfn))) return;
    if (order < PB_ORDER) {
      const start = pfn - (pfn % PB_PAGES);
      this.moveFreepagesBlock(z, start, abi.MT_HIGHATOMIC);
      this.setPageblockMt(start, abi.MT_HIGHATOMIC);
      zone.reservedHa += PB_PAGES;
    } else {
      this.changePageblockRange(pfn, order, abi.MT_HIGHATOMIC);
      zone.reservedHa += 1 << order;
    }
  }
  /** unreserve_highatomic_pageblock: one reserved pageblock with a free block back to `mt`. */
  private unreserveHighatomic(mt: number, highest: number, force: boolean): boolean {
    for (let z = highest; z >= 0; z--) {
      const zone = this.zones[z];
      if (zone.managed === 0 || (!force && zone.reservedHa <= PB_PAGES)) continue;
      for (let order = 0; order <= MAX_ORDER; order++) {
        const pfn = this.lh[this.freeList(z, order, abi.MT_HIGHATOMIC)];
        if (pfn === NIL) continue;
        zone.reservedHa -= Math.min(Math.max(PB_PAGES, 1 << order), zone.reservedHa);
        if (order < PB_ORDER) {
          const start = pfn - (pfn % PB_PAGES);
          const moved = this.moveFreepagesBlock(z, start, mt);
          this.setPageblockMt(start, mt);
          if (moved > 0) return true;
        } else {
          this.moveToFreeList(z, pfn, order, abi.MT_HIGHATOMIC, mt);
          this.changePageblockRange(pfn, order, mt);
          return true;
        }
      }
    }
    return false;
  }
  /** nr_reserved_highatomic of zone `z`. */
  reservedHighatomic(z: number): number { return this.zones[z].reservedHa; }
  /** alloc_pages(order, gfp) → head pfn or NIL (0xffffffff). */
  alloc(order: number, gfp: number): number {
    const cls = gfp & abi.GFP_CLASS_MASK;
    if (order > MAX_ORDER || cls >= abi.NR_GFP_CLASSES) return NIL;
    const mt = cls === abi.GFP_MOVABLE ? abi.MT_MOVABLE : cls === abi.GFP_RECLAIMABLE ? abi.MT_RECLAIMABLE : abi.MT_UNMOVABLE;
    const highest = cls === abi.GFP_MOVABLE ? abi.ZONE_MOVABLE : abi.ZONE_NORMAL;
    let pfn = this.getPage(order, mt, highest, abi.WMARK_LOW, 0);
    if (pfn !== NIL) return pfn;
    let flags = 0;
    if (cls === abi.GFP_ATOMIC && (gfp & abi.GFP_NOMEMALLOC) === 0) flags = ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK | (order > 0 ? ALLOC_HIGHATOMIC : 0);
    pfn = this.getPage(order, mt, highest, abi.WMARK_MIN, flags);
    if (pfn !== NIL || cls === abi.GFP_ATOMIC || (gfp & abi.GFP_NORECLAIM)) return pfn;
    // No reclaim, compaction or OOM in the reference: one more MIN try, a compaction stall, the
    // highatomic reserve released before giving up (should_reclaim_retry), then HIGH.
    for (;;) {
      pfn = this.getPage(order, mt, highest, abi.WMARK_MIN, flags);
      if (pfn !== NIL) return pfn;
      if (order > 0) this.compactStall++;
      if (gfp & abi.GFP_NORETRY) return NIL;
      if (!this.unreserveHighatomic(mt, highest, true)) break;
    }
    return this.getPage(order, mt, highest, abi.WMARK_HIGH, flags);
  }
  /** __free_pages with the same checks and codes as the guest. */
  free(pfn: number, order: number, fpi = abi.FPI_NONE): number {
    if (pfn >= this.frames || pfn < 0) return abi.E_RANGE;
    if (order > MAX_ORDER || order < 0 || (pfn & ((1 << order) - 1)) !== 0) return abi.E_INVAL;
    if (pfn + (1 << order) > this.frames) return abi.E_RANGE;
    const f = this.pflags[pfn];
    const t = f & abi.PT_MASK;
    if (t === abi.PT_FREE || t === abi.PT_PCP) return abi.E_DOUBLE_FREE;
    if (t === abi.PT_ISOLATED) return abi.E_BUSY;
    if ((f & abi.PG_HEAD) === 0 || t === abi.PT_RESERVED || t === abi.PT_RAMWIN || this.orderOf(pfn) !== order) return abi.E_NOT_ALLOCATED;
    this.pgfree += 1 << order;
    const z = this.pfnZone(pfn);
    if (fpi === abi.FPI_NONE && order <= abi.PAGE_ALLOC_COSTLY_ORDER && this.pcpFree(z, pfn, order)) return abi.OK;
    this.mark(pfn, order, abi.PT_FREE);
    this.freeBlockToBuddy(z, pfn, order, fpi);
    return abi.OK;
  }
  /** online_pages into zone `z` (same checks as mm_online_pages). */
  online(start: number, count: number, z: number): number {
    if (z >= NR_ZONES || count === 0) return abi.E_INVAL;
    if (start + count > this.frames) return abi.E_RANGE;
    if (start % PB_PAGES !== 0 || count % PB_PAGES !== 0) return abi.E_INVAL;
    if (start < FIRMWARE_FRAMES) return abi.E_BUSY;
    const end = start + count;
    for (let p = start; p < end; p++) {
      const t = this.pflags[p] & abi.PT_MASK;
      if (t !== abi.PT_RESERVED && t !== abi.PT_OFFLINE) return abi.E_BUSY;
    }
    const zone = this.zones[z];
    if (zone.start === zone.end) { zone.start = start; zone.end = end; } else {
      zone.start = Math.min(zone.start, start);
      zone.end = Math.max(zone.end, end);
    }
    this.setRangeZone(start, end, z);
    for (let p = start; p < end; p += PB_PAGES) this.setPageblockMt(p, abi.MT_MOVABLE);
    this.freeRangeCore(z, start, end);
    this.setupWmarks();
    for (let i = 0; i < NR_ZONES; i++) this.pcpUpdate(i);
    return abi.OK;
  }
  /** First / last block of a free list (NIL if empty). */
  freeListFirst(z: number, order: number, mt: number): number { return this.lh[this.freeList(z, order, mt)]; }
  freeListLast(z: number, order: number, mt: number): number { return this.lt[this.freeList(z, order, mt)]; }
  /** free_area[order] blocks of the zone on `mt`'s list, or all types with mt >= NR_MIGRATETYPES. */
  nrFree(z: number, order: number, mt: number): number {
    if (mt >= NR_MT) return this.zones[z].nrFree[order];
    return this.lc[this.freeList(z, order, mt)];
  }
  /** /proc/buddyinfo-like snapshot: [zone][order] nr_free. */
  buddyinfo(): number[][] { return this.zones.map((zone) => Array.from(zone.nrFree)); }
  fragmentationIndex(z: number, order: number): number {
    let blocks = 0, freePages = 0, suitable = 0;
    for (let o = 0; o < NR_ORDERS; o++) {
      const n = this.zones[z].nrFree[o];
      blocks += n;
      freePages += n * (1 << o);
      if (o >= order) suitable += n * (1 << (o - order));
    }
    if (blocks === 0) return 0;
    if (suitable !== 0) return -1000;
    return 1000 - Math.floor((1000 + Math.floor(freePages * 1000 / (1 << order))) / blocks);
  }
  /** Same invariants and codes as mm_validate (abi.ts MMV_*). */
  validate(): number {
    let heads = 0, freeFrames = 0, sumFree = 0, sumManaged = 0;
    for (let z = 0; z < NR_ZONES; z++) {
      let zfree = 0, zfreeHa = 0;
      for (let o = 0; o < NR_ORDERS; o++) {
        let cnt = 0;
        for (let mt = 0; mt < NR_MT; mt++) {
          const l = this.freeList(z, o, mt);
          const n = this.walk(l);
          if (n < 0) return abi.MMV_LIST_LINKS;
          cnt += n;
          for (let p = this.lh[l]; p !== NIL; p = this.next[p]) {
            const r = this.checkFreeBlock(z, p, o, mt);
            if (r !== abi.MMV_OK) return r;
            heads++;
            freeFrames += 1 << o;
            if (mt !== abi.MT_ISOLATE) zfree += 1 << o;
            if (mt === abi.MT_HIGHATOMIC) zfreeHa += 1 << o;
          }
        }
        if (cnt !== this.zones[z].nrFree[o]) return abi.MMV_NR_FREE;
      }
      if (zfree !== this.zones[z].free || zfreeHa !== this.zones[z].freeHa) return abi.MMV_COUNTERS;
      sumFree += zfree;
      sumManaged += this.zones[z].managed;
    }
    let pcpFrames = 0;
    for (let c = 0; c < this.nrCpus; c++) {
      for (let z = 0; z < NR_ZONES; z++) {
        let pages = 0;
        for (let o = 0; o <= abi.PAGE_ALLOC_COSTLY_ORDER; o++) {
          for (let mt = 0; mt < abi.MT_PCPTYPES; mt++) {
            const l = this.pcpList(c, z, o, mt);
            if (this.walk(l) < 0) return abi.MMV_PCP;
            for (let p = this.lh[l]; p !== NIL; p = this.next[p]) {
              if ((this.pflags[p] & abi.PT_MASK) !== abi.PT_PCP || this.orderOf(p) !== o || this.pfnZone(p) !== z) return abi.MMV_PCP;
              pages += 1 << o;
            }
          }
        }
        if (pages !== this.pcpCount[c * NR_ZONES + z]) return abi.MMV_PCP;
        pcpFrames += pages;
      }
    }
    let seenHeads = 0, seenFree = 0, seenPcp = 0;
    for (let p = 0; p < this.frames; p++) {
      const f = this.pflags[p];
      if (f & abi.PG_BUDDY) seenHeads++;
      const t = f & abi.PT_MASK;
      if (t === abi.PT_FREE) seenFree++;
      else if (t === abi.PT_PCP) seenPcp++;
    }
    if (seenHeads !== heads || seenFree !== freeFrames) return abi.MMV_STRAY_FREE;
    if (seenPcp !== pcpFrames) return abi.MMV_PCP;
    if (this.nrFreePages !== sumFree || this.managedPages !== sumManaged || this.nrPcp !== pcpFrames) return abi.MMV_COUNTERS;
    return abi.MMV_OK;
  }
  private walk(l: number): number {
    let prev = NIL, n = 0;
    for (let p = this.lh[l]; p !== NIL; p = this.next[p]) {
      if (p >= this.frames || this.prev[p] !== prev) return -1;
      if (++n > this.frames) return -1;
      prev = p;
    }
    return this.lt[l] === prev && this.lc[l] === n ? n : -1;
  }
  private checkFreeBlock(z: number, p: number, o: number, mt: number): number {
    if ((this.pflags[p] & ~abi.PG_REPORTED) !== (abi.PT_FREE | abi.PG_BUDDY) || this.orderOf(p) !== o || this.listMtOf(p) !== mt) return abi.MMV_FREE_HEAD;
    const size = 1 << o;
    if (p % size !== 0 || p + size > this.frames) return abi.MMV_FREE_HEAD;
    if (this.pfnZone(p) !== z || !this.spans(z, p) || !this.spans(z, p + size - 1)) return abi.MMV_ZONE;
    for (let i = 1; i < size; i++) if (this.pflags[p + i] !== abi.PT_FREE) return abi.MMV_FREE_BODY;
    if (o >= PB_ORDER) {
      for (let q = p; q < p + size; q += PB_PAGES) if (this.pageblockMt(q) !== mt) return abi.MMV_PAGEBLOCK;
    } else if (this.pageblockMt(p) !== mt) return abi.MMV_PAGEBLOCK;
    if (o < PB_ORDER) {
      const b = (p ^ size) >>> 0;
      if (b < this.frames && (this.pflags[b] & abi.PG_BUDDY) && this.orderOf(b) === o && this.pfnZone(b) === z) return abi.MMV_UNMERGED;
    }
    return abi.MMV_OK;
  }
  /** Zone field (abi.ts ZI_*), as mm_zone_info. */
  zoneInfo(z: number, field: number): number {
    const zone = this.zones[z];
    switch (field) {
      case abi.ZI_START_PFN: return zone.start;
      case abi.ZI_END_PFN: return zone.end;
      case abi.ZI_MANAGED: return zone.managed;
      case abi.ZI_FREE: return zone.free;
      case abi.ZI_WMARK_MIN: return zone.wmark[0];
      case abi.ZI_WMARK_LOW: return zone.wmark[1];
      case abi.ZI_WMARK_HIGH: return zone.wmark[2];
      case abi.ZI_WMARK_BOOST: return zone.boost;
      case abi.ZI_PCP_BATCH: return zone.batch;
      case abi.ZI_PCP_HIGH: return zone.high;
      case abi.ZI_PCP_COUNT: { let n = 0; for (let c = 0; c < this.nrCpus; c++) n += this.pcpCount[c * NR_ZONES + z]; return n; }
      case abi.ZI_MIN_FREE_KBYTES: return this.minFreeKbytes;
      case abi.ZI_RESERVED_HIGHATOMIC: return zone.reservedHa;
      case abi.ZI_FREE_HIGHATOMIC: return zone.freeHa;
    }
    return NaN;
  }
  /** Marks an allocated block's frames with a page type (PT_ANON, ...) keeping PG_HEAD on the head. */
  retag(pfn: number, order: number, type: number): void {
    for (let i = 0; i < 1 << order; i++) this.pflags[pfn + i] = (this.pflags[pfn + i] & ~abi.PT_MASK) | type;
  }
}
