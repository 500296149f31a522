// SPDX-License-Identifier: MIT
// Differential test: the guest allocator (wasm) and the TypeScript reference get the same random
// operation sequence and must return the same pfns and codes and keep the same buddyinfo.
// Replay one seed with BUDDY_SEED=<seed> npx vitest run tests/conformance/differential.test.ts

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { refAllocator, wasmAllocator, AllocatorConfig } from "./adapters.js";
import { applyOp, describeOp, Held, nextOp, OpMix, prng, seeds, SMALL_ORDERS } from "./ops.js";

interface Coverage { failedAllocs?: boolean; fallbacks?: boolean }

// validate() after every step costs O(frames) per step (the reference's is ~0.5 ms at 16 MiB),
// so runs are shorter than a periodic check would allow; each config still has to show it
// reached what its label claims (Coverage), so a shortened run cannot pass vacuously.
const CONFIGS: [string, AllocatorConfig, number, OpMix, Coverage][] = [
  ["16 MiB, 1 cpu", { mib: 16 }, 700, {}, { failedAllocs: true }],
  ["32 MiB, 2 cpus, movable zone", { mib: 32, nrCpus: 2, movableStartPfn: 4096 }, 350, {}, {}],
  ["8 MiB, no watermarks (runs dry)", { mib: 8, minFreeKbytes: 0, watermarkScaleFactor: 0, initOnAlloc: false }, 1000, {}, { failedAllocs: true }],
  ["8 MiB, small blocks, alloc-heavy (fallbacks)", { mib: 8, initOnAlloc: false }, 2500, { allocP: 0.6, orders: SMALL_ORDERS }, { failedAllocs: true, fallbacks: true }],
  ["4 MiB, one pageblock (claims and steals dominate)", { mib: 4 }, 1200, {}, { failedAllocs: true, fallbacks: true }],
  ["5.5 MiB, frames not pageblock aligned", { mib: 5.5 }, 1200, {}, { fallbacks: true }],
];

describe("buddy differential: wasm == reference", () => {
  for (const [label, cfg, steps, mix, coverage] of CONFIGS) {
    for (const seed of seeds(0xb0dd1e, 2)) {
      it(`${label}: same pfns, codes and buddyinfo, both valid after every step, seed ${seed}`, () => {
        console.log(`differential ${label} seed=${seed} (replay: BUDDY_SEED=${seed})`);
        // Release build: the one that ships; this loop validates it explicitly after every step
        // (the debug build would validate each export a second time, see mm/debug_vm.ts).
        const w = wasmAllocator(cfg, { release: true });
        const r = refAllocator(cfg);
        const rnd = prng(seed);
        const hw: Held[] = [], hr: Held[] = [];
        let failedAllocs = 0, validations = 0;
        for (let step = 0; step < steps; step++) {
          const op = nextOp(rnd, hw.length, cfg.nrCpus ?? 1, w.frames, mix);
          const rw = applyOp(w, op, hw);
          const rr = applyOp(r, op, hr);
          const where = `seed ${seed} step ${step} ${describeOp(op)}`;
          expect(rw, where).toBe(rr);
          if (op.kind === "alloc" && rw === 0xffffffff) failedAllocs++;
          // Issue 2: validate() after every step, on both allocators.
          const vw = w.validate(), vr = r.validate();
          if (vw !== abi.MMV_OK) expect(vw, `${where}: wasm validate`).toBe(abi.MMV_OK);
          if (vr !== abi.MMV_OK) expect(vr, `${where}: reference validate`).toBe(abi.MMV_OK);
          validations += 2;
          expect(w.buddyinfo(), where).toEqual(r.buddyinfo());
        }
        expect(validations).toBe(2 * steps);
        expect(w.extfragFails()).toBe(r.extfragFails());
        console.log(`  failed allocs ${failedAllocs}, fragmenting fallbacks ${w.extfragFails()}, held ${hw.length}`);
        if (coverage.failedAllocs) expect(failedAllocs, `seed ${seed}: the run never exhausted memory`).toBeGreaterThan(0);
        if (coverage.fallbacks) expect(w.extfragFails(), `seed ${seed}: the run never fell back`).toBeGreaterThan(0);
        for (let z = 0; z < abi.NR_ZONES; z++) {
          for (const f of [abi.ZI_FREE, abi.ZI_MANAGED, abi.ZI_PCP_COUNT, abi.ZI_WMARK_BOOST]) expect(w.zoneInfo(z, f)).toBe(r.zoneInfo(z, f));
        }
      });
    }
  }
});
