import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareRuns, footprintGiBMin, formatTable, shrinkRate } from "../../host/report/compare.js";
import { parseScenario } from "../../host/scenario/load.js";
import { resolveScenario } from "../../host/scenario/resolve.js";
import { fakeRun } from "../scenario/fake-engine.js";

const GiB = 2 ** 30;
const root = join(import.meta.dirname, "../..");

describe("comparison metrics", () => {
  it("footprint: 1 GiB held for 60 s is 1 GiB·min; a linear ramp 0→2 GiB over 60 s is 1 GiB·min (trapezoid)", () => {
    expect(footprintGiBMin([0, 30, 60], [GiB, GiB, GiB])).toBeCloseTo(1, 12);
    expect(footprintGiBMin([0, 60], [0, 2 * GiB])).toBeCloseTo(1, 12);
    expect(footprintGiBMin([0], [GiB])).toBe(0);
  });

  it("shrink rate: a fall of 1 GiB over 2 s between the 1 % and 10 % thresholds", () => {
    // peak 2 GiB held until t=3, falls linearly to 1 GiB at t=5, stays
    const t = [0, 1, 2, 3, 3.5, 4, 4.5, 5, 6, 7];
    const b = [1, 2, 2, 2, 1.75, 1.5, 1.25, 1, 1, 1].map((g) => g * GiB);
    const r = shrinkRate(t, b);
    expect(r.fallBytes).toBe(GiB);
    // from t=3 (2 GiB) to t=5 (first ≤ 1.1 GiB): 1 GiB in 2 s
    expect(r.GiBps).toBeCloseTo(0.5, 12);
  });

  it("shrink rate: no fall after the peak gives null", () => {
    expect(shrinkRate([0, 1, 2], [GiB, 2 * GiB, 2 * GiB]).GiBps).toBeNull();
  });

  it("compare: reporting returns the freed 600 MiB, none does not; slowdown is relative to none", () => {
    const s = parseScenario(readFileSync(join(root, "scenarios/reporting-600m.yaml"), "utf8"), "reporting-600m.yaml");
    const runs = ["none", "reporting"].map((mode) => ({ mode, ...fakeRun(resolveScenario(s, mode, "f")) }));
    const [none, rep] = compareRuns(runs);
    expect(none.reclaimedGiB).toBe(0);
    expect(rep.reclaimedGiB * 1024).toBeCloseTo(600, 6);
    expect(rep.footprintGiBMin).toBeLessThan(none.footprintGiBMin);
    expect(none.slowdownPct).toBeNull();
    expect(rep.slowdownPct).toBeCloseTo(0, 9);
    expect(none.migrationBytes).toBeNull();
    const table = formatTable([none, rep]);
    expect(table.split("\n")[0]).toContain("footprint GiB·min");
    expect(table).toMatch(/^reporting\s/m);
    expect(table).not.toContain("migrated MiB");
    expect(table).not.toContain("OOM kills"); // nobody was killed: the column stays out
    expect(none.oomKills).toBe(0);
  });

  it("compare: an OOM-kill column appears when a mode killed a workload", () => {
    const s = parseScenario(readFileSync(join(root, "scenarios/balloon-512m.yaml"), "utf8"), "b.yaml");
    const runs = ["balloon", "balloon-oom"].map((mode) => ({ mode, ...fakeRun(resolveScenario(s, mode, "f")) }));
    runs[0].summary.vms.busy.oom_kills = 2;
    const ms = compareRuns(runs);
    expect(ms.map((m) => m.oomKills)).toEqual([2, 0]);
    const lines = formatTable(ms).split("\n");
    expect(lines[0]).toContain("OOM kills");
    expect(lines[2]).toMatch(/\s2\s+yes$/);
    expect(lines[3]).toMatch(/\s0\s+yes$/);
  });

  it("compare: migration bytes appear when a VM migrated, and hinting sends less", () => {
    const s = parseScenario(readFileSync(join(root, "scenarios/migrate-hinting.yaml"), "utf8"), "m.yaml");
    const ms = compareRuns(["none", "hinting"].map((mode) => ({ mode, ...fakeRun(resolveScenario(s, mode, "f")) })));
    expect(ms[1].migrationBytes).toBeLessThan(ms[0].migrationBytes ?? 0);
    expect(formatTable(ms)).toContain("migrated MiB");
  });
  it("slowdown: each VM against itself in the baseline, the worst one counts (a slower small VM is not hidden by a longer one)", () => {
    const s = parseScenario(readFileSync(join(root, "scenarios/balloon-512m.yaml"), "utf8"), "b.yaml");
    const runs = ["none", "balloon", "balloon-oom"].map((mode) => ({ mode, ...fakeRun(resolveScenario(s, mode, "f")) }));
    const set = (k: number, idle: number, busy: number) => { runs[k].summary.vms.idle.workload_s = idle; runs[k].summary.vms.busy.workload_s = busy; };
    set(0, 10, 100);
    set(1, 15, 100); // idle VM 50 % slower, the longest workload unchanged
    set(2, 9, 90);
    const [none, balloon, oom] = compareRuns(runs);
    expect(none.slowdownPct).toBeNull();
    expect(balloon.slowdownPct).toBeCloseTo(50, 9);
    expect(balloon.workloadS).toBe(100);
    expect(oom.slowdownPct).toBeCloseTo(-10, 9);
  });
});
