import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../host/scenario/load.js";
import { ScenarioError } from "../../host/scenario/errors.js";
import { scenarioJsonSchema, ScenarioSchema } from "../../host/scenario/schema.js";

const root = join(import.meta.dirname, "../..");

const BASE = `
description: "Covers: x. Scenario: y."
seed: 1
host: { ram: 4GiB }
vms:
  - name: vm0
    memory: 1GiB
    devices:
      balloon: { statsInterval: 1s }
timeline:
  - { do: anon.touch, size: 600MiB }
  - { do: wait, for: 5s }
`;

/** The JSON Schema keywords z.toJSONSchema emits for the scenario schema. */
interface JsonSchema {
  type?: string; properties?: Record<string, JsonSchema>; required?: string[]; additionalProperties?: boolean;
  items?: JsonSchema; anyOf?: JsonSchema[]; enum?: unknown[]; const?: unknown; pattern?: string;
  minimum?: number; maximum?: number; exclusiveMinimum?: number; minItems?: number; minLength?: number;
}

/** A small validator for exactly those keywords (no JSON Schema library is a dependency). */
function validates(s: JsonSchema, v: unknown): boolean {
  if (s.anyOf && !s.anyOf.some((o) => validates(o, v))) return false;
  if (s.const !== undefined && v !== s.const) return false;
  if (s.enum && !s.enum.includes(v)) return false;
  switch (s.type) {
    case undefined: break;
    case "integer": if (!Number.isInteger(v)) return false; break;
    case "number": if (typeof v !== "number") return false; break;
    case "string": if (typeof v !== "string") return false; break;
    case "boolean": if (typeof v !== "boolean") return false; break;
    case "array": if (!Array.isArray(v)) return false; break;
    case "object": if (typeof v !== "object" || v === null || Array.isArray(v)) return false; break;
    default: throw new Error(`validator: type ${s.type}`);
  }
  if (typeof v === "number") {
    if (s.minimum !== undefined && v < s.minimum) return false;
    if (s.maximum !== undefined && v > s.maximum) return false;
    if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return false;
  }
  if (typeof v === "string") {
    if (s.pattern !== undefined && !new RegExp(s.pattern).test(v)) return false;
    if (s.minLength !== undefined && v.length < s.minLength) return false;
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) return false;
    if (s.items && !v.every((x) => validates(s.items as JsonSchema, x))) return false;
  }
  if (s.type === "object" && typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    if (s.required && !s.required.every((k) => k in o)) return false;
    for (const [k, x] of Object.entries(o)) {
      const p = s.properties?.[k];
      if (p ? !validates(p, x) : s.additionalProperties === false) return false;
    }
  }
  return true;
}

/** Parses `text` expecting a ScenarioError; returns its issues. */
function issuesOf(text: string, file = "bad.yaml") {
  try {
    parseScenario(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    const err = e as ScenarioError;
    expect(err.message).toContain(file);
    return err.issues;
  }
  throw new Error("expected a ScenarioError");
}

describe("scenario schema", () => {
  it("accepts a minimal scenario and parses units into bytes and ns", () => {
    const s = parseScenario(BASE, "ok.yaml");
    expect(s.vms[0].memory).toBe(2 ** 30);
    expect(s.vms[0].devices?.balloon?.statsInterval).toBe(1e9);
    expect(s.timeline?.[0]).toMatchObject({ do: "anon.touch", size: 600 * 2 ** 20 });
    expect(s.timeline?.[1]).toMatchObject({ do: "wait", for: 5e9 });
  });

  it("accepts the same scenario as JSON", () => {
    const json = JSON.stringify({ description: "d", seed: 1, host: { ram: "4GiB" }, vms: [{ name: "a", memory: 1073741824 }] });
    expect(parseScenario(json, "x.json").vms[0].memory).toBe(2 ** 30);
  });

  it("rejects an unknown key, naming its path and the allowed fields", () => {
    const issues = issuesOf(BASE.replace("statsInterval: 1s", "statsInterval: 1s, statsIntervall: 2s"));
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe("vms[0].devices.balloon.statsIntervall");
    expect(issues[0].value).toBe("2s");
    expect(issues[0].expected).toContain("statsInterval");
    expect(issues[0].expected).toContain("freePageReporting");
  });

  it("rejects an unknown key inside a timeline action, listing that action's fields", () => {
    const issues = issuesOf(BASE.replace("{ do: wait, for: 5s }", "{ do: wait, for: 5s, size: 1MiB }"));
    expect(issues[0].path).toBe("timeline[1].size");
    expect(issues[0].expected).toMatch(/allowed here: .*for/);
  });

  it("rejects a wrong unit with the field path, the value and the expected form", () => {
    const issues = issuesOf(BASE.replace("statsInterval: 1s", "statsInterval: 1GiB"));
    expect(issues[0]).toMatchObject({ path: "vms[0].devices.balloon.statsInterval", value: "1GiB" });
    expect(issues[0].expected).toContain("time");
    const mb = issuesOf(BASE.replace("memory: 1GiB", "memory: 1GB"));
    expect(mb[0]).toMatchObject({ path: "vms[0].memory", value: "1GB" });
    expect(mb[0].expected).toContain("GiB");
  });

  it("rejects a negative size", () => {
    const issues = issuesOf(BASE.replace("size: 600MiB", "size: -600MiB"));
    expect(issues[0]).toMatchObject({ path: "timeline[0].size", value: "-600MiB" });
    expect(issues[0].expected).toContain("non-negative");
  });

  it("rejects an action before time 0", () => {
    const issues = issuesOf(BASE.replace("{ do: wait, for: 5s }", "{ at: -1s, do: wait, for: 5s }"));
    expect(issues[0]).toMatchObject({ path: "timeline[1].at", value: "-1s" });
    expect(issues[0].expected).toContain("non-negative");
  });

  it("rejects a mode that does not exist, listing the valid ones", () => {
    const issues = issuesOf(BASE + "modes: [none, reportin]\n");
    expect(issues[0]).toMatchObject({ path: "modes[1]", value: "reportin" });
    expect(issues[0].expected).toContain("reporting");
  });

  it("rejects an unknown action with the list of actions", () => {
    const issues = issuesOf(BASE.replace("do: wait", "do: sleep"));
    expect(issues[0]).toMatchObject({ path: "timeline[1].do", value: "sleep" });
    expect(issues[0].expected).toContain("anon.touch");
  });

  it("rejects a missing required field", () => {
    const issues = issuesOf(BASE.replace("seed: 1\n", ""));
    expect(issues[0]).toMatchObject({ path: "seed", value: undefined });
    expect(issues[0].expected).toContain("required");
  });

  it("rejects an out-of-range reporting order", () => {
    const issues = issuesOf(BASE.replace("statsInterval: 1s", "freePageReporting: { order: 11 }"));
    expect(issues[0].path).toBe("vms[0].devices.balloon.freePageReporting.order");
    expect(issues[0].value).toBe(11);
  });

  it("rejects semantic errors: duplicate VM names, unknown VM, time going back, target above memory", () => {
    const text = BASE.replace("vms:\n", "vms:\n  - { name: vm0, memory: 1GiB }\n") +
      "  - { vm: vm9, do: wait, for: 1s }\n  - { at: 10s, do: wait, for: 1s }\n  - { at: 5s, do: balloon, target: 2GiB }\n";
    const issues = issuesOf(text);
    expect(issues.map((i) => i.path)).toEqual(["vms[1].name", "timeline[2].vm", "timeline[4].at", "timeline[4].target"]);
  });

  it("reports YAML syntax errors and duplicate keys as document errors", () => {
    expect(issuesOf("seed: 1\nseed: 2\n")[0]).toMatchObject({ path: "(document)", expected: "valid YAML" });
    expect(issuesOf("{", "x.json")[0]).toMatchObject({ path: "(document)", expected: "valid JSON" });
  });

  it("rejects a size that is a negative, fractional or non-numeric number, naming the size form", () => {
    for (const v of ["-5", "1.5", "true"]) {
      const issues = issuesOf(BASE.replace("memory: 1GiB", `memory: ${v}`));
      expect(issues[0].path, v).toBe("vms[0].memory");
      expect(issues[0].expected, v).toContain("a size:");
    }
    expect(issuesOf(BASE.replace("memory: 1GiB", "memory: -5"))[0].expected).toContain("non-negative");
  });

  it("costModel takes only the engine's cost keys, each >= 0 (bandwidth > 0)", () => {
    const issues = issuesOf(BASE + "costModel: { vmExitNs: 700, vmExitNS: 1, pageCopyNs: -1, migrationBandwidthBytesPerS: 0 }\n");
    const byPath = new Map(issues.map((i) => [i.path, i]));
    expect([...byPath.keys()].sort()).toEqual(["costModel.migrationBandwidthBytesPerS", "costModel.pageCopyNs", "costModel.vmExitNS"]);
    expect(byPath.get("costModel.vmExitNS")?.expected).toMatch(/no such field; allowed here: .*vmExitNs/);
    expect(byPath.get("costModel.pageCopyNs")?.value).toBe(-1);
    expect(parseScenario(BASE + "costModel: { vmExitNs: 700 }\n", "ok.yaml").costModel).toEqual({ vmExitNs: 700 });
  });

  // The engine's limits (host/vm.ts, host/host.ts) fail at load, naming the scenario field.
  it.each([
    ["host.ram 0", BASE.replace("ram: 4GiB", "ram: 0"), "host.ram", "positive"],
    ["memory under the 4 MiB minimum", BASE.replace("memory: 1GiB", "memory: 2MiB"), "vms[0].memory", "at least 4MiB"],
    ["memory not a multiple of a 2 MiB host page", BASE.replace("ram: 4GiB", "ram: 4GiB, hostPageSize: 2MiB").replace("memory: 1GiB", "memory: 1025MiB"),
      "vms[0].memory", "multiple of host.hostPageSize (2MiB)"],
    ["memory not a multiple of a 4 KiB host page", BASE.replace("memory: 1GiB", "memory: 1073741825"), "vms[0].memory", "multiple of host.hostPageSize (4KiB)"],
    ["movable equal to memory", BASE.replace("memory: 1GiB", "memory: 1GiB\n    movable: 1GiB"), "vms[0].movable", "less than the VM's memory"],
    ["movable not page-aligned", BASE.replace("memory: 1GiB", "memory: 1GiB\n    movable: 1000"), "vms[0].movable", "multiple of the guest page size (4KiB)"],
  ])("rejects %s at load (field path, value, expected)", (_what, text, path, expected) => {
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe(path);
    expect(issues[0].value).toBeDefined();
    expect(issues[0].expected).toContain(expected);
  });

  it("the published JSON Schema rejects what zod rejects and accepts what it accepts (schema-expressible rules)", () => {
    const schema = JSON.parse(readFileSync(join(root, "scenarios/schema.json"), "utf8")) as JsonSchema;
    const base = { description: "d", seed: 1, host: { ram: "4GiB" }, vms: [{ name: "vm0", memory: "1GiB" }], timeline: [{ do: "anon.touch", size: "600MiB" }] };
    /** `base` with the value at dotted `path` (array indices as numbers) replaced. */
    const doc = (path: string, value: unknown): unknown => {
      const d = structuredClone(base) as unknown as Record<string, unknown>;
      const keys = path.split(".");
      let o = d;
      for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
      o[keys[keys.length - 1]] = value;
      return d;
    };
    const cases: [string, unknown][] = [
      ["valid", base],
      ["integer bytes", doc("vms.0.memory", 1073741824)],
      ["negative bytes", doc("vms.0.memory", -5)],
      ["fractional bytes", doc("vms.0.memory", 1.5)],
      ["negative size string", doc("timeline.0.size", "-600MiB")],
      ["decimal unit", doc("host.ram", "4GB")],
      ["boolean size", doc("host.swap", true)],
      ["unknown key", doc("vms.0.memroy", "1GiB")],
      ["unknown cost key", doc("costModel", { vmExitNS: 1 })],
      ["negative cost", doc("costModel", { vmExitNs: -1 })],
      ["zero bandwidth", doc("costModel", { migrationBandwidthBytesPerS: 0 })],
      ["known cost", doc("costModel", { vmExitNs: 700, migrationBandwidthBytesPerS: 1e9 })],
      ["unknown action", doc("timeline.0.do", "sleep")],
      ["unknown mode", doc("modes", ["reportin"])],
      ["negative seed", doc("seed", -1)],
    ];
    for (const [what, d] of cases) {
      const zodOk = ScenarioSchema.safeParse(d).success;
      expect(validates(schema, d), what).toBe(zodOk);
    }
    expect(cases.filter(([, d]) => !ScenarioSchema.safeParse(d).success).length).toBeGreaterThanOrEqual(10);
  });

  it("scenarios/schema.json is the generated schema (run `npm run golden` to refresh)", () => {
    const committed = readFileSync(join(root, "scenarios/schema.json"), "utf8");
    expect(committed).toBe(JSON.stringify(scenarioJsonSchema(), null, 2) + "\n");
  });

  it("every scenario file validates and has a Covers/Scenario description", () => {
    const files = readdirSync(join(root, "scenarios")).filter((f) => /\.(ya?ml|json)$/.test(f) && f !== "schema.json");
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const s = parseScenario(readFileSync(join(root, "scenarios", f), "utf8"), f);
      expect(s.description, f).toMatch(/Covers:[\s\S]*Scenario:/);
    }
  });
});
