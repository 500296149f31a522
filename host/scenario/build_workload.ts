// SPDX-License-Identifier: MIT
// The build-like workload (imitating the HyperAlloc clang build, reference/performance.md §1.2):
// `jobs` parallel compile jobs work through `units`; each unit reads its sources into the page
// cache, raises its anonymous memory in four steps over its run time, frees it at the end and
// writes its object file; then one link step. Unit sizes and times vary by ±jitter (seeded).
// Model: compile CPU time is not charged to the vCPU (one vCPU timeline per VM); only the
// memory work is. A unit's phases run one after another (runner.ts), each after the previous
// phase's memory work finished, so allocation, faults, refaults, reclaim and device work on the
// vCPU delay the unit: that is the build's guest slowdown (docs/scenarios.md).

import type { Rng } from "../sim/rng.js";

export interface BuildParams {
  jobs: number;
  units: number;
  unitTimeNs: number;
  unitAnonBytes: number;
  unitReadBytes: number;
  unitWriteBytes: number;
  jitter: number;
  linkTimeNs: number;
  linkAnonBytes: number;
}

export interface BuildUnit { timeNs: number; anonBytes: number; readBytes: number; writeBytes: number }

/** Anonymous memory rises in this many equal steps over a unit's run time. */
export const ANON_STEPS = 4;

/** The units of a build, drawn from `rng` (uniform in [1 − jitter, 1 + jitter] × the mean). */
export function planBuild(p: BuildParams, rng: Rng): BuildUnit[] {
  const vary = (mean: number) => mean * (1 + p.jitter * (2 * rng.float() - 1));
  const units: BuildUnit[] = [];
  for (let i = 0; i < p.units; i++) {
    units.push({
      timeNs: Math.max(1e6, Math.round(vary(p.unitTimeNs))),
      anonBytes: Math.round(vary(p.unitAnonBytes)),
      readBytes: Math.round(vary(p.unitReadBytes)),
      writeBytes: Math.round(vary(p.unitWriteBytes)),
    });
  }
  return units;
}
