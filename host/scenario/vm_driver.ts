// SPDX-License-Identifier: MIT
// The workload side of one VM: allocates and frees guest memory for timeline actions through
// the guest's page allocator (mm_alloc/mm_free), in blocks of up to pageblock order, and writes
// it through the "CPU" (hw_access_range) so host RSS and faults follow. Runs inside guest entries.
// Model: the page cache is a FIFO of movable blocks kept here until drop_caches or until an
// allocation finds no free block (then the oldest file blocks are evicted, like LRU reclaim of
// clean cache); it stands in until the guest has its own mm/pagecache.

import * as abi from "../guest/abi.generated.js";
import type { GuestExports } from "../guest/exports.generated.js";

/** A block the workload holds: 2^order frames from `pfn`. */
export interface Block { pfn: number; order: number }

/** pageblock order (2 MiB): the largest block a workload step asks for at once. */
const MAX_WORKLOAD_ORDER = 9;
const PAGE = abi.PAGE_SIZE;

export class VmDriver {
  /** Page cache blocks, oldest first (from `fileHead` on). */
  private readonly file: Block[] = [];
  private fileHead = 0;
  fileBytes = 0;
  /** Allocations that failed even after evicting the page cache (the guest would OOM). */
  oomFails = 0;
  /** hw_access_range refusals (accesses the host refused). */
  accessFails = 0;

  /**
   * Allocates `bytes` (rounded up to pages) with allocation class `gfp`, largest blocks first;
   * `write` touches every page. Returns the blocks (fewer bytes when the guest ran out).
   */
  alloc(g: GuestExports, bytes: number, gfp: number, write: boolean, maxOrder = MAX_WORKLOAD_ORDER): Block[] {
    const out: Block[] = [];
    let pages = Math.ceil(bytes / PAGE);
    let order = maxOrder;
    while (pages > 0) {
      while (order > 0 && (1 << order) > pages) order--;
      const pfn = g.mm_alloc(order, gfp);
      if (pfn === abi.NIL) {
        // no block of this order: try smaller ones, then give up page cache, then fail
        if (order > 0) { order--; continue; }
        if (this.evictFile(g, 1 << MAX_WORKLOAD_ORDER)) { order = maxOrder; continue; }
        this.oomFails++;
        break;
      }
      if (write && g.hw_access_range(pfn, 1 << order, true) !== 0) this.accessFails++;
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
        g.mm_free(b.pfn, b.order);
        pages -= n;
        freed += n;
        continue;
      }
      // free only the first `pages` frames of this block: split it into order-0 pages
      g.mm_split_page(b.pfn, b.order);
      for (let i = n - 1; i >= pages; i--) pool.push({ pfn: b.pfn + i, order: 0 });
      for (let i = 0; i < pages; i++) g.mm_free(b.pfn + i, 0);
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

  /** Adds `bytes` to the page cache (a read fills the pages, a write dirties them: both write). */
  cacheFile(g: GuestExports, bytes: number): void {
    for (const b of this.alloc(g, bytes, abi.GFP_MOVABLE, true)) {
      this.file.push(b);
      this.fileBytes += (1 << b.order) * PAGE;
    }
  }

  /** Evicts at least `pages` pages of the oldest page cache; false when there was none. */
  evictFile(g: GuestExports, pages: number): boolean {
    if (this.fileHead >= this.file.length) return false;
    let done = 0;
    while (done < pages && this.fileHead < this.file.length) {
      const b = this.file[this.fileHead++];
      g.mm_free(b.pfn, b.order);
      done += 1 << b.order;
      this.fileBytes -= (1 << b.order) * PAGE;
    }
    if (this.fileHead > 4096 && this.fileHead * 2 > this.file.length) {
      this.file.splice(0, this.fileHead);
      this.fileHead = 0;
    }
    return true;
  }

  /** drop_caches: frees the whole page cache. */
  dropCaches(g: GuestExports): void {
    this.evictFile(g, Infinity);
  }
}
