// SPDX-License-Identifier: MIT
// Test helper: the value of a series column at simulated time `tS` (the last sample at or before it).
import { column } from "../../host/scenario/engine.js";
import type { RunResult } from "../../host/scenario/engine.js";

export function at(res: RunResult, id: string, tS: number): number {
  const t = column(res.series, "t_s");
  const v = column(res.series, id);
  let out = v[0];
  for (let i = 0; i < t.length && t[i] <= tS + 1e-9; i++) out = v[i];
  return out;
}
