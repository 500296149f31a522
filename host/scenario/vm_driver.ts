// SPDX-License-Identifier: MIT
// The memory side of one VM's workload: faults in anonymous memory for anon.*, replay and the
// build's compile jobs, and allocates and frees kernel memory for kernel.*, through the guest's
// page allocator, written through the "CPU" so host RSS and faults follow. Runs inside guest
// entries. Anonymous memory belongs to guest processes (wl_anon_fault: one guest loop per step,
// each block on the process's anon list): the guest tracks it, migrates its pages, frees it on
// wl_anon_free / exit and may OOM-kill its process, so the runner keeps page counts, never pfns.
// Kernel memory is the runner's own (mm_alloc/mm_free blocks, unmovable).
// Model: anonymous memory is faulted in as THP-style blocks (THP enabled=always, defrag=madvise:
// an order-9 try that never reclaims or compacts, then 4 KiB pages), what Linux does for a
// compiler's heap; 2 MiB blocks keep the main job fast (per-page process allocations:
// 85 s instead of 24 s, measured 2026-12-02 on the 2-core CI machine kind). The page
// cache is the guest's own (mm/pagecache.ts, runner.ts drives it with wl_file_*): when a block is
// not free, the allocator's slow path wakes kswapd and runs direct reclaim of that page cache
// itself, so a failure here means reclaim and OOM found nothing (counted, never thrown).

import * as abi from "../guest/abi.generated.js";
import type { GuestExports } from "../guest/exports.generated.js";
import { check, GuestCallError } from "../guest/errors.js";

/** A block of kernel memory the runner holds: 2^order frames from `pfn`. */
export interface Block { pfn: number; order: number }

const PAGE = abi.PAGE_SIZE;

export class VmDriver {
  /** Allocations that failed even after the guest's reclaim and OOM path (the guest ran out). */
  oomFails = 0;

  /**
   * Process `pid` faults in `bytes` (rounded up to pages) of anonymous memory as THP faults with
   * their 4 KiB fallback, one guest loop (wl_anon_fault, assembly/workload/anon.ts); `write`
   * touches every page once more. Stops when the guest ran out (counted in oomFails) or the OOM
   * killer chose `pid` (its memory is gone; the kill is in vmstat oom_kill). Returns the pages
   * faulted in.
   */
  allocAnon(g: GuestExports, bytes: number, write: boolean, pid: number): number {
    const pages = Math.ceil(bytes / PAGE);
    const gen = g.wl_proc_killed(pid);
    const done = g.wl_anon_fault(pid, pages, write);
    if (done < 0) throw new GuestCallError("wl_anon_fault", done, `pid ${pid}`);
    if (done < pages && g.wl_proc_killed(pid) === gen) this.oomFails++;
    return done;
  }

  /** Process `pid` unmaps its newest `bytes` (default: all) of anonymous memory; returns bytes freed. */
  freeAnon(g: GuestExports, pid: number, bytes = Infinity): number {
    const freed = bytes === Infinity ? g.wl_process_exit(pid) : g.wl_anon_free(pid, Math.ceil(bytes / PAGE));
    if (freed < 0) throw new GuestCallError(bytes === Infinity ? "wl_process_exit" : "wl_anon_free", freed, `pid ${pid}`);
    return freed * PAGE;
  }

  /**
   * Allocates `bytes` (rounded up to pages) of kernel memory with allocation class `gfp`,
   * largest blocks first up to `maxOrder`, each written; returns the blocks (fewer bytes when the
   * guest ran out).
   */
  alloc(g: GuestExports, bytes: number, gfp: number, maxOrder = 0): Block[] {
    const out: Block[] = [];
    let pages = Math.ceil(bytes / PAGE);
    let order = maxOrder;
    while (pages > 0) {
      while (order > 0 && (1 << order) > pages) order--;
      const pfn = g.mm_alloc(order, gfp);
      if (pfn === abi.NIL) {
        // not even after the slow path's reclaim and compaction: fall back to smaller blocks
        if (order > 0) { order--; continue; }
        this.oomFails++;
        break;
      }
      // refused accesses are counted by the guest (VM_FAULT_REFUSED)
      g.hw_access_range(pfn, 1 << order, true);
      out.push({ pfn, order });
      pages -= 1 << order;
    }
    return out;
  }

  /** Frees the last blocks of `pool` until `bytes` (default: all) are freed; splits a block if needed. */
  free(g: GuestExports, pool: Block[], bytes = Infinity): number {
    let pages = bytes === Infinity ? Infinity : Math.ceil(bytes / PAGE);
    let freed = 0;
    while (pages > 0 && pool.length > 0) {
      const b = pool.pop() as Block;
      const n = 1 << b.order;
      if (n <= pages) {
        freeOwned(g, b.pfn, b.order);
        pages -= n;
        freed += n;
        continue;
      }
      // free only the first `pages` frames of this block: split it into order-0 pages
      check("mm_split_page", g.mm_split_page(b.pfn, b.order));
      for (let i = n - 1; i >= pages; i--) pool.push({ pfn: b.pfn + i, order: 0 });
      for (let i = 0; i < pages; i++) freeOwned(g, b.pfn + i, 0);
      freed += pages;
      pages = 0;
    }
    return freed * PAGE;
  }
}

/** mm_free of a block the runner owns: a refusal is a runner bug, never guest behaviour (run invalid). */
function freeOwned(g: GuestExports, pfn: number, order: number): void {
  const r = g.mm_free(pfn, order);
  if (r !== abi.OK) throw new GuestCallError("mm_free", r, `runner-owned block pfn ${pfn} order ${order}`);
}
