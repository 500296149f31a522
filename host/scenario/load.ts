// SPDX-License-Identifier: MIT
// Reads scenario text (YAML or JSON), validates it against schema.ts and checks the rules a schema
// cannot express (unique VM names, known VM references, time order, targets within the guest, the
// engine's limits on sizes).
// Pure: the caller reads the file; every failure is one ScenarioError listing all issues.

import { z } from "zod";
import YAML from "yaml";
import { ACTION_KINDS, BUILTIN_MODES, Scenario, ScenarioSchema } from "./schema.js";
import { formatPath, ScenarioError, ScenarioIssue, valueAt } from "./errors.js";
import { formatBytes } from "./units.js";
import { DEFAULTS } from "./defaults.js";
import { ConfigError } from "../guest/errors.js";
import { PAGE_SIZE } from "../guest/abi.generated.js";
import { HOST_PAGE_2M, HOST_PAGE_4K } from "../memory/guest_memory.js";
import { MAX_VM_BYTES, MIN_GUEST_BYTES, resolveVmConfig } from "../vm.js";
import { withCostOverrides } from "../cost-model.js";

/** Parses and validates scenario text. `file` names it in errors and picks JSON for `*.json`. */
export function parseScenario(text: string, file: string): Scenario {
  const doc = parseDocument(text, file);
  const r = ScenarioSchema.safeParse(doc);
  if (!r.success) throw new ScenarioError(file, r.error.issues.flatMap((i) => toIssues(i, doc)));
  const issues = checkSemantics(r.data);
  if (issues.length > 0) throw new ScenarioError(file, issues);
  return r.data;
}

function parseDocument(text: string, file: string): unknown {
  if (file.toLowerCase().endsWith(".json")) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ScenarioError(file, [{ path: "(document)", value: (e as Error).message, expected: "valid JSON" }]);
    }
  }
  const d = YAML.parseDocument(text, { uniqueKeys: true });
  if (d.errors.length > 0) {
    throw new ScenarioError(file, d.errors.map((e) => ({
      path: "(document)", value: e.message.split("\n")[0], expected: "valid YAML",
    })));
  }
  return d.toJS();
}

// ---- zod issues -> ScenarioIssue -----------------------------------------------------------

function toIssues(issue: z.core.$ZodIssue, doc: unknown): ScenarioIssue[] {
  const path = issue.path;
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(path, doc);
      const expected = allowed.length > 0 ? `no such field; allowed here: ${allowed.join(", ")}` : "no such field";
      return issue.keys.map((k) => ({ path: formatPath([...path, k]), value: valueAt(doc, [...path, k]), expected }));
    }
    case "custom": {
      const expected = (issue.params as { expected?: string } | undefined)?.expected ?? issue.message;
      return [{ path: formatPath(path), value: valueAt(doc, path), expected }];
    }
    case "invalid_union": {
      const last = path[path.length - 1];
      if (last === "do" || (issue as { discriminator?: string }).discriminator === "do") {
        const p = last === "do" ? path : [...path, "do"];
        return [{ path: formatPath(p), value: valueAt(doc, p), expected: `an action, one of: ${ACTION_KINDS.join(", ")}` }];
      }
      if (path[0] === "modes") {
        return [{ path: formatPath(path), value: valueAt(doc, path),
          expected: `a mode, one of: ${BUILTIN_MODES.join(", ")}; or { name, from, balloon?, policies? }` }];
      }
      // a union of size forms etc.: the branch of the value's type if one got past the type check
      // (e.g. -5 for a size), else the union's own message; inner paths are relative to the union
      const inner = issue.errors.flat().map((i) => ({ ...i, path: [...path, ...i.path] }) as z.core.$ZodIssue);
      const specific = inner.find((i) => i.code !== "invalid_type") ?? inner.find((i) => !i.message.startsWith("Invalid input"));
      if (specific) return toIssues(specific, doc);
      if (!issue.message.startsWith("Invalid input") || inner.length === 0) {
        return [{ path: formatPath(path), value: valueAt(doc, path), expected: issue.message }];
      }
      return toIssues(inner[0], doc);
    }
    case "invalid_value":
      return [{ path: formatPath(path), value: valueAt(doc, path),
        expected: `one of: ${issue.values.map((v) => String(v)).join(", ")}` }];
    case "invalid_type": {
      const value = valueAt(doc, path);
      const custom = !issue.message.startsWith("Invalid input"); // the schema's own wording (e.g. sizes)
      const what = issue.expected === "int" ? "an integer" : `a ${issue.expected}`;
      const expected = value === undefined ? `a value (required field, ${issue.expected})` : custom ? issue.message : what;
      return [{ path: formatPath(path), value, expected }];
    }
    default:
      return [{ path: formatPath(path), value: valueAt(doc, path), expected: issue.message.replace(/^(Too (small|big)|Invalid input): expected /, "") }];
  }
}

interface LooseDef {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  in?: z.core.$ZodType;
}
const defOf = (s: z.core.$ZodType): LooseDef => s._zod.def as unknown as LooseDef;

/** Field names the schema allows at `path` (walks objects, arrays, optionals, unions by `do`). */
function allowedKeys(path: readonly PropertyKey[], doc: unknown): string[] {
  let s: z.core.$ZodType | undefined = ScenarioSchema;
  const settle = (x: z.core.$ZodType, at: readonly PropertyKey[]): z.core.$ZodType | undefined => {
    let cur: z.core.$ZodType | undefined = x;
    for (let guard = 0; cur && guard < 8; guard++) {
      const d = defOf(cur);
      if (d.type === "optional" || d.type === "nullable" || d.type === "default") cur = d.innerType;
      else if (d.type === "pipe") cur = d.in;
      else if (d.type === "union") {
        const v = valueAt(doc, at) as { do?: unknown } | undefined;
        cur = d.options?.find((o) => {
          const od = defOf(o);
          if (od.type !== "object" || !od.shape) return false;
          const lit = od.shape.do ? (defOf(od.shape.do) as { values?: unknown[] }).values : undefined;
          return lit ? lit.includes(v?.do) : true;
        });
      } else return cur;
    }
    return cur;
  };
  s = settle(s, []);
  for (let i = 0; i < path.length && s; i++) {
    const d = defOf(s);
    if (d.type === "object" && d.shape) s = d.shape[String(path[i])];
    else if (d.type === "array") s = d.element;
    else return [];
    if (s) s = settle(s, path.slice(0, i + 1));
  }
  if (!s) return [];
  const d = defOf(s);
  return d.type === "object" && d.shape ? Object.keys(d.shape) : [];
}

// ---- rules beyond the schema ---------------------------------------------------------------

/** Bytes for a message, exact: "1GiB", or "4097 bytes" where a unit would round. */
function exactBytes(b: number): string {
  const f = formatBytes(b);
  return f.includes(".") ? `${b} bytes` : f;
}

// The engine's own limits (host/vm.ts resolveVmConfig and its MIN_GUEST_BYTES / MAX_VM_BYTES,
// host/host.ts, host/cost-model.ts) checked at load so a scenario breaking them fails with exit 2
// and the scenario's field path and units, not as an engine ConfigError naming `memBytes` after
// the output directory was started. The memory/movable checks word resolveVmConfig's own rules
// in scenario terms; resolveVmConfig then runs as the backstop for anything else it refuses.
/** resolveVmConfig's fields under their scenario names, so a backstop issue names the scenario's field. */
const ENGINE_FIELDS: Readonly<Record<string, string>> = { memBytes: "memory", movableBytes: "movable", nrCpus: "vcpus" };

function checkEngineLimits(s: Scenario, issues: ScenarioIssue[]): void {
  if (s.host.ram <= 0) issues.push({ path: "host.ram", value: exactBytes(s.host.ram), expected: "a positive size (host RAM for the VMs)" });
  const hostPage = (s.host.hostPageSize ?? DEFAULTS.hostPageSize) === "2MiB" ? HOST_PAGE_2M : HOST_PAGE_4K;
  s.vms.forEach((vm, i) => {
    const at = `vms[${i}]`;
    const before = issues.length;
    if (vm.memory < MIN_GUEST_BYTES) {
      // guest_init refuses fewer than 1024 frames (assembly/index.ts)
      issues.push({ path: `${at}.memory`, value: exactBytes(vm.memory), expected: `at least ${formatBytes(MIN_GUEST_BYTES)} (1024 guest pages)` });
    } else if (vm.memory > MAX_VM_BYTES) {
      issues.push({ path: `${at}.memory`, value: exactBytes(vm.memory), expected: `at most ${formatBytes(MAX_VM_BYTES)} (one wasm32 guest instance)` });
    } else if (vm.memory % hostPage !== 0) {
      // guest RAM is backed by whole host pages (host/memory/guest_memory.ts)
      issues.push({ path: `${at}.memory`, value: exactBytes(vm.memory),
        expected: `a multiple of host.hostPageSize (${formatBytes(hostPage)})` });
    }
    if (vm.movable !== undefined && vm.movable >= vm.memory) {
      // ZONE_NORMAL keeps some boot memory (the kernel's own allocations cannot be movable)
      issues.push({ path: `${at}.movable`, value: exactBytes(vm.movable), expected: `less than the VM's memory (${formatBytes(vm.memory)})` });
    } else if (vm.movable !== undefined && vm.movable % PAGE_SIZE !== 0) {
      issues.push({ path: `${at}.movable`, value: exactBytes(vm.movable), expected: `a multiple of the guest page size (${formatBytes(PAGE_SIZE)})` });
    }
    if (issues.length > before) return;
    // backstop: whatever else the engine's validator refuses, under this VM's path
    try {
      resolveVmConfig({ name: vm.name, memBytes: vm.memory, nrCpus: vm.vcpus, movableBytes: vm.movable,
        hostPageBytes: hostPage }, s.seed);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const field = ENGINE_FIELDS[e.field];
      issues.push({ path: field ? `${at}.${field}` : `${at} (engine field ${e.field})`, value: e.value, expected: e.expected });
    }
  });
  try {
    withCostOverrides(s.costModel ?? {});
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    issues.push({ path: e.field.replace(/^costs\./, "costModel."), value: e.value, expected: e.expected });
  }
}

function checkSemantics(s: Scenario): ScenarioIssue[] {
  const issues: ScenarioIssue[] = [];
  const names = new Map<string, number>();
  checkEngineLimits(s, issues);
  s.vms.forEach((vm, i) => {
    if (names.has(vm.name)) issues.push({ path: `vms[${i}].name`, value: vm.name, expected: `a name not used by vms[${names.get(vm.name)}]` });
    else names.set(vm.name, i);
    const vmem = vm.devices?.virtioMem;
    if (vmem?.requested !== undefined && vmem.requested > vmem.region) {
      issues.push({ path: `vms[${i}].devices.virtioMem.requested`, value: formatBytes(vmem.requested), expected: `at most region (${formatBytes(vmem.region)})` });
    }
  });
  if (s.sample !== undefined && s.sample <= 0) issues.push({ path: "sample", value: "0s", expected: "a positive time" });

  const customNames = new Set<string>();
  (s.modes ?? []).forEach((m, i) => {
    if (typeof m === "string") return;
    if ((BUILTIN_MODES as readonly string[]).includes(m.name) || customNames.has(m.name)) {
      issues.push({ path: `modes[${i}].name`, value: m.name, expected: "a name that is not a built-in mode and not used twice" });
    }
    customNames.add(m.name);
  });

  const lastAt = new Map<string, number>();
  (s.timeline ?? []).forEach((a, i) => {
    if (a.vm !== undefined && !names.has(a.vm)) {
      issues.push({ path: `timeline[${i}].vm`, value: a.vm, expected: `one of the VM names: ${[...names.keys()].join(", ")}` });
      return;
    }
    const targets = a.vm !== undefined ? [a.vm] : [...names.keys()];
    for (const vmName of targets) {
      const vm = s.vms[names.get(vmName) ?? 0];
      if (a.at !== undefined) {
        const prev = lastAt.get(vmName) ?? 0;
        if (a.at < prev) {
          issues.push({ path: `timeline[${i}].at`, value: `${a.at / 1e9}s`, expected: `a time ≥ ${prev / 1e9}s (an earlier action for VM ${vmName} is at that time)` });
        }
        lastAt.set(vmName, a.at);
      }
      if (a.do === "balloon" && a.target > vm.memory) {
        issues.push({ path: `timeline[${i}].target`, value: formatBytes(a.target), expected: `at most VM ${vmName}'s memory (${formatBytes(vm.memory)})` });
      }
      if (a.do === "virtio-mem") {
        const region = vm.devices?.virtioMem?.region;
        if (region === undefined) issues.push({ path: `timeline[${i}]`, value: a.do, expected: `VM ${vmName} to declare devices.virtioMem` });
        else if (a.requested > region) issues.push({ path: `timeline[${i}].requested`, value: formatBytes(a.requested), expected: `at most VM ${vmName}'s virtioMem.region (${formatBytes(region)})` });
      }
    }
  });
  return issues;
}
