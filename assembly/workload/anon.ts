// SPDX-License-Identifier: MIT
// Anonymous-memory workloads of a process: allocate (page faults on fresh memory), rewrite, and
// unmap the newest pages, each as one loop inside the guest. Model: order-0 pages only (no
// THP); a first touch is the allocation itself (init_on_alloc writes the page), `touch` adds
// the program's own write.

import { NIL, GFP_MOVABLE, COST_PAGE_WRITE_NS } from "../abi";
import { charge } from "../lib/clock";
import { cost } from "../lib/scb";
import { writeFrame } from "../hw/mmu";
import { getNext } from "../mm/pfn";
import { listHead } from "../lib/list";
import { allocPages, freePages } from "../mm/page_alloc";
import { procList, procAddAnon, procFreeNewest, procKilled } from "../mm/process";

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
  for (let i: u32 = 0; i < pages; i++) {
    writeFrame(p);
    p = getNext(p);
    if (p == NIL) p = listHead(l);
  }
  charge(<f64>pages * cost(COST_PAGE_WRITE_NS));
  return pages;
}

/** munmap of the newest `pages` pages of `pid`; returns pages freed. */
export function anonFree(pid: u32, pages: u32): u32 { return procFreeNewest(pid, pages); }
