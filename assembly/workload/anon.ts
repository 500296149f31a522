// SPDX-License-Identifier: MIT
// Anonymous-memory workloads of a process: allocate (page faults on fresh memory), rewrite, and
// unmap the newest pages, each as one loop inside the guest; and the scenario runner's unit, one
// block of 2^order pages (a THP fault) per call. Model: a first touch is the allocation itself
// (init_on_alloc writes the page), `touch` adds the program's own write.

import { NIL, GFP_MOVABLE, COST_PAGE_WRITE_NS } from "../abi";
import { charge } from "../lib/clock";
import { cost } from "../lib/scb";
import { writeFrame, writeFrames } from "../hw/mmu";
import { getNext, getOrder } from "../mm/pfn";
import { listHead } from "../lib/list";
import { allocPages, freePages } from "../mm/page_alloc";
import { procList, procAddAnon, procAddAnonBlock, procFreeNewest, procKilled } from "../mm/process";

/**
 * Allocates `pages` anonymous pages for `pid`, stopping at the first failure (after reclaim and
 * OOM) or when the OOM killer picked `pid` itself. Returns pages added.
 */
export function anonAlloc(pid: u32, pages: u32, touch: bool): u32 {
  const kills = procKilled(pid);
  let done: u32 = 0;
  while (done < pages) {
    const pfn = allocPages(0, GFP_MOVABLE);
    if (pfn == NIL) break;
    if (procKilled(pid) != kills) { freePages(pfn, 0); break; } // killed while allocating: the task is gone
    procAddAnon(pid, pfn);
    if (touch) { writeFrame(pfn); charge(cost(COST_PAGE_WRITE_NS)); }
    done++;
  }
  return done;
}

/** Rewrites `pages` pages of `pid`, newest first, wrapping around; returns pages written. */
export function anonTouch(pid: u32, pages: u32): u32 {
  const l = procList(pid);
  let p = listHead(l);
  if (p == NIL) return 0;
  let done: u32 = 0;
  while (done < pages) {
    // an entry is one page or a THP-style block (procAddAnonBlock): write its frames in order
    let n: u32 = 1 << getOrder(p);
    if (n > pages - done) n = pages - done;
    if (n == 1) writeFrame(p); else writeFrames(p, n);
    done += n;
    p = getNext(p);
    if (p == NIL) p = listHead(l);
  }
  charge(<f64>pages * cost(COST_PAGE_WRITE_NS));
  return pages;
}

/**
 * Process `pid` faults in one block of 2^order frames (a THP fault for order 9) with `gfp`, the
 * runner's unit of anonymous memory; `touch` writes its frames once more (the workload's own
 * first write; init_on_alloc already wrote them). Returns the head pfn, or NIL if the allocation
 * failed or the OOM killer chose `pid` meanwhile (the block is freed then: the task is gone).
 */
export function anonAllocBlock(pid: u32, order: u32, gfp: u32, touch: bool): u32 {
  const kills = procKilled(pid);
  const pfn = allocPages(order, gfp);
  if (pfn == NIL) return NIL;
  if (procKilled(pid) != kills) { freePages(pfn, order); return NIL; }
  procAddAnonBlock(pid, pfn, order);
  if (touch) { if (order == 0) writeFrame(pfn); else writeFrames(pfn, <u32>1 << order); }
  return pfn;
}

/** munmap of the newest `pages` pages of `pid`; returns pages freed. */
export function anonFree(pid: u32, pages: u32): u32 { return procFreeNewest(pid, pages); }
