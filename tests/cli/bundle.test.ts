// The bundled CLI (build/cli.mjs, made by the build that `npm test` runs first): its
// entry point, exit codes, wasm loading and uPlot inlining only exist in the bundle.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root, scenario, tmp } from "./helpers.js";

const CLI = join(root, "build/cli.mjs");
const node = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: root });

describe.skipIf(!existsSync(CLI))("bundled CLI (build/cli.mjs)", () => {
  it("--help exits 0; an unknown command and a missing file exit 2", () => {
    expect(node(["--help"]).status).toBe(0);
    expect(node(["nosuchcommand"]).status).toBe(2);
    const r = node(["validate", "/nonexistent.yaml"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("/nonexistent.yaml");
  });

  it("runs a scenario on the model engine and writes a report with uPlot inlined", () => {
    const d = tmp();
    const r = node(["compare", scenario("reporting-600m.yaml"), "--modes", "none", "--out", d, "--report", join(d, "r.html"), "-q"]);
    expect(r.stderr).toContain("stopped at t=");
    expect(r.status).toBe(0);
    expect(readFileSync(join(d, "none", "series.csv"), "utf8").startsWith("t_s,host.rss_bytes,")).toBe(true);
    const html = readFileSync(join(d, "r.html"), "utf8");
    expect(html).toContain("https://github.com/leeoniya/uPlot"); // the inlined library's banner
    expect(html.length).toBeGreaterThan(50_000);
  });
});
