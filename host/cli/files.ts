// SPDX-License-Identifier: MIT
// The CLI's file side (Node only): reading scenarios and the files they name, writing run outputs
// without ever leaving a partial summary that looks complete (temp name + rename; a failed run
// writes summary.json with valid: false), reading run directories back for `report`.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import type { RunSummary, Series } from "../scenario/engine.js";
import { csvToSeries, seriesToCsv } from "../report/csv.js";
import { UsageError } from "./io.js";

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Reads the files a scenario names, relative to the scenario file. */
export function readReferencedFiles(scenarioPath: string, paths: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paths) out[p] = readText(resolve(dirname(scenarioPath), p), "replay file");
  return out;
}

/** Writes `text` to `path` through a temp file and a rename, so readers never see half a file. */
export function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export const json = (v: unknown) => JSON.stringify(v, null, 2) + "\n";

/** Starts an output directory: removes a previous run's summary so it cannot be mistaken for this one's. */
export function prepareOutDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ["summary.json", "series.csv", "trace.json"]) rmSync(join(dir, f), { force: true });
}

export interface LoadedRun { dir: string; series: Series; summary: RunSummary; trace?: unknown; meta?: Record<string, unknown> }

function loadRun(dir: string): LoadedRun {
  const summary = JSON.parse(readText(join(dir, "summary.json"), "run summary")) as RunSummary;
  const series = existsSync(join(dir, "series.csv")) ? csvToSeries(readText(join(dir, "series.csv"), "series")) : { columns: ["t_s"], rows: [] };
  const run: LoadedRun = { dir, series, summary };
  if (existsSync(join(dir, "trace.json"))) run.trace = JSON.parse(readFileSync(join(dir, "trace.json"), "utf8"));
  if (existsSync(join(dir, "meta.json"))) run.meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as Record<string, unknown>;
  return run;
}

/** Runs in `dir`: the directory itself if it holds summary.json, else its subdirectories that do. */
export function loadRuns(dir: string): LoadedRun[] {
  if (existsSync(join(dir, "summary.json"))) return [loadRun(dir)];
  if (!existsSync(dir)) throw new UsageError(`no such directory: ${dir}`);
  const subs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "summary.json")))
    .map((e) => e.name).sort();
  if (subs.length === 0) throw new UsageError(`${dir} holds no run (no summary.json in it or its subdirectories)`);
  return subs.map((s) => loadRun(join(dir, s)));
}

/** uPlot's script and stylesheet, inlined into reports. */
export function readUplotAssets(): { uplotJs: string; uplotCss: string } {
  const req = createRequire(import.meta.url);
  return {
    uplotJs: readFileSync(req.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
    uplotCss: readFileSync(req.resolve("uplot/dist/uPlot.min.css"), "utf8"),
  };
}

export { seriesToCsv };
