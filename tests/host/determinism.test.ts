import { describe, expect, it } from "vitest";
import { MIB, newHost } from "../helpers/host.js";

/** A small scripted run: seeded guest writes and host discards on two VMs, sampled every 1 ms. */
function runScript(seed: number): string {
  const host = newHost({ ramMib: 40, swapBytes: 64 * MIB, seed });
  const vms = [host.createVm({ name: "vm0", memBytes: 32 * MIB }), host.createVm({ name: "vm1", memBytes: 16 * MIB, hostPageBytes: 2097152 })];
  const rng = host.rng.fork("script");
  const sampler = host.sample({ sampleIntervalNs: 1e6, metrics: ["host.", "vm0.rss_bytes", "vm1.rss_bytes", "vm0.cpu_busy_ns", "vm0.faults_write", "vm1.discarded_bytes"] });
  for (let i = 0; i < 120; i++) {
    const vm = vms[rng.int(0, 2)];
    const at = rng.int(0, 20e6);
    const pfn = rng.int(1024, vm.frames - 1024);
    const count = rng.int(1, 1024);
    const discard = rng.chance(0.3);
    host.sim.schedule(at, () => {
      if (discard) vm.memory.discard(pfn, count);
      else vm.deliver("script-write", (g) => { g.hw_access_range(pfn, count, true); });
    });
  }
  host.runFor(25e6);
  sampler.stop();
  return sampler.series.toCSV();
}

describe("determinism", () => {
  it("the same seed gives an identical metric series; another seed a different one", () => {
    const a = runScript(11);
    const b = runScript(11);
    expect(a).toBe(b);
    expect(a.split("\n")[0]).toMatch(/^t_s,host\.[a-z_]+,/);
    expect(a.split("\n").length).toBeGreaterThan(20);
    expect(runScript(12)).not.toBe(a);
  });
});
