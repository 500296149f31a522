// SPDX-License-Identifier: MIT
// The anonymous-memory side of one VM's workload: allocates and frees guest memory for anon.*,
// kernel.*, replay and the build's compile jobs through the guest's page allocator
// (mm_alloc/mm_free), in blocks of up to pageblock order, and writes it through the "CPU"
// (hw_access_range) so host RSS and faults follow. Runs inside guest entries.
// Model: anonymous memory is faulted in as THP-style blocks (THP enabled=always, defrag=madvise:
// an order-9 try that never reclaims or compacts, then 4 KiB pages), what Linux does for a
// compiler's heap; one mm_alloc per 2 MiB keeps the main job fast (per-page process allocations:
// 85 s instead of 24 s, measured 2026-12-02 on the 2-core CI machine kind). The page
// cache is the guest's own (mm/pagecache.ts, runner.ts drives it with wl_file_*): when a block is
// not free, mm_alloc's slow path wakes kswapd and runs direct reclaim of that page cache itself,
// so a failure here means reclaim and OOM found nothing (counted, never thrown).

import * as abi from "../guest/abi.generated.js";
import type { GuestExports } from "../guest/exports.generated.js";
import { check, GuestCallError } from "../guest/errors.js";

/** mm_free of a block the runner owns: a refusal is a runner bug, never guest behaviour (run invalid). */
function freeOwned(g: GuestExports, pfn: number, order: number): void {
  const r = g.mm_free(pfn, order);
  if (r !== abi.OK) throw new GuestCallError("mm_free", r, `runner-owned block pfn ${pfn} order ${order}`);
}

/** A block the workload holds: 2^order frames from `pfn`. */
export interface Block { pfn: number; order: number }

/**
 * GFP_TRANSHUGE_LIGHT's modifiers: no __GFP_DIRECT_RECLAIM (so no direct compaction either) and no
 * __GFP_KSWAPD_RECLAIM, the flags of a THP fault outside MADV_HUGEPAGE regions (defrag=madvise).
 */
const THP_LIGHT = abi.GFP_NORECLAIM | abi.GFP_NOKSWAPD | abi.GFP_NOMEMALLOC;

/** pageblock order (2 MiB, a THP): the largest block a workload step asks for at once. */
const MAX_WORKLOAD_ORDER = 9;
const PAGE = abi.PAGE_SIZE;

export class VmDriver {
  /** Allocations that failed even after the guest's reclaim and OOM path (the guest ran out). */
  oomFails = 0;

  /**
   * Allocates `bytes` (rounded up to pages) with allocation class `gfp`, largest blocks first;
   * `write` touches every page. Returns the blocks (fewer bytes when the guest ran out).
   * With `thp`, each 2 MiB region is faulted in like an anonymous THP fault under the kernel's
   * default `defrag=madvise`: one GFP_TRANSHUGE_LIGHT try (no direct reclaim or compaction, no
   * kswapd wake), then the region's 4 KiB pages, batched here into the largest light blocks
   * still free and order-0 allocations with the full `gfp` (reclaim, OOM) for the rest.
   * Without `thp` (kernel memory) every block size uses the full `gfp`.
   */
  alloc(g: GuestExports, bytes: number, gfp: number, write: boolean, maxOrder = MAX_WORKLOAD_ORDER, thp = false): Block[] {
    const out: Block[] = [];
    let pages = Math.ceil(bytes / PAGE);
    const region = 1 << maxOrder;
    while (pages > 0) {
      const want = thp ? Math.min(pages, region) : pages;
      let got = 0;
      let order = maxOrder;
      while (got < want) {
        while (order > 0 && (1 << order) > want - got) order--;
        const pfn = g.mm_alloc(order, thp && order > 0 ? gfp | THP_LIGHT : gfp);
        if (pfn === abi.NIL) {
          // smaller blocks next; at order 0 the slow path's reclaim and OOM found nothing
          if (order > 0) { order--; continue; }
          this.oomFails++;
          return out;
        }
        // refused accesses are counted by the guest (VM_FAULT_REFUSED)
        if (write) g.hw_access_range(pfn, 1 << order, true);
        out.push({ pfn, order });
        got += 1 << order;
      }
      pages -= want;
    }
    return out;
  }

  /** Anonymous memory of a workload: THP faults with their 4 KiB fallback (alloc with `thp`). */
  allocAnon(g: GuestExports, bytes: number, write: boolean): Block[] {
    return this.alloc(g, bytes, abi.GFP_MOVABLE, write, MAX_WORKLOAD_ORDER, true);
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

  /** Bytes held in `pool`. */
  static bytesOf(pool: readonly Block[]): number {
    let s = 0;
    for (const b of pool) s += (1 << b.order) * PAGE;
    return s;
  }
}
