// SPDX-License-Identifier: MIT
// The seam between the user-facing layer (CLI, outputs, comparison, report, trace overlay) and the
// model: everything above runs against this interface, so it is testable with a fake engine and
// independent of how host/guest/devices are wired (runner.ts maps timelines onto them).

import type { ResolvedScenario } from "./resolve.js";

/** A sampled time series: `columns[0]` is `t_s` (simulated seconds); one row per sample. */
export interface Series {
  columns: string[];
  rows: number[][];
}

/**
 * Series columns every engine writes (docs/scenarios.md, "Series columns"). Per-VM columns are
 * `<vm>.<metric>`; host-wide ones have no prefix. Units are in the names.
 */
export const HOST_COLUMNS = ["host.rss_bytes"] as const;
export const VM_COLUMNS = ["rss_bytes", "guest_total_bytes", "guest_free_bytes", "balloon.actual_bytes",
  "virtio_mem.plugged_bytes"] as const;

/** Final figures of one VM. Engines may add more `*_bytes`/count fields. */
export interface VmSummary {
  host_rss_bytes: number;
  peak_host_rss_bytes: number;
  guest_total_bytes: number;
  guest_free_bytes: number;
  balloon_actual_bytes: number;
  virtio_mem_plugged_bytes: number;
  /** Guest accesses that faulted a page back in after the host had discarded it. */
  refaults: number;
  /** Simulated seconds from the first to the end of the last workload step (guest slowdown). */
  workload_s: number;
  oom_kills: number;
  /** Timeline actions the mode could not apply (e.g. a balloon target in mode `none`). */
  skipped_actions: number;
  [metric: string]: number;
}

/** Live migration statistics under QEMU `query-migrate` names (times in ms, sizes in bytes). */
export interface QueryMigrate {
  status: "completed" | "failed" | "active" | "cancelled";
  "total-time": number;
  downtime: number;
  "setup-time": number;
  ram: {
    transferred: number;
    remaining: number;
    total: number;
    duplicate: number;
    normal: number;
    "normal-bytes": number;
    "dirty-sync-count": number;
    mbps: number;
    [field: string]: number;
  };
}

export interface RunSummary {
  scenario: string;
  mode: string;
  seed: number;
  valid: boolean;
  stopped_at_s: number;
  stop_reason: string;
  host: { rss_bytes: number; peak_rss_bytes: number; [metric: string]: number };
  vms: Record<string, VmSummary>;
  /** Per migrated VM, only when the timeline migrates. */
  migration?: Record<string, QueryMigrate>;
  /** Set when the run failed: what went wrong (summary then has valid: false). */
  error?: string;
}

/** When a timeline action started (for trace alignment and report annotations). */
export interface RunEvent {
  t_s: number;
  vm: string;
  /** Index in the scenario's timeline. */
  index: number;
  do: string;
  label?: string;
}

export interface RunResult {
  series: Series;
  summary: RunSummary;
  events: RunEvent[];
  /** False when an invariant broke (design §6): results must not be trusted. */
  valid: boolean;
  stoppedAtS: number;
  stopReason: string;
}

export interface RunOptions {
  /** Called now and then with simulated progress (endS null when the end is not known). */
  onProgress?: (simS: number, endS: number | null) => void;
}

export interface Engine {
  readonly name: string;
  /**
   * Why this engine cannot run `scenario` (a mode, device or action it does not support yet), or
   * null when it can. Lets golden tests and `compare` skip with a reason instead of failing.
   */
  unsupported?(scenario: ResolvedScenario): string | null;
  /** Runs one scenario with its mode already applied (resolve.ts). Deterministic for a seed. */
  runScenario(scenario: ResolvedScenario, opts?: RunOptions): RunResult | Promise<RunResult>;
}

/** Thrown by engines for valid scenarios that use something the engine cannot run yet. */
export class NotSupportedError extends Error {
  constructor(readonly what: string) {
    super(`not yet supported by the engine: ${what}`);
    this.name = "NotSupportedError";
  }
}

/** Index of `name` in `series.columns`, or -1. */
export function columnIndex(series: Series, name: string): number {
  return series.columns.indexOf(name);
}

/** One column as an array. Throws if missing (an engine must write the required columns). */
export function column(series: Series, name: string): number[] {
  const i = columnIndex(series, name);
  if (i < 0) throw new Error(`series has no column ${name} (has: ${series.columns.join(", ")})`);
  return series.rows.map((r) => r[i]);
}
