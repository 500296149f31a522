// SPDX-License-Identifier: MIT
// Kernel memory owned by "the kernel": unmovable allocations (PT_KERNEL) and reclaimable slab
// (PT_SLAB_RECLAIMABLE: dentries, inodes) on two lists, newest at the head. Model: one object
// per page and every reclaimable slab page is an unused cache page a shrinker may free (oldest
// first). Follows mm/slab_common.c / mm/shrinker.c only in spirit.

import {
  NIL, PT_KERNEL, PT_SLAB_RECLAIMABLE, PT_ALLOC, GFP_KERNEL, GFP_RECLAIMABLE, VM_NR_KERNEL,
  VM_NR_SLAB_RECLAIMABLE, VM_SLABS_SCANNED, COST_RECLAIM_PAGE_NS,
} from "../abi";
import { allocLists, listAddHead, listPopHead, listTail, listDel, listCount, LIST_SIZE } from "../lib/list";
import { vmstatAdd, cost } from "../lib/scb";
import { charge } from "../lib/clock";
import { setOwned, clearOwned } from "./owner";
import { allocPages, freePages } from "./page_alloc";
import { pfnZone } from "./zone";
import { getPrev } from "./pfn";

let LISTS: usize = 0; // [0] unmovable kernel pages, [1] reclaimable slab pages

// @ts-ignore: decorator
@inline function list(reclaimable: bool): usize {
  if (LISTS == 0) LISTS = allocLists(2);
  return LISTS + (reclaimable ? LIST_SIZE : 0);
}

export function kernelPages(): u32 { return listCount(list(false)); }
export function slabReclaimablePages(): u32 { return listCount(list(true)); }

/** Allocates one kernel page (GFP_KERNEL or GFP_RECLAIMABLE | `mods`); NIL on failure. */
export function kernelAlloc(reclaimable: bool, mods: u32): u32 {
  const pfn = allocPages(0, (reclaimable ? GFP_RECLAIMABLE : GFP_KERNEL) | mods);
  if (pfn == NIL) return NIL;
  setOwned(pfn, reclaimable ? PT_SLAB_RECLAIMABLE : PT_KERNEL, 0);
  listAddHead(list(reclaimable), pfn);
  vmstatAdd(reclaimable ? VM_NR_SLAB_RECLAIMABLE : VM_NR_KERNEL, 1);
  return pfn;
}

/** Frees up to `n` of the newest kernel pages of one kind; returns pages freed. */
export function kernelFreeNewest(reclaimable: bool, n: u32): u32 {
  const l = list(reclaimable);
  let done: u32 = 0;
  while (done < n) {
    const pfn = listPopHead(l);
    if (pfn == NIL) break;
    clearOwned(pfn, PT_ALLOC);
    freePages(pfn, 0);
    done++;
  }
  vmstatAdd(reclaimable ? VM_NR_SLAB_RECLAIMABLE : VM_NR_KERNEL, -<f64>done);
  return done;
}

/**
 * shrink_slab: frees up to `n` reclaimable slab pages, oldest first, skipping pages in zones
 * above `maxZone`. Returns pages freed.
 */
export function shrinkSlab(n: u32, maxZone: u32): u32 {
  const l = list(true);
  let freed: u32 = 0, scanned: u32 = 0;
  const budget = listCount(l);
  let p = listTail(l);
  while (freed < n && scanned < budget && p != NIL) {
    const prev = getPrev(p);
    scanned++;
    if (pfnZone(p) <= maxZone) {
      listDel(l, p);
      clearOwned(p, PT_ALLOC);
      freePages(p, 0);
      freed++;
    }
    p = prev;
  }
  vmstatAdd(VM_NR_SLAB_RECLAIMABLE, -<f64>freed);
  vmstatAdd(VM_SLABS_SCANNED, <f64>scanned);
  charge(<f64>freed * cost(COST_RECLAIM_PAGE_NS));
  return freed;
}

/** Makes an already allocated order-0 page a kernel page of one kind (the fragmenter keeps some). */
export function kernelAdopt(pfn: u32, reclaimable: bool): void {
  setOwned(pfn, reclaimable ? PT_SLAB_RECLAIMABLE : PT_KERNEL, 0);
  listAddHead(list(reclaimable), pfn);
  vmstatAdd(reclaimable ? VM_NR_SLAB_RECLAIMABLE : VM_NR_KERNEL, 1);
}

/** The list head of one kind (validation). */
export function kernelList(reclaimable: bool): usize { return list(reclaimable); }
