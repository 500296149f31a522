// SPDX-License-Identifier: MIT
// `guestmem report`: reads run/compare output directories back and writes the self-contained
// HTML report (comparison metrics recomputed from each run's series and summary).

import { basename } from "node:path";
import { compareRuns } from "../report/compare.js";
import { renderReport } from "../report/html.js";
import type { TraceComparison } from "../report/trace.js";
import { loadRuns, readUplotAssets, writeAtomic } from "./files.js";
import type { CliIo } from "./io.js";

export function reportCommand(dirs: string[], out: string, title: string | undefined, io: CliIo): number {
  const runs = dirs.flatMap((d) => loadRuns(d));
  const labels = runs.map((r) => r.summary.mode || basename(r.dir));
  // two runs of the same mode from different directories: tell them apart by directory
  const label = (i: number) => (labels.filter((l) => l === labels[i]).length > 1 ? `${labels[i]} (${r2(runs[i].dir)})` : labels[i]);
  const complete = runs.filter((r) => r.series.rows.length > 0);
  const metrics = compareRuns(complete.map((r) => ({ mode: label(runs.indexOf(r)), series: r.series, summary: r.summary })));
  const traced = runs.find((r) => r.trace !== undefined);
  const scenarios = [...new Set(runs.map((r) => r.summary.scenario))];
  const html = renderReport({
    title: title ?? `guestmem: ${scenarios.join(", ")}`,
    runs: complete.map((r) => ({ label: label(runs.indexOf(r)), series: r.series, summary: r.summary })),
    metrics,
    trace: traced ? { label: `${basename(String((traced.trace as { file?: string }).file ?? "trace"))} vs ${traced.summary.mode}`,
      comparison: traced.trace as TraceComparison } : undefined,
  }, readUplotAssets());
  writeAtomic(out, html);
  const skipped = runs.length - complete.length;
  io.err(`wrote ${out} (${complete.length} run(s)${skipped ? `, ${skipped} failed run(s) left out` : ""})\n`);
  return 0;
}

const r2 = (dir: string) => dir.split(/[\\/]/).slice(-2).join("/");
