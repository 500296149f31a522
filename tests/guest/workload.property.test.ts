import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { timerGuest } from "./mm2-harness.js";

/** xorshift32: the sequence is replayable from the printed seed. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

describe("workload property test", () => {
  const seed = Number(process.env.MM2_SEED ?? 20261126);
  it(`random workload steps keep the allocator and every owner list consistent (seed ${seed}, MM2_SEED to replay)`, () => {
    console.log(`workload property test seed ${seed}`);
    const t = timerGuest(24, { seed });
    const r = rng(seed);
    const vm = t.guest.views.vmstat;
    let anonAllocated = 0;
    for (let step = 0; step < 400; step++) {
      const op = r(14);
      const pid = r(4), file = r(4), n = 1 + r(600);
      t.run((g) => {
        switch (op) {
          case 0: case 1: anonAllocated += Math.max(0, g.wl_anon_alloc(pid, n, r(2) === 1)); break;
          case 2: g.wl_anon_touch(pid, n); break;
          case 3: g.wl_anon_free(pid, n); break;
          case 4: g.wl_file_read(file, n); break;
          case 5: g.wl_file_write(file, n); break;
          case 6: g.wl_file_sync(file); break;
          case 7: g.wl_kernel_alloc(1 + r(100), r(2) === 1); break;
          case 8: g.wl_kernel_free(1 + r(100)); break;
          case 9: g.mm_drop_caches(1 + r(3)); break;
          case 10: g.mm_compact_all(); break;
          case 11: g.mm_alloc(r(10), abi.GFP_MOVABLE | abi.GFP_NORETRY); break; // leaked: pins memory
          case 12: if (r(8) === 0) g.wl_process_exit(pid); else g.wl_file_truncate(file); break;
          case 13: g.wl_fragment(4 + pid, 1 + r(2000), 1 + r(64), r(1000), r(4) === 0); break;
        }
      });
      t.runUntil(t.now() + r(3) * 250e6); // let kswapd/kcompactd run sometimes
      const v = t.g.mm_validate(), o = t.g.mm_validate_owners();
      if (v !== 0 || o !== 0) throw new Error(`seed ${seed} step ${step} op ${op}: mm_validate ${v}, owners ${o}`);
    }
    console.log(`oom_kill ${vm[abi.VM_OOM_KILL]} pgsteal_kswapd ${vm[abi.VM_PGSTEAL_KSWAPD]} pgsteal_direct ${vm[abi.VM_PGSTEAL_DIRECT]} pgmigrate ${vm[abi.VM_PGMIGRATE_SUCCESS]} refaults ${vm[abi.VM_WORKINGSET_REFAULT]} written ${vm[abi.VM_NR_WRITTEN]}`);
    expect(anonAllocated).toBeGreaterThan(0);
    expect(vm[abi.VM_PGMIGRATE_SUCCESS]).toBeGreaterThan(0);
  });
});
