// SPDX-License-Identifier: MIT
// Memory compaction: a migrate scanner walks the zone upward pageblock by pageblock isolating up
// to COMPACT_CLUSTER_MAX movable pages, a free scanner walks it downward isolating free pages
// (split to order 0) in MOVABLE pageblocks only, and pages migrate low → high until the scanners
// meet or the goal is reached (a free block of the requested order, or a proactive score).
// Also compaction_suitable, the fragmentation score, deferral and direct compaction.
// Runs for an order (direct compaction, kcompactd) start where the last run's scanners stopped
// (compact_cached_*_pfn) and skip pageblocks marked PB_migrate_skip; whole-zone runs
// (compact_memory, proactive) start at the zone's ends and ignore the marks. Both set them: the
// migrate scanner on a pageblock it scanned without isolating anything, the free scanner on every
// pageblock it scanned to the end. Marks are cleared when kswapd goes to sleep after a direct
// compaction's scanners met, or when compaction restarts after the longest deferral.
// Model: one scan mode (every non-isolated pageblock is a migration source, as in sync mode; one
// cached migrate pfn, not one per mode), no fast free-page search, no capture. Follows
// mm/compaction.c.

import {
  NIL, NR_ZONES, NR_ORDERS, MAX_ORDER, PAGEBLOCK_ORDER, PAGEBLOCK_NR_PAGES, MT_MOVABLE, MT_ISOLATE,
  MT_PCPTYPES, PG_BUDDY, PG_HEAD, PB_SKIP, PAGE_ALLOC_COSTLY_ORDER, WMARK_MIN, WMARK_LOW, GFP_CLASS_MASK, GFP_MOVABLE,
  ZONE_MOVABLE, ZONE_NORMAL, OK, COMPACT_CLUSTER_MAX, VM_COMPACT_MIGRATE_SCANNED,
  VM_COMPACT_FREE_SCANNED, VM_COMPACT_ISOLATED, PARAM_EXTFRAG_THRESHOLD, PARAM_COMPACTION_PROACTIVENESS,
  COMPACT_SKIPPED, COMPACT_DEFERRED, COMPACT_COMPLETE, COMPACT_PARTIAL_SKIPPED, COMPACT_SUCCESS,
} from "../abi";
import { PFLAGS, PAGEBLOCK, getOrder, getPageblockMt } from "./pfn";
import { vmstatAdd } from "../lib/scb";
import { charge } from "../lib/clock";
import { param } from "../lib/params";
import { listEmpty } from "../lib/list";
import { zoneStart, zoneEnd, zonePopulated, zoneNrFree, freeList } from "./zone";
import { wmarkPages, zoneWatermarkOk, zoneWatermarkOkFlags } from "./watermark";
import { fragmentationIndex, isolateFreePage, putbackIsolatedPage } from "./buddy";
import { drainZonePcp } from "./pcp";
import { setDirectCompactHook, gfpMigratetype } from "./page_alloc";
import { pageMovable, isolateMovablePage, putbackMovablePage, migratePage } from "./migrate";

/** Simulated cost of examining one pfn in either scanner. Assumption: a few cache misses per pfn. */
const SCAN_NS_PER_PAGE: f64 = 10;
/** COMPACT_MAX_DEFER_SHIFT (mm/compaction.c). */
export const COMPACT_MAX_DEFER_SHIFT: u32 = 6;
/** COMPACTION_HPAGE_ORDER: the order the proactive score is about (HPAGE_PMD_ORDER = 9). */
export const COMPACTION_HPAGE_ORDER: u32 = 9;
const COMPACT_CONTINUE: i32 = 0;
const FREE_CAP: u32 = 2 * PAGEBLOCK_NR_PAGES;

// ---- compact_control (one run at a time) ----------------------------------------------------
let ccZone: u32 = 0;
let ccOrder: i32 = -1; // -1: whole zone (compact_memory / proactive)
let ccMt: u32 = MT_MOVABLE;
let ccProactive: bool = false;
/** cc->ignore_skip_hint: compact_memory and proactive runs neither skip nor resume. */
let ccIgnoreSkip: bool = false;
/** cc->whole_zone: the migrate scanner started at the zone's start (scanners meeting = COMPLETE). */
let ccWholeZone: bool = false;
/** cc->direct_compaction: scanners meeting asks kswapd to clear the skip marks. */
let ccDirect: bool = false;
/** Pages the migrate scanner isolated in its current pageblock (no isolation: mark it skip). */
let blockIsolated: u32 = 0;
let migratePfn: u32 = 0;
let freeBlock: i64 = 0; // start of the free scanner's current pageblock
let freeCursor: u32 = NIL; // next pfn the free scanner looks at inside freeBlock
let freeRefused: bool = false;
let MIGRATE: usize = 0;
let nrMigrate: u32 = 0;
let FREE: usize = 0;
let nrFree: u32 = 0;
// Statistics of the last run (mm_compact_stats).
export let lastMigrated: u32 = 0;
export let lastMigrateScanned: u32 = 0;
export let lastFreeScanned: u32 = 0;
export let lastResult: i32 = 0;

// Deferral per zone (compact_considered, compact_defer_shift, compact_order_failed).
const considered = new StaticArray<u32>(NR_ZONES);
const deferShift = new StaticArray<u32>(NR_ZONES);
const orderFailed = new StaticArray<u32>(NR_ZONES);
// zone->compact_cached_migrate_pfn, compact_cached_free_pfn, compact_blockskip_flush.
const cachedMigrate = new StaticArray<u32>(NR_ZONES);
const cachedFree = new StaticArray<u32>(NR_ZONES);
const cachedValid = new StaticArray<bool>(NR_ZONES);
const blockskipFlush = new StaticArray<bool>(NR_ZONES);

// ---- skip marks and cached scanner positions --------------------------------------------------

// @ts-ignore: decorator
@inline function pageblockSkip(pfn: u32): bool { return (load<u8>(PAGEBLOCK + <usize>(pfn >> PAGEBLOCK_ORDER)) & PB_SKIP) != 0; }
// @ts-ignore: decorator
@inline function setPageblockSkip(pfn: u32): void {
  const a = PAGEBLOCK + <usize>(pfn >> PAGEBLOCK_ORDER);
  store<u8>(a, load<u8>(a) | PB_SKIP);
}

/** reset_cached_positions: the next run starts at the zone's ends. */
function resetCachedPositions(z: u32): void {
  cachedMigrate[z] = zoneStart(z);
  cachedFree[z] = (zoneEnd(z) - 1) & ~(PAGEBLOCK_NR_PAGES - 1);
  cachedValid[z] = true;
}

/** __reset_isolation_suitable: clears every skip mark of zone `z` and its cached positions. */
function resetIsolationSuitableZone(z: u32): void {
  const end = zoneEnd(z);
  for (let p = zoneStart(z) & ~(PAGEBLOCK_NR_PAGES - 1); p < end; p += PAGEBLOCK_NR_PAGES) {
    const a = PAGEBLOCK + <usize>(p >> PAGEBLOCK_ORDER);
    store<u8>(a, load<u8>(a) & ~PB_SKIP);
  }
  resetCachedPositions(z);
  blockskipFlush[z] = false;
}

/**
 * reset_isolation_suitable: kswapd is going to sleep, so compaction may succeed again where it
 * failed: zones whose direct compaction ran its scanners to the meeting point lose their marks.
 */
export function resetIsolationSuitable(): void {
  for (let z: u32 = 0; z < NR_ZONES; z++) if (blockskipFlush[z] && zonePopulated(z)) resetIsolationSuitableZone(z);
}

/** Pageblocks of zone `z` marked skip (tests, mm_compact_skip_marks). */
export function zoneSkipMarks(z: u32): u32 {
  const end = zoneEnd(z);
  let n: u32 = 0;
  for (let p = zoneStart(z) & ~(PAGEBLOCK_NR_PAGES - 1); p < end; p += PAGEBLOCK_NR_PAGES) if (pageblockSkip(p)) n++;
  return n;
}

/** compaction_restarting: the longest deferral ran out, so the next run starts afresh. */
function compactionRestarting(z: u32, order: i32): bool {
  if (order < 0 || <u32>order < orderFailed[z]) return false;
  return deferShift[z] == COMPACT_MAX_DEFER_SHIFT && considered[z] >= (<u32>1 << deferShift[z]);
}

// ---- scores and suitability -----------------------------------------------------------------

/** extfrag_for_order: % of free memory not in blocks of at least `order` (0 if nothing is free). */
export function extfragForOrder(z: u32, order: u32): u32 {
  let freePages: u64 = 0, suitable: u64 = 0;
  for (let o: u32 = 0; o < NR_ORDERS; o++) {
    const n = <u64>zoneNrFree(z, o);
    freePages += n << o;
    if (o >= order) suitable += n << (o - order);
  }
  if (freePages == 0) return 0;
  return <u32>((freePages - (suitable << order)) * 100 / freePages);
}

// @ts-ignore: decorator
@inline function zonePresent(z: u32): u64 { return zonePopulated(z) ? <u64>(zoneEnd(z) - zoneStart(z)) : 0; }

/** fragmentation_score_zone: extfrag_for_order(zone, COMPACTION_HPAGE_ORDER). */
export function fragmentationScoreZone(z: u32): u32 { return extfragForOrder(z, COMPACTION_HPAGE_ORDER); }

/** fragmentation_score_node: Σ zone score × present / (node present + 1). */
export function fragmentationScoreNode(): u32 {
  let nodePresent: u64 = 0;
  for (let z: u32 = 0; z < NR_ZONES; z++) nodePresent += zonePresent(z);
  let score: u64 = 0;
  for (let z: u32 = 0; z < NR_ZONES; z++) {
    if (!zonePopulated(z)) continue;
    score += zonePresent(z) * <u64>fragmentationScoreZone(z) / (nodePresent + 1);
  }
  return <u32>score;
}

/** fragmentation_score_wmark: low = 100 - proactiveness, high = min(low + 10, 100). */
export function fragmentationScoreWmark(low: bool): u32 {
  let pro = <i32>param(PARAM_COMPACTION_PROACTIVENESS, 20); // vm.compaction_proactiveness default 20
  if (pro < 0) pro = 0;
  if (pro > 100) pro = 100;
  const wlow = <u32>(100 - pro);
  if (low) return wlow;
  return wlow + 10 < 100 ? wlow + 10 : 100;
}

/** compact_gap: 2 << order pages of headroom for the free scanner's targets. */
// @ts-ignore: decorator
@inline export function compactGap(order: u32): u32 { return <u32>2 << order; }

/**
 * compaction_suitable: enough order-0 memory above the watermark (LOW for costly orders, MIN
 * otherwise) plus compact_gap, and for costly orders a fragmentation index above
 * vm.extfrag_threshold (default 500): at or below it the failure is lack of memory.
 */
export function compactionSuitable(z: u32, order: u32): bool {
  const mark = wmarkPages(z, order > PAGE_ALLOC_COSTLY_ORDER ? WMARK_LOW : WMARK_MIN) + compactGap(order);
  if (!zoneWatermarkOkFlags(z, 0, mark, 0)) return false;
  if (order > PAGE_ALLOC_COSTLY_ORDER) {
    const fi = fragmentationIndex(z, order);
    const threshold = <i32>param(PARAM_EXTFRAG_THRESHOLD, 500); // vm.extfrag_threshold default 500
    if (fi >= 0 && fi <= threshold) return false;
  }
  return true;
}

// ---- deferral -------------------------------------------------------------------------------

/** defer_compaction: skip the next 1 << defer_shift attempts at >= `order`. */
export function deferCompaction(z: u32, order: u32): void {
  considered[z] = 0;
  if (deferShift[z] < COMPACT_MAX_DEFER_SHIFT) deferShift[z] = deferShift[z] + 1;
  if (order < orderFailed[z]) orderFailed[z] = order;
}

/** compaction_deferred: true if this attempt should be skipped. */
export function compactionDeferred(z: u32, order: u32): bool {
  if (order < orderFailed[z]) return false;
  const limit: u32 = 1 << deferShift[z];
  if (considered[z] < limit) considered[z] = considered[z] + 1;
  return considered[z] < limit;
}

/** compaction_defer_reset after a successful allocation of `order`. */
export function compactionDeferReset(z: u32, order: u32): void {
  considered[z] = 0;
  deferShift[z] = 0;
  if (order >= orderFailed[z]) orderFailed[z] = order + 1;
}

export function compactDeferShift(z: u32): u32 { return deferShift[z]; }

// ---- the scanners ---------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function scannersMet(): bool { return freeBlock <= (<i64>migratePfn & ~(<i64>PAGEBLOCK_NR_PAGES - 1)); }

/**
 * isolate_migratepages: scans from migratePfn to the end of its pageblock, isolating movable
 * pages until COMPACT_CLUSTER_MAX are held. Isolated pageblocks (offlining) are skipped.
 */
function isolateMigratepages(): void {
  const zend = zoneEnd(ccZone);
  const blockStart = migratePfn & ~(PAGEBLOCK_NR_PAGES - 1);
  let blockEnd = blockStart + PAGEBLOCK_NR_PAGES;
  if (blockEnd > zend) blockEnd = zend;
  if (getPageblockMt(migratePfn) == MT_ISOLATE) { migratePfn = blockEnd; return; }
  // isolation_suitable: a pageblock marked skip is passed over unless the run ignores the marks
  if (!ccIgnoreSkip && pageblockSkip(migratePfn)) { migratePfn = blockEnd; return; }
  if (migratePfn == blockStart) blockIsolated = 0; // a new pageblock (zone spans are pageblock aligned)
  let p = migratePfn;
  let scanned: u32 = 0;
  while (p < blockEnd && nrMigrate < COMPACT_CLUSTER_MAX) {
    scanned++;
    const f = load<u8>(PFLAGS + <usize>p);
    if (f & PG_BUDDY) { p += <u32>1 << getOrder(p); continue; }
    if ((f & PG_HEAD) != 0 && getOrder(p) > 0) {
      // A compound page: never movable here (pageMovable wants order 0). Skipped whole, its
      // frames counted as scanned, as isolate_migratepages_block does.
      let n = <u32>1 << getOrder(p);
      if (n > blockEnd - p) n = blockEnd - p;
      scanned += n - 1;
      p += n;
      continue;
    }
    if (pageMovable(p) && isolateMovablePage(p)) {
      store<u32>(MIGRATE + (<usize>nrMigrate << 2), p);
      nrMigrate++;
      blockIsolated++;
    }
    p++;
  }
  migratePfn = p < blockEnd ? p : blockEnd;
  if (migratePfn == blockEnd) {
    // the pageblock is done: mark it if it gave nothing, and let the next run start after it
    if (blockIsolated == 0) setPageblockSkip(blockStart);
    if (blockEnd > cachedMigrate[ccZone]) cachedMigrate[ccZone] = blockEnd;
  }
  lastMigrateScanned += scanned;
  vmstatAdd(VM_COMPACT_MIGRATE_SCANNED, <f64>scanned);
  vmstatAdd(VM_COMPACT_ISOLATED, <f64>nrMigrate);
  charge(<f64>scanned * SCAN_NS_PER_PAGE);
}

/** suitable_migration_target: a MOVABLE pageblock not already one free block of >= pageblock order. */
function suitableTarget(start: u32): bool {
  if (getPageblockMt(start) != MT_MOVABLE) return false;
  if ((load<u8>(PFLAGS + <usize>start) & PG_BUDDY) != 0 && getOrder(start) >= PAGEBLOCK_ORDER) return false;
  return true;
}

/**
 * isolate_freepages: walks pageblocks downward from freeBlock (each upward inside) isolating
 * free buddy blocks until at least `want` free frames are held or the scanners meet.
 */
function isolateFreepages(want: u32): void {
  const zs = zoneStart(ccZone), ze = zoneEnd(ccZone);
  let scanned: u32 = 0;
  while (nrFree < want && !freeRefused) {
    if (scannersMet()) break;
    const bs = <u32>freeBlock;
    const start = bs < zs ? zs : bs;
    let end = bs + PAGEBLOCK_NR_PAGES;
    if (end > ze) end = ze;
    if (freeCursor == NIL) freeCursor = start;
    if ((ccIgnoreSkip || !pageblockSkip(bs)) && suitableTarget(bs)) {
      while (freeCursor < end && nrFree < want) {
        const p = freeCursor;
        scanned++;
        const f = load<u8>(PFLAGS + <usize>p);
        if ((f & PG_BUDDY) == 0) {
          // isolate_freepages_block skips a compound page whole (counting its frames as
          // scanned) when it ends inside the block: none of its frames can be free.
          const n = (f & PG_HEAD) != 0 ? <u32>1 << getOrder(p) : 1;
          if (n > 1 && n <= end - p) { scanned += n - 1; freeCursor = p + n; } else freeCursor++;
          continue;
        }
        const o = getOrder(p);
        if (!isolateFreePage(p, o)) { freeRefused = true; break; } // zone at min + 2^order
        for (let i: u32 = 0; i < (<u32>1 << o); i++) {
          store<u32>(FREE + (<usize>nrFree << 2), p + i);
          nrFree++;
        }
        freeCursor = p + (<u32>1 << o);
      }
      if (freeCursor < end) break; // enough for now: resume inside this pageblock
      // update_pageblock_skip: scanned to the end, so the next run starts below it
      setPageblockSkip(bs);
      if (bs >= PAGEBLOCK_NR_PAGES && bs - PAGEBLOCK_NR_PAGES < cachedFree[ccZone]) cachedFree[ccZone] = bs - PAGEBLOCK_NR_PAGES;
    }
    freeBlock -= PAGEBLOCK_NR_PAGES;
    freeCursor = NIL;
  }
  lastFreeScanned += scanned;
  vmstatAdd(VM_COMPACT_FREE_SCANNED, <f64>scanned);
  charge(<f64>scanned * SCAN_NS_PER_PAGE);
}

/** migrate_pages over the isolated batch, free targets from the free scanner (compaction_alloc). */
function migrateBatch(): void {
  isolateFreepages(nrMigrate);
  for (let i: u32 = 0; i < nrMigrate; i++) {
    const src = load<u32>(MIGRATE + (<usize>i << 2));
    if (nrFree == 0) isolateFreepages(nrMigrate - i);
    if (nrFree == 0) {
      for (let j = i; j < nrMigrate; j++) putbackMovablePage(load<u32>(MIGRATE + (<usize>j << 2)));
      // -ENOMEM from compaction_alloc ends the run unless the scanners met: then the finish
      // check sees them meet (and resets the cached positions)
      if (!scannersMet()) freeRefused = true;
      break;
    }
    nrFree--;
    const dst = load<u32>(FREE + (<usize>nrFree << 2));
    if (migratePage(src, dst) == OK) lastMigrated++;
    else {
      putbackMovablePage(src);
      store<u32>(FREE + (<usize>nrFree << 2), dst);
      nrFree++;
    }
  }
  nrMigrate = 0;
}

/** release_free_list: unused free targets go back to the buddy. */
function releaseFreepages(): void {
  while (nrFree > 0) {
    nrFree--;
    const p = load<u32>(FREE + (<usize>nrFree << 2));
    putbackIsolatedPage(p, 0, getPageblockMt(p));
  }
}

/** __compact_finished (evaluated at pageblock boundaries of the migrate scanner). */
function compactFinished(): i32 {
  if (scannersMet()) {
    // the next run starts anew; after a direct run kswapd clears the marks when it sleeps
    resetCachedPositions(ccZone);
    if (ccDirect) blockskipFlush[ccZone] = true;
    return ccWholeZone ? COMPACT_COMPLETE : COMPACT_PARTIAL_SKIPPED;
  }
  if ((migratePfn & (PAGEBLOCK_NR_PAGES - 1)) != 0) return COMPACT_CONTINUE;
  if (ccProactive) {
    return fragmentationScoreZone(ccZone) > fragmentationScoreWmark(true) ? COMPACT_CONTINUE : COMPACT_SUCCESS;
  }
  if (ccOrder < 0) return COMPACT_CONTINUE;
  for (let o = <u32>ccOrder; o <= MAX_ORDER; o++) {
    if (!listEmpty(freeList(ccZone, o, ccMt))) return COMPACT_SUCCESS;
    // a whole free pageblock of another type can be claimed (find_suitable_fallback)
    if (o >= PAGEBLOCK_ORDER) {
      for (let mt: u32 = 0; mt < MT_PCPTYPES; mt++) if (!listEmpty(freeList(ccZone, o, mt))) return COMPACT_SUCCESS;
    }
  }
  return COMPACT_CONTINUE;
}

/**
 * compact_zone: runs both scanners over zone `z`. `order` < 0 compacts the whole zone
 * (compact_memory), unless `proactive`, which stops once the zone's score is <= wmark_low.
 * Returns COMPACT_COMPLETE / COMPACT_SUCCESS / COMPACT_PARTIAL_SKIPPED.
 */
export function compactZone(z: u32, order: i32, mt: u32, proactive: bool, direct: bool = false): i32 {
  if (MIGRATE == 0) { MIGRATE = heap.alloc(<usize>COMPACT_CLUSTER_MAX << 2); FREE = heap.alloc(<usize>FREE_CAP << 2); }
  ccZone = z; ccOrder = order; ccMt = mt < MT_PCPTYPES ? mt : MT_MOVABLE; ccProactive = proactive;
  ccDirect = direct;
  lastMigrated = 0; lastMigrateScanned = 0; lastFreeScanned = 0;
  nrMigrate = 0; nrFree = 0; freeRefused = false;
  const zs = zoneStart(z), ze = zoneEnd(z);
  const lastBlock = (ze - 1) & ~(PAGEBLOCK_NR_PAGES - 1);
  if (!cachedValid[z]) resetCachedPositions(z);
  if (compactionRestarting(z, order)) resetIsolationSuitableZone(z);
  // compact_memory and proactive runs cover the whole zone; order-targeted runs resume
  ccIgnoreSkip = order < 0;
  if (ccIgnoreSkip) {
    migratePfn = zs;
    freeBlock = <i64>lastBlock;
  } else {
    let m = cachedMigrate[z], f = cachedFree[z];
    if (m < zs || m >= ze) { m = zs; cachedMigrate[z] = m; }
    if (f < zs || f >= ze) { f = lastBlock; cachedFree[z] = f; }
    migratePfn = m;
    freeBlock = <i64>f;
  }
  ccWholeZone = migratePfn <= zs;
  freeCursor = NIL;
  blockIsolated = 0;
  drainZonePcp(z);
  let r: i32 = COMPACT_CONTINUE;
  let undrained = false;
  while (true) {
    // freed sources sit on the pcp lists: drain at pageblock boundaries so they merge
    // before the finish check looks at the free lists (drain_local_pages)
    if (undrained && (migratePfn & (PAGEBLOCK_NR_PAGES - 1)) == 0) { drainZonePcp(z); undrained = false; }
    r = compactFinished();
    if (r != COMPACT_CONTINUE) break;
    const before = lastMigrated;
    isolateMigratepages();
    if (nrMigrate > 0) migrateBatch();
    if (lastMigrated != before) undrained = true;
    if (freeRefused) { r = COMPACT_PARTIAL_SKIPPED; break; }
  }
  releaseFreepages();
  drainZonePcp(z);
  lastResult = r;
  return r;
}

// ---- callers --------------------------------------------------------------------------------

/** /proc/sys/vm/compact_memory: every populated zone, whole. Returns pages migrated. */
export function compactAll(): u32 {
  let moved: u32 = 0;
  for (let z: u32 = 0; z < NR_ZONES; z++) {
    if (!zonePopulated(z)) continue;
    compactZone(z, -1, MT_MOVABLE, false);
    moved += lastMigrated;
  }
  return moved;
}

/**
 * try_to_compact_pages: direct compaction for a failed allocation of `order`, zone by zone down
 * the zonelist, honouring deferral and compaction_suitable. True if a zone now passes the MIN
 * watermark at `order` (the allocator retries then).
 */
export function tryToCompactPages(order: u32, gfp: u32): bool {
  if (order == 0) return false;
  const cls = gfp & GFP_CLASS_MASK;
  const mt = gfpMigratetype(cls);
  const highest = cls == GFP_MOVABLE ? ZONE_MOVABLE : ZONE_NORMAL;
  for (let zi = <i32>highest; zi >= 0; zi--) {
    const z = <u32>zi;
    if (!zonePopulated(z)) continue;
    if (compactionDeferred(z, order)) { lastResult = COMPACT_DEFERRED; continue; }
    if (zoneWatermarkOk(z, order, WMARK_MIN)) return true;
    if (!compactionSuitable(z, order)) { lastResult = COMPACT_SKIPPED; continue; }
    const r = compactZone(z, <i32>order, mt, false, true);
    if (zoneWatermarkOk(z, order, WMARK_MIN)) { compactionDeferReset(z, order); return true; }
    if (r == COMPACT_COMPLETE || r == COMPACT_PARTIAL_SKIPPED) deferCompaction(z, order);
  }
  return false;
}

setDirectCompactHook(tryToCompactPages);
