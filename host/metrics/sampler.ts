// SPDX-License-Identifier: MIT
// A probe that records selected metrics every `sampleIntervalNs` of simulated time into a time series
// (hyperalloc-bench samples QEMU RSS about once a second the same way). The column set is fixed
// when the sampler starts: start it after the VMs and devices it should see exist.

import { ConfigError } from "../guest/errors.js";
import { Simulation, EventHandle } from "../sim/simulation.js";
import { MetricsRegistry, unitOf } from "./registry.js";

export interface SamplerOptions {
  /** Sampling period in simulated ns (> 0). */
  sampleIntervalNs: number;
  /** Metric ids or id prefixes ending in "." (e.g. "host.", "vm0."); default: every metric. */
  metrics?: readonly string[];
  /** Record a first row right away (default true). */
  sampleAtStart?: boolean;
}

/** Rows of [t_s, v1, v2, ...]; t_s is simulated seconds. */
export class TimeSeries {
  readonly rows: number[][] = [];
  constructor(readonly columns: readonly string[]) {}

  /** CSV with a header line; first column `t_s`. Numbers print with full precision. */
  toCSV(): string {
    const lines = [["t_s", ...this.columns].join(",")];
    for (const r of this.rows) lines.push(r.map((v) => String(v)).join(","));
    return lines.join("\n") + "\n";
  }

  /** Plain JSON: columns (with t_s first), units, rows. */
  toJSON(): { columns: string[]; units: string[]; rows: number[][] } {
    return { columns: ["t_s", ...this.columns], units: ["s", ...this.columns.map(unitOf)], rows: this.rows.map((r) => [...r]) };
  }

  /** Values of one column. */
  column(id: string): number[] {
    const i = this.columns.indexOf(id);
    if (i < 0) throw new ConfigError("column", id, `one of ${this.columns.join(", ")}`);
    return this.rows.map((r) => r[i + 1]);
  }
}

export class Sampler {
  readonly series: TimeSeries;
  private readonly readers: (() => number)[];
  private handle: EventHandle | undefined;

  constructor(private readonly sim: Simulation, registry: MetricsRegistry, private readonly opts: SamplerOptions) {
    if (!(opts.sampleIntervalNs > 0) || !Number.isFinite(opts.sampleIntervalNs)) {
      throw new ConfigError("sampleIntervalNs", opts.sampleIntervalNs, "a finite interval > 0 ns");
    }
    const ids: string[] = [];
    const all = registry.list().map((m) => m.id);
    for (const sel of opts.metrics ?? [""]) {
      if (sel === "" || sel.endsWith(".")) {
        for (const id of all) if (id.startsWith(sel) && !ids.includes(id)) ids.push(id);
      } else if (!ids.includes(sel)) {
        registry.get(sel); // throws ConfigError for an unknown id
        ids.push(sel);
      }
    }
    this.series = new TimeSeries(ids);
    this.readers = ids.map((id) => registry.reader(id));
    if (opts.sampleAtStart ?? true) this.sample();
    this.arm();
  }

  /** Records one row now. */
  sample(): void {
    const row = [this.sim.now / 1e9];
    for (const r of this.readers) row.push(r());
    this.series.rows.push(row);
  }

  /** Stops sampling; the series keeps its rows. */
  stop(): void {
    this.handle?.cancel();
    this.handle = undefined;
  }

  get running(): boolean { return this.handle !== undefined; }

  private arm(): void {
    this.handle = this.sim.after(this.opts.sampleIntervalNs, () => { this.sample(); this.arm(); }, "sampler");
  }
}
