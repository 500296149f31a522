import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { Rng } from "../../host/sim/rng.js";
import { MIB, newHost, testSeed } from "../helpers/host.js";

describe("host: several VMs overcommitting host RAM", () => {
  it("4 VMs that together exceed RAM swap, stay within RAM, and keep every content version", () => {
    const seed = testSeed("host_swap", 4242);
    const rng = new Rng(seed);
    const host = newHost({ ramMib: 64, swapBytes: 128 * MIB, seed });
    const vms = ["a", "b", "c", "d"].map((name) => host.createVm({ name, memBytes: 32 * MIB }));
    const expected = vms.map((vm) => new Uint32Array(vm.frames));
    const lo = 1024;
    const write = (i: number, pfn: number, count: number): void => {
      expect(vms[i].touch(pfn, count, true)).toBe(0);
      for (let f = pfn; f < pfn + count; f++) expected[i][f]++;
      expect(host.rssBytes).toBeLessThanOrEqual(host.ramBytes);
    };
    // every VM fills its memory, interleaved in 1 MiB steps: 4 x 28 MiB + 4 MiB pinned > 64 MiB
    for (let pfn = lo; pfn < 8192; pfn += 256) for (let i = 0; i < 4; i++) write(i, pfn, 256);
    expect(host.swapUsedBytes).toBeGreaterThan(0);
    expect(host.metrics.get("host.swap_out_pages")).toBeGreaterThan(0);
    // random rewrites: some of them hit swapped frames (swap-in, then the write)
    for (let k = 0; k < 60; k++) {
      const i = rng.int(0, 4);
      const pfn = rng.int(lo, 8192 - 64);
      write(i, pfn, rng.int(1, 64));
    }
    // read everything back through the guest CPU: every swapped frame comes back
    for (let i = 0; i < 4; i++) {
      const vm = vms[i];
      const before = vm.memory.stats.faultsSwapIn;
      vm.touch(lo, vm.frames - lo, false);
      expect(vm.memory.stats.faultsSwapIn).toBeGreaterThan(before);
      const v = vm.guest.views.versions;
      for (let f = lo; f < vm.frames; f++) {
        if (v[f] !== expected[i][f]) throw new Error(`seed ${seed}: ${vm.name} pfn ${f} version ${v[f]} != ${expected[i][f]}`);
      }
      // a swapped frame is never re-populated as a fresh page: one populate per frame ever
      expect(vm.memory.stats.faultsWrite).toBe(vm.frames - lo);
      vm.memory.validate();
    }
    expect(host.metrics.get("host.swap_in_pages")).toBeGreaterThan(0);
    expect(host.oomEvents.value).toBe(0);
    expect(host.peakRssBytes).toBeLessThanOrEqual(host.ramBytes);
    expect(host.metrics.get("host.peak_rss_bytes")).toBeGreaterThan(host.ramBytes - 1 * MIB);
    // the RAM window stays resident (pinned)
    for (const vm of vms) expect(vm.guest.views.hstate[vm.guest.ramwinPfn] & abi.HS_BACKED).toBe(abi.HS_BACKED);
  });

  it("a swapped frame faults on read and write, and the swap-in is charged", () => {
    const host = newHost({ ramMib: 8, swapBytes: 64 * MIB });
    const vm = host.createVm({ name: "s", memBytes: 16 * MIB });
    vm.touch(1024, 3072, true); // 12 MiB into 8 MiB of RAM
    const hs = vm.guest.views.hstate;
    let swapped = -1;
    for (let f = 1024; f < 4096; f++) if (hs[f] & abi.HS_SWAPPED) { swapped = f; break; }
    expect(swapped).toBeGreaterThanOrEqual(0);
    const ns = vm.enter("t", (g) => g.hw_access_range(swapped, 1, false));
    expect(ns).toBeGreaterThanOrEqual(host.costs.swapInPageNs);
    expect(hs[swapped] & abi.HS_BACKED).toBe(abi.HS_BACKED);
    expect(vm.guest.views.versions[swapped]).toBe(1);
  });

  it("without swap the host over-commits and counts an OOM event", () => {
    const host = newHost({ ramMib: 8 });
    const vm = host.createVm({ name: "o", memBytes: 16 * MIB });
    vm.touch(1024, 3072, true);
    expect(host.rssBytes).toBeGreaterThan(host.ramBytes);
    expect(host.oomEvents.value).toBeGreaterThan(0);
    expect(host.metrics.get("host.free_bytes")).toBe(0);
  });
});
