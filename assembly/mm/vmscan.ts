// SPDX-License-Identifier: MIT
// Page reclaim: shrink_node over the file LRU (inactive first, the active list refilled when the
// inactive one runs low), dirty pages written back by kswapd only, reclaimable slab shrunk when
// the LRU falls short; direct reclaim (one SWAP_CLUSTER_MAX batch per stall) and drop_caches.
// Model: no anon reclaim (the guest has no swap), no reclaim priorities, no referenced bit
// (a second access activates), synchronous writeback. Follows mm/vmscan.c and fs/drop_caches.c.

import {
  NR_FILES, PG_DIRTY, SWAP_CLUSTER_MAX, GFP_CLASS_MASK, GFP_MOVABLE, ZONE_MOVABLE, ZONE_NORMAL,
  VM_ALLOCSTALL, VM_PGSCAN_KSWAPD, VM_PGSCAN_DIRECT, VM_PGSTEAL_KSWAPD, VM_PGSTEAL_DIRECT,
  VM_DROP_PAGECACHE, VM_DROP_SLAB, VM_PGREFILL, VM_PGINODESTEAL, COST_RECLAIM_PAGE_NS,
  DROP_PAGECACHE, DROP_SLAB,
} from "../abi";
import { listCount, listTail, listMoveHead } from "../lib/list";
import { vmstatAdd, vmstatInc, cost } from "../lib/scb";
import { charge } from "../lib/clock";
import { testFlag } from "./pfn";
import { pfnZone } from "./zone";
import { fileList, pageCacheEvict, writebackPage, deactivatePage, fileInvalidate } from "./pagecache";
import { shrinkSlab } from "./slab";
import { setDirectReclaimHook } from "./page_alloc";
import { drainPcp } from "./pcp";

/** Next file the LRU walk starts at (round robin over the per-file lists). */
let rotor: u32 = 0;
/** pgdat->kswapd_failures: kswapd runs in a row that reclaimed nothing; any progress resets it. */
let kswapdFailures: u32 = 0;
/** Pages scanned by the last shrinkNode (pgscan). */
let lastScanned: u32 = 0;

export function kswapdFailureCount(): u32 { return kswapdFailures; }
export function kswapdFailed(): void { kswapdFailures++; }

/** inactive_is_low for file pages: ratio 1 below 1 GiB of LRU (mm/vmscan.c inactive_is_low). */
// @ts-ignore: decorator
@inline function inactiveIsLow(f: u32): bool {
  return listCount(fileList(f, false)) < listCount(fileList(f, true));
}

/** shrink_active_list: moves up to `n` pages from the active tail to the inactive head. */
function shrinkActive(f: u32, n: u32): void {
  const l = fileList(f, true);
  let moved: u32 = 0;
  while (moved < n && listCount(l) > 0) {
    deactivatePage(listTail(l));
    moved++;
  }
  vmstatAdd(VM_PGREFILL, <f64>moved);
}

/**
 * shrink_inactive_list for file `f`: scans the inactive list from its tail once, freeing up to
 * `n` pages in zones <= `maxZone`. Dirty pages are written back first when `writeback`
 * (kswapd), else rotated. Returns pages reclaimed; pages scanned add to lastScanned.
 */
function shrinkInactive(f: u32, n: u32, maxZone: u32, writeback: bool): u32 {
  const l = fileList(f, false);
  let budget = listCount(l);
  let freed: u32 = 0;
  while (freed < n && budget > 0) {
    budget--;
    lastScanned++;
    const p = listTail(l);
    if (pfnZone(p) > maxZone) { listMoveHead(l, p); continue; }
    if (testFlag(p, PG_DIRTY)) {
      if (!writeback) { listMoveHead(l, p); continue; }
      writebackPage(p);
    }
    pageCacheEvict(p, true);
    freed++;
  }
  charge(<f64>freed * cost(COST_RECLAIM_PAGE_NS));
  return freed;
}

/** scan_objects of a shrinker registered by another subsystem: frees up to `n` pages, returns pages freed. */
export type ShrinkerScanFn = (n: u32) => u32;
function noShrinker(n: u32): u32 { return 0; }
let extShrinker: ShrinkerScanFn = noShrinker;
/**
 * register_shrinker / shrinker_free (one slot: virtio-balloon's free page hint shrinker, called
 * after reclaimable slab); `null` unregisters.
 */
export function registerShrinker(fn: ShrinkerScanFn | null): void { extShrinker = fn === null ? noShrinker : fn; }

/**
 * shrink_node: reclaims up to `n` pages from zones <= `maxZone`: file LRU first (files round
 * robin; a second pass deactivates whole active lists when the first freed nothing), then
 * reclaimable slab for the rest. Returns pages reclaimed; the pages scanned are in lastScan().
 */
export function shrinkNode(n: u32, maxZone: u32, isKswapd: bool): u32 {
  lastScanned = 0;
  let freed: u32 = 0;
  for (let pass: u32 = 0; pass < 2 && freed < n; pass++) {
    for (let i: u32 = 0; i < NR_FILES && freed < n; i++) {
      const f = (rotor + i) % NR_FILES;
      if (listCount(fileList(f, true)) == 0 && listCount(fileList(f, false)) == 0) continue;
      if (pass == 1) shrinkActive(f, listCount(fileList(f, true)));
      else if (inactiveIsLow(f)) shrinkActive(f, SWAP_CLUSTER_MAX);
      freed += shrinkInactive(f, n - freed, maxZone, isKswapd);
      if (freed >= n) rotor = (f + 1) % NR_FILES;
    }
  }
  if (freed < n) freed += shrinkSlab(n - freed, maxZone);
  if (freed < n) freed += extShrinker(n - freed);
  if (freed > 0) kswapdFailures = 0;
  return freed;
}

export function lastScan(): u32 { return lastScanned; }

/**
 * try_to_free_pages: one SWAP_CLUSTER_MAX batch for an allocation that failed at MIN; counts
 * allocstall, pgscan_direct, pgsteal_direct. Registered as the allocator's direct reclaim hook.
 */
export function directReclaim(order: u32, gfp: u32): u32 {
  vmstatInc(VM_ALLOCSTALL);
  const maxZone = (gfp & GFP_CLASS_MASK) == GFP_MOVABLE ? ZONE_MOVABLE : ZONE_NORMAL;
  let want = SWAP_CLUSTER_MAX;
  if (order > 0 && (<u32>1 << order) > want) want = <u32>1 << order; // compact_gap needs room
  const freed = shrinkNode(want, maxZone, false);
  vmstatAdd(VM_PGSCAN_DIRECT, <f64>lastScanned);
  vmstatAdd(VM_PGSTEAL_DIRECT, <f64>freed);
  // __alloc_pages_direct_reclaim drains the pcp lists when the retry fails: freed pages (and
  // what an OOM notifier or kill freed) sit there, invisible to the watermark check
  drainPcp();
  return freed;
}

/** kswapd's share: the same walk with writeback, counted as pgscan/pgsteal_kswapd. */
export function kswapdShrink(n: u32, maxZone: u32): u32 {
  const freed = shrinkNode(n, maxZone, true);
  vmstatAdd(VM_PGSCAN_KSWAPD, <f64>lastScanned);
  vmstatAdd(VM_PGSTEAL_KSWAPD, <f64>freed);
  return freed;
}

/**
 * /proc/sys/vm/drop_caches: bit 1 invalidates clean page cache of every file (dirty pages
 * survive: run sync first), bit 2 drops reclaimable slab. Returns pages freed.
 */
export function dropCaches(mode: u32): u32 {
  let freed: u32 = 0;
  if (mode & DROP_PAGECACHE) {
    for (let f: u32 = 0; f < NR_FILES; f++) freed += fileInvalidate(f);
    vmstatInc(VM_DROP_PAGECACHE);
    vmstatAdd(VM_PGINODESTEAL, <f64>freed);
  }
  if (mode & DROP_SLAB) {
    freed += shrinkSlab(0xffffffff, ZONE_MOVABLE);
    vmstatInc(VM_DROP_SLAB);
  }
  return freed;
}

setDirectReclaimHook(directReclaim);
