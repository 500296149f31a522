// SPDX-License-Identifier: MIT
// The allocator micro benchmarks (bench/alloc.ts) run every sequence issue 2 names on both the
// wasm guest and the TypeScript reference. Asserts names and op counts only, never speed.

import { expect, it } from "vitest";
import { runAllocBench } from "../../bench/alloc.js";
import { releaseGuestModule } from "../helpers/guest.js";

it("every benchmark runs on wasm and on the reference, random free at orders 0 and 9 included", () => {
  const r = runAllocBench({ module: releaseGuestModule(), guestMib: 16, rounds: 1 });
  const names = r.results.map((x) => x.name);
  const base = ["alloc.order0", "free.order0", "alloc.order9", "free.order9", "repeat.order0", "repeat.order9",
    "free_random.order0", "free_random.order9"];
  expect(names).toEqual([...base, ...base.map((n) => `reference.${n}`)]);
  for (const x of r.results) {
    expect(x.ops, x.name).toBeGreaterThan(0);
    expect(Number.isFinite(x.ns_per_op), x.name).toBe(true);
  }
  expect(r.hostFaults).toBe(0);
});
