import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadGuestModuleFromFile } from "../../host/node.js";
import { parseScenario } from "../../host/scenario/load.js";
import { resolveScenario } from "../../host/scenario/resolve.js";
import { estimateEndNs, modelEngine } from "../../host/scenario/runner.js";
import { compareRuns } from "../../host/report/compare.js";
import { cli } from "../cli/helpers.js";
import type { RunResult } from "../../host/scenario/engine.js";
import { at } from "./series-at.js";

const MiB = 2 ** 20;
const root = join(import.meta.dirname, "../..");

const resolve = (text: string, mode = "as-written", files: Record<string, string> = {}) => {
  const r = resolveScenario(parseScenario(text, "t.yaml"), mode, "t.yaml");
  r.files = files;
  return r;
};

async function run(text: string, mode = "as-written", files: Record<string, string> = {},
  onProgress?: (simS: number, endS: number | null) => void): Promise<RunResult> {
  return modelEngine.runScenario(resolve(text, mode, files), { onProgress });
}


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

  it("balloon: a target inflates the balloon, host RSS falls by the touched pages it takes, a workload outgrowing it is OOM-killed unless the balloon deflates on OOM; without a balloon the command is skipped", async () => {
    const text = readFileSync(join(root, "scenarios/balloon-512m.yaml"), "utf8");
    const r = await run(text, "balloon");
    expect(r.valid).toBe(true);
    const inflate = r.events.find((e) => e.label === "inflate" && e.vm === "idle")?.t_s ?? NaN;
    const deflate = r.events.find((e) => e.label === "deflate" && e.vm === "idle")?.t_s ?? NaN;
    expect(at(r, "idle.balloon.actual_bytes", deflate - 0.1)).toBe(512 * MiB);
    expect(at(r, "idle.rss_bytes", inflate - 0.1) - at(r, "idle.rss_bytes", deflate - 0.1)).toBeGreaterThan(400 * MiB);
    // the busy guest's workload stays resident until it grows past what the balloon left: then
    // the guest's OOM killer kills it (no deflate-on-OOM in mode balloon)
    const grow = r.events.find((e) => e.label === "grow")?.t_s ?? NaN;
    expect(at(r, "busy.rss_bytes", grow - 0.1)).toBeGreaterThanOrEqual(400 * MiB);
    expect(r.summary.vms.busy.oom_kills).toBe(1);
    expect(r.summary.vms.idle.oom_kills).toBe(0);
    expect(r.summary.vms.idle.balloon_actual_bytes).toBe(0);
    // with deflate-on-OOM the balloon gives way instead and the workload keeps its 700 MiB
    const oom = await run(text, "balloon-oom");
    expect(oom.summary.vms.busy.oom_kills).toBe(0);
    expect(at(oom, "busy.rss_bytes", deflate - 0.1)).toBeGreaterThanOrEqual(700 * MiB);
    expect(at(oom, "busy.balloon.actual_bytes", deflate - 0.1)).toBeLessThan(512 * MiB);
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

  it("build: units raise and free anon memory, the page cache grows, the flusher writes objects back, drop-caches empties it", async () => {
    // the wait outlasts dirty_expire (30 s) plus a flusher period (5 s): drop_caches skips dirty pages
    const r = await run(SMALL + `  - { do: build, build: { jobs: 2, units: 8, unitTime: 1s, unitAnon: 16MiB, unitRead: 4MiB, unitWrite: 1MiB, jitter: 0, linkTime: 1s, linkAnon: 32MiB } }
  - { do: wait, for: 36s, label: before_drop }
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
    // 8 units read 4 MiB of fresh sources and append a 1 MiB object each: all 40 MiB stay cached
    // after the build (objects accumulate; rewriting 4 object files would keep at most 4 MiB)
    expect(free(0) - free((drop?.t_s ?? 0) - 0.1)).toBeGreaterThanOrEqual(39.5 * MiB);
    expect(free((drop?.t_s ?? 0) + 0.9) - free((drop?.t_s ?? 0) - 0.1)).toBeGreaterThan(30 * MiB);
    expect(r.summary.vms.a.page_cache_bytes).toBe(0);
    expect(r.summary.vms.a.host_rss_bytes).toBeLessThanOrEqual(256 * MiB + 2 * MiB);
  });

  it("file.*: the guest's page cache re-hits a file read twice, drop-caches keeps dirty pages until the flusher wrote them back", async () => {
    const r = await run(SMALL + `  - { do: file.read, size: 40MiB, file: a }
  - { do: wait, for: 1s, label: read_once }
  - { do: file.read, size: 40MiB, file: a }
  - { do: file.write, size: 20MiB, file: b }
  - { do: wait, for: 1s, label: written }
  - { do: drop-caches, label: drop_dirty }
  - { do: wait, for: 1s }
  - { do: wait, for: 40s, label: flushed }
  - { do: drop-caches, label: drop_clean }
  - { do: wait, for: 1s }
`);
    expect(r.valid).toBe(true);
    const t = (label: string) => r.events.find((e) => e.label === label)?.t_s ?? NaN;
    const free = (tS: number) => at(r, "a.guest_free_bytes", tS);
    // the second read hits the 40 MiB cached by the first: free memory falls by the write only
    const rise = free(t("read_once") + 0.9) - free(t("written") + 0.9);
    expect(rise).toBeGreaterThan(19 * MiB);
    expect(rise).toBeLessThan(22 * MiB);
    // the first drop frees the clean 40 MiB (less what per-cpu lists keep), the dirty 20 MiB stay until written back
    const dropDirty = free(t("drop_dirty") + 0.9) - free(t("drop_dirty") - 0.1);
    expect(dropDirty).toBeGreaterThan(35 * MiB);
    expect(dropDirty).toBeLessThan(45 * MiB);
    expect(free(t("drop_clean") + 0.9) - free(t("drop_clean") - 0.1)).toBeGreaterThan(17 * MiB);
    expect(r.summary.vms.a.page_cache_bytes).toBe(0);
  });

  it("anon memory that finds no free block gets it from the guest's reclaim of its page cache (no failures, the cache shrinks)", async () => {
    const r = await run(SMALL + `  - { do: file.read, size: 200MiB, file: big }
  - { do: anon.touch, size: 150MiB }
  - { do: wait, for: 1s }
`);
    expect(r.valid).toBe(true);
    const a = r.summary.vms.a;
    expect(a.workload_alloc_fails).toBe(0);
    expect(a.oom_kills).toBe(0);
    // 256 MiB guest: 150 MiB anon leaves at most about 100 MiB for the 200 MiB read
    expect(a.page_cache_bytes).toBeGreaterThan(0);
    expect(a.page_cache_bytes).toBeLessThan(110 * MiB);
  });

  it("a VM whose file steps need more guest files than NR_FILES is a scenario error at resolve time", () => {
    const steps = Array.from({ length: 17 }, (_, k) => `  - { do: file.read, size: 1MiB, file: f${k} }`).join("\n");
    expect(() => resolve(SMALL + steps + "\n")).toThrow(/timeline\[16\]\.file/);
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
  it("fragment: kept pages pin pageblocks (free 2 MiB blocks fall far more than free memory); anon.free of everything releases them", async () => {
    const base = SMALL;
    const idle = await run(base + "  - { do: wait, for: 1s }\n");
    const frag = await run(base + "  - { do: fragment, size: 128MiB, keep: 0.125 }\n");
    const back = await run(base + "  - { do: fragment, size: 128MiB, keep: 0.125 }\n  - { do: anon.free }\n");
    for (const r of [idle, frag, back]) expect(r.valid).toBe(true);
    const [i, f, b] = [idle, frag, back].map((r) => r.summary.vms.a);
    // 1 page in 8 of 128 MiB kept = 16 MiB (plus per-CPU lists), but every 2 MiB block the fragmenter got keeps some
    expect((i.guest_free_bytes - f.guest_free_bytes) / MiB).toBeGreaterThan(15);
    expect((i.guest_free_bytes - f.guest_free_bytes) / MiB).toBeLessThan(21);
    expect((i.free_huge_bytes - f.free_huge_bytes) / MiB).toBeGreaterThan(100);
    // everything is free again (some of it on the per-CPU lists, outside nr_free)
    expect((i.guest_free_bytes - b.guest_free_bytes) / MiB).toBeLessThan(4);
    // (huge blocks re-merge only as the per-CPU lists drain: not by the end of this short run)
    expect(b.free_huge_bytes).toBeGreaterThanOrEqual(f.free_huge_bytes);
  });

  const BALLOONED = `
description: "Covers: x. Scenario: y."
seed: 3
sample: 500ms
host: { ram: 2GiB }
vms: [{ name: a, memory: 128MiB, devices: { balloon: {} } }]
timeline:
  - { do: anon.touch, size: 48MiB }
  - { do: anon.free }
  - { do: balloon, target: 80MiB }
  - { do: wait, for: 2s }
`;

  it("crash: each balloon misbehaviour is counted by the device (fails, twice, touches), never thrown; without a balloon it is skipped", async () => {
    const text = BALLOONED + ["balloon-bad-pfn", "balloon-double-inflate", "descriptor-corrupt", "touch-inflated"]
      .map((k) => `  - { do: crash, kind: ${k} }\n`).join("") + "  - { do: wait, for: 1s }\n";
    const r = await run(text, "balloon");
    expect(r.valid).toBe(true);
    const a = r.summary.vms.a;
    expect(a.balloon_actual_bytes).toBe(48 * MiB);
    expect(a.crashes).toBe(4);
    expect(a.skipped_actions).toBe(0);
    // 2 PFNs outside RAM (pfn_fails) + 1 chain of 6 bytes (inflate_fails)
    expect(a.balloon_fails).toBe(3);
    expect(a.balloon_inflate_twice_pfns).toBe(16);
    expect(a.balloon_inflated_touches).toBe(16);
    const none = await run(text, "none");
    expect(none.valid).toBe(true);
    expect(none.summary.vms.a.crashes).toBe(0);
    expect(none.summary.vms.a.skipped_actions).toBe(5); // the balloon target and the four crashes
  });

  it("crash guest-panic: the VM stops (rest of its script skipped, memory kept), the other VM runs on", async () => {
    const r = await run(`
description: "Covers: x. Scenario: y."
seed: 1
sample: 500ms
host: { ram: 2GiB }
vms: [{ name: a, memory: 128MiB }, { name: b, memory: 128MiB }]
timeline:
  - { do: anon.touch, size: 32MiB }
  - { vm: a, do: crash, kind: guest-panic }
  - { do: anon.free }
  - { do: wait, for: 2s }
`);
    expect(r.valid).toBe(true);
    const { a, b } = r.summary.vms;
    expect(a.guest_panicked).toBe(1);
    expect(b.guest_panicked).toBe(0);
    expect(a.skipped_actions).toBe(2);
    expect(a.guest_free_bytes).toBeLessThan(b.guest_free_bytes - 30 * MiB);
    expect(r.stoppedAtS).toBeGreaterThan(2);
  });

  it("estimateEndNs: at, waits, build units × unitTime ÷ jobs + link, replay end; a panic ends the script; duration wins", () => {
    const csv = "t_s,bytes\n0,0\n3,4096\n";
    const text = SMALL + `  - { at: 2s, do: wait, for: 1s }
  - { do: build, build: { jobs: 2, units: 8, unitTime: 1s, unitAnon: 1MiB, linkTime: 1s } }
  - { do: replay, file: d.csv }
  - { do: anon.touch, size: 1MiB }
  - { do: crash, kind: guest-panic }
  - { do: wait, for: 100s }
`;
    expect(estimateEndNs(resolve(text, "as-written", { "d.csv": csv }))).toBe((2 + 1 + 4 + 1 + 3) * 1e9);
    expect(estimateEndNs(resolve(text.replace("sample: 500ms", "sample: 500ms\nduration: 7s")))).toBe(7e9);
    // a single unit on many jobs still takes a unit's time
    expect(estimateEndNs(resolve(SMALL + "  - { do: build, build: { jobs: 16, units: 2, unitTime: 3s, unitAnon: 1MiB } }\n"))).toBe(3e9);
  });

  it("progress: without duration the end passed to onProgress is the estimate (not now + 1 s)", async () => {
    const calls: [number, number | null][] = [];
    await run(SMALL.replace("sample: 500ms", "sample: 100ms") + "  - { do: wait, for: 10s }\n", "as-written", {}, (t, e) => calls.push([t, e]));
    expect(calls.length).toBeGreaterThan(0);
    for (const [t, e] of calls) {
      expect(t).toBeLessThan(10);
      expect(e).toBe(10);
    }
  });

  it("guest slowdown: with reporting the build refaults discarded pages and takes longer than with none", async () => {
    const text = `
description: "Covers: x. Scenario: y."
seed: 5
sample: 500ms
host: { ram: 4GiB }
vms: [{ name: a, memory: 512MiB, vcpus: 2, devices: { balloon: { freePageReporting: { delay: 200ms } } } }]
timeline:
  - { do: build, build: { jobs: 2, units: 16, unitTime: 400ms, unitAnon: 48MiB, unitRead: 2MiB, unitWrite: 1MiB } }
`;
    const runs = [];
    for (const mode of ["none", "reporting"]) runs.push({ mode, ...(await run(text, mode)) });
    const [none, rep] = runs.map((r) => r.summary.vms.a);
    expect(rep.refaults).toBeGreaterThan(none.refaults);
    expect(rep.cpu_busy_s).toBeGreaterThan(none.cpu_busy_s);
    const m = compareRuns(runs);
    expect(m[0].slowdownPct).toBeNull();
    expect(m[1].slowdownPct).toBeGreaterThan(0);
    // the build's time is its compile time (16 × 0.4 s ÷ 2 jobs) plus memory work
    expect(none.workload_s).toBeGreaterThan(16 * 0.4 / 2);
  });

  it("compare (model engine) runs none, balloon, hinting and reporting valid; the balloon target takes memory only with a balloon", async () => {
    const d = mkdtempSync(join(tmpdir(), "guestmem-runner-"));
    const file = join(d, "small.yaml");
    writeFileSync(file, BALLOONED + "  - { do: balloon, target: 128MiB }\n  - { do: wait, for: 1s }\n");
    const r = await cli(["compare", file, "--modes", "none,balloon,hinting,reporting", "--out", join(d, "out"), "--quiet"], modelEngine);
    expect(r.err).not.toMatch(/error|invalid|not yet supported/i);
    expect(r.code).toBe(0);
    const cmp = JSON.parse(readFileSync(join(d, "out", "comparison.json"), "utf8")) as { metrics: { mode: string; valid: boolean; footprintGiBMin: number }[] };
    expect(cmp.metrics.map((m) => [m.mode, m.valid])).toEqual([["none", true], ["balloon", true], ["hinting", true], ["reporting", true]]);
    const summary = (mode: string) => JSON.parse(readFileSync(join(d, "out", mode, "summary.json"), "utf8")) as RunResult["summary"];
    const series = (mode: string) => readFileSync(join(d, "out", mode, "series.csv"), "utf8");
    expect(summary("none").vms.a.skipped_actions).toBe(2);
    for (const mode of ["balloon", "hinting", "reporting"]) expect(summary(mode).vms.a.skipped_actions).toBe(0);
    // the balloon inflated to 48 MiB and discarded touched pages: a smaller footprint than none
    const fp = Object.fromEntries(cmp.metrics.map((m) => [m.mode, m.footprintGiBMin]));
    expect(fp.balloon).toBeLessThan(fp.none);
    expect(series("balloon")).not.toBe(series("none"));
    expect(series("balloon")).toMatch(/,50331648(,|\n)/); // balloon.actual_bytes = 48 MiB at some sample
  });
});
