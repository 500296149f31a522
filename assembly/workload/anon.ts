// SPDX-License-Identifier: MIT
// Anonymous-memory workloads of a process: allocate (page faults on fresh memory), rewrite, and
// unmap the newest pages, each as one loop inside the guest; and the scenario runner's THP-style
// faults (anonFaultThp), also one loop. Model: a first touch is the allocation itself
// (init_on_alloc writes the page), `touch` adds the program's own write.

import { NIL, GFP_MOVABLE, GFP_NORECLAIM, GFP_NOKSWAPD, GFP_NOMEMALLOC, PAGEBLOCK_ORDER, COST_PAGE_WRITE_NS } from "../abi";
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
 * GFP_TRANSHUGE_LIGHT's modifiers: no __GFP_DIRECT_RECLAIM (so no direct compaction either) and no
 * __GFP_KSWAPD_RECLAIM, the flags of a THP fault outside MADV_HUGEPAGE regions (defrag=madvise).
 */
const THP_LIGHT: u32 = GFP_NORECLAIM | GFP_NOKSWAPD | GFP_NOMEMALLOC;

/** One 2^order block for `pid` (a THP at order 9), written again if `touch`; NIL if none or `pid` was killed meanwhile. */
function anonAllocBlock(pid: u32, order: u32, gfp: u32, touch: bool, kills: u32): u32 {
  const pfn = allocPages(order, gfp);
  if (pfn == NIL) return NIL;
  if (procKilled(pid) != kills) { freePages(pfn, order); return NIL; } // the task is gone
  procAddAnonBlock(pid, pfn, order);
  if (touch) { if (order == 0) writeFrame(pfn); else writeFrames(pfn, <u32>1 << order); }
  return pfn;
}

/**
 * Process `pid` faults in `pages` pages of anonymous memory the way a THP-enabled heap does
 * (enabled=always, defrag=madvise): each 2 MiB region tries one order-9 block with
 * GFP_TRANSHUGE_LIGHT (no direct reclaim or compaction, no kswapd wake), then takes its 4 KiB
 * pages, batched into the largest light blocks still free and order-0 allocations with the full
 * movable gfp (reclaim, OOM) for the rest. Each block joins the process's anon list; `touch`
 * writes it once more (init_on_alloc already wrote it). Stops when the guest ran out or the OOM
 * killer chose `pid`. Returns the pages faulted in.
 */
export function anonFaultThp(pid: u32, pages: u32, touch: bool): u32 {
  const kills = procKilled(pid);
  const region: u32 = 1 << PAGEBLOCK_ORDER;
  let done: u32 = 0;
  while (done < pages) {
    const want = pages - done < region ? pages - done : region;
    let got: u32 = 0;
    let order = PAGEBLOCK_ORDER;
    while (got < want) {
      while (order > 0 && (<u32>1 << order) > want - got) order--;
      const pfn = anonAllocBlock(pid, order, order > 0 ? GFP_MOVABLE | THP_LIGHT : GFP_MOVABLE, touch, kills);
      if (pfn == NIL) {
        if (order > 0 && procKilled(pid) == kills) { order--; continue; } // smaller blocks next
        return done + got; // out of memory after reclaim and OOM, or killed
      }
      got += <u32>1 << order;
    }
    done += got;
  }
  return done;
}

/** munmap of the newest `pages` pages of `pid`; returns pages freed. */
export function anonFree(pid: u32, pages: u32): u32 { return procFreeNewest(pid, pages); }
