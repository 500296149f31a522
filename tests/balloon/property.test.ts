// Operation-sequence fuzzing of the balloon (driver + device + mm): random targets, workload
// allocations and frees, OOM notifier calls, compaction and time; after every step the guest's
// balloon list, the device's inflated set, `actual` and MemTotal must agree. Replay with SEED=<n>.
import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { testRng } from "../helpers/virtio-harness.js";
import { testSeed } from "../helpers/host.js";
import { balloonList, balloonVm, MIB } from "./helpers.js";

function run(seed: number, deflateOnOom: boolean): void {
  const rnd = testRng(seed);
  const t = balloonVm(32, { pagePoison: false, statsPollingIntervalS: 1, deflateOnOom });
  const { vm, host, balloon } = t;
  const g = vm.guest.exports;
  const total0 = vm.guest.views.vmstat[abi.VM_MANAGED_PAGES];
  const held: number[] = [];
  const versions = new Map<number, number>();
  for (let step = 0; step < 60; step++) {
    const op = Math.floor(rnd() * 6);
    if (op === 0) balloon.control.setBalloonBytes(Math.floor(rnd() * 24) * MIB);
    else if (op === 1) {
      let n = 0;
      vm.enter("alloc", (x) => { n = x.mm_bench_alloc(0, abi.GFP_MOVABLE, 1 + Math.floor(rnd() * 2048)); });
      const pfns = [...new Uint32Array(vm.guest.memory.buffer, g.mm_bench_buf(), n)];
      vm.enter("touch", (x) => { for (const p of pfns) x.hw_access_range(p, 1, true); });
      for (const p of pfns) { held.push(p); versions.set(p, vm.guest.views.versions[p]); }
    } else if (op === 2 && held.length > 0) {
      const k = Math.floor(rnd() * held.length);
      const gone = held.splice(0, k);
      vm.enter("free", (x) => { for (const p of gone) x.mm_free(p, 0); });
      for (const p of gone) versions.delete(p);
    } else if (op === 3) vm.enter("oom", (x) => { x.balloon_oom_notify(); });
    else if (op === 4) vm.enter("compact", (x) => { x.mm_compact_all(); });
    host.runFor(rnd() * 0.5e9);
    // invariants at a quiescent point
    const list = balloonList(vm);
    const nPages = g.balloon_num_pages();
    expect(list.length, `step ${step}`).toBe(nPages);
    expect(balloon.device.actualPages, `step ${step}`).toBe(nPages);
    expect(balloon.device.inflate.inflatedPfns(), `step ${step}`).toEqual([...list].sort((a, b) => a - b));
    expect(list.filter((p) => (vm.guest.views.pflags[p] & abi.PT_MASK) !== abi.PT_BALLOON), `step ${step}`).toEqual([]);
    const managed = vm.guest.views.vmstat[abi.VM_MANAGED_PAGES];
    expect(managed, `step ${step}`).toBe(deflateOnOom ? total0 : total0 - nPages);
    const changed: number[] = [];
    for (const [p, v] of versions) {
      if ((vm.guest.views.pflags[p] & abi.PT_MASK) !== abi.PT_ALLOC) continue; // migrated by compaction
      if (vm.guest.views.versions[p] !== v) changed.push(p);
    }
    expect(changed, `in-use pages whose content changed at step ${step}`).toEqual([]);
    expect(g.mm_validate(), `step ${step}`).toBe(0);
  }
  expect(balloon.device.metric("inflated_touch_count")).toBe(0);
  expect(balloon.device.metric("inflate_fails") + balloon.device.metric("pfn_fails") + balloon.device.metric("desc_fails")).toBe(0);
}

describe("balloon property", () => {
  it("property: guest list, device inflated set, actual and MemTotal agree after random operations", () => {
    const seed = testSeed("balloon property", 4242);
    run(seed, false);
  });

  it("property: the same holds with DEFLATE_ON_OOM (MemTotal unchanged)", () => {
    const seed = testSeed("balloon property oom", 777);
    run(seed, true);
  });
});
