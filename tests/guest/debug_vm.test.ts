// SPDX-License-Identifier: MIT
// Issue 2: "Debug builds assert invariants in validate()". The debug guest (build/guest.debug.wasm,
// asconfig target "debug") validates after every mutating mm_* export (assembly/mm/debug_vm.ts)
// and aborts naming the call and the broken invariant; the release guest compiles that out.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { Guest } from "../../host/guest/guest.js";
import { newGuest } from "../helpers/guest.js";

/**
 * Breaks MMV_FREE_BODY: a frame inside a free buddy block claims to be anonymous memory. The
 * last max-order block, so that the next allocations (which split list heads) leave it alone.
 */
function corruptFreeBody(g: Guest): number {
  g.exports.mm_drain_pcp();
  const head = g.exports.mm_free_list_last(abi.ZONE_DMA32, abi.MAX_ORDER, abi.MT_MOVABLE) >>> 0;
  expect(head).not.toBe(0xffffffff);
  const v = g.views;
  v.pflags[head + 1] = (v.pflags[head + 1] & ~abi.PT_MASK) | abi.PT_ANON;
  return head;
}

describe("debug builds validate after every mutating allocator export", () => {
  it("release has the check compiled out, debug runs it after every call of a small guest", () => {
    expect(newGuest(16, { debug: false }).guest.exports.mm_debug_vm()).toBe(0);
    expect(newGuest(16, { debug: true }).guest.exports.mm_debug_vm()).toBe(1);
  });

  it("a corrupted free block aborts the next mm_alloc in debug, naming call and invariant", () => {
    const { guest } = newGuest(16, { debug: true });
    expect(guest.exports.mm_alloc(0, abi.GFP_MOVABLE)).not.toBe(0xffffffff); // healthy: no abort
    corruptFreeBody(guest);
    expect(guest.exports.mm_validate()).toBe(abi.MMV_FREE_BODY);
    expect(() => guest.exports.mm_alloc(0, abi.GFP_KERNEL))
      .toThrow(`mm invariant broken after mm_alloc(0, ${abi.GFP_KERNEL}): MMV_FREE_BODY (${abi.MMV_FREE_BODY})`);
  });

  it("mm_free is checked too, even when the free itself is refused", () => {
    const { guest } = newGuest(16, { debug: true });
    const pfn = guest.exports.mm_alloc(1, abi.GFP_MOVABLE) >>> 0;
    corruptFreeBody(guest);
    expect(() => guest.exports.mm_free(pfn, 0)).toThrow(`after mm_free(${pfn}, 0): MMV_FREE_BODY`);
  });

  it("the release build does not pay for it: same corruption, no abort, mm_validate still finds it", () => {
    const { guest } = newGuest(16, { debug: false });
    corruptFreeBody(guest);
    expect(() => guest.exports.mm_alloc(0, abi.GFP_KERNEL)).not.toThrow();
    expect(guest.exports.mm_validate()).toBe(abi.MMV_FREE_BODY);
  });

  it("guests over 64 MiB validate every (frames >> 14)th call, so a corruption is still caught", () => {
    const { guest } = newGuest(256, { debug: true });
    const stride = guest.exports.mm_debug_vm();
    expect(stride).toBe((256 * 256) >> 14);
    corruptFreeBody(guest); // its drain was call 1 of the window
    let calls = 0;
    expect(() => { for (;;) { calls++; guest.exports.mm_drain_pcp(); if (calls > stride) return; } })
      .toThrow("after mm_drain_pcp(0, 0): MMV_FREE_BODY");
    expect(calls).toBeLessThanOrEqual(stride);
  });
});
