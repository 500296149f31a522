// SPDX-License-Identifier: MIT
// Host-facing exports of the page allocator: flat, numeric, u32 pfns (NIL = none). Tests,
// the bench runner and the host's metrics call these; guest modules call mm/page_alloc.ts and
// mm/buddy.ts directly. Model: the bench loops run whole inside wasm (one call per batch).
// Debug builds run mm_validate after every mutating export here and abort on a broken invariant
// (debugValidate); release builds compile the check out.

import {
  NIL, OK, E_INVAL, E_RANGE, NR_ZONES, NR_ORDERS, NR_MIGRATETYPES, GFP_MOVABLE, ZI_START_PFN,
  ZI_END_PFN, ZI_MANAGED, ZI_FREE, ZI_WMARK_MIN, ZI_WMARK_LOW, ZI_WMARK_HIGH, ZI_WMARK_BOOST,
  ZI_PCP_BATCH, ZI_PCP_HIGH, ZI_PCP_COUNT, ZI_MIN_FREE_KBYTES, ZI_RESERVED_HIGHATOMIC, ZI_FREE_HIGHATOMIC, WMARK_MIN, WMARK_LOW, WMARK_HIGH,
} from "../abi";
import { nrFrames } from "./pfn";
import { listCount, listHead, listTail } from "../lib/list";
import { freeList, zoneStart, zoneEnd, zoneManaged, zoneFreePages, zoneNrFree, zoneReservedHighatomic, zoneFreeHighatomic } from "./zone";
import { wmarkRaw, watermarkBoost, minFreeKbytes, zoneWatermarkOk } from "./watermark";
import { fragmentationIndex, findBuddyHead, isolateFreePage, putbackIsolatedPage } from "./buddy";
import { movePageblock, pageblockMigratetype } from "./pageblock";
import { drainPcp, pcpBatch, pcpHigh, pcpCount, setCurrentCpu } from "./pcp";
import {
  allocPages, freePages, freePagesFpi, splitPage, onlinePages, offlinePages, setKswapdWakeHook,
  setDirectReclaimHook, setDirectCompactHook, setOomKillHook, registerOomNotifier,
} from "./page_alloc";
import { setFreeNotifyHook } from "./buddy";
import { mmValidate } from "./buddy_validate";
import {
  debugValidate, DBG_MM_ALLOC, DBG_MM_FREE, DBG_MM_FREE_FPI, DBG_MM_SPLIT_PAGE, DBG_MM_DRAIN_PCP, DBG_MM_MOVE_PAGEBLOCK, DBG_MM_ISOLATE_FREE, DBG_MM_PUTBACK_ISOLATED, DBG_MM_ONLINE_PAGES, DBG_MM_OFFLINE_PAGES, DBG_MM_BENCH_ALLOC, DBG_MM_BENCH_FREE, DBG_MM_BENCH_REPEAT,
} from "./debug_vm";

/** alloc_pages(order, gfp): head pfn of a 2^order block, or NIL (gfp: abi.ts GFP_* | modifiers). */
export function mm_alloc(order: u32, gfp: u32): u32 {
  const pfn = allocPages(order, gfp);
  debugValidate(DBG_MM_ALLOC, order, gfp);
  return pfn;
}

/** __free_pages(pfn, order): OK or E_RANGE / E_INVAL / E_DOUBLE_FREE / E_NOT_ALLOCATED / E_BUSY. */
export function mm_free(pfn: u32, order: u32): i32 {
  const r = freePages(pfn, order);
  debugValidate(DBG_MM_FREE, pfn, order);
  return r;
}

/** Free with FPI_* flags (FPI_TO_TAIL, FPI_SKIP_REPORT_NOTIFY); bypasses the pcp lists if any set. */
export function mm_free_fpi(pfn: u32, order: u32, fpi: u32): i32 {
  const r = freePagesFpi(pfn, order, fpi);
  debugValidate(DBG_MM_FREE_FPI, pfn, order);
  return r;
}

/** split_page: an allocated 2^order block becomes 2^order order-0 blocks. */
export function mm_split_page(pfn: u32, order: u32): i32 {
  const r = splitPage(pfn, order);
  debugValidate(DBG_MM_SPLIT_PAGE, pfn, order);
  return r;
}

/**
 * Free blocks of `order` in `zone` on the list of migratetype `mt`; with mt >= NR_MIGRATETYPES
 * the zone's nr_free[order] (all types; /proc/buddyinfo).
 */
export function mm_nr_free(zone: u32, order: u32, mt: u32): u32 {
  if (zone >= NR_ZONES || order >= NR_ORDERS) return 0;
  if (mt >= NR_MIGRATETYPES) return zoneNrFree(zone, order);
  return listCount(freeList(zone, order, mt));
}

/** First (head) block of the (zone, order, mt) free list, or NIL: where allocations take from. */
export function mm_free_list_first(zone: u32, order: u32, mt: u32): u32 {
  if (zone >= NR_ZONES || order >= NR_ORDERS || mt >= NR_MIGRATETYPES) return NIL;
  return listHead(freeList(zone, order, mt));
}

/** Last (tail) block of the (zone, order, mt) free list, or NIL. */
export function mm_free_list_last(zone: u32, order: u32, mt: u32): u32 {
  if (zone >= NR_ZONES || order >= NR_ORDERS || mt >= NR_MIGRATETYPES) return NIL;
  return listTail(freeList(zone, order, mt));
}

/** Zone field `field` (abi.ts ZI_*), NaN for a bad zone/field. */
export function mm_zone_info(zone: u32, field: u32): f64 {
  if (zone >= NR_ZONES) return NaN;
  switch (field) {
    case ZI_START_PFN: return <f64>zoneStart(zone);
    case ZI_END_PFN: return <f64>zoneEnd(zone);
    case ZI_MANAGED: return <f64>zoneManaged(zone);
    case ZI_FREE: return <f64>zoneFreePages(zone);
    case ZI_WMARK_MIN: return <f64>wmarkRaw(zone, WMARK_MIN);
    case ZI_WMARK_LOW: return <f64>wmarkRaw(zone, WMARK_LOW);
    case ZI_WMARK_HIGH: return <f64>wmarkRaw(zone, WMARK_HIGH);
    case ZI_WMARK_BOOST: return <f64>watermarkBoost(zone);
    case ZI_PCP_BATCH: return <f64>pcpBatch(zone);
    case ZI_PCP_HIGH: return <f64>pcpHigh(zone);
    case ZI_PCP_COUNT: return <f64>pcpCount(zone);
    case ZI_MIN_FREE_KBYTES: return <f64>minFreeKbytes;
    case ZI_RESERVED_HIGHATOMIC: return <f64>zoneReservedHighatomic(zone);
    case ZI_FREE_HIGHATOMIC: return <f64>zoneFreeHighatomic(zone);
  }
  return NaN;
}

/** zone_watermark_ok(zone, order, mark (WMARK_*) + boost): 1 or 0; E_INVAL for bad arguments. */
export function mm_watermark_ok(zone: u32, order: u32, mark: u32): i32 {
  if (zone >= NR_ZONES || order >= NR_ORDERS || mark > WMARK_HIGH) return E_INVAL;
  return zoneWatermarkOk(zone, order, mark) ? 1 : 0;
}

/** fragmentation_index(zone, order) in [-1000, 1000] (mm/vmstat.c). */
export function mm_frag_index(zone: u32, order: u32): i32 {
  if (zone >= NR_ZONES || order >= NR_ORDERS) return 0;
  return fragmentationIndex(zone, order);
}

/** drain_all_pages: every pcp list back to the buddy. */
export function mm_drain_pcp(): void { drainPcp(); debugValidate(DBG_MM_DRAIN_PCP, 0, 0); }

/** Makes `cpu` the current vCPU for later allocator calls; E_INVAL if cpu >= PARAM_NR_CPUS. */
export function mm_set_cpu(cpu: u32): i32 { return setCurrentCpu(cpu) ? OK : E_INVAL; }

/** Allocator invariants: 0 = ok, else abi.ts MMV_* naming the first broken one. */
export function mm_validate(): i32 { return mmValidate(); }

/** Head of the free buddy block containing `pfn`, or NIL. */
export function mm_find_buddy(pfn: u32): u32 { return findBuddyHead(pfn); }

/** Pageblock migratetype of `pfn`, or E_RANGE. */
export function mm_pageblock_mt(pfn: u32): i32 { return pfn < nrFrames ? <i32>pageblockMigratetype(pfn) : E_RANGE; }

/** move_freepages_block + retag of the pageblock holding `pfn`: pages moved, or E_INVAL. */
export function mm_move_pageblock(pfn: u32, mt: u32): i32 {
  if (mt >= NR_MIGRATETYPES) return E_INVAL;
  const r = movePageblock(pfn, mt);
  debugValidate(DBG_MM_MOVE_PAGEBLOCK, pfn, mt);
  return r < 0 ? E_INVAL : r;
}

/** __isolate_free_page: 1 if the free head `pfn` of `order` was isolated, else 0. */
export function mm_isolate_free(pfn: u32, order: u32): i32 {
  const ok = isolateFreePage(pfn, order);
  debugValidate(DBG_MM_ISOLATE_FREE, pfn, order);
  return ok ? 1 : 0;
}

/** __putback_isolated_page to the tail of `mt`'s list: OK or E_INVAL. */
export function mm_putback_isolated(pfn: u32, order: u32, mt: u32): i32 {
  const ok = putbackIsolatedPage(pfn, order, mt);
  debugValidate(DBG_MM_PUTBACK_ISOLATED, pfn, order);
  return ok ? OK : E_INVAL;
}

/** online_pages(start, count) into `zone`: OK or E_*. */
export function mm_online_pages(start: u32, count: u32, zone: u32): i32 {
  const r = onlinePages(start, count, zone);
  debugValidate(DBG_MM_ONLINE_PAGES, start, count);
  return r;
}

/** offline bookkeeping of [start, start + count): OK, or E_BUSY if a frame is in use. */
export function mm_offline_pages(start: u32, count: u32): i32 {
  const r = offlinePages(start, count);
  debugValidate(DBG_MM_OFFLINE_PAGES, start, count);
  return r;
}

// ---- bench/test loops (whole loops inside wasm) ---------------------------------------------

let benchBuf: usize = 0;
let benchCap: u32 = 0;
let benchLen: u32 = 0;
let benchOrder: u32 = 0;

function benchReserve(n: u32): void {
  if (n <= benchCap) return;
  benchBuf = benchBuf == 0 ? heap.alloc(<usize>n << 2) : heap.realloc(benchBuf, <usize>n << 2);
  benchCap = n;
}

/** Address of the bench pfn buffer (u32 pfns of the last mm_bench_alloc), valid until the next one. */
export function mm_bench_buf(): usize { return benchBuf; }

/** Allocates `count` blocks of `order` with `gfp`, keeping their pfns; returns how many succeeded. */
export function mm_bench_alloc(order: u32, gfp: u32, count: u32): u32 {
  benchReserve(count);
  let n: u32 = 0;
  for (; n < count; n++) {
    const pfn = allocPages(order, gfp);
    if (pfn == NIL) break;
    store<u32>(benchBuf + (<usize>n << 2), pfn);
  }
  benchLen = n;
  benchOrder = order;
  debugValidate(DBG_MM_BENCH_ALLOC, order, count);
  return n;
}

/** Frees the first `count` kept blocks in allocation order; returns how many frees returned OK. */
export function mm_bench_free(order: u32, count: u32): u32 {
  if (count > benchLen) count = benchLen;
  let ok: u32 = 0;
  for (let i: u32 = 0; i < count; i++) if (freePages(load<u32>(benchBuf + (<usize>i << 2)), order) == OK) ok++;
  benchLen = 0;
  debugValidate(DBG_MM_BENCH_FREE, order, count);
  return ok;
}

/** Frees the first `count` kept blocks in a seeded random order (xorshift32 Fisher-Yates). */
export function mm_bench_free_random(order: u32, count: u32, seed: u32): u32 {
  if (count > benchLen) count = benchLen;
  let x: u32 = seed == 0 ? 0x9e3779b9 : seed;
  for (let i = count; i > 1; i--) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    const j = <u32>((<u64>x * <u64>i) >> 32);
    const a = benchBuf + (<usize>(i - 1) << 2), b = benchBuf + (<usize>j << 2);
    const t = load<u32>(a); store<u32>(a, load<u32>(b)); store<u32>(b, t);
  }
  return mm_bench_free(order, count);
}

/** `count` × (alloc + free) of one movable block of `order`; returns the pairs that succeeded. */
export function mm_bench_repeat(order: u32, count: u32): u32 {
  let ok: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const pfn = allocPages(order, GFP_MOVABLE);
    if (pfn == NIL) break;
    if (freePages(pfn, order) == OK) ok++;
  }
  debugValidate(DBG_MM_BENCH_REPEAT, order, count);
  return ok;
}

export { E_RANGE };
export { mm_debug_vm } from "./debug_vm";

// ---- test hooks: recording stand-ins for kswapd, reclaim, compaction, OOM and reporting ------

let hookCalls = new StaticArray<u32>(6); // kswapd, reclaim, compact, oom notifier, oom kill, free notify
let reclaimBatch: u32 = 0;
let notifierBatch: u32 = 0;
let killBatch: u32 = 0;

/** Frees up to `n` blocks from the end of the bench buffer, as reclaim would; returns pages freed. */
function releaseKept(n: u32): u32 {
  let pages: u32 = 0;
  for (let i: u32 = 0; i < n && benchLen > 0; i++) {
    benchLen--;
    if (freePages(load<u32>(benchBuf + (<usize>benchLen << 2)), benchOrder) == OK) pages += <u32>1 << benchOrder;
  }
  return pages;
}
function testKswapd(order: u32, highestZone: u32): void { unchecked(hookCalls[0]++); }
function testReclaim(order: u32, gfp: u32): u32 { unchecked(hookCalls[1]++); return releaseKept(reclaimBatch); }
function testCompact(order: u32, gfp: u32): bool { unchecked(hookCalls[2]++); return false; }
function testOomNotifier(order: u32, gfp: u32): u32 { unchecked(hookCalls[3]++); return releaseKept(notifierBatch); }
function testOomKill(order: u32, gfp: u32): u32 { unchecked(hookCalls[4]++); return releaseKept(killBatch); }
function testFreeNotify(order: u32): void { unchecked(hookCalls[5]++); }
let testNotifierRegistered = false;

/**
 * Test only: installs recording hooks. Reclaim, the OOM notifier and the OOM killer each free up
 * to their batch of blocks kept by mm_bench_alloc (newest first); free-notify fires for merged
 * blocks of order >= `notifyMinOrder` (NR_ORDERS: never). Resets the call counters.
 */
export function mm_test_hooks(reclaim: u32, notifier: u32, kill: u32, notifyMinOrder: u32): void {
  reclaimBatch = reclaim; notifierBatch = notifier; killBatch = kill;
  for (let i = 0; i < 6; i++) unchecked(hookCalls[i] = 0);
  setKswapdWakeHook(testKswapd);
  setDirectReclaimHook(testReclaim);
  setDirectCompactHook(testCompact);
  setOomKillHook(testOomKill);
  if (!testNotifierRegistered) { registerOomNotifier(testOomNotifier); testNotifierRegistered = true; }
  setFreeNotifyHook(testFreeNotify, notifyMinOrder);
}

/** Test only: calls of hook `which` (0 kswapd, 1 reclaim, 2 compact, 3 OOM notifier, 4 OOM kill, 5 free notify). */
export function mm_test_hook_calls(which: u32): u32 { return which < 6 ? unchecked(hookCalls[which]) : 0; }
