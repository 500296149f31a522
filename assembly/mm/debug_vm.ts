// SPDX-License-Identifier: MIT
// CONFIG_DEBUG_VM for the host-facing allocator exports: in debug builds every mutating export
// in mm/buddy_exports.ts runs the full validator (mm/buddy_validate.ts) before returning and
// aborts naming the call, its arguments and the broken invariant, as VM_BUG_ON would (guests
// over 64 MiB: every n-th call, see DEBUG_VM_EVERY_CALL_FRAMES).
// Debug = asconfig target "debug" (noAssert false, so the compile-time ASC_NO_ASSERT is false);
// in release ASC_NO_ASSERT is true, the branch is folded away and the fast paths pay nothing.

import {
  MMV_OK, MMV_LIST_LINKS, MMV_FREE_HEAD, MMV_NR_FREE, MMV_FREE_BODY, MMV_STRAY_FREE, MMV_UNMERGED,
  MMV_PAGEBLOCK, MMV_ZONE, MMV_PCP, MMV_COUNTERS,
} from "../abi";
import { mmValidate } from "./buddy_validate";
import { nrFrames } from "./pfn";

/**
 * Guests up to this many frames (64 MiB) are validated after every mutating call. Larger ones
 * every (frames >> 14)th call: the validator is O(frames), and a debug guest of GiBs driven page
 * by page from the host would otherwise take seconds per test; the amortized cost per call stays
 * that of one 64 MiB validation.
 */
const DEBUG_VM_EVERY_CALL_FRAMES: u32 = 1 << 14;
let debugCalls: u32 = 0;

/** Validate after every n-th mutating export (1 = every call). */
function debugStride(): u32 { return nrFrames <= DEBUG_VM_EVERY_CALL_FRAMES ? 1 : nrFrames >> 14; }

// Which export ran, as a number: a string argument would make release builds spill it to the
// shadow stack even though the check itself is compiled out.
export const DBG_MM_ALLOC: u32 = 0;
export const DBG_MM_FREE: u32 = 1;
export const DBG_MM_FREE_FPI: u32 = 2;
export const DBG_MM_SPLIT_PAGE: u32 = 3;
export const DBG_MM_DRAIN_PCP: u32 = 4;
export const DBG_MM_MOVE_PAGEBLOCK: u32 = 5;
export const DBG_MM_ISOLATE_FREE: u32 = 6;
export const DBG_MM_PUTBACK_ISOLATED: u32 = 7;
export const DBG_MM_ONLINE_PAGES: u32 = 8;
export const DBG_MM_OFFLINE_PAGES: u32 = 9;
export const DBG_MM_BENCH_ALLOC: u32 = 10;
export const DBG_MM_BENCH_FREE: u32 = 11;
export const DBG_MM_BENCH_REPEAT: u32 = 12;

function callName(call: u32): string {
  switch (call) {
    case DBG_MM_ALLOC: return "mm_alloc";
    case DBG_MM_FREE: return "mm_free";
    case DBG_MM_FREE_FPI: return "mm_free_fpi";
    case DBG_MM_SPLIT_PAGE: return "mm_split_page";
    case DBG_MM_DRAIN_PCP: return "mm_drain_pcp";
    case DBG_MM_MOVE_PAGEBLOCK: return "mm_move_pageblock";
    case DBG_MM_ISOLATE_FREE: return "mm_isolate_free";
    case DBG_MM_PUTBACK_ISOLATED: return "mm_putback_isolated";
    case DBG_MM_ONLINE_PAGES: return "mm_online_pages";
    case DBG_MM_OFFLINE_PAGES: return "mm_offline_pages";
    case DBG_MM_BENCH_ALLOC: return "mm_bench_alloc";
    case DBG_MM_BENCH_FREE: return "mm_bench_free";
    case DBG_MM_BENCH_REPEAT: return "mm_bench_repeat";
  }
  return "mm export " + call.toString();
}

/** Name of an mm_validate result (abi.ts MMV_*), for abort messages. */
export function mmvName(r: i32): string {
  switch (r) {
    case MMV_OK: return "MMV_OK";
    case MMV_LIST_LINKS: return "MMV_LIST_LINKS";
    case MMV_FREE_HEAD: return "MMV_FREE_HEAD";
    case MMV_NR_FREE: return "MMV_NR_FREE";
    case MMV_FREE_BODY: return "MMV_FREE_BODY";
    case MMV_STRAY_FREE: return "MMV_STRAY_FREE";
    case MMV_UNMERGED: return "MMV_UNMERGED";
    case MMV_PAGEBLOCK: return "MMV_PAGEBLOCK";
    case MMV_ZONE: return "MMV_ZONE";
    case MMV_PCP: return "MMV_PCP";
    case MMV_COUNTERS: return "MMV_COUNTERS";
  }
  return "MMV_" + r.toString();
}

/** 0 in release builds; in debug builds the validator runs after every n-th mutating mm_* export: n. */
export function mm_debug_vm(): u32 { return ASC_NO_ASSERT ? 0 : debugStride(); }

/** Debug builds: validates after export `call(a, b)`, aborting on a broken invariant. */
// @ts-ignore: decorator
@inline export function debugValidate(call: u32, a: u32, b: u32): void {
  if (!ASC_NO_ASSERT) {
    if (++debugCalls >= debugStride()) {
      debugCalls = 0;
      const r = mmValidate();
      if (r != MMV_OK) debugValidateFailed(r, call, a, b);
    }
  }
}

// Out of line, so each inlined check is one call and one branch.
function debugValidateFailed(r: i32, call: u32, a: u32, b: u32): void {
  abort("mm invariant broken after " + callName(call) + "(" + a.toString() + ", " + b.toString() + "): "
    + mmvName(r) + " (" + r.toString() + ")");
}
