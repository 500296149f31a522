// SPDX-License-Identifier: MIT
// Differential test: the guest allocator (wasm) and the TypeScript reference get the same random
// operation sequence and must return the same pfns and codes and keep the same buddyinfo.
// Replay one seed with BUDDY_SEED=<seed> npx vitest run tests/conformance/differential.test.ts

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { refAllocator, wasmAllocator, AllocatorConfig } from "./adapters.js";
import { applyOp, describeOp, Held, nextOp, OpMix, prng, seeds, SMALL_ORDERS } from "./ops.js";

const CONFIGS: [string, AllocatorConfig, number, OpMix][] = [
  ["16 MiB, 1 cpu", { mib: 16 }, 2500, {}],
  ["32 MiB, 2 cpus, movable zone", { mib: 32, nrCpus: 2, movableStartPfn: 4096 }, 2500, {}],
  ["8 MiB, no watermarks (runs dry)", { mib: 8, minFreeKbytes: 0, watermarkScaleFactor: 0, initOnAlloc: false }, 2500, {}],
  ["16 MiB, small blocks, alloc-heavy (fallbacks)", { mib: 16, initOnAlloc: false }, 6000, { allocP: 0.6, orders: SMALL_ORDERS }],
  ["4 MiB, one pageblock (claims and steals dominate)", { mib: 4 }, 2500, {}],
  ["5.5 MiB, frames not pageblock aligned", { mib: 5.5 }, 2500, {}],
];

describe("buddy differential: wasm == reference", () => {
  for (const [label, cfg, steps, mix] of CONFIGS) {
    for (const seed of seeds(0xb0dd1e, 3)) {
      it(`${label}: same pfns, codes and buddyinfo for seed ${seed}`, () => {
        console.log(`differential ${label} seed=${seed} (replay: BUDDY_SEED=${seed})`);
        const w = wasmAllocator(cfg);
        const r = refAllocator(cfg);
        const rnd = prng(seed);
        const hw: Held[] = [], hr: Held[] = [];
        let failedAllocs = 0;
        for (let step = 0; step < steps; step++) {
          const op = nextOp(rnd, hw.length, cfg.nrCpus ?? 1, w.frames, mix);
          const rw = applyOp(w, op, hw);
          const rr = applyOp(r, op, hr);
          const where = `seed ${seed} step ${step} ${describeOp(op)}`;
          expect(rw, where).toBe(rr);
          if (op.kind === "alloc" && rw === 0xffffffff) failedAllocs++;
          if (step % 25 === 0 || step === steps - 1) {
            expect(w.buddyinfo(), where).toEqual(r.buddyinfo());
            expect(w.validate(), `${where}: wasm validate`).toBe(abi.MMV_OK);
            expect(r.validate(), `${where}: reference validate`).toBe(abi.MMV_OK);
          }
        }
        expect(w.extfragFails()).toBe(r.extfragFails());
        console.log(`  failed allocs ${failedAllocs}, fragmenting fallbacks ${w.extfragFails()}, held ${hw.length}`);
        for (let z = 0; z < abi.NR_ZONES; z++) {
          for (const f of [abi.ZI_FREE, abi.ZI_MANAGED, abi.ZI_PCP_COUNT, abi.ZI_WMARK_BOOST]) expect(w.zoneInfo(z, f)).toBe(r.zoneInfo(z, f));
        }
      });
    }
  }
});
