// SPDX-License-Identifier: MIT
// Pageblock migratetypes (2 MiB tags): get/set, moving a pageblock's free blocks to another
// type's lists (move_freepages_block) and counting what a pageblock holds for block claiming.
// Model: "movable" pages are PT_ANON, PT_FILE (PageLRU) and PT_BALLOON (movable_ops). Follows
// mm/page_alloc.c (prep_move_freepages_block, __move_freepages_block, change_pageblock_range).

import {
  PAGEBLOCK_ORDER, PAGEBLOCK_NR_PAGES, PG_BUDDY, PT_MASK, PT_ANON, PT_FILE, PT_BALLOON, MT_PCPTYPES,
  MT_ISOLATE,
} from "../abi";
import { PFLAGS, getOrder, getListMt, getPageblockMt, setPageblockMt, nrFrames } from "./pfn";
import { zoneSpans, pfnZone } from "./zone";
import { moveToFreeList, splitLargeFreeBlock } from "./buddy";

/** Pageblock migratetype of the block holding `pfn` (get_pageblock_migratetype). */
export function pageblockMigratetype(pfn: u32): u32 { return getPageblockMt(pfn); }

/** set_pageblock_migratetype: retags only; free blocks stay on their lists (see movePageblock). */
export function setPageblockMigratetype(pfn: u32, mt: u32): void { setPageblockMt(pfn, mt); }

/** migratetype_is_mergeable: blocks of these types may merge with other types above pageblock order. */
// @ts-ignore: decorator
@inline export function mtMergeable(mt: u32): bool { return mt < MT_PCPTYPES; }

/** change_pageblock_range: retags every pageblock covered by the 2^order block at `pfn`. */
export function changePageblockRange(pfn: u32, order: u32, mt: u32): void {
  let n: u32 = order >= PAGEBLOCK_ORDER ? 1 << (order - PAGEBLOCK_ORDER) : 1;
  for (let i: u32 = 0; i < n; i++) setPageblockMt(pfn + (i << PAGEBLOCK_ORDER), mt);
}

/** Results of the last prepMoveFreepagesBlock call. */
export let pbFreePages: u32 = 0;
export let pbMovablePages: u32 = 0;

/**
 * prep_move_freepages_block: counts free (buddy) and movable pages of the pageblock holding
 * `pfn`; false if the pageblock is not wholly inside the zone.
 */
export function prepMoveFreepagesBlock(z: u32, pfn: u32): bool {
  const start = pfn & ~(PAGEBLOCK_NR_PAGES - 1);
  const end = start + PAGEBLOCK_NR_PAGES;
  if (!zoneSpans(z, start) || !zoneSpans(z, end - 1)) return false;
  let free: u32 = 0, movable: u32 = 0;
  let p = start;
  while (p < end) {
    const f = load<u8>(PFLAGS + <usize>p);
    if (f & PG_BUDDY) {
      const n: u32 = 1 << getOrder(p);
      free += n;
      p += n;
      continue;
    }
    const t = f & PT_MASK;
    if (t == PT_ANON || t == PT_FILE || t == PT_BALLOON) movable++;
    p++;
  }
  pbFreePages = free;
  pbMovablePages = movable;
  return true;
}

/** __move_freepages_block: moves every free block of the pageblock from `oldMt` to `newMt` lists. */
export function moveFreepagesBlockRaw(z: u32, start: u32, oldMt: u32, newMt: u32): u32 {
  const end = start + PAGEBLOCK_NR_PAGES;
  let moved: u32 = 0;
  let p = start;
  while (p < end) {
    if ((load<u8>(PFLAGS + <usize>p) & PG_BUDDY) == 0) { p++; continue; }
    const order = getOrder(p);
    moveToFreeList(z, p, order, getListMt(p), newMt);
    p += 1 << order;
    moved += 1 << order;
  }
  return moved;
}

/**
 * move_freepages_block + set_pageblock_migratetype: moves the pageblock holding `pfn` to `mt`
 * (retag and move its free blocks to the tail of the `mt` lists). Returns pages moved, or -1 if
 * the pageblock is not wholly in one zone. A free block larger than the pageblock is split into
 * pageblock-sized blocks first (split_large_buddy).
 */
export function movePageblock(pfn: u32, mt: u32): i32 {
  if (pfn >= nrFrames) return -1;
  const z = pfnZone(pfn);
  const start = pfn & ~(PAGEBLOCK_NR_PAGES - 1);
  if (!zoneSpans(z, start) || !zoneSpans(z, start + PAGEBLOCK_NR_PAGES - 1)) return -1;
  const old = getPageblockMt(start);
  splitLargeFreeBlock(start); // a free block spanning several pageblocks: split it first
  const moved = moveFreepagesBlockRaw(z, start, old, mt);
  setPageblockMt(start, mt);
  return <i32>moved;
}

export { MT_ISOLATE };
