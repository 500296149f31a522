// SPDX-License-Identifier: MIT
// Overlay of a host RSS series measured on a real VM (shared/traces/reporting_on.csv format:
// t_s, phase, vmrss_kib) on a simulated run, and how far apart they are. Two alignments first:
// time (a named phase of the trace onto the scenario action with the same label) and baseline
// (the measured RSS includes QEMU's own memory and the guest's boot footprint, which the model
// does not have: each side's median RSS in the baseline phase is subtracted).

import type { RunEvent } from "../scenario/engine.js";
import { parseCsv } from "./csv.js";

const MiB = 2 ** 20;

export interface MeasuredTrace {
  tS: number[];
  rssBytes: number[];
  /** Phase label of each row, or null when the file has no phase column. */
  phase: string[] | null;
}

export interface TraceColumns { time?: string; rss?: string; phase?: string }

/** Unit multiplier from a column name's suffix (`_kib`, `_mib`, `_bytes`). */
function unitOf(name: string): number {
  if (/_kib$/i.test(name)) return 1024;
  if (/_mib$/i.test(name)) return MiB;
  if (/_gib$/i.test(name)) return 2 ** 30;
  return 1;
}

/** Reads a measured trace CSV; rows without an RSS value are skipped. */
export function parseMeasuredTrace(text: string, cols: TraceColumns = {}): MeasuredTrace {
  const t = parseCsv(text);
  const time = cols.time ?? "t_s";
  const rss = cols.rss ?? (t.header.includes("vmrss_kib") ? "vmrss_kib" : t.header.find((h) => /rss/i.test(h)) ?? "vmrss_kib");
  const phase = cols.phase ?? "phase";
  const it = t.header.indexOf(time);
  const ir = t.header.indexOf(rss);
  const ip = t.header.indexOf(phase);
  if (it < 0 || ir < 0) throw new Error(`trace needs columns ${time} and ${rss} (has: ${t.header.join(", ")})`);
  const mult = unitOf(rss);
  const out: MeasuredTrace = { tS: [], rssBytes: [], phase: ip >= 0 ? [] : null };
  for (const r of t.records) {
    const tv = Number(r[it]);
    const rv = Number(r[ir]);
    if (r[ir] === undefined || r[ir] === "" || !Number.isFinite(tv) || !Number.isFinite(rv)) continue;
    out.tS.push(tv);
    out.rssBytes.push(rv * mult);
    out.phase?.push(r[ip] ?? "");
  }
  return out;
}

export interface AlignOptions {
  /** Phase of the trace aligned with the scenario action labelled the same (default "free"). */
  phase?: string;
  /** Phase whose median RSS is each side's baseline (default "idle"). */
  baselinePhase?: string;
  /** Compare from this many seconds before the aligned event (default 5). */
  fromS?: number;
  /** A fall of host RSS larger than this after the event counts as "the first drop" (default 32 MiB). */
  dropBytes?: number;
}

export interface SimTrace { tS: number[]; rssBytes: number[]; events: RunEvent[] }

export interface TraceComparison {
  phase: string;
  /** Where the event was found: in measured seconds and simulated seconds. */
  measuredEventS: number;
  simEventS: number;
  measuredBaselineMiB: number;
  simBaselineMiB: number;
  samples: number;
  rmseMiB: number;
  maxAbsErrMiB: number;
  /** Mean of (simulated − measured): positive = the model holds more memory. */
  meanErrMiB: number;
  measuredFirstDropS: number | null;
  simFirstDropS: number | null;
  firstDropDiffS: number | null;
  measuredReturnedMiB: number;
  simReturnedMiB: number;
  /** Aligned series for plots: seconds from the event, MiB above baseline. */
  aligned: { measured: { tS: number[]; mib: number[] }; sim: { tS: number[]; mib: number[] } };
}

/** Time of a phase's start in the trace: midway between its first row and the row before. */
function phaseStart(m: MeasuredTrace, phase: string): number | null {
  if (!m.phase) return null;
  const i = m.phase.indexOf(phase);
  if (i < 0) return null;
  return i === 0 ? m.tS[0] : (m.tS[i - 1] + m.tS[i]) / 2;
}

/**
 * The labelled events a trace can be aligned on for `phase`, best first: the first event labelled
 * `phase`, then every labelled event after it. A phase too short to be sampled (the free takes
 * 10 ms, rows are 100 ms apart) is placed back from the first of the later ones the trace has.
 * `events` are in run order (the run's events; before a run, the timeline). Empty when no event
 * is labelled `phase`. compareTrace aligns with it and the CLI checks --align against it up front.
 */
export function alignmentCandidates<E extends { label?: string }>(events: readonly E[], phase: string): (E & { label: string })[] {
  const at = events.findIndex((e) => e.label === phase);
  if (at < 0) return [];
  return events.slice(at).filter((e): e is E & { label: string } => e.label !== undefined && e.label !== "");
}

/** Where the aligned event is in the trace (alignmentCandidates: the phase, or a later one minus the simulated time between). */
function measuredEvent(m: MeasuredTrace, sim: SimTrace, phase: string): number {
  const candidates = alignmentCandidates(sim.events, phase);
  for (const e of candidates) {
    const t = phaseStart(m, e.label);
    if (t !== null) return t - (e.t_s - candidates[0].t_s);
  }
  throw new Error(`trace has no phase "${phase}" (phases: ${[...new Set(m.phase ?? [])].join(", ") || "none"})`);
}

function median(v: number[]): number {
  if (v.length === 0) return 0;
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Linear interpolation of (xs, ys) at x; clamps outside. xs ascending. */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  if (xs.length === 0) return NaN;
  if (x <= xs[0]) return ys[0];
  if (x >= xs[xs.length - 1]) return ys[ys.length - 1];
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid; else hi = mid;
  }
  const f = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + f * (ys[hi] - ys[lo]);
}

/** Value at the last sample at or before x (or the first sample). */
function valueAtOrBefore(xs: readonly number[], ys: readonly number[], x: number): number {
  let v = ys[0];
  for (let i = 0; i < xs.length && xs[i] <= x; i++) v = ys[i];
  return v;
}

/** Seconds after x0 until the series first falls `drop` below its value at x0. */
function firstDrop(xs: readonly number[], ys: readonly number[], x0: number, drop: number): number | null {
  const ref = valueAtOrBefore(xs, ys, x0);
  for (let i = 0; i < xs.length; i++) if (xs[i] > x0 && ys[i] <= ref - drop) return xs[i] - x0;
  return null;
}

export function compareTrace(m: MeasuredTrace, sim: SimTrace, opts: AlignOptions = {}): TraceComparison {
  const phase = opts.phase ?? "free";
  const basePhase = opts.baselinePhase ?? "idle";
  const fromS = opts.fromS ?? 5;
  const drop = opts.dropBytes ?? 32 * MiB;
  if (m.tS.length === 0) throw new Error("trace has no samples");
  if (sim.tS.length === 0) throw new Error("simulated series has no samples");

  const simEvent = sim.events.find((e) => e.label === phase);
  if (!simEvent) throw new Error(`scenario has no action labelled "${phase}" to align with`);
  const simEventS = simEvent.t_s;
  const measuredEventS = measuredEvent(m, sim, phase);

  // baselines: each side's median in its baseline phase (measured: rows with that label; sim: from
  // the labelled action to the next event); without one, the first sample.
  const mBase = m.phase && m.phase.includes(basePhase)
    ? median(m.rssBytes.filter((_, i) => m.phase?.[i] === basePhase)) : m.rssBytes[0];
  const simBaseEvent = sim.events.find((e) => e.label === basePhase);
  let sBase = sim.rssBytes[0];
  if (simBaseEvent) {
    const next = sim.events.find((e) => e.t_s > simBaseEvent.t_s && e.vm === simBaseEvent.vm);
    const end = next ? next.t_s : Infinity;
    const inPhase = sim.rssBytes.filter((_, i) => sim.tS[i] >= simBaseEvent.t_s && sim.tS[i] < end);
    if (inPhase.length) sBase = median(inPhase);
  }

  const mT = m.tS.map((t) => t - measuredEventS);
  const mMiB = m.rssBytes.map((b) => (b - mBase) / MiB);
  const sT = sim.tS.map((t) => t - simEventS);
  const sMiB = sim.rssBytes.map((b) => (b - sBase) / MiB);

  let n = 0, sq = 0, sum = 0, maxAbs = 0;
  const end = Math.min(mT[mT.length - 1], sT[sT.length - 1]);
  for (let i = 0; i < mT.length; i++) {
    if (mT[i] < -fromS || mT[i] > end || mT[i] < sT[0]) continue;
    const e = interpolate(sT, sMiB, mT[i]) - mMiB[i];
    n++; sq += e * e; sum += e; maxAbs = Math.max(maxAbs, Math.abs(e));
  }
  const mDrop = firstDrop(mT, m.rssBytes, 0, drop);
  const sDrop = firstDrop(sT, sim.rssBytes, 0, drop);
  const returned = (xs: number[], ys: number[]) => (valueAtOrBefore(xs, ys, 0) - ys[ys.length - 1]) / MiB;
  return {
    phase,
    measuredEventS,
    simEventS,
    measuredBaselineMiB: mBase / MiB,
    simBaselineMiB: sBase / MiB,
    samples: n,
    rmseMiB: n ? Math.sqrt(sq / n) : NaN,
    maxAbsErrMiB: maxAbs,
    meanErrMiB: n ? sum / n : NaN,
    measuredFirstDropS: mDrop,
    simFirstDropS: sDrop,
    firstDropDiffS: mDrop !== null && sDrop !== null ? sDrop - mDrop : null,
    measuredReturnedMiB: returned(mT, m.rssBytes),
    simReturnedMiB: returned(sT, sim.rssBytes),
    aligned: { measured: { tS: mT, mib: mMiB }, sim: { tS: sT, mib: sMiB } },
  };
}

const f = (v: number | null, d = 1, unit = "") => (v === null || Number.isNaN(v) ? "-" : `${v.toFixed(d)}${unit}`);

/** Human-readable summary of a trace comparison (what `--trace` prints). */
export function formatTraceComparison(c: TraceComparison, label = "trace"): string {
  return [
    `${label}: aligned phase "${c.phase}" (measured t=${c.measuredEventS.toFixed(2)} s, simulated t=${c.simEventS.toFixed(2)} s)`,
    `  baseline subtracted: measured ${f(c.measuredBaselineMiB)} MiB (VMM + guest boot), simulated ${f(c.simBaselineMiB)} MiB`,
    `  over ${c.samples} samples: RMSE ${f(c.rmseMiB)} MiB, max |error| ${f(c.maxAbsErrMiB)} MiB, mean error (sim − measured) ${f(c.meanErrMiB)} MiB`,
    `  first RSS drop after the event: measured ${f(c.measuredFirstDropS, 2, " s")}, simulated ${f(c.simFirstDropS, 2, " s")}, difference ${f(c.firstDropDiffS, 2, " s")}`,
    `  returned to the host by the end: measured ${f(c.measuredReturnedMiB)} MiB, simulated ${f(c.simReturnedMiB)} MiB`,
  ].join("\n") + "\n";
}
