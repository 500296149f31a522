// SPDX-License-Identifier: MIT
// Processes and their anonymous memory (mm_struct + anon rmap, reduced): a small task table, each
// task with an intrusive list of its order-0 PT_ANON pages, newest at the head. Model: no page
// tables, no THP, no swap: anonymous pages are never reclaimed, only migrated, freed by the task
// (munmap, exit) or by the OOM killer. Follows mm/rmap.c and kernel/exit.c only in spirit.

import { NIL, NR_PROCS, PT_ANON, PT_ALLOC, VM_NR_ANON } from "../abi";
import { allocLists, listAddHead, listPopHead, listCount, LIST_SIZE } from "../lib/list";
import { vmstatAdd } from "../lib/scb";
import { setOwned, clearOwned } from "./owner";
import { freePages } from "./page_alloc";

let PROC_LISTS: usize = 0;
/** OOM kills per process (the host reads it to learn who was killed). */
const killed = new StaticArray<u32>(NR_PROCS);

// @ts-ignore: decorator
@inline function ensure(): void { if (PROC_LISTS == 0) PROC_LISTS = allocLists(NR_PROCS); }

/** The anon page list of process `pid` (pid < NR_PROCS). */
export function procList(pid: u32): usize { ensure(); return PROC_LISTS + <usize>pid * LIST_SIZE; }

export function procAnonPages(pid: u32): u32 { return listCount(procList(pid)); }

/** Adds freshly allocated order-0 page `pfn` to `pid` as its newest anon page. */
export function procAddAnon(pid: u32, pfn: u32): void {
  setOwned(pfn, PT_ANON, pid);
  listAddHead(procList(pid), pfn);
  vmstatAdd(VM_NR_ANON, 1);
}

/** Frees up to `n` of `pid`'s newest pages (munmap of the top of its heap); returns pages freed. */
export function procFreeNewest(pid: u32, n: u32): u32 {
  const l = procList(pid);
  let done: u32 = 0;
  while (done < n) {
    const pfn = listPopHead(l);
    if (pfn == NIL) break;
    clearOwned(pfn, PT_ALLOC);
    freePages(pfn, 0);
    done++;
  }
  vmstatAdd(VM_NR_ANON, -<f64>done);
  return done;
}

/** exit_mmap: frees every page of `pid`; returns pages freed. */
export function procExit(pid: u32): u32 { return procFreeNewest(pid, 0xffffffff); }

export function procKilled(pid: u32): u32 { return killed[pid]; }
export function procMarkKilled(pid: u32): void { killed[pid] = killed[pid] + 1; }
