// SPDX-License-Identifier: MIT
// The OOM killer: the allocator runs the OOM notifier chain first (page_alloc.ts outOfMemory,
// where virtio-balloon's deflate-on-OOM registers) and calls this only if the chain freed
// nothing. It kills the process with the most anonymous pages and frees them at once.
// Model: badness = anon pages only (no oom_score_adj, no page tables or swap), ties go to the
// lowest pid, the victim's memory is freed synchronously (no oom_reaper delay). Follows
// mm/oom_kill.c (out_of_memory, select_bad_process, oom_badness).

import { NR_PROCS, NO_PROC, VM_OOM_KILL } from "../abi";
import { vmstatInc } from "../lib/scb";
import { setOomKillHook } from "./page_alloc";
import { procAnonPages, procExit, procMarkKilled } from "./process";

let lastVictim: i32 = NO_PROC;

/** pid of the last process the OOM killer chose, or NO_PROC. */
export function oomVictim(): i32 { return lastVictim; }

/** select_bad_process: the pid with the most anon pages, NO_PROC if nobody has any. */
export function selectBadProcess(): i32 {
  let best: i32 = NO_PROC, bestPages: u32 = 0;
  for (let pid: u32 = 0; pid < NR_PROCS; pid++) {
    const n = procAnonPages(pid);
    if (n > bestPages) { best = <i32>pid; bestPages = n; }
  }
  return best;
}

/** oom_kill_process: kills the worst process; returns the pages it freed (0: nothing to kill). */
export function oomKill(order: u32, gfp: u32): u32 {
  const pid = selectBadProcess();
  if (pid == NO_PROC) return 0;
  const freed = procExit(<u32>pid);
  procMarkKilled(<u32>pid);
  lastVictim = pid;
  vmstatInc(VM_OOM_KILL);
  return freed;
}

setOomKillHook(oomKill);
