import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alignmentCandidates, compareTrace, interpolate, parseMeasuredTrace, MeasuredTrace, SimTrace } from "../../host/report/trace.js";
import { column } from "../../host/scenario/engine.js";
import { parseScenario } from "../../host/scenario/load.js";
import { resolveScenario } from "../../host/scenario/resolve.js";
import { fakeRun } from "../scenario/fake-engine.js";

const MiB = 2 ** 20;
const root = join(import.meta.dirname, "../..");
const REAL = join(root, "tests/fixtures/traces/reporting_on.csv"); // copy of shared/traces/reporting_on.csv

/** A synthetic "measured" run: baseline 200 MiB, +600 MiB at t=12..20, freed at 20, falls at 22. */
function synthetic(offsetS: number, baseMiB: number, dropDelayS: number): MeasuredTrace {
  const tS: number[] = [], rssBytes: number[] = [], phase: string[] = [];
  for (let t = 0; t <= 50; t += 0.5) {
    const p = t < 5 ? "boot" : t < 10 ? "idle" : t < 12 ? "alloc" : t < 20 ? "hold" : t < 20.5 ? "free" : "post_free";
    let mib = baseMiB + (t >= 12 ? 600 : 0) - (t >= 20 + dropDelayS ? 600 : 0);
    if (t < 5) mib = 50;
    tS.push(t + offsetS); rssBytes.push(mib * MiB); phase.push(p);
  }
  return { tS, rssBytes, phase };
}

/** The simulated side: no boot, baseline 0, +600 at 2, freed at 10, falls at 12. */
function simSide(): SimTrace {
  const tS: number[] = [], rssBytes: number[] = [];
  for (let t = 0; t <= 40; t += 0.5) { tS.push(t); rssBytes.push(((t >= 2 ? 600 : 0) - (t >= 12 ? 600 : 0)) * MiB); }
  return { tS, rssBytes, events: [{ t_s: 0, vm: "vm0", index: 0, do: "wait", label: "idle" },
    { t_s: 2, vm: "vm0", index: 1, do: "anon.touch", label: "alloc" },
    { t_s: 10, vm: "vm0", index: 3, do: "anon.free", label: "free" },
    { t_s: 10, vm: "vm0", index: 4, do: "wait", label: "post_free" }] };
}

describe("trace overlay", () => {
  it("interpolates linearly and clamps outside the range", () => {
    expect(interpolate([0, 1, 2], [0, 10, 30], 1.5)).toBe(20);
    expect(interpolate([0, 1], [5, 7], -3)).toBe(5);
    expect(interpolate([0, 1], [5, 7], 9)).toBe(7);
  });

  it("aligns time at the free and subtracts both baselines: a matching shape has zero error", () => {
    const c = compareTrace(synthetic(3, 200, 2), simSide());
    expect(c.measuredEventS).toBeCloseTo(23 - 0.25, 9); // midway between the last hold row and the first free row
    expect(c.simEventS).toBe(10);
    expect(c.measuredBaselineMiB).toBe(200);
    expect(c.simBaselineMiB).toBe(0);
    expect(c.measuredFirstDropS).toBeCloseTo(2.25, 9);
    expect(c.simFirstDropS).toBeCloseTo(2, 9);
    expect(c.measuredReturnedMiB).toBe(600);
    expect(c.simReturnedMiB).toBe(600);
    expect(c.samples).toBeGreaterThan(40);
    // the only mismatch: the half-sample phase offset around the drop
    expect(c.maxAbsErrMiB).toBeLessThanOrEqual(600);
    expect(c.rmseMiB).toBeLessThan(100);
  });

  it("a simulated drop 3 s later than measured shows as +3 s and a large max error", () => {
    const late = simSide();
    late.rssBytes = late.tS.map((t) => ((t >= 2 ? 600 : 0) - (t >= 15 ? 600 : 0)) * MiB);
    const c = compareTrace(synthetic(0, 200, 2), late);
    expect(c.firstDropDiffS).toBeCloseTo(2.75, 9);
    expect(c.maxAbsErrMiB).toBe(600);
  });

  it("a phase too short to be sampled is placed at the next phase's start", () => {
    const m = synthetic(0, 200, 2);
    m.phase = (m.phase ?? []).map((p) => (p === "free" ? "hold" : p)); // no "free" rows at all
    const c = compareTrace(m, simSide());
    expect(c.measuredEventS).toBeCloseTo(20.25, 9); // post_free starts midway 20..20.5, minus 0 s sim gap
  });

  it("alignment candidates: the phase's first event, then the labelled events after it, in run order", () => {
    const ev = [{ label: "post_free" }, { label: "free", t_s: 1 }, {}, { label: "" }, { label: "post_free", t_s: 2 }, { label: "free" }];
    expect(alignmentCandidates(ev, "free").map((e) => e.label)).toEqual(["free", "post_free", "free"]);
    expect(alignmentCandidates(ev, "nope")).toEqual([]);
  });

  it("errors name a missing label on either side", () => {
    expect(() => compareTrace(synthetic(0, 200, 2), simSide(), { phase: "nope" })).toThrow(/nope/);
  });

  it("real reporting_on.csv: baseline ≈ 220 MiB, first drop ≈ 2 s after the free, ≈ 554 MiB returned", () => {
    const m = parseMeasuredTrace(readFileSync(REAL, "utf8"));
    expect(m.tS.length).toBeGreaterThan(400);
    const s = parseScenario(readFileSync(join(root, "scenarios/reporting-600m.yaml"), "utf8"), "r.yaml");
    const run = fakeRun(resolveScenario(s, "reporting", "r.yaml"));
    const c = compareTrace(m, { tS: column(run.series, "t_s"), rssBytes: column(run.series, "host.rss_bytes"), events: run.events });
    expect(c.measuredBaselineMiB).toBeGreaterThan(215);
    expect(c.measuredBaselineMiB).toBeLessThan(225);
    expect(c.measuredEventS).toBeGreaterThan(16.7);
    expect(c.measuredEventS).toBeLessThan(16.95);
    expect(c.measuredFirstDropS).toBeGreaterThan(1.9);
    expect(c.measuredFirstDropS).toBeLessThan(2.4);
    expect(c.measuredReturnedMiB).toBeGreaterThan(540);
    expect(c.measuredReturnedMiB).toBeLessThan(570);
    // the fake returns all 600 MiB in one step at 2 s
    expect(c.simFirstDropS).toBeCloseTo(2, 1); // within one 100 ms sample
    expect(Number.isFinite(c.rmseMiB)).toBe(true);
  });
});
