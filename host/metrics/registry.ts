// SPDX-License-Identifier: MIT
// The metrics registry: named counters and gauges with the unit in the name (Firecracker
// docs/metrics.md rule). Ids are "<scope>.<name>": scope "host" or a VM's name. A metric may be
// stored (Counter/Gauge objects the owner updates) or computed on read (a function).

import { ConfigError } from "../guest/errors.js";

export type MetricKind = "counter" | "gauge";

export interface MetricInfo {
  readonly id: string;
  readonly kind: MetricKind;
  /** Unit derived from the name suffix: bytes, ns, s, pages, frames, or "count". */
  readonly unit: string;
  readonly help: string;
}

/** A monotonic counter its owner bumps. */
export class Counter {
  value = 0;
  inc(n = 1): void { this.value += n; }
}

/** A gauge its owner sets. */
export class Gauge {
  value = 0;
  set(v: number): void { this.value = v; }
}

interface Entry extends MetricInfo {
  read(): number;
}

/** Metric ids: lower-case dotted path, at least "<scope>.<name>". */
const ID_RE = /^[a-z][a-z0-9_-]*(\.[a-z0-9_]+)+$/;
const UNIT_SUFFIXES: [string, string][] = [
  ["_bytes", "bytes"], ["_ns", "ns"], ["_s", "s"], ["_pages", "pages"], ["_frames", "frames"],
  ["_bytes_per_s", "bytes/s"],
];

/** Unit of a metric id, from its suffix (a bare name is a count). */
export function unitOf(id: string): string {
  let best = "count";
  let len = 0;
  for (const [suf, unit] of UNIT_SUFFIXES) {
    if (id.endsWith(suf) && suf.length > len) { best = unit; len = suf.length; }
  }
  return best;
}

export class MetricsRegistry {
  private readonly entries = new Map<string, Entry>();

  /** Registers a stored counter. */
  counter(id: string, help: string): Counter {
    const c = new Counter();
    this.add(id, "counter", help, () => c.value);
    return c;
  }

  /** Registers a stored gauge. */
  gauge(id: string, help: string): Gauge {
    const g = new Gauge();
    this.add(id, "gauge", help, () => g.value);
    return g;
  }

  /** Registers a metric computed on every read (e.g. from a guest vmstat view). */
  computed(id: string, kind: MetricKind, help: string, read: () => number): void {
    this.add(id, kind, help, read);
  }

  has(id: string): boolean { return this.entries.has(id); }

  /** Current value of `id`; ConfigError for an unknown id. */
  get(id: string): number {
    const e = this.entries.get(id);
    if (!e) throw new ConfigError("metric", id, "a registered metric id (see docs/metrics.md)");
    return e.read();
  }

  /** Metric descriptions, in registration order; filtered to ids starting with `prefix`. */
  list(prefix = ""): MetricInfo[] {
    const out: MetricInfo[] = [];
    for (const e of this.entries.values()) {
      if (e.id.startsWith(prefix)) out.push({ id: e.id, kind: e.kind, unit: e.unit, help: e.help });
    }
    return out;
  }

  /** Current values of all (or the prefixed) metrics. */
  snapshot(prefix = ""): Record<string, number> {
    const out: Record<string, number> = {};
    for (const e of this.entries.values()) if (e.id.startsWith(prefix)) out[e.id] = e.read();
    return out;
  }

  /** Removes every metric whose id starts with `prefix` (a device detached, a VM destroyed). */
  unregister(prefix: string): number {
    let n = 0;
    for (const id of [...this.entries.keys()]) if (id.startsWith(prefix)) { this.entries.delete(id); n++; }
    return n;
  }

  /** @internal a reader function for the sampler (no map lookup per sample). */
  reader(id: string): () => number {
    const e = this.entries.get(id);
    if (!e) throw new ConfigError("metric", id, "a registered metric id (see docs/metrics.md)");
    return e.read;
  }

  private add(id: string, kind: MetricKind, help: string, read: () => number): void {
    if (!ID_RE.test(id)) throw new ConfigError("metric", id, "a lower-case dotted id '<scope>.<name>' with the unit in the name");
    if (this.entries.has(id)) throw new ConfigError("metric", id, "an id not registered yet");
    this.entries.set(id, { id, kind, unit: unitOf(id), help, read });
  }
}
