// SPDX-License-Identifier: MIT
// A VM's guest memory as the host sees it: per-frame backing state (not backed / backed / zero
// page / swapped, abi HS_*), write protection, dirty logging, traps, and the EPT fault handler.
// Works zero-copy on the guest's hstate and versions arrays and on the host-owned region of the
// same linear memory (dirty bitmap, discarded bits, write-protect reason nibbles; abi.ts
// LAYOUT_HOSTMETA); trap handler ids sit in hstate's top bits (abi.ts HS_TRAP_ID_*). Follows KVM's EPT fault path and mm/madvise.c MADV_DONTNEED.
// Model: a 2 MiB host page is always wholly in one backing state.

import * as abi from "../guest/abi.generated.js";
import { ConfigError, InvariantError } from "../guest/errors.js";
import { CostModel, defaultCostModel } from "../cost-model.js";
import { DirtyLog, CLEAR_BITMAP_SHIFT_DEFAULT } from "./dirty_log.js";
import { WriteProtectReasons, WP_DIRTY_LOG, WpWriteListener } from "./write_protect.js";

const PAGE = abi.PAGE_SIZE;
const HS_BACKED = abi.HS_BACKED;
const HS_ZERO = abi.HS_ZERO;
const HS_WP = abi.HS_WP;
const HS_SWAPPED = abi.HS_SWAPPED;
const HS_TRAP = abi.HS_TRAP;
const HS_TRAP_ID_SHIFT = abi.HS_TRAP_ID_SHIFT;
/** HS_TRAP with the id bits: what untrap clears. */
const HS_TRAP_ALL = abi.HS_TRAP | abi.HS_TRAP_ID_MASK;

/** 4 KiB or 2 MiB (THP / hugetlb-like) host pages. */
export type HostPageBytes = 4096 | 2097152;
export const HOST_PAGE_4K: HostPageBytes = 4096;
export const HOST_PAGE_2M: HostPageBytes = 2097152;

/**
 * The per-frame arrays the host works on, all in the guest's linear memory (Guest.views). Read
 * through a getter on every operation so that a view re-created after a buffer change is used.
 */
export interface FrameViews {
  readonly hstate: Uint8Array;
  readonly versions: Uint32Array;
  /** Host-owned, all zero at creation: dirty bitmap, discarded bits (u32 words, 1 bit/frame). */
  readonly hostDirty: Uint32Array;
  readonly hostDiscarded: Uint32Array;
  /** Host-owned, all zero at creation: write-protect reason nibbles (2 frames per byte). */
  readonly hostWp: Uint8Array;
}
export interface FrameSource {
  readonly frames: number;
  readonly views: FrameViews;
}

/** The host machine behind the VM: asked before frames become resident (may swap others out). */
export interface HostBacking {
  /** `bytes` are about to become resident in `mem`; returns the ns of host work (swap-out) charged. */
  reserve(bytes: number, mem: GuestMemory): number;
}

/**
 * Handler for an access to a trapped frame (HS_TRAP: inflated balloon page, unplugged block).
 * Returns < 0 to refuse the access, or the ns of device work (>= 0) to allow it: the frame is
 * then untrapped and the fault continues like an ordinary one (zero page / populate).
 */
export type TrapHandler = (pfn: number, write: boolean) => number;

/** Counters of one GuestMemory (plain fields: the fault path increments them directly). */
export class MemoryStats {
  faultsRead = 0; // read faults that mapped the zero page
  faultsWrite = 0; // write faults that populated a host page
  faultsWp = 0; // write faults on write-protected frames
  faultsSwapIn = 0; // faults that swapped a host page in
  faultsTrap = 0; // accesses to trapped frames handed to a trap handler
  faultsRefused = 0; // accesses refused (trap handler said no, no handler, pfn out of range)
  backedFrames = 0; // frames with HS_BACKED (RSS / 4 KiB)
  zeroMappedFrames = 0; // frames with HS_ZERO
  swappedFrames = 0; // frames with HS_SWAPPED
  discardedBytes = 0; // bytes freed by discard() (cumulative)
  discardCalls = 0;
  swapOutFrames = 0; // cumulative
  swapInFrames = 0; // cumulative
  dirtyLogClearedPages = 0; // cumulative bits cleared by clearDirtyLog
  refaults = 0; // faults on frames the host had discarded (reporting/balloon refaults)
  peakBackedFrames = 0; // high-water mark of backedFrames
}

export interface GuestMemoryOptions {
  hostPageBytes?: HostPageBytes;
  costs?: CostModel;
  backing?: HostBacking;
}

export interface DiscardResult {
  /** 4 KiB frames that were resident and are now freed. */
  readonly freedPages: number;
  /** 4 KiB frames that were in host swap and whose swap slots are now freed. */
  readonly swapFreedPages: number;
  readonly costNs: number;
}

export interface DirtyClearResult {
  readonly clearedPages: number;
  readonly costNs: number;
}

/**
 * Invariants (checked by validate()):
 * - HS_BACKED, HS_ZERO, HS_SWAPPED are mutually exclusive; stats count each exactly.
 * - HS_WP is set iff the frame's reason bits are non-zero.
 * - HS_TRAP is set iff the frame's HS_TRAP_ID bits are non-zero (a registered handler).
 * - with 2 MiB host pages, all frames of a host page share HS_BACKED and HS_SWAPPED.
 */
export class GuestMemory {
  readonly frames: number;
  readonly hostPageBytes: HostPageBytes;
  /** Frames per host page: 1 or 512. */
  readonly hostPageFrames: number;
  readonly stats = new MemoryStats();
  readonly dirty: DirtyLog;
  readonly wp: WriteProtectReasons;
  costs: CostModel;
  backing: HostBacking | undefined;

  private readonly dirtyBit: number;
  private readonly trapHandlers: TrapHandler[] = [];
  private readonly pinned: [number, number][] = [];
  /**
   * Swap clock's last-seen version per frame: the one per-frame array kept outside linear memory
   * (4 bytes/frame against the 16-byte budget, needed only once the host swaps; see
   * docs/design/host-memory.md), so allocated lazily.
   */
  private swapSeen: Uint32Array | undefined;
  private clockHand = 0;

  constructor(private readonly src: FrameSource, opts: GuestMemoryOptions = {}) {
    this.frames = src.frames;
    this.hostPageBytes = opts.hostPageBytes ?? HOST_PAGE_4K;
    if (this.hostPageBytes !== HOST_PAGE_4K && this.hostPageBytes !== HOST_PAGE_2M) {
      throw new ConfigError("hostPageBytes", this.hostPageBytes, "4096 or 2097152");
    }
    this.hostPageFrames = this.hostPageBytes / PAGE;
    if (this.frames % this.hostPageFrames !== 0) {
      throw new ConfigError("memBytes", this.frames * PAGE, `a multiple of the host page size (${this.hostPageBytes})`);
    }
    this.costs = opts.costs ?? defaultCostModel;
    this.backing = opts.backing;
    this.dirty = new DirtyLog(this.frames, () => src.views.hostDirty);
    this.wp = new WriteProtectReasons(this.frames, () => src.views.hostWp);
    this.dirtyBit = this.wp.register(WP_DIRTY_LOG);
    this.recount();
  }

  /** Resident bytes (RSS) of this guest. */
  get rssBytes(): number { return this.stats.backedFrames * PAGE; }
  /** Highest RSS so far, bytes. */
  get peakRssBytes(): number { return this.stats.peakBackedFrames * PAGE; }
  /** Bytes this guest has in host swap. */
  get swapBytes(): number { return this.stats.swappedFrames * PAGE; }

  // ---- the fault handler -------------------------------------------------------------------

  /**
   * The EPT violation handler (GuestImports.hwFault): makes the access possible or refuses it.
   * Order: trap handler, swap-in, populate (write) or zero page (read), write-protect fault.
   * Returns the host cost in ns, or < 0 if refused.
   */
  hwFault(pfn: number, write: boolean): number {
    const hs = this.src.views.hstate;
    const st = this.stats;
    if (!(pfn >= 0 && pfn < this.frames)) { st.faultsRefused++; return -1; }
    const c = this.costs;
    let cost = 0;
    let exitCharged = false;
    let s = hs[pfn];
    if (s & HS_TRAP) {
      st.faultsTrap++;
      const id = s >>> HS_TRAP_ID_SHIFT;
      const h = id > 0 ? this.trapHandlers[id - 1] : undefined;
      const r = h ? h(pfn, write) : -1;
      if (!(r >= 0)) { st.faultsRefused++; return r < 0 ? r : -1; }
      cost += r;
      this.untrap(pfn, 1);
      s = hs[pfn];
    }
    if (s & HS_SWAPPED) {
      cost += this.swapIn(pfn);
      s = hs[pfn];
    }
    if ((s & HS_BACKED) === 0) {
      const db = this.src.views.hostDiscarded;
      if ((db[pfn >>> 5] & (1 << (pfn & 31))) !== 0) {
        db[pfn >>> 5] &= ~(1 << (pfn & 31));
        st.refaults++;
      }
      if (write) {
        cost += this.populate(pfn);
        exitCharged = true; // eptFault*Ns include the exit
        st.faultsWrite++;
      } else if ((s & HS_ZERO) === 0) {
        this.mapZero(pfn);
        cost += c.zeroPageMapNs;
        st.faultsRead++;
      }
      s = hs[pfn];
    }
    if (write && (s & HS_WP)) {
      const bits = this.wp.take(pfn);
      hs[pfn] = s & ~HS_WP;
      st.faultsWp++;
      cost += c.wpFaultNs;
      this.wp.notify(bits & ~this.dirtyBit, pfn);
    }
    // any write that exits while logging is a dirty page (KVM mark_page_dirty in the fault path)
    if (write && this.dirty.active) this.dirty.mark(pfn);
    if (!exitCharged) cost += c.vmExitNs;
    return cost;
  }

  /** Host page [first, end) containing `pfn`. */
  private hostPage(pfn: number): [number, number] {
    const first = pfn - (pfn % this.hostPageFrames);
    return [first, first + this.hostPageFrames];
  }

  /** Write fault on an unbacked frame: allocates and zeroes the whole host page. */
  private populate(pfn: number): number {
    const hs = this.src.views.hstate;
    if (this.hostPageFrames === 1) {
      // 4 KiB host pages, the common case (one exit per refault): no host-page walk needed
      const st1 = this.stats;
      const s = hs[pfn];
      if ((s & (HS_BACKED | HS_SWAPPED)) !== 0) return this.costs.eptFault4kNs;
      const cost = this.backing ? this.backing.reserve(PAGE, this) : 0;
      if (s & HS_ZERO) st1.zeroMappedFrames--;
      hs[pfn] = (s & ~HS_ZERO) | HS_BACKED;
      if (++st1.backedFrames > st1.peakBackedFrames) st1.peakBackedFrames = st1.backedFrames;
      return cost + this.costs.eptFault4kNs;
    }
    const [first, end] = this.hostPage(pfn);
    const st = this.stats;
    let n = 0;
    for (let f = first; f < end; f++) if ((hs[f] & (HS_BACKED | HS_SWAPPED)) === 0) n++;
    let cost = this.backing ? this.backing.reserve(n * PAGE, this) : 0;
    const nib = this.src.views.hostWp;
    for (let f = first; f < end; f++) {
      const s = hs[f];
      if (s & (HS_BACKED | HS_SWAPPED)) continue;
      if (s & HS_ZERO) st.zeroMappedFrames--;
      hs[f] = (s & ~HS_ZERO) | HS_BACKED;
      st.backedFrames++;
      // KVM maps the rest of a huge host page at 4 KiB while logging: each write must still exit
      if (f !== pfn && this.dirty.active) this.protectFrame(hs, nib, f, this.dirtyBit);
    }
    if (st.backedFrames > st.peakBackedFrames) st.peakBackedFrames = st.backedFrames;
    cost += this.hostPageFrames === 1 ? this.costs.eptFault4kNs : this.costs.eptFault2mNs;
    return cost;
  }

  /** Read fault on an unbacked frame: maps the shared (huge) zero page; no RSS. */
  private mapZero(pfn: number): void {
    const hs = this.src.views.hstate;
    const [first, end] = this.hostPage(pfn);
    for (let f = first; f < end; f++) {
      const s = hs[f];
      if (s & (HS_BACKED | HS_ZERO | HS_SWAPPED)) continue;
      hs[f] = s | HS_ZERO;
      this.stats.zeroMappedFrames++;
    }
  }

  /** Swaps in the host page holding `pfn`; returns its cost (major fault). */
  private swapIn(pfn: number): number {
    const hs = this.src.views.hstate;
    const [first, end] = this.hostPage(pfn);
    let n = 0;
    for (let f = first; f < end; f++) if (hs[f] & HS_SWAPPED) n++;
    let cost = this.backing ? this.backing.reserve(n * PAGE, this) : 0;
    for (let f = first; f < end; f++) {
      const s = hs[f];
      if ((s & HS_SWAPPED) === 0) continue;
      hs[f] = (s & ~HS_SWAPPED) | HS_BACKED; // versions untouched: the contents come back
    }
    const st = this.stats;
    st.swappedFrames -= n;
    st.backedFrames += n;
    st.swapInFrames += n;
    st.faultsSwapIn++;
    if (st.backedFrames > st.peakBackedFrames) st.peakBackedFrames = st.backedFrames;
    cost += n * this.costs.swapInPageNs;
    return cost;
  }

  // ---- discard (MADV_DONTNEED) --------------------------------------------------------------

  /**
   * Discards frames [pfn, pfn+count) like one madvise(MADV_DONTNEED) call: they become unbacked
   * and read back as zero (version VERSION_ZERO), RSS falls, nothing is marked dirty. With 2 MiB
   * host pages only whole host pages inside the range are freed; the rest is left untouched.
   * Traps and write-protect reasons survive (like uffd-wp PTE markers). Pinned frames are
   * skipped (QEMU's ram_block_discard_disable while memory is pinned).
   */
  discard(pfn: number, count: number): DiscardResult {
    this.checkRange("discard", pfn, count);
    const hpf = this.hostPageFrames;
    const first = Math.ceil(pfn / hpf) * hpf;
    const end = Math.floor((pfn + count) / hpf) * hpf;
    const st = this.stats;
    const backed0 = st.backedFrames;
    const swapped0 = st.swappedFrames;
    // split [first, end) around pinned ranges (pinned ranges are host-page aligned)
    let a = first;
    for (const [p0, p1] of this.pinned) {
      if (p1 <= a || p0 >= end) continue;
      if (p0 > a) this.discardFrames(a, p0);
      a = Math.max(a, p1);
    }
    if (a < end) this.discardFrames(a, end);
    return this.discardDone(1, backed0, swapped0);
  }

  /**
   * One discard(pfn, 1) per listed frame (QEMU's balloon_inflate_page: one madvise per 4 KiB
   * PFN), done in one host call: the balloon hands over up to 256 PFNs per request.
   */
  discardEach(pfns: ArrayLike<number>): DiscardResult {
    const hpf = this.hostPageFrames;
    const st = this.stats;
    const backed0 = st.backedFrames;
    const swapped0 = st.swappedFrames;
    for (let i = 0; i < pfns.length; i++) {
      const p = pfns[i];
      this.checkRange("discard", p, 1);
      if (hpf === 1 && !this.isPinned(p)) this.discardFrames(p, p + 1); // larger host pages: nothing whole inside
    }
    return this.discardDone(pfns.length, backed0, swapped0);
  }

  /** Accounting and cost of `calls` madvise(MADV_DONTNEED) calls that freed what backedFrames lost. */
  private discardDone(calls: number, backed0: number, swapped0: number): DiscardResult {
    const st = this.stats;
    const hpf = this.hostPageFrames;
    const freed = backed0 - st.backedFrames;
    st.discardCalls += calls;
    st.discardedBytes += freed * PAGE;
    const c = this.costs;
    const costNs = calls * c.madviseCallNs + (hpf === 1 ? freed * c.madvisePerPageNs : (freed / hpf) * c.madvise2mNs);
    return { freedPages: freed, swapFreedPages: swapped0 - st.swappedFrames, costNs };
  }

  /** Discards frames [first, end) (host-page aligned, not pinned). */
  private discardFrames(first: number, end: number): void {
    const hs = this.src.views.hstate;
    const ver = this.src.views.versions;
    const st = this.stats;
    const db = this.src.views.hostDiscarded;
    for (let f = first; f < end; f++) {
      const s = hs[f];
      // Only a discard that dropped something makes the next touch a refault: madvise over a
      // never-populated frame (reporting right after boot) leaves its first touch a first touch.
      if (s & (HS_BACKED | HS_ZERO | HS_SWAPPED)) db[f >>> 5] |= 1 << (f & 31);
      if (s & HS_BACKED) st.backedFrames--;
      else if (s & HS_ZERO) st.zeroMappedFrames--;
      else if (s & HS_SWAPPED) st.swappedFrames--;
      hs[f] = s & ~(HS_BACKED | HS_ZERO | HS_SWAPPED);
      ver[f] = abi.VERSION_ZERO;
    }
  }

  // ---- pinning (vring memory) ---------------------------------------------------------------

  /**
   * Populates frames [pfn, pfn+count) (rounded out to host pages) and keeps them resident: never
   * swapped out, like vring memory a vhost backend maps. Returns the cost in ns.
   */
  pin(pfn: number, count: number): number {
    this.checkRange("pin", pfn, count);
    const hpf = this.hostPageFrames;
    const first = Math.floor(pfn / hpf) * hpf;
    const end = Math.ceil((pfn + count) / hpf) * hpf;
    let cost = 0;
    const hs = this.src.views.hstate;
    for (let f = first; f < end; f += hpf) {
      if (hs[f] & HS_SWAPPED) cost += this.swapIn(f);
      if ((hs[f] & HS_BACKED) === 0) cost += this.populate(f);
    }
    this.pinned.push([first, end]);
    this.pinned.sort((x, y) => x[0] - y[0]);
    return cost;
  }

  isPinned(pfn: number): boolean {
    for (const [a, b] of this.pinned) if (pfn >= a && pfn < b) return true;
    return false;
  }

  // ---- traps ----------------------------------------------------------------------------------

  /** Makes every access to frames [pfn, pfn+count) exit to `handler` (see TrapHandler). */
  trap(pfn: number, count: number, handler: TrapHandler): void {
    this.checkRange("trap", pfn, count);
    const bits = this.trapBits(handler);
    const hs = this.src.views.hstate;
    for (let f = pfn; f < pfn + count; f++) hs[f] = (hs[f] & ~HS_TRAP_ALL) | bits;
  }

  /**
   * HS_TRAP plus `handler`'s id in the HS_TRAP_ID bits, registering it on first use. The id has
   * 3 bits of hstate (abi.ts HS_TRAP_ID_MAX handlers), so the metadata stays <= 16 bytes/frame.
   */
  private trapBits(handler: TrapHandler): number {
    let id = this.trapHandlers.indexOf(handler) + 1;
    if (id === 0) {
      if (this.trapHandlers.length >= abi.HS_TRAP_ID_MAX) {
        throw new ConfigError("trapHandler", this.trapHandlers.length + 1, `at most ${abi.HS_TRAP_ID_MAX} distinct trap handlers per VM (hstate HS_TRAP_ID bits)`);
      }
      id = this.trapHandlers.push(handler);
    }
    return HS_TRAP | (id << HS_TRAP_ID_SHIFT);
  }

  /** Removes traps from frames [pfn, pfn+count). */
  untrap(pfn: number, count: number): void {
    this.checkRange("untrap", pfn, count);
    const hs = this.src.views.hstate;
    for (let f = pfn; f < pfn + count; f++) hs[f] &= ~HS_TRAP_ALL;
  }

  isTrapped(pfn: number): boolean { return (this.src.views.hstate[pfn] & HS_TRAP) !== 0; }

  /** trap(pfn, 1, handler) for each listed frame not trapped yet (a balloon request's PFNs). */
  trapEach(pfns: ArrayLike<number>, handler: TrapHandler): void {
    if (pfns.length === 0) return;
    const bits = this.trapBits(handler);
    const hs = this.src.views.hstate;
    for (let i = 0; i < pfns.length; i++) {
      const f = pfns[i];
      this.checkRange("trap", f, 1);
      if (hs[f] & HS_TRAP) continue;
      hs[f] |= bits;
    }
  }

  /** untrap(pfn, 1) for each listed frame. */
  untrapEach(pfns: ArrayLike<number>): void {
    const hs = this.src.views.hstate;
    for (let i = 0; i < pfns.length; i++) {
      const f = pfns[i];
      this.checkRange("untrap", f, 1);
      hs[f] &= ~HS_TRAP_ALL;
    }
  }

  // ---- write protection -----------------------------------------------------------------------

  /**
   * Registers a write-protect reason other than dirty logging (e.g. "hint-wp"); `onWrite` is
   * told of the first write to each frame it protected. Up to MAX_WP_REASONS (4) reasons per VM,
   * dirty logging's included; ConfigError beyond.
   */
  registerWpReason(name: string, onWrite?: WpWriteListener): void {
    this.wp.register(name, onWrite);
  }

  /** Write-protects frames [pfn, pfn+count) for `reason`; returns the cost in ns. */
  writeProtect(pfn: number, count: number, reason: string): number {
    this.checkRange("writeProtect", pfn, count);
    const bit = this.wp.bitOf(reason);
    const v = this.src.views;
    const hs = v.hstate, nib = v.hostWp;
    let n = 0;
    for (let f = pfn; f < pfn + count; f++) n += this.protectFrame(hs, nib, f, bit);
    return n * this.costs.wpProtectPageNs;
  }

  /** Drops `reason`'s protection of frames [pfn, pfn+count); other reasons keep theirs. */
  unprotect(pfn: number, count: number, reason: string): void {
    this.checkRange("unprotect", pfn, count);
    const bit = this.wp.bitOf(reason);
    const v = this.src.views;
    const hs = v.hstate, nib = v.hostWp;
    const wp = this.wp;
    for (let f = pfn; f < pfn + count; f++) {
      if (wp.remove(f, bit, nib) === 0) hs[f] &= ~HS_WP;
    }
  }

  /** True if `pfn` is write-protected (for `reason`, or for any reason). */
  isWriteProtected(pfn: number, reason?: string): boolean {
    if (reason === undefined) return (this.src.views.hstate[pfn] & HS_WP) !== 0;
    return (this.wp.get(pfn) & this.wp.bitOf(reason)) !== 0;
  }

  /**
   * Sets `bit` on `f`; returns 1 if a present (backed) mapping had to be protected. `hs`/`nib` are
   * this.src.views' hstate/hostWp, fetched once by the caller's loop (the getter is per call).
   */
  private protectFrame(hs: Uint8Array, nib: Uint8Array, f: number, bit: number): number {
    this.wp.add(f, bit, nib);
    hs[f] |= HS_WP;
    return hs[f] & HS_BACKED ? 1 : 0;
  }

  // ---- dirty logging (KVM_MEM_LOG_DIRTY_PAGES with manual protect) ----------------------------

  /**
   * Starts dirty logging: clears the bitmap and write-protects every backed or swapped frame
   * (a swapped frame comes back writable on a read swap-in), so that the next write to each
   * exits and is logged. Unbacked frames need nothing: their first write exits anyway.
   * Returns the cost in ns.
   */
  startDirtyLog(opts: { clearBitmapShift?: number } = {}): number {
    if (this.dirty.active) throw new ConfigError("dirtyLog", "active", "dirty logging stopped before startDirtyLog()");
    this.dirty.start(opts.clearBitmapShift ?? CLEAR_BITMAP_SHIFT_DEFAULT);
    const v = this.src.views;
    const hs = v.hstate, nib = v.hostWp;
    let n = 0;
    for (let f = 0; f < this.frames; f++) if (hs[f] & (HS_BACKED | HS_SWAPPED)) n += this.protectFrame(hs, nib, f, this.dirtyBit);
    return n * this.costs.wpProtectPageNs;
  }

  /** The live dirty bitmap (host-owned; treat as read-only). Bits stay set until cleared. */
  getDirtyLog(): Uint32Array { return this.dirty.bitmap; }

  /**
   * KVM_CLEAR_DIRTY_LOG for clear chunk `chunk` (2^clearBitmapShift frames): clears its dirty
   * bits and re-protects those frames, so the next write faults and re-dirties them.
   */
  clearDirtyLog(chunk: number): DirtyClearResult {
    if (!this.dirty.active) throw new ConfigError("dirtyLog", "stopped", "dirty logging started before clearDirtyLog()");
    const [first, end] = this.dirty.chunkRange(chunk);
    const v = this.src.views;
    const hs = v.hstate, nib = v.hostWp;
    let reprotected = 0;
    const n = this.dirty.clearRange(first, end, (pfn) => { reprotected += this.protectFrame(hs, nib, pfn, this.dirtyBit); });
    this.stats.dirtyLogClearedPages += n;
    return { clearedPages: n, costNs: reprotected * this.costs.wpProtectPageNs };
  }

  /** Clear chunk index of `pfn`. */
  dirtyChunkOf(pfn: number): number { return Math.floor(pfn / this.dirty.chunkFrames); }

  /** Stops dirty logging: drops the dirty-log protection everywhere and clears the bitmap. */
  stopDirtyLog(): void {
    if (!this.dirty.active) return;
    this.unprotect(0, this.frames, WP_DIRTY_LOG);
    this.dirty.stop();
  }

  // ---- host swap (driven by Host) -----------------------------------------------------------

  /**
   * One clock sweep step for host reclaim: from the hand on, swaps out up to `needFrames` cold
   * backed frames (whole host pages), at most `swapFreeFrames`. A host page is young (skipped,
   * second chance) if a content version changed since the hand last passed: an accessed-bit
   * approximation that sees writes only. Stops at the end of memory and reports the wrap.
   */
  swapOutCold(needFrames: number, swapFreeFrames: number): { swappedFrames: number; wrapped: boolean } {
    const hs = this.src.views.hstate;
    const ver = this.src.views.versions;
    const seen = (this.swapSeen ??= new Uint32Array(this.frames));
    const hpf = this.hostPageFrames;
    let out = 0;
    while (this.clockHand < this.frames && out < needFrames && swapFreeFrames - out >= hpf) {
      const first = this.clockHand;
      const end = first + hpf;
      this.clockHand = end;
      if ((hs[first] & (HS_BACKED | HS_TRAP)) !== HS_BACKED || this.isPinned(first)) continue;
      let young = false;
      for (let f = first; f < end; f++) {
        if (ver[f] !== seen[f]) { seen[f] = ver[f]; young = true; }
      }
      if (young) continue;
      for (let f = first; f < end; f++) hs[f] = (hs[f] & ~HS_BACKED) | HS_SWAPPED;
      out += hpf;
    }
    const st = this.stats;
    st.backedFrames -= out;
    st.swappedFrames += out;
    st.swapOutFrames += out;
    const wrapped = this.clockHand >= this.frames;
    if (wrapped) this.clockHand = 0;
    return { swappedFrames: out, wrapped };
  }

  // ---- checks ---------------------------------------------------------------------------------

  private checkRange(op: string, pfn: number, count: number): void {
    if (!Number.isInteger(pfn) || !Number.isInteger(count) || pfn < 0 || count < 0 || pfn + count > this.frames) {
      throw new ConfigError(`${op}.range`, { pfn, count }, `integers with 0 <= pfn and pfn + count <= ${this.frames}`);
    }
  }

  /** Recomputes the counters from hstate (used at construction). */
  private recount(): void {
    const hs = this.src.views.hstate;
    const st = this.stats;
    st.backedFrames = st.zeroMappedFrames = st.swappedFrames = 0;
    for (let f = 0; f < this.frames; f++) {
      const s = hs[f];
      if (s & HS_BACKED) st.backedFrames++;
      else if (s & HS_ZERO) st.zeroMappedFrames++;
      else if (s & HS_SWAPPED) st.swappedFrames++;
    }
    st.peakBackedFrames = st.backedFrames;
  }

  /** Checks the invariants listed on the class; throws InvariantError on the first violation. */
  validate(): void {
    const hs = this.src.views.hstate;
    const nib = this.src.views.hostWp;
    const wp = this.wp;
    let backed = 0, zero = 0, swapped = 0;
    for (let f = 0; f < this.frames; f++) {
      const s = hs[f];
      const kinds = (s & HS_BACKED ? 1 : 0) + (s & HS_ZERO ? 1 : 0) + (s & HS_SWAPPED ? 1 : 0);
      if (kinds > 1) throw new InvariantError(`pfn:0x${f.toString(16)}: hstate 0x${s.toString(16)} has more than one backing kind`);
      const reasons = wp.get(f, nib);
      if (((s & HS_WP) !== 0) !== (reasons !== 0)) throw new InvariantError(`pfn:0x${f.toString(16)}: HS_WP disagrees with reasons 0x${reasons.toString(16)}`);
      if (reasons >= 1 << wp.registered.length) throw new InvariantError(`pfn:0x${f.toString(16)}: reasons 0x${reasons.toString(16)} include an unregistered one`);
      const id = s >>> HS_TRAP_ID_SHIFT;
      if (((s & HS_TRAP) !== 0) !== (id !== 0)) throw new InvariantError(`pfn:0x${f.toString(16)}: HS_TRAP disagrees with trap handler id ${id}`);
      if (id > this.trapHandlers.length) throw new InvariantError(`pfn:0x${f.toString(16)}: trap handler id ${id} was never registered`);
      if (s & HS_BACKED) backed++;
      if (s & HS_ZERO) zero++;
      if (s & HS_SWAPPED) swapped++;
      if (this.hostPageFrames > 1 && f % this.hostPageFrames !== 0) {
        const h = hs[f - (f % this.hostPageFrames)];
        if ((h & (HS_BACKED | HS_SWAPPED)) !== (s & (HS_BACKED | HS_SWAPPED))) throw new InvariantError(`pfn:0x${f.toString(16)}: differs from its 2 MiB host page`);
      }
    }
    const st = this.stats;
    if (backed !== st.backedFrames || zero !== st.zeroMappedFrames || swapped !== st.swappedFrames) {
      throw new InvariantError(`counters backed/zero/swapped ${st.backedFrames}/${st.zeroMappedFrames}/${st.swappedFrames} != hstate ${backed}/${zero}/${swapped}`);
    }
  }
}
