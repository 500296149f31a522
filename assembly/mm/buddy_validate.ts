// SPDX-License-Identifier: MIT
// Invariant checker of the page allocator (debug builds and tests call it after every step):
// list links, free heads and bodies, nr_free, unmerged buddies, pageblock tags, pcp lists and
// counters. Model: the kernel's CONFIG_DEBUG_VM checks, gathered in one O(frames) pass.

import {
  NIL, NR_ZONES, NR_ORDERS, NR_MIGRATETYPES, PAGEBLOCK_ORDER, MT_ISOLATE, MT_PCPTYPES, MT_HIGHATOMIC,
  PT_FREE, PT_PCP, PT_MASK, PG_BUDDY, PG_REPORTED, VM_NR_FREE_PAGES, VM_MANAGED_PAGES, VM_NR_PCP,
  MMV_OK, MMV_LIST_LINKS, MMV_FREE_HEAD, MMV_NR_FREE, MMV_FREE_BODY, MMV_STRAY_FREE, MMV_UNMERGED,
  MMV_PAGEBLOCK, MMV_ZONE, MMV_PCP, MMV_COUNTERS, PAGE_ALLOC_COSTLY_ORDER,
} from "../abi";
import { PFLAGS, PORDER, nrFrames, getNext, getPrev, getPageblockMt } from "./pfn";
import { listHead, listTail, listCount } from "../lib/list";
import { freeList, zoneNrFree, zoneFreePages, zoneFreeHighatomic, zoneManaged, zoneSpans, pfnZone } from "./zone";
import { nrCpus, pcpListAddr, pcpCpuCount } from "./pcp";
import { vmstat } from "../lib/scb";

// @ts-ignore: decorator
@inline function flagsOf(pfn: u32): u8 { return load<u8>(PFLAGS + <usize>pfn); }
// @ts-ignore: decorator
@inline function orderOf(pfn: u32): u32 { return <u32>load<u8>(PORDER + <usize>pfn) & 0x0f; }
// @ts-ignore: decorator
@inline function listMtOf(pfn: u32): u32 { return <u32>load<u8>(PORDER + <usize>pfn) >> 4; }

/** Walks list `l`; returns its length, or -1 if next/prev/tail/count disagree. */
function walk(l: usize): i64 {
  let prev = NIL, p = listHead(l);
  let n: i64 = 0;
  while (p != NIL) {
    if (p >= nrFrames || getPrev(p) != prev) return -1;
    n++;
    if (n > <i64>nrFrames) return -1;
    prev = p;
    p = getNext(p);
  }
  if (listTail(l) != prev || <i64>listCount(l) != n) return -1;
  return n;
}

function checkFreeBlock(z: u32, p: u32, o: u32, mt: u32): i32 {
  if ((flagsOf(p) & ~PG_REPORTED) != (PT_FREE | PG_BUDDY) || orderOf(p) != o || listMtOf(p) != mt) return MMV_FREE_HEAD;
  const size: u32 = 1 << o;
  if ((p & (size - 1)) != 0 || <u64>p + <u64>size > <u64>nrFrames) return MMV_FREE_HEAD;
  if (pfnZone(p) != z || !zoneSpans(z, p) || !zoneSpans(z, p + size - 1)) return MMV_ZONE;
  for (let i: u32 = 1; i < size; i++) if (flagsOf(p + i) != PT_FREE) return MMV_FREE_BODY;
  if (o >= PAGEBLOCK_ORDER) {
    for (let q = p; q < p + size; q += 1 << PAGEBLOCK_ORDER) if (getPageblockMt(q) != mt) return MMV_PAGEBLOCK;
  } else if (getPageblockMt(p) != mt) return MMV_PAGEBLOCK;
  // Below pageblock order two free buddies always merge. From pageblock order up they may stay
  // apart: split_large_buddy/move_freepages_block leave pageblock-sized pieces unmerged.
  if (o < PAGEBLOCK_ORDER) {
    const b = p ^ size;
    if (b < nrFrames && (flagsOf(b) & PG_BUDDY) != 0 && orderOf(b) == o && pfnZone(b) == z) return MMV_UNMERGED;
  }
  return MMV_OK;
}

/** Checks every allocator invariant; MMV_OK or the first broken one (abi.ts MMV_*). */
export function mmValidate(): i32 {
  let heads: u64 = 0, freeFrames: u64 = 0, sumFree: f64 = 0, sumManaged: f64 = 0;
  for (let z: u32 = 0; z < NR_ZONES; z++) {
    let zfree: u64 = 0, zfreeHa: u64 = 0;
    for (let o: u32 = 0; o < NR_ORDERS; o++) {
      let cnt: i64 = 0;
      for (let mt: u32 = 0; mt < NR_MIGRATETYPES; mt++) {
        const l = freeList(z, o, mt);
        const n = walk(l);
        if (n < 0) return MMV_LIST_LINKS;
        cnt += n;
        let p = listHead(l);
        while (p != NIL) {
          const r = checkFreeBlock(z, p, o, mt);
          if (r != MMV_OK) return r;
          heads++;
          freeFrames += <u64>1 << o;
          if (mt != MT_ISOLATE) zfree += <u64>1 << o;
          if (mt == MT_HIGHATOMIC) zfreeHa += <u64>1 << o;
          p = getNext(p);
        }
      }
      if (cnt != <i64>zoneNrFree(z, o)) return MMV_NR_FREE;
    }
    if (zfree != <u64>zoneFreePages(z)) return MMV_COUNTERS;
    if (zfreeHa != <u64>zoneFreeHighatomic(z)) return MMV_COUNTERS;
    sumFree += <f64>zfree;
    sumManaged += <f64>zoneManaged(z);
  }
  let pcpFrames: u64 = 0;
  for (let c: u32 = 0; c < nrCpus; c++) {
    for (let z: u32 = 0; z < NR_ZONES; z++) {
      let pages: u64 = 0;
      for (let o: u32 = 0; o <= PAGE_ALLOC_COSTLY_ORDER; o++) {
        for (let mt: u32 = 0; mt < MT_PCPTYPES; mt++) {
          const l = pcpListAddr(c, z, o, mt);
          if (walk(l) < 0) return MMV_PCP;
          let p = listHead(l);
          while (p != NIL) {
            if ((flagsOf(p) & PT_MASK) != PT_PCP || orderOf(p) != o || pfnZone(p) != z) return MMV_PCP;
            pages += <u64>1 << o;
            p = getNext(p);
          }
        }
      }
      if (pages != <u64>pcpCpuCount(c, z)) return MMV_PCP;
      pcpFrames += pages;
    }
  }
  let seenHeads: u64 = 0, seenFree: u64 = 0, seenPcp: u64 = 0;
  for (let p: u32 = 0; p < nrFrames; p++) {
    const f = flagsOf(p);
    if (f & PG_BUDDY) seenHeads++;
    const t = f & PT_MASK;
    if (t == PT_FREE) seenFree++;
    else if (t == PT_PCP) seenPcp++;
  }
  if (seenHeads != heads || seenFree != freeFrames) return MMV_STRAY_FREE;
  if (seenPcp != pcpFrames) return MMV_PCP;
  if (vmstat(VM_NR_FREE_PAGES) != sumFree || vmstat(VM_MANAGED_PAGES) != sumManaged) return MMV_COUNTERS;
  if (vmstat(VM_NR_PCP) != <f64>pcpFrames) return MMV_COUNTERS;
  return MMV_OK;
}
