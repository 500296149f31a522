// SPDX-License-Identifier: MIT
// ScenarioError: a bad scenario file or scenario argument (design §6, API misuse). Names the file,
// the path of each offending field (e.g. `vms[0].devices.balloon.statsInterval`), the value and
// what was expected. The CLI maps it to exit code 2.

import { ConfigError, formatValue } from "../guest/errors.js";

export interface ScenarioIssue {
  /** Field path, e.g. `timeline[2].at`; `(document)` for the file as a whole. */
  path: string;
  value: unknown;
  expected: string;
}

export class ScenarioError extends ConfigError {
  constructor(readonly file: string, readonly issues: readonly ScenarioIssue[]) {
    const first = issues[0] ?? { path: "(document)", value: undefined, expected: "a valid scenario" };
    super(first.path, first.value, first.expected);
    this.message = issues.length === 1
      ? `${file}: ${formatIssue(first)}`
      : `${file}: ${issues.length} problems:\n${issues.map((i) => `  - ${formatIssue(i)}`).join("\n")}`;
  }
}

export function formatIssue(i: ScenarioIssue): string {
  return `${i.path}: got ${formatValue(i.value)}, expected ${i.expected}`;
}

/** `["vms", 0, "devices"]` → `vms[0].devices`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? String(p) : `.${String(p)}`;
  }
  return s === "" ? "(top level)" : s;
}

/** The value at `path` inside a parsed document, or undefined. */
export function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}
