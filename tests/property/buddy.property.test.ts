// SPDX-License-Identifier: MIT
// Property tests of the guest page allocator: random operation sequences (printed, replayable
// seeds: BUDDY_SEED=<seed>) keep every invariant after every step, never hand out a frame twice,
// conserve pages, and coalesce back to the boot state once everything is freed and drained.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { wasmAllocator, AllocatorConfig, NIL } from "../conformance/adapters.js";
import { applyOp, describeOp, Held, nextOp, OpMix, prng, seeds, SMALL_ORDERS } from "../conformance/ops.js";

const CASES: [string, AllocatorConfig, number, OpMix][] = [
  ["16 MiB mixed orders", { mib: 16 }, 1500, {}],
  ["16 MiB small orders, alloc-heavy, 2 cpus", { mib: 16, nrCpus: 2 }, 2500, { allocP: 0.62, orders: SMALL_ORDERS }],
  ["24 MiB with a movable zone", { mib: 24, movableStartPfn: 3072 }, 1500, {}],
];

describe("buddy properties (wasm)", () => {
  for (const [label, cfg, steps, mix] of CASES) {
    for (const seed of seeds(0x5eed, 3)) {
      it(`${label}, seed ${seed}: invariants hold after every step, frames are never handed out twice, all pages come back`, () => {
        console.log(`property ${label} seed=${seed} (replay: BUDDY_SEED=${seed})`);
        const a = wasmAllocator(cfg);
        const boot = a.buddyinfo();
        const managed = [0, 1, 2].reduce((s, z) => s + a.zoneInfo(z, abi.ZI_MANAGED), 0);
        const owner = new Uint8Array(a.frames);
        const rnd = prng(seed);
        const held: Held[] = [];
        let heldPages = 0;
        for (let step = 0; step < steps; step++) {
          const op = nextOp(rnd, held.length, cfg.nrCpus ?? 1, a.frames, mix);
          const before = op.kind === "free" ? held[op.index] : undefined;
          const res = applyOp(a, op, held);
          const where = `seed ${seed} step ${step} ${describeOp(op)}`;
          if (op.kind === "alloc" && res !== NIL) {
            expect(res % (1 << op.order), where).toBe(0);
            for (let i = 0; i < 1 << op.order; i++) {
              expect(owner[res + i], `${where}: frame ${res + i} handed out twice`).toBe(0);
              owner[res + i] = 1;
            }
            heldPages += 1 << op.order;
          }
          if (before) {
            expect(res, where).toBe(abi.OK);
            for (let i = 0; i < 1 << before.order; i++) owner[before.pfn + i] = 0;
            heldPages -= 1 << before.order;
          }
          if (op.kind === "bad") expect(res === 0 || res < 0, `${where}: a bad free must fail`).toBe(true);
          expect(a.validate(), where).toBe(abi.MMV_OK);
          const free = [0, 1, 2].reduce((s, z) => s + a.zoneInfo(z, abi.ZI_FREE) + a.zoneInfo(z, abi.ZI_PCP_COUNT), 0);
          expect(free + heldPages, `${where}: pages conserved`).toBe(managed);
        }
        for (const h of held) expect(a.free(h.pfn, h.order)).toBe(abi.OK);
        a.drain();
        expect(a.validate()).toBe(abi.MMV_OK);
        expect(a.buddyinfo(), "everything coalesces back to the boot blocks").toEqual(boot);
      });
    }
  }
});
