// SPDX-License-Identifier: MIT
// The allocator's slow path calls the hooks later modules implement (kswapd, direct reclaim,
// direct compaction, the OOM notifier chain, the OOM killer) in Linux's order, and the free
// path notifies free page reporting; checked with the recording stand-ins of mm_test_hooks.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { wasmAllocator } from "../conformance/adapters.js";

const NIL = 0xffffffff;
const KSWAPD = 0, RECLAIM = 1, COMPACT = 2, NOTIFIER = 3, KILL = 4, FREE_NOTIFY = 5;

/** A 16 MiB guest whose movable memory is all held in the bench buffer (order-0 blocks). */
function fullGuest() {
  const a = wasmAllocator({ mib: 16, initOnAlloc: false });
  const x = a.guest.exports;
  const kept = x.mm_bench_alloc(0, abi.GFP_MOVABLE, 4096);
  expect(kept).toBeGreaterThan(3000);
  return { a, x };
}

describe("mm/page_alloc slow path hooks", () => {
  it("with nothing reclaimable: kswapd, one reclaim round, notifiers, then the OOM killer, then failure", () => {
    const { x } = fullGuest();
    x.mm_test_hooks(0, 0, 0, abi.NR_ORDERS);
    expect(x.mm_alloc(0, abi.GFP_MOVABLE)).toBe(NIL);
    const calls = [KSWAPD, RECLAIM, COMPACT, NOTIFIER, KILL].map((h) => x.mm_test_hook_calls(h));
    expect(calls).toEqual([1, 1, 0, 1, 1]);
  });

  it("direct reclaim that frees pages lets the allocation succeed without OOM", () => {
    const { a, x } = fullGuest();
    x.mm_test_hooks(64, 0, 0, abi.NR_ORDERS);
    expect(x.mm_alloc(0, abi.GFP_MOVABLE)).not.toBe(NIL);
    expect(x.mm_test_hook_calls(RECLAIM)).toBe(1);
    expect(x.mm_test_hook_calls(NOTIFIER)).toBe(0);
    expect(a.validate()).toBe(abi.MMV_OK);
  });

  it("an OOM notifier (balloon deflate-on-OOM) that frees pages spares the OOM killer", () => {
    const { a, x } = fullGuest();
    x.mm_test_hooks(0, 64, 0, abi.NR_ORDERS);
    expect(x.mm_alloc(0, abi.GFP_MOVABLE)).not.toBe(NIL);
    // Freed pages land on pcp lists first; the notifier runs again until a batch reaches the buddy.
    expect(x.mm_test_hook_calls(NOTIFIER)).toBeGreaterThanOrEqual(1);
    expect(x.mm_test_hook_calls(KILL)).toBe(0);
    expect(a.validate()).toBe(abi.MMV_OK);
  });

  it("NORETRY tries reclaim and compaction once and never OOMs; NORECLAIM and atomic never reclaim", () => {
    const { x } = fullGuest();
    x.mm_test_hooks(0, 0, 0, abi.NR_ORDERS);
    expect(x.mm_alloc(2, abi.GFP_MOVABLE | abi.GFP_NORETRY)).toBe(NIL);
    expect([RECLAIM, COMPACT, NOTIFIER, KILL].map((h) => x.mm_test_hook_calls(h))).toEqual([1, 1, 0, 0]);
    x.mm_test_hooks(0, 0, 0, abi.NR_ORDERS);
    expect(x.mm_alloc(0, abi.GFP_MOVABLE | abi.GFP_NORECLAIM)).toBe(NIL);
    expect(x.mm_test_hook_calls(KSWAPD)).toBe(1);
    expect(x.mm_test_hook_calls(RECLAIM)).toBe(0);
  });

  it("costly orders compact but never invoke the OOM path", () => {
    const { a, x } = fullGuest();
    x.mm_test_hooks(0, 0, 0, abi.NR_ORDERS);
    expect(x.mm_alloc(9, abi.GFP_MOVABLE)).toBe(NIL);
    expect(x.mm_test_hook_calls(COMPACT)).toBe(1);
    expect(x.mm_test_hook_calls(NOTIFIER)).toBe(0);
    expect(a.guest.views.vmstat[abi.VM_COMPACT_STALL]).toBe(1);
    expect(a.guest.views.vmstat[abi.VM_COMPACT_FAIL]).toBe(1);
  });

  it("free notify fires for merged blocks at or above the threshold, not for pcp frees or skip-notify", () => {
    const a = wasmAllocator({ mib: 16, initOnAlloc: false });
    const x = a.guest.exports;
    x.mm_test_hooks(0, 0, 0, 9);
    const p = x.mm_alloc(9, abi.GFP_MOVABLE);
    const q = x.mm_alloc(0, abi.GFP_MOVABLE);
    expect(x.mm_free(q, 0)).toBe(abi.OK); // to the pcp list: no notify
    expect(x.mm_test_hook_calls(FREE_NOTIFY)).toBe(0);
    expect(x.mm_free_fpi(p, 9, abi.FPI_SKIP_REPORT_NOTIFY)).toBe(abi.OK);
    expect(x.mm_test_hook_calls(FREE_NOTIFY)).toBe(0);
    const r = x.mm_alloc(9, abi.GFP_MOVABLE);
    expect(x.mm_free(r, 9)).toBe(abi.OK);
    expect(x.mm_test_hook_calls(FREE_NOTIFY)).toBe(1);
  });
});
