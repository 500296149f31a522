// SPDX-License-Identifier: MIT
// A recorded memory-demand trace for the `replay` action: CSV of time (s) and wanted anonymous
// bytes, as users record it from their own machines. The engine allocates/frees to follow it.

import { ConfigError } from "../guest/errors.js";

export interface DemandTrace { tS: number[]; bytes: number[] }

/** Parses a demand CSV (header row; `#` comments). Times must not go back; bytes ≥ 0. */
export function parseDemandTrace(text: string, file: string, timeColumn = "t_s", bytesColumn = "bytes", scale = 1): DemandTrace {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.startsWith("#"));
  const header = (lines[0] ?? "").split(",").map((h) => h.trim());
  const it = header.indexOf(timeColumn);
  const ib = header.indexOf(bytesColumn);
  if (it < 0 || ib < 0) throw new ConfigError(`${file}: header`, header.join(","), `columns ${timeColumn} and ${bytesColumn}`);
  const out: DemandTrace = { tS: [], bytes: [] };
  lines.slice(1).forEach((l, k) => {
    const cells = l.split(",");
    const t = Number(cells[it]);
    const b = Number(cells[ib]) * scale;
    if (!Number.isFinite(t) || t < 0 || (out.tS.length && t < out.tS[out.tS.length - 1])) {
      throw new ConfigError(`${file}: line ${k + 2} ${timeColumn}`, cells[it], "a time in seconds, ≥ 0 and not before the previous row");
    }
    if (!Number.isFinite(b) || b < 0) throw new ConfigError(`${file}: line ${k + 2} ${bytesColumn}`, cells[ib], "bytes ≥ 0");
    out.tS.push(t);
    out.bytes.push(Math.floor(b));
  });
  return out;
}
