// SPDX-License-Identifier: MIT
// The zoned page allocator API: boot (memblock freeing), allocPages with fast and slow paths
// and their reclaim/compaction/OOM hooks, freePages with misuse checks, memory on/offlining.
// Model: one node, no cpusets/mempolicy, no lowmem_reserve; reclaim, compaction and OOM are hooks other modules register. Follows mm/page_alloc.c,
// mm/mm_init.c (memblock_free_pages) and mm/memory_hotplug.c (online_pages).

import {
  NIL, OK, E_RANGE, E_INVAL, E_DOUBLE_FREE, E_NOT_ALLOCATED, E_BUSY, MAX_ORDER, NR_ZONES,
  ZONE_DMA32, ZONE_NORMAL, ZONE_MOVABLE, MT_UNMOVABLE, MT_MOVABLE, MT_RECLAIMABLE, MT_HIGHATOMIC,
  PAGEBLOCK_NR_PAGES, PAGEBLOCK_ORDER, PT_MASK, PT_FREE, PT_PCP, PT_ALLOC, PT_RESERVED, PT_RAMWIN,
  PT_ISOLATED, PT_OFFLINE, PG_HEAD, PG_BUDDY, GFP_MOVABLE, GFP_RECLAIMABLE, GFP_ATOMIC,
  GFP_CLASS_MASK, NR_GFP_CLASSES, GFP_NORETRY, GFP_NOMEMALLOC, GFP_NORECLAIM, GFP_NOKSWAPD, FPI_NONE, FPI_TO_TAIL,
  WMARK_MIN, WMARK_LOW, WMARK_HIGH, PAGE_ALLOC_COSTLY_ORDER, PARAM_INIT_ON_ALLOC,
  PARAM_MOVABLE_START_PFN, PARAM_BOOT_END_PFN, VM_PGALLOC, VM_PGFREE, VM_MANAGED_PAGES,
  VM_COMPACT_STALL, VM_COMPACT_SUCCESS, VM_COMPACT_FAIL, COST_ALLOC_FAST_NS, COST_ALLOC_SLOW_NS,
  COST_PAGE_WRITE_NS, MT_PCPTYPES, PB_ZONE_MASK, PB_ZONE_SHIFT, PB_MT_MASK,
} from "../abi";
import { PFLAGS, PORDER, PAGEBLOCK, nrFrames, nrPageblocks, getOrder, setOrderMt, getPageblockMt } from "./pfn";
import { param, paramIsSet } from "../lib/params";
import { vmstatAdd, vmstatInc, cost } from "../lib/scb";
import { charge } from "../lib/clock";
import { writeFrame, writeFrames } from "../hw/mmu";
import { ramwinPfn, ramwinFrames } from "../hw/ram_window";
import {
  initZones, setZoneSpan, setPfnRangeZone, addZoneManaged, zoneStart, zoneEnd, zonePopulated,
  zoneManaged, pfnZone, zoneFreePages, zoneReservedHighatomic,
  setZoneReservedHighatomic, freeList,
} from "./zone";
import { mtMergeable, changePageblockRange, movePageblock } from "./pageblock";
import { listHead } from "../lib/list";
import { setupPerZoneWmarks, wmarkPages, wmarkRaw, watermarkBoost, zoneWatermarkOkFlags, zoneWatermarkUnusableFree, testClearBoosted, ALLOC_MIN_RESERVE, ALLOC_NON_BLOCK, ALLOC_HIGHATOMIC } from "./watermark";
import { freeBlockToBuddy, rmqueue, rmqueueSmallest, resetRmqueueMode, delPageFromFreeList, moveToFreeList } from "./buddy";
import { initPcp, pcpAlloc, pcpFree, pcpAllowedOrder, zonePcpUpdate, drainPcp } from "./pcp";

/** First 1 MiB (256 frames): BIOS data, real-mode trampoline; x86 never gives it to the buddy. */
export const FIRMWARE_FRAMES: u32 = 256;
/** MAX_RECLAIM_RETRIES (mm/internal.h): reclaim rounds with progress before giving up. */
const MAX_RECLAIM_RETRIES: u32 = 16;
/** OOM rounds (notifier or kill freed something) before an allocation fails anyway. */
const MAX_OOM_ROUNDS: u32 = 16;
/** 4 GiB in frames: the end of ZONE_DMA32. */
const DMA32_END_PFN: u32 = 1 << 20;

let initOnAlloc: bool = true;

// ---- hooks (registered by kswapd/reclaim, compaction, OOM, virtio-balloon) -----------------

/** Wakes kswapd for a request of `order` that may use zones up to `highestZone` (counts VM_KSWAPD_WAKE itself). */
export type KswapdWakeFn = (order: u32, highestZone: u32) => void;
/** Direct reclaim for (order, gfp); returns pages reclaimed (counts ALLOCSTALL itself). */
export type DirectReclaimFn = (order: u32, gfp: u32) => u32;
/** Direct compaction for (order, gfp); true if it believes a block of `order` is now free. */
export type DirectCompactFn = (order: u32, gfp: u32) => bool;
/** OOM notifier (balloon deflate-on-OOM) or OOM killer (counts VM_OOM_KILL itself); returns pages freed. */
export type OomFn = (order: u32, gfp: u32) => u32;

function noKswapd(order: u32, highestZone: u32): void {}
function noReclaim(order: u32, gfp: u32): u32 { return 0; }
function noCompact(order: u32, gfp: u32): bool { return false; }
function noOom(order: u32, gfp: u32): u32 { return 0; }

let kswapdWakeHook: KswapdWakeFn = noKswapd;
let directReclaimHook: DirectReclaimFn = noReclaim;
let directCompactHook: DirectCompactFn = noCompact;
let oomKillHook: OomFn = noOom;
// oom_notify_list: a fixed chain of 4 slots (no closures or arrays of funcrefs needed).
let oomNotifier0: OomFn = noOom;
let oomNotifier1: OomFn = noOom;
let oomNotifier2: OomFn = noOom;
let oomNotifier3: OomFn = noOom;
let nrOomNotifiers: u32 = 0;

export function setKswapdWakeHook(fn: KswapdWakeFn): void { kswapdWakeHook = fn; }
export function setDirectReclaimHook(fn: DirectReclaimFn): void { directReclaimHook = fn; }
export function setDirectCompactHook(fn: DirectCompactFn): void { directCompactHook = fn; }
/** The OOM killer: called after the notifier chain freed nothing. */
export function setOomKillHook(fn: OomFn): void { oomKillHook = fn; }
/** register_oom_notifier: up to 4 notifiers, called in registration order; false if full. */
export function registerOomNotifier(fn: OomFn): bool {
  if (nrOomNotifiers == 0) oomNotifier0 = fn;
  else if (nrOomNotifiers == 1) oomNotifier1 = fn;
  else if (nrOomNotifiers == 2) oomNotifier2 = fn;
  else if (nrOomNotifiers == 3) oomNotifier3 = fn;
  else return false;
  nrOomNotifiers++;
  return true;
}

/** out_of_memory(): the notifier chain first (sum of freed pages), the killer only if it freed nothing. */
function outOfMemory(order: u32, gfp: u32): u32 {
  let freed: u32 = 0;
  if (nrOomNotifiers > 0) freed += oomNotifier0(order, gfp);
  if (nrOomNotifiers > 1) freed += oomNotifier1(order, gfp);
  if (nrOomNotifiers > 2) freed += oomNotifier2(order, gfp);
  if (nrOomNotifiers > 3) freed += oomNotifier3(order, gfp);
  if (freed > 0) return freed;
  return oomKillHook(order, gfp);
}

// ---- boot and hotplug ------------------------------------------------------------------------

/**
 * __free_pages_memory + __free_pages_core: frees [start, end) of zone `z` to the buddy in the
 * largest aligned chunks, to the TAIL, without touching the frames (no host faults).
 */
function freeRangeCore(z: u32, start: u32, end: u32): void {
  if (start >= end) return;
  memory.fill(PFLAGS + <usize>start, PT_FREE, <usize>(end - start));
  let p = start;
  while (p < end) {
    let order: u32 = p == 0 ? MAX_ORDER : <u32>ctz(p);
    if (order > MAX_ORDER) order = MAX_ORDER;
    while (p + (<u32>1 << order) > end) order--;
    freeBlockToBuddy(z, p, order, FPI_TO_TAIL);
    p += <u32>1 << order;
  }
  addZoneManaged(z, <i32>(end - start));
  vmstatAdd(VM_MANAGED_PAGES, <f64>(end - start));
}

/** Frees a zone's boot range, skipping the firmware frames and the RAM window. */
function freeZoneBoot(z: u32): void {
  let s = zoneStart(z);
  const e = zoneEnd(z);
  if (s < FIRMWARE_FRAMES) s = FIRMWARE_FRAMES < e ? FIRMWARE_FRAMES : e;
  const ws = ramwinPfn, we = ramwinPfn + ramwinFrames;
  if (we <= s || ws >= e) { freeRangeCore(z, s, e); return; }
  freeRangeCore(z, s, ws > s ? ws : s);
  freeRangeCore(z, we < e ? we : e, e);
}

/**
 * Boots the page allocator: zone spans (DMA32 below 4 GiB, NORMAL above, MOVABLE from
 * PARAM_MOVABLE_START_PFN), every present frame except firmware and RAM window freed, then
 * watermarks and pcp batch/high. Called once by guest_init right after initRamWindow.
 */
export function mmInit(): void {
  initOnAlloc = param(PARAM_INIT_ON_ALLOC, 1) != 0;
  initZones();
  initPcp();
  let bootEnd = nrFrames;
  if (paramIsSet(PARAM_BOOT_END_PFN)) {
    const b = <u32>param(PARAM_BOOT_END_PFN, 0);
    if (b < bootEnd) bootEnd = b & ~(PAGEBLOCK_NR_PAGES - 1);
  }
  let movStart = bootEnd;
  if (paramIsSet(PARAM_MOVABLE_START_PFN)) {
    // movablecore= is rounded up to MAX_ORDER_NR_PAGES so no buddy block straddles zones.
    let m = <u64>param(PARAM_MOVABLE_START_PFN, 0);
    m = (m + (1 << MAX_ORDER) - 1) & ~(<u64>(1 << MAX_ORDER) - 1);
    if (m < <u64>bootEnd) movStart = <u32>m;
  }
  let dmaEnd = DMA32_END_PFN;
  if (dmaEnd > movStart) dmaEnd = movStart;
  setZoneSpan(ZONE_DMA32, 0, dmaEnd);
  setZoneSpan(ZONE_NORMAL, dmaEnd, movStart);
  setZoneSpan(ZONE_MOVABLE, movStart, bootEnd);
  // Frames above bootEnd: no zone yet (tagged NORMAL until onlinePages says otherwise).
  setPfnRangeZone(0, nrFrames, ZONE_NORMAL);
  for (let z: u32 = 0; z < NR_ZONES; z++) setPfnRangeZone(zoneStart(z), zoneEnd(z), z);
  for (let z: u32 = 0; z < NR_ZONES; z++) freeZoneBoot(z);
  setupPerZoneWmarks();
  for (let z: u32 = 0; z < NR_ZONES; z++) zonePcpUpdate(z);
}

/**
 * online_pages: adds [start, start + count) (pageblock aligned, frames PT_RESERVED or PT_OFFLINE)
 * to zone `z`: extends its span, tags the pageblocks MOVABLE, hands the frames in max-order
 * aligned chunks to the online page callback (default genericOnlinePage: free to the TAIL, count
 * as managed), recomputes watermarks and pcp sizes. Returns OK or E_*.
 */
export function onlinePages(start: u32, count: u32, z: u32): i32 {
  if (z >= NR_ZONES || count == 0) return E_INVAL;
  if (<u64>start + <u64>count > <u64>nrFrames) return E_RANGE;
  if (((start | count) & (PAGEBLOCK_NR_PAGES - 1)) != 0) return E_INVAL;
  const end = start + count;
  if (start < FIRMWARE_FRAMES) return E_BUSY;
  for (let p = start; p < end; p++) {
    const t = load<u8>(PFLAGS + <usize>p) & PT_MASK;
    if (t != PT_RESERVED && t != PT_OFFLINE) return E_BUSY;
  }
  const zs = zoneStart(z), ze = zoneEnd(z);
  if (zs == ze) setZoneSpan(z, start, end);
  else setZoneSpan(z, start < zs ? start : zs, end > ze ? end : ze);
  setPfnRangeZone(start, end, z);
  for (let p = start; p < end; p += PAGEBLOCK_NR_PAGES) {
    const a = PAGEBLOCK + <usize>(p >> PAGEBLOCK_ORDER);
    store<u8>(a, (load<u8>(a) & ~(<u8>0x07)) | <u8>MT_MOVABLE); // memmap_init_range: MIGRATE_MOVABLE
  }
  // online_pages_range: max-order aligned chunks through the online_page_callback.
  let p = start;
  while (p < end) {
    let order: u32 = <u32>ctz(p);
    if (order > MAX_ORDER) order = MAX_ORDER;
    while (p + (<u32>1 << order) > end) order--;
    onlinePageCallback(p, order);
    p += <u32>1 << order;
  }
  setupPerZoneWmarks();
  for (let i: u32 = 0; i < NR_ZONES; i++) zonePcpUpdate(i);
  return OK;
}

/** online_page_callback_t: decides what happens to each onlined 2^order chunk. */
export type OnlinePageFn = (pfn: u32, order: u32) => void;
let onlinePageCallback: OnlinePageFn = genericOnlinePage;

/**
 * generic_online_page: the chunk's frames (PT_RESERVED / PT_OFFLINE) join the buddy at the TAIL
 * and count as managed pages. virtio-mem also calls it to online fake-offline pages later.
 */
export function genericOnlinePage(pfn: u32, order: u32): void {
  if (order > MAX_ORDER || <u64>pfn + (<u64>1 << order) > <u64>nrFrames || pfn < FIRMWARE_FRAMES) return;
  const end = pfn + (<u32>1 << order);
  for (let p = pfn; p < end; p++) {
    const t = load<u8>(PFLAGS + <usize>p) & PT_MASK;
    if (t != PT_RESERVED && t != PT_OFFLINE) return; // misuse: never free frames someone owns
  }
  freeRangeCore(pfnZone(pfn), pfn, end);
}

/**
 * set_online_page_callback: virtio-mem keeps unplugged parts of an onlined memory block out of
 * the buddy (fake offline: not managed) by registering its own callback.
 */
export function setOnlinePageCallback(fn: OnlinePageFn): void { onlinePageCallback = fn; }
/** restore_online_page_callback */
export function restoreOnlinePageCallback(): void { onlinePageCallback = genericOnlinePage; }

/**
 * offline_pages bookkeeping: every frame of [start, start + count) must be in a free buddy
 * block wholly inside the range, or already PT_OFFLINE / PT_RESERVED (the caller migrated or
 * allocated the rest away first). Free blocks leave the buddy; managed pages drop by their
 * size; all frames become PT_OFFLINE. E_BUSY (nothing changed) if anything else is in the way.
 */
export function offlinePages(start: u32, count: u32): i32 {
  if (count == 0) return E_INVAL;
  if (<u64>start + <u64>count > <u64>nrFrames) return E_RANGE;
  const end = start + count;
  drainPcp();
  let p = start;
  while (p < end) {
    const f = load<u8>(PFLAGS + <usize>p);
    if (f & PG_BUDDY) {
      const n = <u32>1 << getOrder(p);
      if (p + n > end) return E_BUSY;
      p += n;
      continue;
    }
    const t = f & PT_MASK;
    if (t != PT_OFFLINE && t != PT_RESERVED) return E_BUSY;
    p++;
  }
  p = start;
  while (p < end) {
    const f = load<u8>(PFLAGS + <usize>p);
    if (f & PG_BUDDY) {
      const order = getOrder(p);
      const z = pfnZone(p);
      delPageFromFreeList(z, p, order, <u32>load<u8>(PORDER + <usize>p) >> 4);
      addZoneManaged(z, -(<i32>1 << order));
      vmstatAdd(VM_MANAGED_PAGES, -<f64>(<u32>1 << order));
      p += <u32>1 << order;
    } else p++;
  }
  memory.fill(PFLAGS + <usize>start, PT_OFFLINE, <usize>count);
  setupPerZoneWmarks();
  for (let i: u32 = 0; i < NR_ZONES; i++) zonePcpUpdate(i);
  return OK;
}

/** adjust_managed_page_count: pages leaving/entering the buddy's accounting (balloon, virtio-mem fake offline). */
export function adjustManagedPages(pfn: u32, delta: i32): void {
  if (pfn >= nrFrames) return;
  addZoneManaged(pfnZone(pfn), delta);
  vmstatAdd(VM_MANAGED_PAGES, <f64>delta);
}

// ---- allocation ------------------------------------------------------------------------------

/** gfp_migratetype: the free-list type a request class allocates from. */
// @ts-ignore: decorator
@inline export function gfpMigratetype(cls: u32): u32 {
  return cls == GFP_MOVABLE ? MT_MOVABLE : cls == GFP_RECLAIMABLE ? MT_RECLAIMABLE : MT_UNMOVABLE;
}

/** prep_new_page: the head gets PG_HEAD, order and type; every frame PT_ALLOC, zeroed if init_on_alloc. */
// @ts-ignore: decorator
@inline function prepNewPage(pfn: u32, order: u32, mt: u32): void {
  const n: u32 = 1 << order;
  if (order == 0) store<u8>(PFLAGS + <usize>pfn, PT_ALLOC | PG_HEAD);
  else {
    memory.fill(PFLAGS + <usize>pfn, PT_ALLOC, <usize>n);
    store<u8>(PFLAGS + <usize>pfn, PT_ALLOC | PG_HEAD);
  }
  store<u8>(PORDER + <usize>pfn, <u8>((mt << 4) | order));
  if (initOnAlloc) {
    if (order == 0) writeFrame(pfn);
    else writeFrames(pfn, n);
    charge(<f64>n * cost(COST_PAGE_WRITE_NS));
  }
  vmstatAdd(VM_PGALLOC, <f64>n);
}

/** rmqueue: pcp for small orders, else (or if the pcp refill found nothing) the buddy under the zone lock. */
// @ts-ignore: decorator
@inline function rmqueueZone(z: u32, order: u32, mt: u32, allocFlags: u32): u32 {
  if (pcpAllowedOrder(order)) {
    const pfn = pcpAlloc(z, order, mt);
    if (pfn != NIL) { charge(cost(COST_ALLOC_FAST_NS)); return pfn; }
  }
  charge(cost(COST_ALLOC_SLOW_NS));
  resetRmqueueMode();
  let pfn: u32 = NIL;
  if (order > 0 && (allocFlags & ALLOC_HIGHATOMIC) != 0) pfn = rmqueueSmallest(z, order, MT_HIGHATOMIC);
  if (pfn == NIL) {
    pfn = rmqueue(z, order, mt);
    if (pfn == NIL && (allocFlags & ALLOC_NON_BLOCK) != 0) pfn = rmqueueSmallest(z, order, MT_HIGHATOMIC);
  }
  return pfn;
}

/** get_page_from_freelist: first zone of the zonelist that passes the watermark and has a block. */
function getPageFromFreelist(order: u32, mt: u32, highest: u32, markId: u32, allocFlags: u32): u32 {
  for (let zi = <i32>highest; zi >= 0; zi--) {
    const z = <u32>zi;
    if (!zonePopulated(z)) continue;
    const mark = wmarkPages(z, markId);
    if (order == 0 && allocFlags == 0) {
      // zone_watermark_fast's order-0 shortcut (the free highatomic reserve is not usable here)
      if (zoneFreePages(z) <= mark + zoneWatermarkUnusableFree(z, 0, 0)) continue;
    } else if (!zoneWatermarkOkFlags(z, order, mark, allocFlags)) {
      // zone_watermark_fast: __GFP_HIGH order-0 requests ignore the boost at MIN (the boost is
      // there to wake kswapd early, not to fail requests that may use the reserve)
      if (order != 0 || (allocFlags & ALLOC_MIN_RESERVE) == 0 || markId != WMARK_MIN
          || watermarkBoost(z) == 0 || !zoneWatermarkOkFlags(z, 0, wmarkRaw(z, WMARK_MIN), allocFlags)) continue;
    }
    const pfn = rmqueueZone(z, order, mt, allocFlags);
    if (pfn == NIL) continue;
    // A fragmenting fallback boosted the watermark: let kswapd reclaim ahead of demand.
    if (testClearBoosted(z)) kswapdWakeHook(0, z);
    prepNewPage(pfn, order, mt);
    // A high-order atomic allocation succeeded: keep its pageblock for the next ones.
    if ((allocFlags & ALLOC_HIGHATOMIC) != 0) reserveHighatomicPageblock(pfn, order, z);
    return pfn;
  }
  return NIL;
}

/**
 * reserve_highatomic_pageblock: retags the pageblock of a fresh high-order atomic allocation
 * MIGRATE_HIGHATOMIC (its free pages move along), up to managed / 100 + one pageblock per zone
 * (the v6.13+ cap, reference §3).
 */
function reserveHighatomicPageblock(pfn: u32, order: u32, z: u32): void {
  const maxManaged = zoneManaged(z) / 100 + PAGEBLOCK_NR_PAGES;
  const reserved = zoneReservedHighatomic(z);
  if (reserved >= maxManaged) return;
  if (!mtMergeable(getPageblockMt(pfn))) return; // only normal pageblocks (not ISOLATE, not already reserved)
  if (order < PAGEBLOCK_ORDER) {
    if (movePageblock(pfn, MT_HIGHATOMIC) < 0) return;
    setZoneReservedHighatomic(z, reserved + PAGEBLOCK_NR_PAGES);
  } else {
    changePageblockRange(pfn, order, MT_HIGHATOMIC);
    setZoneReservedHighatomic(z, reserved + (<u32>1 << order));
  }
}

/**
 * unreserve_highatomic_pageblock: under memory pressure, gives one reserved pageblock that has
 * a free block back to the request's migratetype. Without `force` a zone keeps its last
 * pageblock. True if free pages moved.
 */
function unreserveHighatomicPageblock(mt: u32, highest: u32, force: bool): bool {
  for (let zi = <i32>highest; zi >= 0; zi--) {
    const z = <u32>zi;
    if (!zonePopulated(z)) continue;
    const reserved = zoneReservedHighatomic(z);
    if (!force && reserved <= PAGEBLOCK_NR_PAGES) continue;
    for (let order: u32 = 0; order <= MAX_ORDER; order++) {
      const pfn = listHead(freeList(z, order, MT_HIGHATOMIC));
      if (pfn == NIL) continue;
      let size: u32 = order < PAGEBLOCK_ORDER ? PAGEBLOCK_NR_PAGES : <u32>1 << order;
      if (size > reserved) size = reserved;
      setZoneReservedHighatomic(z, reserved - size);
      if (order < PAGEBLOCK_ORDER) {
        if (movePageblock(pfn, mt) > 0) return true;
      } else {
        moveToFreeList(z, pfn, order, MT_HIGHATOMIC, mt);
        changePageblockRange(pfn, order, mt);
        return true;
      }
    }
  }
  return false;
}

/**
 * __alloc_pages_slowpath: wake kswapd, retry at MIN (atomic requests may dip below it), then
 * direct reclaim and compaction rounds, then the OOM path (never for NORETRY, NORECLAIM,
 * atomic or costly orders).
 */
function allocSlowpath(order: u32, gfp: u32, cls: u32, mt: u32, highest: u32): u32 {
  if ((gfp & GFP_NOKSWAPD) == 0) kswapdWakeHook(order, highest); // __GFP_KSWAPD_RECLAIM
  let flags: u32 = 0;
  if (cls == GFP_ATOMIC && (gfp & GFP_NOMEMALLOC) == 0) {
    flags = ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK;
    if (order > 0) flags |= ALLOC_HIGHATOMIC;
  }
  let pfn = getPageFromFreelist(order, mt, highest, WMARK_MIN, flags);
  if (pfn != NIL) return pfn;
  if (cls == GFP_ATOMIC || (gfp & GFP_NORECLAIM) != 0) return NIL;
  let retries: u32 = 0, oomRounds: u32 = 0;
  while (true) {
    const reclaimed = directReclaimHook(order, gfp);
    pfn = getPageFromFreelist(order, mt, highest, WMARK_MIN, flags);
    if (pfn != NIL) return pfn;
    if (reclaimed > 0) {
      // __alloc_pages_direct_reclaim: reclaimed pages may sit on pcp lists or behind the
      // highatomic reserve; release one reserved pageblock, drain once, retry.
      unreserveHighatomicPageblock(mt, highest, false);
      drainPcp();
      pfn = getPageFromFreelist(order, mt, highest, WMARK_MIN, flags);
      if (pfn != NIL) return pfn;
    }
    if (order > 0) {
      vmstatInc(VM_COMPACT_STALL);
      directCompactHook(order, gfp);
      pfn = getPageFromFreelist(order, mt, highest, WMARK_MIN, flags);
      if (pfn != NIL) { vmstatInc(VM_COMPACT_SUCCESS); return pfn; }
      vmstatInc(VM_COMPACT_FAIL);
    }
    if (gfp & GFP_NORETRY) return NIL;
    if (reclaimed > 0 && retries < MAX_RECLAIM_RETRIES) {
      retries++;
      kswapdWakeHook(order, highest);
      continue;
    }
    // should_reclaim_retry: before OOM, exhaust the highatomic reserve.
    if (unreserveHighatomicPageblock(mt, highest, true)) continue;
    // __alloc_pages_may_oom: a last try at HIGH catches a parallel OOM kill's memory.
    pfn = getPageFromFreelist(order, mt, highest, WMARK_HIGH, flags);
    if (pfn != NIL) return pfn;
    if (order > PAGE_ALLOC_COSTLY_ORDER) return NIL; // the OOM killer does not help costly orders
    if (oomRounds >= MAX_OOM_ROUNDS) return NIL;
    if (outOfMemory(order, gfp) == 0) return NIL;
    oomRounds++;
    retries = 0;
  }
  return NIL;
}

/**
 * alloc_pages: a 2^order block for request `gfp` (class GFP_* | modifier bits). Returns the head
 * pfn (PG_HEAD, porder order + migratetype, every frame PT_ALLOC and written when
 * init_on_alloc) or NIL. Callers retag the frames (PT_ANON, PT_KERNEL, ...) as they use them.
 */
export function allocPages(order: u32, gfp: u32): u32 {
  const cls = gfp & GFP_CLASS_MASK;
  if (order > MAX_ORDER || cls >= NR_GFP_CLASSES) return NIL;
  const mt = gfpMigratetype(cls);
  const highest = cls == GFP_MOVABLE ? ZONE_MOVABLE : ZONE_NORMAL;
  const pfn = getPageFromFreelist(order, mt, highest, WMARK_LOW, 0);
  if (pfn != NIL) return pfn;
  return allocSlowpath(order, gfp, cls, mt, highest);
}

/**
 * __free_pages / __free_pages_ok with FPI flags. Checks the block first and never changes state
 * on error: E_RANGE (outside guest memory), E_INVAL (order > MAX_ORDER or misaligned),
 * E_DOUBLE_FREE (already free or on a pcp list), E_BUSY (isolated), E_NOT_ALLOCATED (not the
 * head of an allocated block of this order). Small orders without FPI flags go to the pcp lists.
 */
export function freePagesFpi(pfn: u32, order: u32, fpi: u32): i32 {
  if (pfn >= nrFrames) return E_RANGE;
  if (order > MAX_ORDER || (pfn & ((<u32>1 << order) - 1)) != 0) return E_INVAL;
  if (<u64>pfn + (<u64>1 << order) > <u64>nrFrames) return E_RANGE;
  const f = load<u8>(PFLAGS + <usize>pfn);
  const t = f & PT_MASK;
  if (t == PT_FREE || t == PT_PCP) return E_DOUBLE_FREE;
  if (t == PT_ISOLATED) return E_BUSY;
  if ((f & PG_HEAD) == 0 || t == PT_RESERVED || t == PT_RAMWIN
      || (<u32>load<u8>(PORDER + <usize>pfn) & 0x0f) != order) return E_NOT_ALLOCATED;
  const n: u32 = 1 << order;
  vmstatAdd(VM_PGFREE, <f64>n);
  const pb = load<u8>(PAGEBLOCK + <usize>(pfn >> PAGEBLOCK_ORDER)); // zone and migratetype in one load
  const z = <u32>((pb & PB_ZONE_MASK) >> PB_ZONE_SHIFT);
  if (fpi == FPI_NONE && pcpAllowedOrder(order)) {
    if (pcpFree(z, pfn, order, <u32>(pb & PB_MT_MASK))) { charge(cost(COST_ALLOC_FAST_NS)); return OK; }
  }
  if (order == 0) store<u8>(PFLAGS + <usize>pfn, PT_FREE);
  else memory.fill(PFLAGS + <usize>pfn, PT_FREE, <usize>n);
  freeBlockToBuddy(z, pfn, order, fpi);
  charge(cost(COST_ALLOC_SLOW_NS));
  return OK;
}

/** __free_pages(pfn, order). See freePagesFpi for the error codes. */
export function freePages(pfn: u32, order: u32): i32 { return freePagesFpi(pfn, order, FPI_NONE); }

/** split_page: turns an allocated 2^order block into 2^order allocated order-0 pages. */
export function splitPage(pfn: u32, order: u32): i32 {
  if (pfn >= nrFrames) return E_RANGE;
  if (order > MAX_ORDER || (pfn & ((<u32>1 << order) - 1)) != 0) return E_INVAL;
  const f = load<u8>(PFLAGS + <usize>pfn);
  if ((f & PG_HEAD) == 0 || getOrder(pfn) != order) return E_NOT_ALLOCATED;
  const mt = <u32>load<u8>(PORDER + <usize>pfn) >> 4;
  for (let i: u32 = 0; i < (<u32>1 << order); i++) {
    store<u8>(PFLAGS + <usize>(pfn + i), load<u8>(PFLAGS + <usize>(pfn + i)) | PG_HEAD);
    setOrderMt(pfn + i, 0, mt);
  }
  return OK;
}

/** Zonelist top for a request class: movable requests may use ZONE_MOVABLE, others start at NORMAL. */
export function gfpHighestZone(gfp: u32): u32 { return (gfp & GFP_CLASS_MASK) == GFP_MOVABLE ? ZONE_MOVABLE : ZONE_NORMAL; }

export { ZONE_DMA32, zoneManaged, MT_PCPTYPES, MT_UNMOVABLE };
