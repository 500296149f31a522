// SPDX-License-Identifier: MIT
// Comparison, report and measured-trace overlay as a library (re-exports only; no Node built-ins).

export { compareRuns, modeMetrics, footprintGiBMin, shrinkRate, formatTable } from "./compare.js";
export type { ModeRun, ModeMetrics } from "./compare.js";
export { renderReport, reportData } from "./html.js";
export type { ReportInput, ReportRun, ReportAssets } from "./html.js";
export { parseMeasuredTrace, compareTrace, formatTraceComparison } from "./trace.js";
export type { MeasuredTrace, SimTrace, AlignOptions, TraceComparison } from "./trace.js";
export { seriesToCsv, csvToSeries } from "./csv.js";
