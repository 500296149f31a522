// SPDX-License-Identifier: MIT
// series.csv: first column t_s (simulated seconds), then one column per sampled metric. Numbers
// are written so the same series always gives the same bytes (golden files, diffs).

import type { Series } from "../scenario/engine.js";

/** Shortest stable text for a number: integers as is, others to 6 significant decimals. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "" : v > 0 ? "inf" : "-inf";
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toFixed(6)));
}

export function seriesToCsv(s: Series): string {
  const lines = [s.columns.join(",")];
  for (const r of s.rows) lines.push(r.map(formatNumber).join(","));
  return lines.join("\n") + "\n";
}

/** A CSV table as text cells (no quoting: guestmem's and the trace files have none). */
export interface CsvTable { header: string[]; records: string[][] }

export function parseCsv(text: string): CsvTable {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.startsWith("#"));
  if (lines.length === 0) return { header: [], records: [] };
  return { header: lines[0].split(",").map((h) => h.trim()), records: lines.slice(1).map((l) => l.split(",")) };
}

/** Parses series.csv back (empty cells become NaN). */
export function csvToSeries(text: string): Series {
  const t = parseCsv(text);
  return { columns: t.header, rows: t.records.map((r) => r.map((c) => (c === "" ? NaN : c === "inf" ? Infinity : Number(c)))) };
}
