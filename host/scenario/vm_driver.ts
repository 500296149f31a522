// SPDX-License-Identifier: MIT
// The anonymous-memory side of one VM's workload: allocates and frees guest memory for anon.*,
// kernel.*, replay and the build's compile jobs through the guest's page allocator, in blocks of
// up to pageblock order, written through the "CPU" so host RSS and faults follow. Runs inside
// guest entries. Anonymous memory belongs to guest processes (wl_anon_alloc_block: one block per
// call, on the process's anon list), so the guest's OOM killer can choose a workload and free
// it; kernel memory is the runner's own (mm_alloc/mm_free).
// Model: anonymous memory is faulted in as THP-style blocks (THP enabled=always, defrag=madvise:
// an order-9 try that never reclaims or compacts, then 4 KiB pages), what Linux does for a
// compiler's heap; one call per 2 MiB keeps the main job fast (per-page process allocations:
// 85 s instead of 24 s, measured 2026-12-02 on the 2-core CI machine kind). The page
// cache is the guest's own (mm/pagecache.ts, runner.ts drives it with wl_file_*): when a block is
// not free, the allocator's slow path wakes kswapd and runs direct reclaim of that page cache
// itself, so a failure here means reclaim and OOM found nothing (counted, never thrown).

import * as abi from "../guest/abi.generated.js";
import type { GuestExports } from "../guest/exports.generated.js";
import { check, GuestCallError } from "../guest/errors.js";

/**
 * A block the workload holds: 2^order frames from `pfn`. Anonymous blocks belong to guest
 * process `pid` (so the guest's OOM killer can choose the workload); `gen` is that process's OOM
 * kill count when the block was allocated: once it changes, the killer has freed the block.
 */
export interface Block { pfn: number; order: number; pid?: number; gen?: number }

/**
 * GFP_TRANSHUGE_LIGHT's modifiers: no __GFP_DIRECT_RECLAIM (so no direct compaction either) and no
 * __GFP_KSWAPD_RECLAIM, the flags of a THP fault outside MADV_HUGEPAGE regions (defrag=madvise).
 */
const THP_LIGHT = abi.GFP_NORECLAIM | abi.GFP_NOKSWAPD | abi.GFP_NOMEMALLOC;

/** pageblock order (2 MiB, a THP): the largest block a workload step asks for at once. */
const MAX_WORKLOAD_ORDER = 9;
const PAGE = abi.PAGE_SIZE;
const E_INVAL_U32 = abi.E_INVAL >>> 0;

export class VmDriver {
  /** Allocations that failed even after the guest's reclaim and OOM path (the guest ran out). */
  oomFails = 0;
  /** Anonymous allocations cut short because the OOM killer chose the allocating process. */
  killedAllocs = 0;

  /**
   * Allocates `bytes` (rounded up to pages) with allocation class `gfp`, largest blocks first;
   * `write` touches every page. Returns the blocks (fewer bytes when the guest ran out).
   * With `pid` the memory is process `pid`'s anonymous memory, and each 2 MiB region is faulted in
   * like an anonymous THP fault under the kernel's default `defrag=madvise`: one
   * GFP_TRANSHUGE_LIGHT try (no direct reclaim or compaction, no kswapd wake), then the region's
   * 4 KiB pages, batched into the largest light blocks still free and order-0 allocations with
   * the full `gfp` (reclaim, OOM) for the rest. If the OOM killer chooses `pid` meanwhile, the
   * allocation stops (its memory is gone). Without `pid` (kernel memory) every block size uses
   * the full `gfp` and the runner owns the blocks.
   */
  alloc(g: GuestExports, bytes: number, gfp: number, write: boolean, maxOrder = MAX_WORKLOAD_ORDER, pid?: number): Block[] {
    const out: Block[] = [];
    let pages = Math.ceil(bytes / PAGE);
    const thp = pid !== undefined;
    const gen = thp ? g.wl_proc_killed(pid) : 0;
    const region = 1 << maxOrder;
    while (pages > 0) {
      const want = thp ? Math.min(pages, region) : pages;
      let got = 0;
      let order = maxOrder;
      while (got < want) {
        while (order > 0 && (1 << order) > want - got) order--;
        const pfn = thp
          ? g.wl_anon_alloc_block(pid, order, order > 0 ? gfp | THP_LIGHT : gfp, write)
          : g.mm_alloc(order, gfp);
        if (pfn === E_INVAL_U32) throw new GuestCallError("wl_anon_alloc_block", abi.E_INVAL, `pid ${pid} order ${order}`);
        if (pfn === abi.NIL) {
          if (thp && g.wl_proc_killed(pid) !== gen) { this.killedAllocs++; return out; }
          // smaller blocks next; at order 0 the slow path's reclaim and OOM found nothing
          if (order > 0) { order--; continue; }
          this.oomFails++;
          return out;
        }
        // refused accesses are counted by the guest (VM_FAULT_REFUSED)
        if (!thp && write) g.hw_access_range(pfn, 1 << order, true);
        out.push(thp ? { pfn, order, pid, gen } : { pfn, order });
        got += 1 << order;
      }
      pages -= want;
    }
    return out;
  }

  /** Anonymous memory of process `pid`: THP faults with their 4 KiB fallback (alloc with `pid`). */
  allocAnon(g: GuestExports, bytes: number, write: boolean, pid: number): Block[] {
    return this.alloc(g, bytes, abi.GFP_MOVABLE, write, MAX_WORKLOAD_ORDER, pid);
  }

  /** Drops the blocks of `pool` that the OOM killer already freed (their process was killed since). */
  static prune(g: GuestExports, pool: Block[]): void {
    const kills = new Map<number, number>();
    let w = 0;
    for (const b of pool) {
      if (b.pid !== undefined) {
        let k = kills.get(b.pid);
        if (k === undefined) { k = g.wl_proc_killed(b.pid); kills.set(b.pid, k); }
        if (k !== b.gen) continue;
      }
      pool[w++] = b;
    }
    pool.length = w;
  }

  /** Frees the last blocks of `pool` until `bytes` (default: all) are freed; splits a block if needed. */
  free(g: GuestExports, pool: Block[], bytes = Infinity): number {
    VmDriver.prune(g, pool);
    let pages = bytes === Infinity ? Infinity : Math.ceil(bytes / PAGE);
    let freed = 0;
    while (pages > 0 && pool.length > 0) {
      const b = pool.pop() as Block;
      const n = 1 << b.order;
      if (n <= pages) {
        freeBlock(g, b, b.pfn, b.order);
        pages -= n;
        freed += n;
        continue;
      }
      // free only the first `pages` frames of this block: split it into order-0 pages
      if (b.pid !== undefined) check("wl_anon_split_block", g.wl_anon_split_block(b.pid, b.pfn, b.order));
      else check("mm_split_page", g.mm_split_page(b.pfn, b.order));
      for (let i = n - 1; i >= pages; i--) pool.push({ ...b, pfn: b.pfn + i, order: 0 });
      for (let i = 0; i < pages; i++) freeBlock(g, b, b.pfn + i, 0);
      freed += pages;
      pages = 0;
    }
    return freed * PAGE;
  }

  /** Bytes held in `pool` (prune it first if the OOM killer may have run). */
  static bytesOf(pool: readonly Block[]): number {
    let s = 0;
    for (const b of pool) s += (1 << b.order) * PAGE;
    return s;
  }
}

/** Frees (part of) a block the workload owns: a refusal is a runner bug, never guest behaviour (run invalid). */
function freeBlock(g: GuestExports, b: Block, pfn: number, order: number): void {
  const r = b.pid !== undefined ? g.wl_anon_free_block(b.pid, pfn, order) : g.mm_free(pfn, order);
  if (r !== abi.OK) throw new GuestCallError(b.pid !== undefined ? "wl_anon_free_block" : "mm_free", r, `workload block pfn ${pfn} order ${order}${b.pid !== undefined ? ` of pid ${b.pid}` : ""}`);
}
