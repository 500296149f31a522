// SPDX-License-Identifier: MIT
// `run` and `compare`: load and validate the scenario, apply each mode, run the engine, write
// series.csv / summary.json / meta.json per mode, the comparison table, the optional report and
// the measured-trace overlay.

import { basename, join } from "node:path";
import type { Engine, RunResult, RunSummary } from "../scenario/engine.js";
import { column, NotSupportedError } from "../scenario/engine.js";
import { parseScenario } from "../scenario/load.js";
import { ScenarioError, ScenarioIssue } from "../scenario/errors.js";
import { replayTrace } from "../scenario/replay.js";
import { ConfigError } from "../guest/errors.js";
import { AS_WRITTEN, referencedFiles, resolveScenario, ResolvedScenario } from "../scenario/resolve.js";
import type { Scenario } from "../scenario/schema.js";
import { compareRuns, formatTable, ModeRun } from "../report/compare.js";
import { renderReport } from "../report/html.js";
import { AlignOptions, alignmentCandidates, compareTrace, formatTraceComparison, MeasuredTrace, parseMeasuredTrace, TraceComparison } from "../report/trace.js";
import { json, prepareOutDir, readReferencedFiles, readText, readUplotAssets, seriesToCsv, sha256, writeAtomic } from "./files.js";
import { type CliIo, UsageError } from "./io.js";
import { startProgress } from "./progress.js";
import { GUESTMEM_VERSION } from "./version.js";

export interface LoadedScenario {
  path: string;
  text: string;
  scenario: Scenario;
  /** The replay CSVs the timeline names, by the path as written, read and checked at load. */
  files: Record<string, string>;
}

/** Reads and validates a scenario and the files it names (a malformed replay CSV is a ScenarioError). */
export function loadScenarioFile(path: string): LoadedScenario {
  const text = readText(path, "scenario file");
  const scenario = parseScenario(text, path);
  const files = readReferencedFiles(path, referencedFiles(scenario));
  checkReplayFiles(path, scenario, files);
  return { path, text, scenario, files };
}

/** Parses every replay CSV now, so a bad one is exit 2 naming the action, not an engine error mid-run. */
function checkReplayFiles(path: string, s: Scenario, files: Record<string, string>): void {
  const issues: ScenarioIssue[] = [];
  (s.timeline ?? []).forEach((a, i) => {
    if (a.do !== "replay") return;
    try {
      replayTrace(files, a); // cached: the runs read the same parse (files is shared by every mode)
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      issues.push({ path: `timeline[${i}].file`, value: a.file, expected: `a demand CSV (t_s and bytes columns); ${e.message}` });
    }
  });
  if (issues.length > 0) throw new ScenarioError(path, issues);
}

export interface TraceOptions {
  file: string;
  align?: string;
  baseline?: string;
  vm?: string;
  fromS?: number;
  /** The parsed trace (prepareTrace fills it in before any run). */
  measured?: MeasuredTrace;
}

/**
 * Reads the --trace file and checks --align / --trace-vm against it and the scenario before any
 * run, so bad input is exit 2 with what was expected instead of a plain Error after the run.
 */
export function prepareTrace(t: TraceOptions, loaded: LoadedScenario): TraceOptions {
  let measured: MeasuredTrace;
  try {
    measured = parseMeasuredTrace(readText(t.file, "trace file"));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new ScenarioError(t.file, [{ path: "header", value: (e as Error).message, expected: "a CSV with a t_s column and an RSS column (vmrss_kib, or *rss* in _kib, _mib or bytes)" }]);
  }
  if (measured.tS.length === 0) {
    throw new ScenarioError(t.file, [{ path: "(rows)", value: 0, expected: "at least one row with a numeric t_s and RSS" }]);
  }
  const s = loaded.scenario;
  if (t.vm !== undefined && !s.vms.some((v) => v.name === t.vm)) {
    throw new ScenarioError(loaded.path, [{ path: "--trace-vm", value: t.vm, expected: `one of the VM names: ${s.vms.map((v) => v.name).join(", ")}` }]);
  }
  const phase = t.align ?? "free";
  const actions = (s.timeline ?? []).filter((a) => t.vm === undefined || a.vm === undefined || a.vm === t.vm);
  const labels = actions.flatMap((a) => (a.label !== undefined ? [a.label] : []));
  // the same candidates compareTrace tries after the run (the timeline is the run's order per VM)
  const candidates = alignmentCandidates(actions, phase).map((a) => a.label);
  if (candidates.length === 0) {
    throw new ScenarioError(loaded.path, [{ path: "--align", value: phase,
      expected: `a label of a timeline action${t.vm ? ` of VM ${t.vm}` : ""}: ${[...new Set(labels)].join(", ") || "(the timeline has no labels)"}` }]);
  }
  const traced = new Set(measured.phase ?? []);
  if (!candidates.some((l) => traced.has(l))) {
    const later = [...new Set(candidates.slice(1))].filter((l) => l !== phase);
    throw new ScenarioError(t.file, [{ path: "phase", value: phase,
      expected: `a trace with phase "${phase}" or a later one of the scenario (${later.join(", ") || "none"}); it has: ${[...traced].join(", ") || "no phase column"}` }]);
  }
  return { ...t, measured };
}

export interface RunOpts { outDir: string; progress: boolean; trace?: TraceOptions }

export interface ModeOutcome { mode: string; ok: boolean; result?: RunResult; summary: RunSummary; trace?: TraceComparison }

function failedSummary(r: ResolvedScenario, error: string): RunSummary {
  return { scenario: r.name, mode: r.mode.name, seed: r.seed, valid: false, stopped_at_s: 0, stop_reason: "failed",
    host: { rss_bytes: 0, peak_rss_bytes: 0 }, vms: {}, error };
}

/** Runs one mode into `outDir`. Returns ok: false (and writes a valid: false summary) on failure. */
export async function runMode(loaded: LoadedScenario, mode: string, engine: Engine, io: CliIo, opts: RunOpts,
  argv: string[]): Promise<ModeOutcome> {
  const resolved = resolveScenario(loaded.scenario, mode, loaded.path);
  resolved.files = loaded.files;
  prepareOutDir(opts.outDir);
  writeAtomic(join(opts.outDir, "meta.json"), json({
    guestmem_version: GUESTMEM_VERSION,
    node_version: process.version,
    engine: engine.name,
    scenario_file: loaded.path,
    scenario_sha256: sha256(loaded.text),
    seed: resolved.seed,
    mode,
    argv,
    generated_at: new Date().toISOString(),
  }));
  const progress = startProgress(io, `${resolved.name}/${mode}`, opts.progress);
  let result: RunResult;
  try {
    result = await engine.runScenario(resolved, { onProgress: (s, e) => progress.update(s, e) });
  } catch (e) {
    progress.stop();
    const msg = e instanceof NotSupportedError ? e.message : `${(e as Error).name}: ${(e as Error).message}`;
    const summary = failedSummary(resolved, msg);
    writeAtomic(join(opts.outDir, "summary.json"), json(summary));
    io.err(`guestmem: ${resolved.name} mode ${mode} failed: ${msg}\n`);
    return { mode, ok: false, summary };
  }
  progress.stop();
  const summary: RunSummary = { ...result.summary, valid: result.valid && result.summary.valid,
    stopped_at_s: result.stoppedAtS, stop_reason: result.stopReason };
  writeAtomic(join(opts.outDir, "series.csv"), seriesToCsv(result.series));
  let trace: TraceComparison | undefined;
  if (opts.trace) {
    trace = traceOverlay(opts.trace, result);
    writeAtomic(join(opts.outDir, "trace.json"), json({ file: opts.trace.file, ...trace }));
    io.out(formatTraceComparison(trace, `${mode} vs ${basename(opts.trace.file)}`));
  }
  writeAtomic(join(opts.outDir, "summary.json"), json(summary));
  io.err(`${resolved.name}/${mode}: stopped at t=${result.stoppedAtS.toFixed(3)} s because ${result.stopReason}` +
    `${summary.valid ? "" : " (INVALID: an invariant broke)"}\n`);
  return { mode, ok: summary.valid, result, summary, trace };
}

export function traceOverlay(t: TraceOptions, result: RunResult): TraceComparison {
  const measured = t.measured ?? parseMeasuredTrace(readText(t.file, "trace file"));
  const rssCol = t.vm ? `${t.vm}.rss_bytes` : "host.rss_bytes";
  const align: AlignOptions = { phase: t.align, baselinePhase: t.baseline, fromS: t.fromS };
  return compareTrace(measured, { tS: column(result.series, "t_s"), rssBytes: column(result.series, rssCol),
    events: t.vm ? result.events.filter((e) => e.vm === t.vm) : result.events }, align);
}

export async function runCommand(file: string, mode: string | undefined, engine: Engine, io: CliIo, opts: Omit<RunOpts, "outDir"> & { outDir?: string },
  argv: string[]): Promise<number> {
  const loaded = loadScenarioFile(file);
  const m = mode ?? AS_WRITTEN;
  resolveScenario(loaded.scenario, m, file); // validate the mode before touching the output directory
  const trace = opts.trace ? prepareTrace(opts.trace, loaded) : undefined;
  const outDir = opts.outDir ?? join("results", loaded.scenario.name ?? basename(file).replace(/\.[^.]+$/, ""), m);
  const o = await runMode(loaded, m, engine, io, { ...opts, outDir, trace }, argv);
  if (o.ok) io.err(`wrote ${outDir}/{series.csv,summary.json,meta.json}\n`);
  return o.ok ? 0 : 1;
}

export interface CompareOpts {
  modes?: string[];
  outDir?: string;
  report?: string;
  progress: boolean;
  trace?: TraceOptions;
  /** Leave out modes the engine cannot run yet (listed with the reason) instead of failing them. */
  skipUnsupported?: boolean;
}

export async function compareCommand(file: string, engine: Engine, io: CliIo, opts: CompareOpts, argv: string[]): Promise<number> {
  const loaded = loadScenarioFile(file);
  const name = loaded.scenario.name ?? basename(file).replace(/\.[^.]+$/, "");
  const modes = opts.modes ?? (loaded.scenario.modes ?? []).map((m) => (typeof m === "string" ? m : m.name));
  if (modes.length === 0) modes.push(AS_WRITTEN);
  const skipped: string[] = [];
  for (const m of [...modes]) {
    const r = resolveScenario(loaded.scenario, m, file, "--modes"); // every mode valid before any run
    const reason = opts.skipUnsupported ? engine.unsupported?.(r) ?? null : null;
    if (reason) {
      skipped.push(`${m}: skipped, ${reason}`);
      modes.splice(modes.indexOf(m), 1);
    }
  }
  const trace = opts.trace ? prepareTrace(opts.trace, loaded) : undefined;
  const outDir = opts.outDir ?? join("results", name);
  const outcomes: ModeOutcome[] = [];
  for (const m of modes) {
    outcomes.push(await runMode(loaded, m, engine, io, { outDir: join(outDir, m), progress: opts.progress, trace }, argv));
  }
  const done = outcomes.filter((o): o is ModeOutcome & { result: RunResult } => o.result !== undefined);
  const runs: ModeRun[] = done.map((o) => ({ mode: o.mode, series: o.result.series, summary: o.summary }));
  const metrics = compareRuns(runs);
  const table = formatTable(metrics);
  io.out(`${name}: ${loaded.scenario.description.split(/\s+Scenario:/)[0].replace(/^Covers:\s*/, "")}\n\n${table}`);
  for (const o of outcomes.filter((x) => !x.ok)) io.out(`${o.mode}: ${o.summary.error ?? "invalid run (an invariant broke)"}\n`);
  for (const line of skipped) io.out(`${line}\n`);
  writeAtomic(join(outDir, "comparison.json"), json({ scenario: name, modes, metrics }));
  writeAtomic(join(outDir, "comparison.txt"), table);
  if (opts.report) {
    const traced = done.find((o) => o.trace);
    const html = renderReport({
      title: `guestmem: ${name}`,
      description: loaded.scenario.description,
      runs: done.map((o) => ({ label: o.mode, series: o.result.series, summary: o.summary })),
      metrics,
      trace: traced?.trace && opts.trace ? { label: `${basename(opts.trace.file)} vs ${traced.mode}`, comparison: traced.trace } : undefined,
    }, readUplotAssets());
    writeAtomic(opts.report, html);
    io.err(`wrote ${opts.report}\n`);
  }
  return outcomes.length > 0 && outcomes.every((o) => o.ok) ? 0 : 1;
}
