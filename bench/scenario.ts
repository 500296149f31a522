// SPDX-License-Identifier: MIT
// Scenario speed (engine throughput end to end, wall clock): runs a bench scenario in each of
// its modes and reports wall seconds per simulated minute. The goal it tracks
// (reference/performance.md §5): a 60 s simulated timeline of a 16 GiB guest with reporting runs
// in well under a second. Mode `none` is the in-run baseline: reporting's ratio to it is the
// engine's cost of modelling reporting (isolation passes, discards, refaults).

import { readFileSync } from "node:fs";
import { modelEngine, parseScenario, resolveScenario, RunSummary } from "../host/index.js";

export interface ScenarioBenchResult {
  /** `scenario.<scenario name>.<mode>` */
  name: string;
  /** Best round: wall seconds for the whole run (setup, boot, timeline, summary). */
  wall_s: number;
  wall_s_median: number;
  /** Simulated seconds the run covered. */
  sim_s: number;
  /** Wall seconds per simulated minute (best round). */
  wall_s_per_sim_min: number;
  rounds: number;
  /** The run's summary must agree between rounds (determinism); kept for the JSON. */
  summary: RunSummary;
}

function nowS(): number { return Number(process.hrtime.bigint()) / 1e9; }

/** Runs every mode of the scenario in `file` `rounds` times, alternating modes between rounds. */
export async function runScenarioBench(file: string, rounds: number): Promise<ScenarioBenchResult[]> {
  const scenario = parseScenario(readFileSync(file, "utf8"), file);
  const modes = (scenario.modes ?? []).map((m) => (typeof m === "string" ? m : m.name));
  const times = new Map<string, number[]>();
  const summaries = new Map<string, RunSummary>();
  for (let r = 0; r < rounds; r++) {
    for (const mode of modes) {
      const resolved = resolveScenario(scenario, mode, file);
      const t0 = nowS();
      const res = await modelEngine.runScenario(resolved);
      const dt = nowS() - t0;
      if (!res.valid) throw new Error(`${scenario.name}/${mode}: the run is invalid (${res.summary.error ?? res.stopReason})`);
      const prev = summaries.get(mode);
      if (prev && JSON.stringify(prev) !== JSON.stringify(res.summary)) throw new Error(`${scenario.name}/${mode}: two rounds disagree (not deterministic)`);
      summaries.set(mode, res.summary);
      (times.get(mode) ?? times.set(mode, []).get(mode)!).push(dt);
    }
  }
  return modes.map((mode) => {
    const xs = [...times.get(mode)!].sort((a, b) => a - b);
    const summary = summaries.get(mode)!;
    return {
      name: `scenario.${scenario.name}.${mode}`, wall_s: xs[0], wall_s_median: xs[Math.floor(xs.length / 2)],
      sim_s: summary.stopped_at_s, wall_s_per_sim_min: (xs[0] * 60) / summary.stopped_at_s, rounds, summary,
    };
  });
}
