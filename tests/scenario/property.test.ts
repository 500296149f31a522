// SPDX-License-Identifier: MIT
// Random scenarios (printed, replayable seed: SEED=<n>): small guests, random timelines of
// workload steps, builds, balloon targets and misbehaviour, in every mode that applies. Every run
// must end valid (mm_validate and the ownership check pass at the end), deterministic, with host
// RSS within guest memory, whatever the OOM killer, reclaim and the balloon did in between.

import { beforeAll, describe, expect, it } from "vitest";
import { loadGuestModuleFromFile } from "../../host/node.js";
import { parseScenario } from "../../host/scenario/load.js";
import { resolveScenario } from "../../host/scenario/resolve.js";
import { modelEngine } from "../../host/scenario/runner.js";
import { testSeed } from "../helpers/host.js";
import { testRng } from "../helpers/virtio-harness.js";

const MODES = ["none", "balloon", "balloon-oom", "reporting", "auto-balloon"];
const CRASHES = ["balloon-bad-pfn", "balloon-double-inflate", "touch-inflated", "descriptor-corrupt"];

function randomScenario(seed: number): { text: string; ramBytes: number } {
  const rng = testRng(seed);
  const r = (n: number) => Math.floor(rng() * n);
  const mib = (lo: number, hi: number) => `${lo + r(hi - lo + 1)}MiB`;
  // one or two VMs; the host may be over-committed (with or without host swap)
  const vms = r(3) === 0 ? ["vm0", "vm1"] : ["vm0"];
  const steps: string[] = [];
  let t = 0;
  const n = 6 + r(10);
  for (let i = 0; i < n; i++) {
    const at = r(3) === 0 ? `at: ${(t += 1 + r(4))}s, ` : "";
    const on = vms.length > 1 && r(2) === 0 ? `vm: ${vms[r(2)]}, ` : "";
    const p = at + on;
    switch (r(15)) {
      case 0: case 1: steps.push(`{ ${p}do: anon.touch, size: ${mib(8, 300)} }`); break;
      case 2: steps.push(`{ ${p}do: anon.alloc, size: ${mib(8, 200)} }`); break;
      case 3: steps.push(r(2) ? `{ ${p}do: anon.free }` : `{ ${p}do: anon.free, size: ${mib(1, 200)} }`); break;
      case 4: steps.push(`{ ${p}do: file.read, size: ${mib(4, 200)}, file: f${r(3)} }`); break;
      case 5: steps.push(`{ ${p}do: file.write, size: ${mib(4, 100)}, file: f${r(3)} }`); break;
      case 6: steps.push(`{ ${p}do: kernel.alloc, size: ${mib(1, 40)}, order: ${r(4)} }`); break;
      case 7: steps.push(`{ ${p}do: kernel.free }`); break;
      case 8: steps.push(`{ ${p}do: fragment, size: ${mib(16, 200)}, keep: 0.${1 + r(8)} }`); break;
      case 9: steps.push(`{ ${p}do: balloon, target: ${mib(128, 512)} }`); break;
      case 10: steps.push(`{ ${p}do: build, build: { jobs: ${1 + r(16)}, units: ${1 + r(24)}, unitTime: ${1 + r(3)}s, unitAnon: ${mib(4, 60)}, unitRead: ${mib(0, 8)}, unitWrite: ${mib(0, 4)}, linkTime: 1s, linkAnon: ${mib(0, 100)} } }`); break;
      case 11: steps.push(`{ ${p}do: drop-caches }`); break;
      case 12: steps.push(`{ ${p}do: crash, kind: ${CRASHES[r(CRASHES.length)]} }`); break;
      case 13: steps.push(`{ ${p}do: stats-interval, every: ${1 + r(3)}s }`); break;
      default: steps.push(`{ ${p}do: wait, for: ${1 + r(5)}s }`); break;
    }
  }
  steps.push("{ do: wait, for: 3s }");
  const ram = [2048, 700, 400][r(3)];
  const swap = ram < 1024 && r(2) === 0 ? ", swap: 512MiB" : "";
  const vmYaml = vms.map((v) => `  - name: ${v}
    memory: 512MiB
    devices:
      balloon: { freePageReporting: { order: 9, delay: 2s, capacity: 32 } }
    policies:
      autoBalloon: { interval: 1s, keepFree: ${64 + r(128)}MiB, maxStep: 64MiB, minSize: 192MiB }`).join("\n");
  const text = `name: random-${seed}
description: random timeline (tests/scenario/property.test.ts)
seed: ${seed}
sample: 500ms
host: { ram: ${ram}MiB${swap} }
vms:
${vmYaml}
modes: [${MODES.join(", ")}]
timeline:
${steps.map((s) => `  - ${s}`).join("\n")}
`;
  return { text, ramBytes: ram * 2 ** 20 };
}

describe("random scenarios", () => {
  beforeAll(() => { loadGuestModuleFromFile(); });

  const base = testSeed("scenario property", 20261202);
  let totalKills = 0;
  for (let k = 0; k < 6; k++) {
    const seed = (base + k * 7919) >>> 0;
    it(`seed ${seed}: every mode ends valid and deterministic, host RSS within guest memory`, async () => {
      const { text, ramBytes } = randomScenario(seed);
      const sc = parseScenario(text, `random-${seed}.yaml`);
      let kills = 0; // OOM kills in this seed's runs
      for (const mode of MODES) {
        const run = () => modelEngine.runScenario(resolveScenario(sc, mode, `random-${seed}.yaml`));
        const a = await run();
        expect(a.valid, `${mode}: ${a.stopReason}\n${text}`).toBe(true);
        expect(a.stopReason).toBe("timeline ended");
        for (const vm of Object.values(a.summary.vms)) {
          expect(vm.peak_host_rss_bytes).toBeLessThanOrEqual(512 * 2 ** 20 + 4 * 2 ** 20);
          expect(vm.guest_free_bytes).toBeLessThanOrEqual(vm.guest_total_bytes);
          kills += vm.oom_kills;
        }
        // the host holds at most its RAM resident (swapping when it has swap); beyond RAM and
        // swap the model over-commits and counts it (host.oom_events) instead of killing a VM
        if (a.summary.host.peak_rss_bytes > ramBytes) expect(a.summary.host.oom_events).toBeGreaterThan(0);
        if (k < 2) expect(JSON.stringify((await run()).summary)).toBe(JSON.stringify(a.summary));
      }
      console.log(`seed ${seed}: ${kills} OOM kills over the modes`);
      totalKills += kills;
    });
  }

  it.skipIf(process.env.SEED !== undefined)("the default seeds reach the OOM killer (the kill paths are exercised)", () => {
    expect(totalKills).toBeGreaterThan(0);
  });
});
