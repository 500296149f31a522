// SPDX-License-Identifier: MIT
// Typed host wrappers of the guest page allocator exports (assembly/mm/buddy_exports.ts).
// The guest never changes state on a bad call and answers with a code (issue 2 "Bad input":
// out-of-range pfn, order > MAX_ORDER, double free, free of a block never allocated as given);
// here each code becomes a typed GuestCallError naming the argument, its value and what was
// expected. Running out of memory is not misuse: alloc returns null.

import * as abi from "./abi.generated.js";
import { Guest } from "./guest.js";
import {
  BlockArgumentError, BlockBusyError, DoubleFreeError, GuestCallError, NotAllocatedError, PfnRangeError,
} from "./errors.js";

const NIL = 0xffffffff;

/** The typed error for result `code` of `call(pfn, order)` on a guest of `frames` frames. */
export function freeErrorFor(call: string, code: number, pfn: number, order: number, frames: number): GuestCallError {
  const blockPages = order >= 0 && order <= abi.MAX_ORDER ? 2 ** order : NaN;
  switch (code) {
    case abi.E_RANGE:
      // the guest checks the head first, then the whole block
      return pfn >= frames || pfn < 0
        ? new PfnRangeError(call, pfn, `a pfn in [0, ${frames})`, `order ${order}`)
        : new PfnRangeError(call, pfn, `pfn + 2^${order} <= ${frames} (the block ends past guest memory)`, `order ${order}`);
    case abi.E_INVAL:
      return !(order >= 0 && order <= abi.MAX_ORDER)
        ? new BlockArgumentError(call, "order", order, `an integer in [0, ${abi.MAX_ORDER}] (MAX_PAGE_ORDER)`, `pfn ${pfn}`)
        : new BlockArgumentError(call, "pfn", pfn, `a multiple of ${blockPages} (aligned to order ${order})`, `order ${order}`);
    case abi.E_DOUBLE_FREE:
      return new DoubleFreeError(call, pfn, "an allocated block (this one is already free)", `order ${order}`);
    case abi.E_NOT_ALLOCATED:
      return new NotAllocatedError(call, { pfn, order }, `the head pfn of an allocated block of order ${order}`);
    case abi.E_BUSY:
      return new BlockBusyError(call, pfn, "a block that is not isolated (being reported, migrated or offlined)", `order ${order}`);
    default:
      return new GuestCallError(call, code, `pfn ${pfn} order ${order}`);
  }
}

/** The guest's buddy allocator as the host calls it. */
export class GuestAllocator {
  constructor(readonly guest: Guest) {}

  /**
   * alloc_pages(order, gfp): head pfn of a 2^order block, or null when no block could be found
   * (after the guest's own reclaim, compaction and OOM handling). Throws BlockArgumentError for
   * an order outside [0, MAX_ORDER] or a gfp class the guest does not know: the guest answers
   * those with NIL too, so they are told apart here, before the call.
   */
  alloc(order: number, gfp: number): number | null {
    if (!Number.isInteger(order) || order < 0 || order > abi.MAX_ORDER) {
      throw new BlockArgumentError("mm_alloc", "order", order, `an integer in [0, ${abi.MAX_ORDER}] (MAX_PAGE_ORDER)`);
    }
    if (!Number.isInteger(gfp) || gfp < 0 || (gfp & abi.GFP_CLASS_MASK) >= abi.NR_GFP_CLASSES) {
      throw new BlockArgumentError("mm_alloc", "gfp", gfp, `a GFP class < ${abi.NR_GFP_CLASSES} (abi GFP_*) with modifier bits`);
    }
    const pfn = this.guest.exports.mm_alloc(order, gfp) >>> 0;
    return pfn === NIL ? null : pfn;
  }

  /** __free_pages(pfn, order), or with FPI_* flags; throws the typed error of a refused free. */
  free(pfn: number, order: number, fpi: number = abi.FPI_NONE): void {
    // Non-integers would be truncated by the wasm boundary into some other, valid-looking pfn.
    if (!Number.isInteger(pfn) || pfn < 0 || pfn > 0xffffffff) {
      throw new PfnRangeError("mm_free", pfn, `an integer pfn in [0, ${this.guest.frames})`);
    }
    if (!Number.isInteger(order) || order < 0 || order > 0xffffffff) {
      throw new BlockArgumentError("mm_free", "order", order, `an integer in [0, ${abi.MAX_ORDER}] (MAX_PAGE_ORDER)`);
    }
    const x = this.guest.exports;
    const r = fpi === abi.FPI_NONE ? x.mm_free(pfn, order) : x.mm_free_fpi(pfn, order, fpi);
    if (r !== abi.OK) throw freeErrorFor(fpi === abi.FPI_NONE ? "mm_free" : "mm_free_fpi", r, pfn, order, this.guest.frames);
  }
}
