// SPDX-License-Identifier: MIT
// Scenario workloads are guest processes: with a balloon that may not deflate on OOM, a workload
// that outgrows what the balloon left is OOM-killed by the guest (its memory freed, the run goes
// on); with deflate-on-OOM the balloon gives pages back instead and nobody is killed.

import { beforeAll, describe, expect, it } from "vitest";
import { loadGuestModuleFromFile } from "../../host/node.js";
import { parseScenario } from "../../host/scenario/load.js";
import { resolveScenario } from "../../host/scenario/resolve.js";
import { modelEngine } from "../../host/scenario/runner.js";
import type { RunResult } from "../../host/scenario/engine.js";
import { at } from "./series-at.js";

const MiB = 2 ** 20;
const SCENARIO = `
name: oom-kill
description: a workload outgrows what the balloon left
seed: 5
sample: 100ms
host: { ram: 4GiB }
vms:
  - name: vm0
    memory: 1GiB
    devices:
      balloon: {}
modes: [balloon, balloon-oom]
timeline:
  - { do: anon.touch, size: 300MiB, label: workload }
  - { at: 1s, do: balloon, target: 400MiB, label: inflate }
  - { at: 6s, do: anon.touch, size: 300MiB, label: grow }
  - { do: wait, for: 2s, label: after }
  - { do: anon.free, label: free }
  - { do: wait, for: 1s }
`;

async function run(mode: string): Promise<RunResult> {
  const r = resolveScenario(parseScenario(SCENARIO, "oom.yaml"), mode, "oom.yaml");
  return modelEngine.runScenario(r);
}


describe("OOM kills of scenario workloads", () => {
  beforeAll(() => { loadGuestModuleFromFile(); });

  it("balloon without deflate-on-OOM: the growing workload is OOM-killed and its memory freed; the run stays valid", async () => {
    const r = await run("balloon");
    expect(r.valid).toBe(true);
    const vm = r.summary.vms.vm0;
    expect(vm.oom_kills).toBeGreaterThanOrEqual(1);
    expect(vm.balloon_actual_bytes).toBe(624 * MiB); // the balloon kept everything it took (1 GiB - 400 MiB)
    const tGrow = r.events.find((e) => e.label === "grow")!.t_s;
    const tAfter = r.events.find((e) => e.label === "after")!.t_s;
    // the killed workload's memory went back to the guest's free lists
    expect(at(r, "vm0.guest_free_bytes", tAfter + 0.5)).toBeGreaterThan(at(r, "vm0.guest_free_bytes", tGrow - 0.5));
    // anon.free of everything afterwards finds nothing left to free, and does not fail
    expect(r.stopReason).toBe("timeline ended");
  });

  it("balloon-oom: deflate-on-OOM gives pages back instead; nothing is killed and the workload holds 600 MiB", async () => {
    const r = await run("balloon-oom");
    expect(r.valid).toBe(true);
    const vm = r.summary.vms.vm0;
    expect(vm.oom_kills).toBe(0);
    expect(vm.balloon_actual_bytes).toBeLessThan(624 * MiB);
    expect(vm.workload_alloc_fails).toBe(0);
    const tAfter = r.events.find((e) => e.label === "after")!.t_s;
    expect(at(r, "vm0.rss_bytes", tAfter + 0.5)).toBeGreaterThan(600 * MiB);
  });
});
