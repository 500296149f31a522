// SPDX-License-Identifier: MIT
// Property: with free page reporting and Firecracker discard-on-hint hinting both active, the
// content of every page in use survives (same version, still resident) whatever the host
// discards, across a seeded random sequence of workload steps, hint runs, DONE and shrinker calls.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { FreePageHinting } from "../../host/virtio/balloon/hinting.js";
import { Rng } from "../../host/sim/rng.js";
import { testSeed } from "../helpers/host.js";
import { reportingVm, step, anonAlloc, anonFree, metric, SEC } from "./helpers.js";

describe("property: in-use pages survive reporting and hinting", () => {
  it.each([1, 2])("random workload, seed variant %i", (variant) => {
    const seed = testSeed(`reporting+hinting versions #${variant}`, 0x5eed0000 + variant);
    const rng = new Rng(seed);
    const h = new FreePageHinting({ mode: "firecracker", processDelayNs: 300e6, acknowledgeOnStop: variant === 1 });
    const f = reportingVm(512, { balloon: { vmm: "firecracker", freePageHint: true }, hinting: h, vm: { params: { PAGE_REPORTING_DELAY_MS: 500 } } });
    const pages = [0, 0, 0];
    for (let round = 0; round < 14; round++) {
      const p = rng.nextU32() % 3;
      const what = rng.nextU32() % 6;
      if (what <= 1) pages[p] += anonAlloc(f, p, 1024 + (rng.nextU32() % 20000), true);
      else if (what === 2 && pages[p] > 0) pages[p] -= anonFree(f, p, 1 + (rng.nextU32() % pages[p]));
      else if (what === 3) h.startHinting();
      else if (what === 4) h.doneHinting();
      else step(f, "shrink", (g) => g.hinting_shrink(1 + (rng.nextU32() % 65536)));
      // snapshot, then let the host and the guest's timers act with no workload running
      const v = f.vm.guest.views;
      const before = new Map<number, number>();
      for (let q = 0; q < f.vm.frames; q++) if ((v.pflags[q] & abi.PT_MASK) === abi.PT_ANON) before.set(q, v.versions[q]);
      f.host.runUntil(f.host.sim.now + (0.2 + (rng.nextU32() % 30) / 10) * SEC);
      let lost = 0;
      for (const [q, ver] of before) {
        if ((v.pflags[q] & abi.PT_MASK) !== abi.PT_ANON) continue;
        if (v.versions[q] !== ver || (v.hstate[q] & abi.HS_BACKED) === 0) lost++;
      }
      expect(lost, `seed ${seed} round ${round}`).toBe(0);
      expect(f.vm.guest.exports.mm_validate(), `seed ${seed} round ${round}`).toBe(abi.MMV_OK);
    }
    f.vm.memory.validate();
    expect(metric(f, "free_page_report_count") + metric(f, "free_page_hint_count")).toBeGreaterThan(0);
  });
});
