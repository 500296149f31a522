// SPDX-License-Identifier: MIT
// The binary buddy allocator proper: free lists, __free_one_page merging and placement,
// __rmqueue_smallest/expand, the v6.15 CLAIM/STEAL fallback, __isolate_free_page and
// fragmentation_index. Model: no guard pages, no shuffle, no CMA, no compaction capture.
// Follows mm/page_alloc.c and mm/vmstat.c (__fragmentation_index).

import {
  NIL, MAX_ORDER, NR_ORDERS, PAGEBLOCK_ORDER, PAGEBLOCK_NR_PAGES, NR_MIGRATETYPES, MT_UNMOVABLE,
  MT_MOVABLE, MT_RECLAIMABLE, MT_ISOLATE, PT_FREE, PT_ISOLATED, PT_MASK, PG_BUDDY,
  FPI_TO_TAIL, FPI_SKIP_REPORT_NOTIFY, VM_EXTFRAG_FAILS,
} from "../abi";
import { PFLAGS, PORDER, nrFrames, getPageblockMt, setPageblockMt } from "./pfn";
import { listAddHead, listAddTail, listDel, listHead } from "../lib/list";
import {
  freeList, zonePtr, accountFreepages, addNrFree, zoneNrFree, zoneSpans, pfnZone, Z_FREE,
} from "./zone";
import { mtMergeable, changePageblockRange, prepMoveFreepagesBlock, pbFreePages, pbMovablePages, moveFreepagesBlockRaw } from "./pageblock";
import { boostWatermark, wmarkRaw, zoneWatermarkOkFlags } from "./watermark";
import { WMARK_MIN } from "../abi";
import { vmstatInc } from "../lib/scb";

// ---- free-list primitives -------------------------------------------------------------------

/** Marks `pfn` as the head of a free block: PT_FREE | PG_BUDDY, order and list migratetype. */
// @ts-ignore: decorator
@inline function setBuddyHead(pfn: u32, order: u32, mt: u32): void {
  store<u8>(PFLAGS + <usize>pfn, PT_FREE | PG_BUDDY);
  store<u8>(PORDER + <usize>pfn, <u8>((mt << 4) | order));
}

/** __add_to_free_list + set_buddy_order (no accounting). */
// @ts-ignore: decorator
@inline function addToFreeList(z: u32, pfn: u32, order: u32, mt: u32, tail: bool): void {
  setBuddyHead(pfn, order, mt);
  const l = freeList(z, order, mt);
  if (tail) listAddTail(l, pfn); else listAddHead(l, pfn);
  addNrFree(z, order, 1);
}

/** __del_page_from_free_list: unlinks, clears PageBuddy and PageReported (no accounting). */
// @ts-ignore: decorator
@inline function delFromFreeList(z: u32, pfn: u32, order: u32, mt: u32): void {
  listDel(freeList(z, order, mt), pfn);
  store<u8>(PFLAGS + <usize>pfn, PT_FREE);
  addNrFree(z, order, -1);
}

/** del_page_from_free_list with accounting. */
export function delPageFromFreeList(z: u32, pfn: u32, order: u32, mt: u32): void {
  delFromFreeList(z, pfn, order, mt);
  accountFreepages(z, -(<i32>1 << order), mt);
}

/** move_to_free_list: to the TAIL of the new type's list (L-TAIL), accounting both types. */
export function moveToFreeList(z: u32, pfn: u32, order: u32, oldMt: u32, newMt: u32): void {
  listDel(freeList(z, order, oldMt), pfn);
  store<u8>(PORDER + <usize>pfn, <u8>((newMt << 4) | order));
  listAddTail(freeList(z, order, newMt), pfn);
  accountFreepages(z, -(<i32>1 << order), oldMt);
  accountFreepages(z, <i32>1 << order, newMt);
}

/**
 * True if `pfn` is the head of a free buddy block of exactly `order` (page_is_buddy, same zone).
 * Below pageblock order the buddy shares the pageblock, hence the zone: no zone load needed.
 */
// @ts-ignore: decorator
@inline function isBuddy(z: u32, pfn: u32, order: u32): bool {
  return (load<u8>(PFLAGS + <usize>pfn) & PG_BUDDY) != 0
    && (<u32>load<u8>(PORDER + <usize>pfn) & 0x0f) == order
    && (order < PAGEBLOCK_ORDER || pfnZone(pfn) == z);
}

// ---- free-notify hook (free page reporting) -------------------------------------------------

export type FreeNotifyFn = (order: u32) => void;
function noFreeNotify(order: u32): void {}
let freeNotifyHook: FreeNotifyFn = noFreeNotify;
let freeNotifyMinOrder: u32 = NR_ORDERS; // never, until a hook is registered

/**
 * Registers `fn`, called after every buddy free whose merged block has order >= `minOrder`
 * unless the free passed FPI_SKIP_REPORT_NOTIFY (page_reporting_notify_free).
 */
export function setFreeNotifyHook(fn: FreeNotifyFn, minOrder: u32): void {
  freeNotifyHook = fn;
  freeNotifyMinOrder = minOrder;
}

// ---- freeing --------------------------------------------------------------------------------

/**
 * __free_one_page: frees the 2^order block at `pfn` (its frames already PT_FREE) into zone `z`
 * as `mt`, merging with free buddies of the same order, then places it at the head or tail.
 */
export function freeOneBlock(z: u32, pfn: u32, order: u32, mt: u32, fpi: u32): void {
  freeOneBlockInline(z, pfn, order, mt, fpi);
}

/** freeOneBlock inlined into its hottest caller, the pcp drain loop (free_pcppages_bulk). */
// @ts-ignore: decorator
@inline export function freeOneBlockInline(z: u32, pfn: u32, order: u32, mt: u32, fpi: u32): void {
  accountFreepages(z, <i32>1 << order, mt);
  while (order < MAX_ORDER) {
    const buddy = pfn ^ (<u32>1 << order);
    if (buddy >= nrFrames || !isBuddy(z, buddy, order)) break;
    const buddyMt = <u32>load<u8>(PORDER + <usize>buddy) >> 4;
    if (order >= PAGEBLOCK_ORDER) {
      // Isolated/highatomic pageblocks keep their own free pages: no merge across types.
      if (mt != buddyMt && (!mtMergeable(mt) || !mtMergeable(buddyMt))) break;
    }
    delFromFreeList(z, buddy, order, buddyMt);
    if (buddyMt != mt) {
      // The buddy's free pages join the freed block's type (account, retag its pageblocks).
      accountFreepages(z, -(<i32>1 << order), buddyMt);
      accountFreepages(z, <i32>1 << order, mt);
      if (order >= PAGEBLOCK_ORDER) changePageblockRange(buddy, order, mt);
    }
    pfn &= buddy;
    order++;
  }
  let tail: bool;
  if (fpi & FPI_TO_TAIL) tail = true;
  else tail = buddyMergeLikely(z, pfn, order);
  addToFreeList(z, pfn, order, mt, tail);
  if ((fpi & FPI_SKIP_REPORT_NOTIFY) == 0 && order >= freeNotifyMinOrder) freeNotifyHook(order);
}

/**
 * buddy_merge_likely: if the next-order buddy is free, this block will likely merge soon, so
 * keep it at the tail where allocations do not take it first.
 */
// @ts-ignore: decorator
@inline function buddyMergeLikely(z: u32, pfn: u32, order: u32): bool {
  if (order >= MAX_ORDER - 1) return false;
  const higher = pfn & (pfn ^ (<u32>1 << order)); // combined pfn one order up
  const higherBuddy = higher ^ (<u32>1 << (order + 1));
  return higherBuddy < nrFrames && isBuddy(z, higherBuddy, order + 1);
}

/**
 * free_one_page / split_large_buddy: blocks above pageblock order are freed pageblock by
 * pageblock, each as its own pageblock's migratetype.
 */
export function freeBlockToBuddy(z: u32, pfn: u32, order: u32, fpi: u32): void {
  if (order <= PAGEBLOCK_ORDER) {
    freeOneBlock(z, pfn, order, getPageblockMt(pfn), fpi);
    return;
  }
  const end = pfn + (<u32>1 << order);
  for (let p = pfn; p < end; p += PAGEBLOCK_NR_PAGES) freeOneBlock(z, p, PAGEBLOCK_ORDER, getPageblockMt(p), fpi);
}

// ---- allocation -----------------------------------------------------------------------------

/**
 * expand: halves the 2^high block at `pfn` down to 2^low; each upper half goes to the HEAD of
 * the lower order's `mt` list. Returns the pages put back on lists.
 */
// @ts-ignore: decorator
@inline function expand(z: u32, pfn: u32, low: u32, high: u32, mt: u32): u32 {
  let added: u32 = 0;
  while (high > low) {
    high--;
    const size: u32 = 1 << high;
    addToFreeList(z, pfn + size, high, mt, false);
    added += size;
  }
  return added;
}

/** page_del_and_expand: takes the free block at `pfn` (order `high`, list `mt`) down to `low`. */
// @ts-ignore: decorator
@inline function pageDelAndExpand(z: u32, pfn: u32, low: u32, high: u32, mt: u32): void {
  delFromFreeList(z, pfn, high, mt);
  const added = expand(z, pfn, low, high, mt);
  accountFreepages(z, -(<i32>((<u32>1 << high) - added)), mt);
}

/** __rmqueue_smallest: first block of the smallest order >= `order` on `mt`'s lists, or NIL. */
// @ts-ignore: decorator
@inline export function rmqueueSmallest(z: u32, order: u32, mt: u32): u32 {
  for (let o = order; o < NR_ORDERS; o++) {
    const pfn = listHead(freeList(z, o, mt));
    if (pfn == NIL) continue;
    pageDelAndExpand(z, pfn, order, o, mt);
    return pfn;
  }
  return NIL;
}

// fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1], mm/page_alloc.c
// @ts-ignore: decorator
@inline function fallbackMt(mt: u32, i: u32): u32 {
  if (mt == MT_UNMOVABLE) return i == 0 ? MT_RECLAIMABLE : MT_MOVABLE;
  if (mt == MT_MOVABLE) return i == 0 ? MT_RECLAIMABLE : MT_UNMOVABLE;
  return i == 0 ? MT_UNMOVABLE : MT_MOVABLE;
}

/** should_try_claim_block: claim whole pageblocks only from big candidates or for non-movable requests. */
// @ts-ignore: decorator
@inline function shouldTryClaimBlock(order: u32, startMt: u32): bool {
  if (order >= PAGEBLOCK_ORDER) return true;
  return order >= PAGEBLOCK_ORDER / 2 || startMt == MT_RECLAIMABLE || startMt == MT_UNMOVABLE;
}

const FALLBACK_NONE: i32 = -1;
const FALLBACK_STOP: i32 = -2;

/** find_suitable_fallback: first fallback type with a free block at `order`, -1 none, -2 stop claiming. */
function findSuitableFallback(z: u32, order: u32, mt: u32, claimable: bool): i32 {
  if (claimable && !shouldTryClaimBlock(order, mt)) return FALLBACK_STOP;
  if (zoneNrFree(z, order) == 0) return FALLBACK_NONE;
  for (let i: u32 = 0; i < 2; i++) {
    const f = fallbackMt(mt, i);
    if (listHead(freeList(z, order, f)) != NIL) return <i32>f;
  }
  return FALLBACK_NONE;
}

// @ts-ignore: decorator
@inline function countExtfrag(currentOrder: u32): void {
  // trace_mm_page_alloc_extfrag's "fragmenting": the fallback came from below a pageblock.
  if (currentOrder < PAGEBLOCK_ORDER) vmstatInc(VM_EXTFRAG_FAILS);
}

/** try_to_claim_block: takes over the candidate's pageblock if enough of it is free or alike. */
function tryToClaimBlock(z: u32, pfn: u32, currentOrder: u32, order: u32, startMt: u32, blockMt: u32): u32 {
  if (currentOrder >= PAGEBLOCK_ORDER) {
    delFromFreeList(z, pfn, currentOrder, blockMt);
    accountFreepages(z, -(<i32>1 << currentOrder), blockMt);
    changePageblockRange(pfn, currentOrder, startMt);
    const added = expand(z, pfn, order, currentOrder, startMt);
    accountFreepages(z, <i32>added, startMt);
    return pfn;
  }
  boostWatermark(z);
  if (!prepMoveFreepagesBlock(z, pfn)) return NIL;
  const free = pbFreePages, movable = pbMovablePages;
  let alike: u32 = 0;
  if (startMt == MT_MOVABLE) alike = movable;
  else if (blockMt == MT_MOVABLE) alike = PAGEBLOCK_NR_PAGES - (free + movable);
  if (free + alike >= (<u32>1 << (PAGEBLOCK_ORDER - 1))) {
    const start = pfn & ~(PAGEBLOCK_NR_PAGES - 1);
    moveFreepagesBlockRaw(z, start, blockMt, startMt);
    setPageblockMt(start, startMt);
    return rmqueueSmallest(z, order, startMt);
  }
  return NIL;
}

/** __rmqueue_claim: largest fallback block first, claiming its pageblock for `mt`. */
function rmqueueClaim(z: u32, order: u32, mt: u32): u32 {
  for (let o = <i32>MAX_ORDER; o >= <i32>order; o--) {
    const co = <u32>o;
    const f = findSuitableFallback(z, co, mt, true);
    if (f == FALLBACK_NONE) continue;
    if (f == FALLBACK_STOP) break;
    const cand = listHead(freeList(z, co, <u32>f));
    const page = tryToClaimBlock(z, cand, co, order, mt, <u32>f);
    if (page != NIL) { countExtfrag(co); return page; }
  }
  return NIL;
}

/** __rmqueue_steal: smallest fallback block, split without retagging (a mixed pageblock). */
function rmqueueSteal(z: u32, order: u32, mt: u32): u32 {
  for (let o = order; o < NR_ORDERS; o++) {
    const f = findSuitableFallback(z, o, mt, false);
    if (f == FALLBACK_NONE) continue;
    const pfn = listHead(freeList(z, o, <u32>f));
    pageDelAndExpand(z, pfn, order, o, <u32>f);
    countExtfrag(o);
    return pfn;
  }
  return NIL;
}

// enum rmqueue_mode: where __rmqueue found pages last time (rmqueue_bulk keeps it across calls).
export const RMQUEUE_NORMAL: u32 = 0;
export const RMQUEUE_CLAIM: u32 = 1;
export const RMQUEUE_STEAL: u32 = 2;
export let rmqueueMode: u32 = RMQUEUE_NORMAL;
/** Starts a new zone-lock section: __rmqueue begins with its own type's lists again. */
// @ts-ignore: decorator
@inline export function resetRmqueueMode(): void { rmqueueMode = RMQUEUE_NORMAL; }

/** __rmqueue: NORMAL → CLAIM → STEAL starting at `rmqueueMode`, which it updates. */
export function rmqueue(z: u32, order: u32, mt: u32): u32 {
  let page: u32 = NIL;
  if (rmqueueMode == RMQUEUE_NORMAL) {
    page = rmqueueSmallest(z, order, mt);
    if (page != NIL) return page;
  }
  if (rmqueueMode <= RMQUEUE_CLAIM) {
    page = rmqueueClaim(z, order, mt);
    if (page != NIL) { rmqueueMode = RMQUEUE_NORMAL; return page; }
  }
  page = rmqueueSteal(z, order, mt);
  if (page != NIL) rmqueueMode = RMQUEUE_STEAL;
  return page;
}

// ---- queries and isolation (page reporting, compaction, hinting, offlining) -----------------

/** True if `pfn` is the head of a free buddy block (PageBuddy). */
export function pageIsFreeHead(pfn: u32): bool {
  return pfn < nrFrames && (load<u8>(PFLAGS + <usize>pfn) & PG_BUDDY) != 0;
}

/** Head pfn of the free buddy block containing `pfn` (find_buddy_page_pfn walk), or NIL. */
export function findBuddyHead(pfn: u32): u32 {
  if (pfn >= nrFrames) return NIL;
  if ((load<u8>(PFLAGS + <usize>pfn) & PT_MASK) != PT_FREE) return NIL;
  for (let o: u32 = 0; o < NR_ORDERS; o++) {
    const head = pfn & ~((<u32>1 << o) - 1);
    if ((load<u8>(PFLAGS + <usize>head) & PG_BUDDY) != 0 && (<u32>load<u8>(PORDER + <usize>head) & 0x0f) >= o) return head;
  }
  return NIL;
}

/**
 * Splits a free block larger than a pageblock that covers `pfn` into pageblock-sized free blocks
 * on their own pageblocks' lists (tail), so the pageblock can be retagged alone.
 */
export function splitLargeFreeBlock(pfn: u32): void {
  const head = findBuddyHead(pfn);
  if (head == NIL) return;
  const order = <u32>load<u8>(PORDER + <usize>head) & 0x0f;
  if (order <= PAGEBLOCK_ORDER) return;
  const z = pfnZone(head);
  const mt = <u32>load<u8>(PORDER + <usize>head) >> 4;
  delPageFromFreeList(z, head, order, mt);
  const end = head + (<u32>1 << order);
  for (let p = head; p < end; p += PAGEBLOCK_NR_PAGES) {
    const pmt = getPageblockMt(p);
    addToFreeList(z, p, PAGEBLOCK_ORDER, pmt, true);
    accountFreepages(z, <i32>PAGEBLOCK_NR_PAGES, pmt);
  }
}

/**
 * __isolate_free_page: takes the free head `pfn` of `order` off its list for a caller that will
 * hand it back (reporting, hinting, compaction's free scanner). Refused if the zone would drop
 * to min + 2^order free pages. Large isolated blocks (>= half a pageblock) retag their
 * pageblocks MOVABLE. The frames become PT_ISOLATED.
 */
export function isolateFreePage(pfn: u32, order: u32): bool {
  if (pfn >= nrFrames || order > MAX_ORDER) return false;
  const f = load<u8>(PFLAGS + <usize>pfn);
  if ((f & PG_BUDDY) == 0 || (<u32>load<u8>(PORDER + <usize>pfn) & 0x0f) != order) return false;
  const z = pfnZone(pfn);
  const mt = <u32>load<u8>(PORDER + <usize>pfn) >> 4;
  if (getPageblockMt(pfn) != MT_ISOLATE) {
    const mark = wmarkRaw(z, WMARK_MIN) + (<u32>1 << order);
    if (!zoneWatermarkOkFlags(z, 0, mark, 0)) return false;
  }
  delPageFromFreeList(z, pfn, order, mt);
  memory.fill(PFLAGS + <usize>pfn, PT_ISOLATED, <usize>1 << order);
  if (order >= PAGEBLOCK_ORDER - 1) {
    const end = pfn + (<u32>1 << order) - 1;
    for (let p = pfn; p < end; p += PAGEBLOCK_NR_PAGES) {
      const pmt = getPageblockMt(p);
      if (mtMergeable(pmt) && pmt != MT_MOVABLE) {
        moveFreepagesBlockRaw(z, p & ~(PAGEBLOCK_NR_PAGES - 1), pmt, MT_MOVABLE);
        setPageblockMt(p, MT_MOVABLE);
      }
    }
  }
  return true;
}

/**
 * __putback_isolated_page: returns an isolated block to the buddy, at the TAIL and without
 * notifying reporting (the block was just reported or is on its way back). `mt` is what the
 * caller read with get_pageblock_migratetype(); the block always goes to its pageblocks' lists
 * (the 6.10+ invariant), so a stale `mt` cannot misfile it.
 */
export function putbackIsolatedPage(pfn: u32, order: u32, mt: u32): bool {
  if (pfn >= nrFrames || order > MAX_ORDER || mt >= NR_MIGRATETYPES) return false;
  if ((pfn & ((<u32>1 << order) - 1)) != 0 || pfn + (<u32>1 << order) > nrFrames) return false;
  if ((load<u8>(PFLAGS + <usize>pfn) & PT_MASK) != PT_ISOLATED) return false;
  memory.fill(PFLAGS + <usize>pfn, PT_FREE, <usize>1 << order);
  freeBlockToBuddy(pfnZone(pfn), pfn, order, FPI_TO_TAIL | FPI_SKIP_REPORT_NOTIFY);
  return true;
}

/**
 * fragmentation_index (mm/vmstat.c): -1000 if a free block >= order exists; 0 if nothing is
 * free; else 1000 - (1000 + free_pages * 1000 / 2^order) / free_blocks, toward 1000 when the
 * failure is due to fragmentation rather than lack of memory.
 */
export function fragmentationIndex(z: u32, order: u32): i32 {
  if (order > MAX_ORDER) return 0;
  let blocks: u64 = 0, freePages: u64 = 0, suitable: u64 = 0;
  for (let o: u32 = 0; o < NR_ORDERS; o++) {
    const n = <u64>zoneNrFree(z, o);
    blocks += n;
    freePages += n << o;
    if (o >= order) suitable += n << (o - order);
  }
  if (blocks == 0) return 0;
  if (suitable != 0) return -1000;
  return <i32>(1000 - <i64>((1000 + freePages * 1000 / (<u64>1 << order)) / blocks));
}

export { zoneSpans, zonePtr, Z_FREE };
