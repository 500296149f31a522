// SPDX-License-Identifier: MIT
// The scripted run of the browser-determinism test, written once and run in Node and in headless
// Chromium. Model: a small host (RAM over-committed, swap behind it) with two VMs, seeded guest
// writes, host discards, in-guest anonymous workloads and a balloon target change, sampled every 2 ms.
// It takes the library as an argument and has type-only imports, so esbuild compiles it to one
// self-contained module that runs against the shipped bundle (build/guestmem.browser.mjs) anywhere.

import type * as Guestmem from "../../host/index.js";

/** The public API (host/index.ts, re-exported by the browser bundle). */
export type GuestmemApi = typeof Guestmem;

export interface ScenarioResult {
  /** The sampled metric series (TimeSeries.toCSV). */
  csv: string;
  /** Simulated ns at the end of the run. */
  endNs: number;
  /** Balloon pages the driver reports after the run (QEMU "actual"). */
  balloonPages: number;
  /** Guest writes the host refused (must be 0: every touched frame is in range). */
  refused: number;
}

const MIB = 1024 * 1024;
/** Simulated run length: 100 ms (ns). */
export const RUN_NS = 100e6;
/** Sampling period: 2 ms (ns). */
export const SAMPLE_NS = 2e6;

/** Runs the scenario with root seed `seed` on library `gm`; same seed, same result. */
export function runScenario(gm: GuestmemApi, seed: number): ScenarioResult {
  // 48 MiB of guests on 28 MiB of RAM: host reclaim swaps, so the order of events matters
  const host = new gm.Host({ ramBytes: 28 * MIB, swapBytes: 64 * MIB, seed });
  const vms = [
    host.createVm({ name: "vm0", memBytes: 32 * MIB }),
    host.createVm({ name: "vm1", memBytes: 16 * MIB, hostPageBytes: gm.HOST_PAGE_2M }),
  ];
  const balloon = gm.addBalloon(vms[0], {}, { metrics: host.metrics });
  // after the balloon: the sampler's column set is fixed when it starts
  const sampler = host.sample({ sampleIntervalNs: SAMPLE_NS, metrics: ["host.", "vm0.", "vm1."] });
  const rng = host.rng.fork("browser-determinism");
  let refused = 0;

  for (let i = 0; i < 80; i++) {
    const vm = vms[rng.int(0, vms.length)];
    const at = rng.int(0, 30e6);
    const pfn = rng.int(1024, vm.frames - 1024);
    const count = rng.int(1, 1024);
    const op = rng.float();
    if (op < 0.5) {
      host.sim.schedule(at, () => { refused += vm.touch(pfn, count, true); }, "script-write");
    } else if (op < 0.7) {
      host.sim.schedule(at, () => { vm.memory.discard(pfn, count); }, "script-discard");
    } else {
      // in-guest anonymous memory of one of four processes: fault in pages, or unmap the newest
      const proc = 1 + rng.int(0, 4);
      const pages = rng.int(16, 512);
      const alloc = op < 0.87;
      vm.deliver(alloc ? "script-anon-alloc" : "script-anon-free", (g) => {
        if (alloc) g.wl_anon_alloc(proc, pages, true); else g.wl_anon_free(proc, pages);
      }, at);
    }
  }
  // the hypervisor asks vm0 for 12 MiB back, then gives most of it back before the balloon is full
  host.sim.schedule(5e6, () => balloon.control.setTargetBytes(20 * MIB), "balloon-target");
  host.sim.schedule(80e6, () => balloon.control.setTargetBytes(31 * MIB), "balloon-target");

  host.runFor(RUN_NS);
  sampler.stop();
  return { csv: sampler.series.toCSV(), endNs: host.sim.now, balloonPages: balloon.control.query().actualPages, refused };
}
