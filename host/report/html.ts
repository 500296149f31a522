// SPDX-License-Identifier: MIT
// The comparison report: one self-contained HTML file (uPlot and the data inlined, nothing
// fetched) with host RSS and guest free memory over time per mode, bar charts of the comparison
// metrics, the metrics table, and an optional measured-trace overlay. Pure: assets are passed in.

import { column, RunSummary, Series } from "../scenario/engine.js";
import type { ModeMetrics } from "./compare.js";
import type { TraceComparison } from "./trace.js";

const GiB = 2 ** 30;

export interface ReportRun { label: string; series: Series; summary: RunSummary }
export interface ReportAssets { uplotJs: string; uplotCss: string }
export interface ReportInput {
  title: string;
  description?: string;
  runs: ReportRun[];
  metrics: ModeMetrics[];
  trace?: { label: string; comparison: TraceComparison };
}

/** Sum of every column ending in `.${metric}` (per-VM columns), or the plain column. */
export function sumColumns(series: Series, metric: string): number[] {
  const idx = series.columns.flatMap((c, i) => (c === metric || c.endsWith(`.${metric}`) ? [i] : []));
  const plain = series.columns.indexOf(metric);
  const use = plain >= 0 ? [plain] : idx;
  return series.rows.map((r) => use.reduce((s, i) => s + r[i], 0));
}

/** Downsamples to at most `max` points (keeps first and last) so big runs stay small files. */
function thin(ts: number[], ys: number[], max = 2000): [number[], number[]] {
  if (ts.length <= max) return [ts, ys];
  const step = ts.length / max;
  const t: number[] = [];
  const y: number[] = [];
  for (let k = 0; k < max; k++) { const i = Math.floor(k * step); t.push(ts[i]); y.push(ys[i]); }
  t.push(ts[ts.length - 1]); y.push(ys[ys.length - 1]);
  return [t, y];
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;

/** The data the page's script plots (also what tests read back). */
export function reportData(input: ReportInput) {
  const lines = (metric: string, scale: number) => input.runs.map((r) => {
    const [t, y] = thin(column(r.series, "t_s"), sumColumns(r.series, metric).map((v) => v / scale));
    return { label: r.label, t: t.map(round), y: y.map(round) };
  });
  return {
    title: input.title,
    hostRss: lines("host.rss_bytes", GiB),
    guestFree: lines("guest_free_bytes", GiB),
    bars: {
      modes: input.metrics.map((m) => m.mode),
      footprintGiBMin: input.metrics.map((m) => round(m.footprintGiBMin)),
      peakRssGiB: input.metrics.map((m) => round(m.peakRssGiB)),
      reclaimedGiB: input.metrics.map((m) => round(m.reclaimedGiB)),
    },
    trace: input.trace ? {
      label: input.trace.label,
      measured: input.trace.comparison.aligned.measured,
      sim: input.trace.comparison.aligned.sim,
    } : null,
  };
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
/** JSON safe inside <script>: no `</script>` or `<!--` can close or confuse the element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");

function metricsTable(ms: readonly ModeMetrics[]): string {
  const f = (v: number | null, d: number) => (v === null ? "–" : v.toFixed(d));
  const rows = ms.map((m) => `<tr><td>${esc(m.mode)}</td><td>${f(m.footprintGiBMin, 2)}</td><td>${f(m.peakRssGiB, 2)}</td>` +
    `<td>${f(m.finalRssGiB, 2)}</td><td>${f(m.reclaimedGiB, 2)}</td><td>${f(m.shrinkGiBps, 2)}</td><td>${f(m.workloadS, 1)}</td>` +
    `<td>${f(m.slowdownPct, 1)}</td><td>${m.refaults}</td><td>${m.oomKills}</td><td>${m.migrationBytes === null ? "–" : (m.migrationBytes / 2 ** 20).toFixed(1)}</td>` +
    `<td>${m.valid ? "yes" : "<b>NO</b>"}</td></tr>`).join("\n");
  return `<table><thead><tr><th>mode</th><th>footprint GiB·min</th><th>peak host RSS GiB</th><th>final GiB</th>` +
    `<th>reclaimed GiB</th><th>shrink GiB/s</th><th>workload s</th><th>slowdown %</th><th>refaults</th><th>OOM kills</th>` +
    `<th>migrated MiB</th><th>valid</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const PAGE_SCRIPT = `
const D = JSON.parse(document.getElementById("report-data").textContent);
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const W = () => Math.min(1000, document.body.clientWidth - 40);
/** Joins lines with different time bases onto one x axis (uPlot wants aligned data). */
function join(lines) {
  const xs = [...new Set(lines.flatMap((l) => l.t))].sort((a, b) => a - b);
  const cols = lines.map((l) => { const m = new Map(l.t.map((t, i) => [t, l.y[i]])); return xs.map((x) => m.has(x) ? m.get(x) : null); });
  return [xs, ...cols];
}
function lineChart(el, title, lines, yLabel) {
  if (!lines.length) return;
  new uPlot({ title, width: W(), height: 300, scales: { x: { time: false } }, axes: [{ label: "simulated s" }, { label: yLabel }],
    series: [{ label: "t (s)" }, ...lines.map((l, i) => ({ label: l.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true }))] },
    join(lines), document.getElementById(el));
}
function barChart(el, title, modes, values, yLabel) {
  if (!modes.length) return;
  const xs = modes.map((_, i) => i);
  new uPlot({ title, width: Math.min(W(), 160 + 120 * modes.length), height: 260,
    scales: { x: { time: false, range: [-0.5, modes.length - 0.5] }, y: { range: (u, lo, hi) => [0, hi * 1.1 || 1] } },
    axes: [{ values: (u, ticks) => ticks.map((t) => Number.isInteger(t) ? modes[t] ?? "" : ""), splits: () => xs }, { label: yLabel }],
    legend: { show: false },
    series: [{}, { label: title, fill: "#1f77b4aa", stroke: "#1f77b4", paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } }] },
    [xs, values], document.getElementById(el));
}
lineChart("chart-rss", "Host RSS", D.hostRss, "GiB");
lineChart("chart-free", "Guest free memory", D.guestFree, "GiB");
barChart("chart-footprint", "Footprint (GiB·min)", D.bars.modes, D.bars.footprintGiBMin, "GiB·min");
barChart("chart-peak", "Peak host RSS (GiB)", D.bars.modes, D.bars.peakRssGiB, "GiB");
barChart("chart-reclaimed", "Reclaimed (GiB)", D.bars.modes, D.bars.reclaimedGiB, "GiB");
if (D.trace) lineChart("chart-trace", "Measured vs simulated host RSS above baseline (aligned at the event)",
  [{ label: "measured: " + D.trace.label, t: D.trace.measured.tS, y: D.trace.measured.mib }, { label: "simulated", t: D.trace.sim.tS, y: D.trace.sim.mib }], "MiB");
`;

export function renderReport(input: ReportInput, assets: ReportAssets): string {
  const data = reportData(input);
  const t = input.trace?.comparison;
  const traceBlock = t ? `<h2>Measured trace: ${esc(input.trace?.label ?? "")}</h2>
<p>Aligned at phase <code>${esc(t.phase)}</code>; baselines subtracted: measured ${t.measuredBaselineMiB.toFixed(1)} MiB,
simulated ${t.simBaselineMiB.toFixed(1)} MiB. RMSE ${t.rmseMiB.toFixed(1)} MiB, max |error| ${t.maxAbsErrMiB.toFixed(1)} MiB
over ${t.samples} samples; first drop after the event: measured ${t.measuredFirstDropS?.toFixed(2) ?? "–"} s,
simulated ${t.simFirstDropS?.toFixed(2) ?? "–"} s.</p><div id="chart-trace"></div>` : "";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<meta name="generator" content="guestmem report">
<style>${assets.uplotCss}
body { font: 14px/1.4 system-ui, sans-serif; margin: 20px; color: #222; }
table { border-collapse: collapse; margin: 12px 0; } th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; } .bars { display: flex; flex-wrap: wrap; gap: 16px; }
</style></head><body>
<h1>${esc(input.title)}</h1>
${input.description ? `<p>${esc(input.description)}</p>` : ""}
<h2>Comparison</h2>
${metricsTable(input.metrics)}
<div class="bars"><div id="chart-footprint"></div><div id="chart-peak"></div><div id="chart-reclaimed"></div></div>
<h2>Over time</h2>
<div id="chart-rss"></div>
<div id="chart-free"></div>
${traceBlock}
<p><small>Simulated results (deterministic for the scenario's seed). Definitions: docs/scenarios.md.</small></p>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${assets.uplotJs.replace(/<\/script/gi, "<\\/script")}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
