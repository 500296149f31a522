import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../host/scenario/load.js";
import { ScenarioError } from "../../host/scenario/errors.js";
import { scenarioJsonSchema } from "../../host/scenario/schema.js";

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
