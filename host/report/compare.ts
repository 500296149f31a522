// SPDX-License-Identifier: MIT
// Comparison metrics across modes of one scenario (definitions: docs/scenarios.md, "Comparison
// metrics"): footprint GiB·min (trapezoid integral of host RSS, as the HyperAlloc artifact
// computes it), peak and final host RSS, reclaimed GiB, shrink GiB/s, guest slowdown, refaults,
// guest OOM kills, migration bytes. Plus the text table `compare` prints. Guest slowdown is the workload's
// completion time against the baseline mode (as build-time increases are reported): the engine
// makes memory work (refaults, reclaim, device work on the vCPU) delay the workload.

import { column, RunSummary, Series } from "../scenario/engine.js";

const GiB = 2 ** 30;
const MiB = 2 ** 20;

export interface ModeRun { mode: string; series: Series; summary: RunSummary }

export interface ModeMetrics {
  mode: string;
  valid: boolean;
  footprintGiBMin: number;
  peakRssGiB: number;
  finalRssGiB: number;
  reclaimedGiB: number;
  /** null when host RSS never fell by at least 1 MiB after its peak. */
  shrinkGiBps: number | null;
  workloadS: number;
  /** `workload_s` per VM (the slowdown compares each VM with itself in the baseline mode). */
  workloadSByVm: Record<string, number>;
  /**
   * Guest slowdown: how much longer the workload took than in the baseline mode (`none` when
   * compared, else the first), the largest over VMs of workload_s / baseline − 1, in %; null for
   * the baseline itself or when no VM has a workload in both.
   */
  slowdownPct: number | null;
  refaults: number;
  /** Guest OOM kills, summed over VMs (a workload killed because memory ran out in the guest). */
  oomKills: number;
  /** Sum of ram.transferred over migrated VMs; null when nothing migrated. */
  migrationBytes: number | null;
}

/** Trapezoid integral of `bytes` over `tS`, in GiB·min. */
export function footprintGiBMin(tS: readonly number[], bytes: readonly number[]): number {
  let acc = 0; // byte·seconds
  for (let i = 1; i < tS.length; i++) acc += ((bytes[i] + bytes[i - 1]) / 2) * (tS[i] - tS[i - 1]);
  return acc / GiB / 60;
}

/**
 * Speed of the main fall of host RSS after its peak: between the last sample still within 1 % of
 * the fall below the peak and the first sample within 10 % of the fall above the minimum after it.
 */
export function shrinkRate(tS: readonly number[], bytes: readonly number[]): { fallBytes: number; GiBps: number | null } {
  if (bytes.length < 2) return { fallBytes: 0, GiBps: null };
  let iPeak = 0;
  for (let i = 1; i < bytes.length; i++) if (bytes[i] > bytes[iPeak]) iPeak = i;
  let iMin = iPeak;
  for (let i = iPeak + 1; i < bytes.length; i++) if (bytes[i] < bytes[iMin]) iMin = i;
  const fall = bytes[iPeak] - bytes[iMin];
  if (fall < MiB) return { fallBytes: Math.max(0, fall), GiBps: null };
  let i0 = iPeak;
  for (let i = iPeak; i <= iMin; i++) if (bytes[i] >= bytes[iPeak] - 0.01 * fall) i0 = i;
  let i1 = iMin;
  for (let i = i0; i <= iMin; i++) if (bytes[i] <= bytes[iMin] + 0.1 * fall) { i1 = i; break; }
  const dt = tS[i1] - tS[i0];
  return { fallBytes: fall, GiBps: dt > 0 ? (bytes[i0] - bytes[i1]) / GiB / dt : null };
}

/** Host RSS over time: the `host.rss_bytes` column. */
export function hostRss(series: Series): { tS: number[]; bytes: number[] } {
  return { tS: column(series, "t_s"), bytes: column(series, "host.rss_bytes") };
}

export function modeMetrics(run: ModeRun): Omit<ModeMetrics, "slowdownPct"> {
  const { tS, bytes } = hostRss(run.series);
  const peak = bytes.length ? Math.max(...bytes) : 0;
  const final = bytes.length ? bytes[bytes.length - 1] : 0;
  const vms = Object.values(run.summary.vms);
  const migr = run.summary.migration ? Object.values(run.summary.migration) : [];
  return {
    mode: run.mode,
    valid: run.summary.valid,
    footprintGiBMin: footprintGiBMin(tS, bytes),
    peakRssGiB: peak / GiB,
    finalRssGiB: final / GiB,
    reclaimedGiB: (peak - final) / GiB,
    shrinkGiBps: shrinkRate(tS, bytes).GiBps,
    workloadS: vms.reduce((m, v) => Math.max(m, v.workload_s), 0),
    workloadSByVm: Object.fromEntries(Object.entries(run.summary.vms).map(([n, v]) => [n, v.workload_s])),
    refaults: vms.reduce((s, v) => s + v.refaults, 0),
    oomKills: vms.reduce((s, v) => s + v.oom_kills, 0),
    migrationBytes: migr.length ? migr.reduce((s, m) => s + m.ram.transferred, 0) : null,
  };
}

/** Metrics of each mode; slowdown relative to `none` if present, else to the first mode. */
export function compareRuns(runs: readonly ModeRun[]): ModeMetrics[] {
  const ms = runs.map(modeMetrics);
  const base = ms.find((m) => m.mode === "none") ?? ms[0];
  return ms.map((m) => ({ ...m, slowdownPct: m === base || !base ? null : slowdownPct(m.workloadSByVm, base.workloadSByVm) }));
}

/** Largest relative increase of a VM's workload time over its baseline, in %; null when no VM compares. */
function slowdownPct(mode: Record<string, number>, base: Record<string, number>): number | null {
  let worst: number | null = null;
  for (const [vm, s] of Object.entries(mode)) {
    const b = base[vm];
    if (b === undefined || !(b > 0)) continue;
    const pct = (s / b - 1) * 100;
    if (worst === null || pct > worst) worst = pct;
  }
  return worst;
}

const fix = (v: number | null, d: number) => (v === null ? "-" : v.toFixed(d));

/**
 * The comparison as a fixed-width text table (one row per mode). The OOM-kill and migration
 * columns appear only when some mode has one.
 */
export function formatTable(ms: readonly ModeMetrics[]): string {
  const withMig = ms.some((m) => m.migrationBytes !== null);
  const withOom = ms.some((m) => m.oomKills > 0);
  const head = ["mode", "footprint GiB·min", "peak GiB", "final GiB", "reclaimed GiB", "shrink GiB/s", "workload s",
    "slowdown %", "refaults", ...(withOom ? ["OOM kills"] : []), ...(withMig ? ["migrated MiB"] : []), "valid"];
  const rows = ms.map((m) => [m.mode, fix(m.footprintGiBMin, 2), fix(m.peakRssGiB, 2), fix(m.finalRssGiB, 2),
    fix(m.reclaimedGiB, 2), fix(m.shrinkGiBps, 2), fix(m.workloadS, 1),
    m.slowdownPct === null ? "-" : `${m.slowdownPct >= 0 ? "+" : ""}${m.slowdownPct.toFixed(1)}`, String(m.refaults),
    ...(withOom ? [String(m.oomKills)] : []),
    ...(withMig ? [m.migrationBytes === null ? "-" : (m.migrationBytes / MiB).toFixed(1)] : []), m.valid ? "yes" : "NO"]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  return [line(head), w.map((n) => "-".repeat(n)).join("  "), ...rows.map(line)].join("\n") + "\n";
}
