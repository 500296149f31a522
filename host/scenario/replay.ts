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

/** What a `replay` action says about its CSV (schema.ts). */
export interface ReplaySource { file: string; timeColumn?: string; bytesColumn?: string; scale?: number }

/**
 * Parsed traces per files record (one scenario load, shared by every mode run from it) and per
 * file and column choice, with the text they came from: the CLI's check at load, the progress
 * estimate and the replay itself parse each CSV once between them.
 */
const parsedTraces = new WeakMap<Readonly<Record<string, string>>, Map<string, { text: string; trace: DemandTrace }>>();

/**
 * The demand trace of replay action `a` from `files` (path as written → text), parsed once per
 * files record; undefined when `files` lacks it. A malformed CSV throws ConfigError every time.
 */
export function replayTrace(files: Readonly<Record<string, string>>, a: ReplaySource): Readonly<DemandTrace> | undefined {
  const text = files[a.file];
  if (text === undefined) return undefined;
  let byKey = parsedTraces.get(files);
  if (!byKey) parsedTraces.set(files, (byKey = new Map()));
  const key = JSON.stringify([a.file, a.timeColumn ?? "t_s", a.bytesColumn ?? "bytes", a.scale ?? 1]);
  const hit = byKey.get(key);
  if (hit && hit.text === text) return hit.trace; // same text: a caller may have replaced the file
  const trace = parseDemandTrace(text, a.file, a.timeColumn, a.bytesColumn, a.scale);
  byKey.set(key, { text, trace });
  return trace;
}
