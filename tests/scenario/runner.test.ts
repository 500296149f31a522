import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadGuestModuleFromFile } from "../../host/node.js";
import { column } from "../../host/scenario/engine.js";
import { parseScenario } from "../../host/scenario/load.js";
import { resolveScenario } from "../../host/scenario/resolve.js";
import { modelEngine } from "../../host/scenario/runner.js";
import type { RunResult } from "../../host/scenario/engine.js";

const MiB = 2 ** 20;
const root = join(import.meta.dirname, "../..");

async function run(text: string, mode = "as-written", files: Record<string, string> = {}): Promise<RunResult> {
  const r = resolveScenario(parseScenario(text, "t.yaml"), mode, "t.yaml");
  r.files = files;
  return modelEngine.runScenario(r);
}

const at = (res: RunResult, id: string, tS: number) => {
  const t = column(res.series, "t_s");
  const v = column(res.series, id);
  let out = v[0];
  for (let i = 0; i < t.length && t[i] <= tS + 1e-9; i++) out = v[i];
  return out;
};

describe("model engine runner", () => {
  beforeAll(() => { loadGuestModuleFromFile(); });

  it("reporting-600m without reporting: RSS rises by the 600 MiB touched and never falls after the free", async () => {
    const s = readFileSync(join(root, "scenarios/reporting-600m.yaml"), "utf8");
    const r = await run(s, "none");
    expect(r.valid).toBe(true);
    const before = at(r, "host.rss_bytes", 4.9);
    const held = at(r, "host.rss_bytes", 10);
    expect((held - before) / MiB).toBeGreaterThanOrEqual(600);
    expect((held - before) / MiB).toBeLessThan(604);
    expect(at(r, "host.rss_bytes", 40)).toBe(held);
    // the guest got its memory back
    expect(at(r, "vm0.guest_free_bytes", 40) - at(r, "vm0.guest_free_bytes", 10)).toBeGreaterThanOrEqual(600 * MiB);
    expect(r.summary.vms.vm0.workload_s).toBeGreaterThan(5);
    expect(r.stopReason).toBe("timeline ended");
    expect(r.events.map((e) => e.label)).toEqual(["idle", "alloc", "hold", "free", "post_free"]);
    // touching is charged simulated time: the hold starts after the touch finished
    expect(r.events[2].t_s).toBeGreaterThan(r.events[1].t_s);
  });

  it("same scenario, same seed: identical series and summary", async () => {
    const s = readFileSync(join(root, "scenarios/reporting-600m.yaml"), "utf8");
    const a = await run(s, "none");
    const b = await run(s, "none");
    expect(JSON.stringify(b.summary)).toBe(JSON.stringify(a.summary));
    expect(b.series.rows).toEqual(a.series.rows);
  });

  it("refuses what it cannot run yet with the reason (migration)", () => {
    const s = parseScenario(readFileSync(join(root, "scenarios/migrate-hinting.yaml"), "utf8"), "m.yaml");
    const r = resolveScenario(s, "none", "m.yaml");
    expect(modelEngine.unsupported?.(r)).toMatch(/migrate/);
    expect(() => modelEngine.runScenario(r)).toThrow(/not yet supported by the engine: .*migrate/);
  });

  it("reporting: host RSS starts falling about 2 s after the free and most of the 600 MiB returns", async () => {
    const r = await run(readFileSync(join(root, "scenarios/reporting-600m.yaml"), "utf8"), "reporting");
    expect(r.valid).toBe(true);
    const free = r.events.find((e) => e.label === "free")?.t_s ?? NaN;
    const held = at(r, "host.rss_bytes", free);
    expect(at(r, "host.rss_bytes", free + 1.8)).toBe(held);
    expect(held - at(r, "host.rss_bytes", free + 2.5)).toBeGreaterThan(32 * MiB);
    expect(held - at(r, "host.rss_bytes", free + 10)).toBeGreaterThan(500 * MiB);
  });

  it("balloon: a target inflates the balloon, host RSS falls by the touched pages it takes; without a balloon the command is skipped", async () => {
    const text = readFileSync(join(root, "scenarios/balloon-512m.yaml"), "utf8");
    const r = await run(text, "balloon");
    expect(r.valid).toBe(true);
    const inflate = r.events.find((e) => e.label === "inflate" && e.vm === "idle")?.t_s ?? NaN;
    const deflate = r.events.find((e) => e.label === "deflate" && e.vm === "idle")?.t_s ?? NaN;
    expect(at(r, "idle.balloon.actual_bytes", deflate - 0.1)).toBe(512 * MiB);
    expect(at(r, "idle.rss_bytes", inflate - 0.1) - at(r, "idle.rss_bytes", deflate - 0.1)).toBeGreaterThan(400 * MiB);
    // the busy guest keeps its 400 MiB workload resident
    expect(at(r, "busy.rss_bytes", deflate - 0.1)).toBeGreaterThanOrEqual(400 * MiB);
    expect(r.summary.vms.idle.balloon_actual_bytes).toBe(0);
    const none = await run(text, "none");
    expect(none.summary.vms.idle.skipped_actions).toBe(2);
    expect(at(none, "idle.rss_bytes", 30)).toBeGreaterThan(800 * MiB);
  });

  const SMALL = `
description: "Covers: x. Scenario: y."
seed: 7
sample: 500ms
host: { ram: 2GiB }
vms: [{ name: a, memory: 256MiB }]
timeline:
`;

  it("build: units raise and free anon memory, the page cache grows, drop-caches empties it", async () => {
    const r = await run(SMALL + `  - { do: build, build: { jobs: 2, units: 8, unitTime: 1s, unitAnon: 16MiB, unitRead: 4MiB, unitWrite: 1MiB, linkTime: 1s, linkAnon: 32MiB } }
  - { do: wait, for: 1s, label: before_drop }
  - { do: drop-caches }
  - { do: wait, for: 1s }
`);
    expect(r.valid).toBe(true);
    const buildS = r.summary.vms.a.workload_s;
    // 8 units of ~1 s on 2 jobs ≈ 4 s, plus the 1 s link
    expect(buildS).toBeGreaterThan(3);
    expect(buildS).toBeLessThan(8);
    const drop = r.events.find((e) => e.do === "drop-caches");
    const free = (t: number) => at(r, "a.guest_free_bytes", t);
    expect(free((drop?.t_s ?? 0) + 0.9) - free((drop?.t_s ?? 0) - 0.1)).toBeGreaterThan(30 * MiB);
    expect(r.summary.vms.a.page_cache_bytes).toBe(0);
    expect(r.summary.vms.a.host_rss_bytes).toBeLessThanOrEqual(256 * MiB + 2 * MiB);
  });

  it("replay follows a recorded demand: RSS reaches its peak, the guest frees what the trace drops", async () => {
    const csv = "t_s,bytes\n0,0\n1,104857600\n2,52428800\n3,0\n";
    const r = await run(SMALL + `  - { do: replay, file: d.csv }\n  - { do: wait, for: 1s }\n`, "as-written", { "d.csv": csv });
    expect(r.valid).toBe(true);
    expect(r.summary.host.peak_rss_bytes).toBeGreaterThanOrEqual(100 * MiB);
    expect(at(r, "a.guest_free_bytes", 3.9)).toBeGreaterThan(at(r, "a.guest_free_bytes", 1.9));
    expect(r.summary.vms.a.workload_s).toBeCloseTo(3, 1);
  });

  it("`at` delays an action, and an action without `vm` runs in every VM's script", async () => {
    const r = await run(`
description: "Covers: x. Scenario: y."
seed: 1
sample: 1s
host: { ram: 2GiB }
vms: [{ name: a, memory: 64MiB }, { name: b, memory: 64MiB }]
timeline:
  - { at: 3s, do: anon.touch, size: 8MiB }
  - { vm: b, do: wait, for: 2s }
`);
    expect(r.events.filter((e) => e.do === "anon.touch").map((e) => [e.vm, e.t_s])).toEqual([["a", 3], ["b", 3]]);
    expect(r.stoppedAtS).toBeGreaterThan(5);
    expect(at(r, "a.rss_bytes", 2)).toBeLessThan(at(r, "a.rss_bytes", r.stoppedAtS));
  });

  it("duration stops the run early", async () => {
    const r = await run(SMALL.replace("sample: 500ms", "sample: 500ms\nduration: 2s") + "  - { do: wait, for: 10s }\n");
    expect(r.stoppedAtS).toBe(2);
    expect(r.stopReason).toBe("duration reached");
  });
});
