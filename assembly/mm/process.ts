// SPDX-License-Identifier: MIT
// Processes and their anonymous memory (mm_struct + anon rmap, reduced): a small task table, each
// task with an intrusive list of its PT_ANON memory, newest at the head: order-0 pages, and
// THP-style blocks (a head of order > 0, PG_HEAD, whose tail frames are PT_ANON too). Model: no
// page tables, no swap: anonymous memory is never reclaimed, only migrated (order 0), freed by
// the task (munmap, exit) or by the OOM killer. Follows mm/rmap.c and kernel/exit.c only in spirit.

import { NIL, NR_PROCS, PT_ANON, PT_ALLOC, PT_MASK, PG_HEAD, MT_MOVABLE, VM_NR_ANON, OK, E_INVAL } from "../abi";
import { PFLAGS, PORDER, getOrder } from "./pfn";
import { allocLists, listAddHead, listDel, listHead, LIST_SIZE } from "../lib/list";
import { vmstatAdd } from "../lib/scb";
import { setOwned, clearOwned, ownerOf } from "./owner";
import { freePages } from "./page_alloc";

let PROC_LISTS: usize = 0;
/** OOM kills per process (the host reads it to learn who was killed). */
const killed = new StaticArray<u32>(NR_PROCS);
/** Anonymous pages per process (frames: a block counts 2^order), the OOM killer's badness. */
const pages = new StaticArray<u32>(NR_PROCS);

// @ts-ignore: decorator
@inline function ensure(): void { if (PROC_LISTS == 0) PROC_LISTS = allocLists(NR_PROCS); }

/** The anon list of process `pid` (pid < NR_PROCS). */
export function procList(pid: u32): usize { ensure(); return PROC_LISTS + <usize>pid * LIST_SIZE; }

/** Anonymous pages (frames) of `pid`. */
export function procAnonPages(pid: u32): u32 { return pages[pid]; }

/** Adds freshly allocated order-0 page `pfn` to `pid` as its newest anon page. */
export function procAddAnon(pid: u32, pfn: u32): void {
  setOwned(pfn, PT_ANON, pid);
  listAddHead(procList(pid), pfn);
  pages[pid] = pages[pid] + 1;
  vmstatAdd(VM_NR_ANON, 1);
}

/**
 * Adds the freshly allocated 2^order block at `pfn` to `pid` as one entry (a THP): the head keeps
 * PG_HEAD and its order next to the owner, the tails become PT_ANON.
 */
export function procAddAnonBlock(pid: u32, pfn: u32, order: u32): void {
  if (order == 0) { procAddAnon(pid, pfn); return; }
  const n: u32 = 1 << order;
  store<u8>(PFLAGS + <usize>pfn, PT_ANON | PG_HEAD);
  store<u8>(PORDER + <usize>pfn, <u8>((pid << 4) | order));
  memory.fill(PFLAGS + <usize>pfn + 1, PT_ANON, <usize>(n - 1));
  listAddHead(procList(pid), pfn);
  pages[pid] = pages[pid] + n;
  vmstatAdd(VM_NR_ANON, <f64>n);
}

/** True if `pfn` is the head of an anon entry of `pid` of exactly `order`. */
export function procOwnsBlock(pid: u32, pfn: u32, order: u32): bool {
  return (load<u8>(PFLAGS + <usize>pfn) & (PT_MASK | PG_HEAD)) == (PT_ANON | PG_HEAD) && ownerOf(pfn) == pid && getOrder(pfn) == order;
}

/** Unlinks `pid`'s entry `pfn` of `order` and frees it (the caller checked procOwnsBlock). */
function releaseEntry(pid: u32, pfn: u32, order: u32): void {
  const n: u32 = 1 << order;
  listDel(procList(pid), pfn);
  if (order == 0) clearOwned(pfn, PT_ALLOC);
  else {
    store<u8>(PFLAGS + <usize>pfn, PT_ALLOC | PG_HEAD);
    store<u8>(PORDER + <usize>pfn, <u8>((MT_MOVABLE << 4) | order));
  }
  freePages(pfn, order);
  pages[pid] = pages[pid] - n;
  vmstatAdd(VM_NR_ANON, -<f64>n);
}

/**
 * Splits `pid`'s block entry `pfn` of `order` into 2^order order-0 entries in its place on the
 * list (split_huge_page before a partial munmap): frame pfn stays newest. OK or E_INVAL.
 */
export function procSplitBlock(pid: u32, pfn: u32, order: u32): i32 {
  if (order == 0 || !procOwnsBlock(pid, pfn, order)) return E_INVAL;
  const l = procList(pid);
  listDel(l, pfn);
  for (let i = (<u32>1 << order) - 1; i != <u32>-1; i--) {
    setOwned(pfn + i, PT_ANON, pid);
    listAddHead(l, pfn + i);
  }
  return OK;
}

/** Frees up to `n` of `pid`'s newest pages (munmap of the top of its heap); returns pages freed. */
export function procFreeNewest(pid: u32, n: u32): u32 {
  const l = procList(pid);
  let done: u32 = 0;
  while (done < n) {
    const pfn = listHead(l);
    if (pfn == NIL) break;
    const order = getOrder(pfn);
    if (order > 0 && (<u32>1 << order) > n - done) { procSplitBlock(pid, pfn, order); continue; }
    releaseEntry(pid, pfn, order);
    done += <u32>1 << order;
  }
  return done;
}

/** exit_mmap: frees every page of `pid`; returns pages freed. */
export function procExit(pid: u32): u32 { return procFreeNewest(pid, 0xffffffff); }

export function procKilled(pid: u32): u32 { return killed[pid]; }
export function procMarkKilled(pid: u32): void { killed[pid] = killed[pid] + 1; }
