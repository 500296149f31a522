// SPDX-License-Identifier: MIT
// "Same seed, same result, everywhere": one scripted run (tests/web/scenario.ts) executed from the
// TypeScript sources in Node, from the browser bundle in plain Node and from the same bundle in
// headless Chromium must give byte-identical metric series. Without /usr/bin/chromium the browser
// part skips locally and fails in CI ($CI).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as gm from "../../host/index.js";
import { loadGuestModuleFromFile } from "../../host/node.js";
import { browserTestsEnabled, launchChromium, serveDir } from "./chromium.js";
import { RUN_NS, runScenario, SAMPLE_NS, ScenarioResult } from "./scenario.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const SEED = 11;
const OTHER_SEED = 12;

let dir = "";

/** The browser bundle, built as scripts/build.mjs builds build/guestmem.browser.mjs (fresh from the sources). */
async function buildBundle(out: string): Promise<void> {
  await esbuild.build({
    entryPoints: [join(root, "host/browser.ts")], outfile: out, bundle: true, format: "esm", target: "es2022",
    platform: "browser", loader: { ".wasm": "binary" }, external: ["node:*"], logLevel: "warning",
  });
}

/** tests/web/scenario.ts as one plain ES module (its imports are type-only, so it has none). */
async function buildScenario(out: string): Promise<void> {
  const r = await esbuild.transform(readFileSync(join(root, "tests/web/scenario.ts"), "utf8"), { loader: "ts", format: "esm", target: "es2022" });
  writeFileSync(out, r.code);
}

/** Imports of a bundle that name Node built-ins (static, dynamic, or require). */
function nodeImports(js: string): string[] {
  return [...js.matchAll(/(?:from\s*|import\s*\(?\s*|require\s*\(\s*)["'](node:[\w/]+)["']/g)].map((m) => m[1]);
}

/** Runs the compiled scenario against the bundle in a plain Node process (no vitest transforms). */
function runBundleInNode(seeds: number[]): ScenarioResult[] {
  const code = `const gm = await import(${JSON.stringify(pathToFileURL(join(dir, "guestmem.browser.mjs")).href)});
const { runScenario } = await import(${JSON.stringify(pathToFileURL(join(dir, "scenario.mjs")).href)});
process.stdout.write(JSON.stringify(${JSON.stringify(seeds)}.map((s) => runScenario(gm, s))));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`node (bundle) failed with ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ScenarioResult[];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "guestmem-web-"));
  await buildBundle(join(dir, "guestmem.browser.mjs"));
  await buildScenario(join(dir, "scenario.mjs"));
  writeFileSync(join(dir, "index.html"), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>guestmem determinism</title>
<script type="module">
import * as gm from "./guestmem.browser.mjs";
import { runScenario } from "./scenario.mjs";
window.runSeed = (seed) => runScenario(gm, seed);
</script>
`);
});

afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe("browser bundle", () => {
  it("imports no Node built-in (node:*), neither the fresh build nor build/guestmem.browser.mjs", () => {
    const fresh = readFileSync(join(dir, "guestmem.browser.mjs"), "utf8");
    expect(fresh).toContain("WebAssembly");
    expect(nodeImports(fresh)).toEqual([]);
    expect(nodeImports('import { readFileSync } from "node:fs";')).toEqual(["node:fs"]); // the check can fail
    const shipped = join(root, "build/guestmem.browser.mjs");
    if (existsSync(shipped)) expect(nodeImports(readFileSync(shipped, "utf8"))).toEqual([]);
  });

  it("the compiled scenario is self-contained (no imports): it runs on whatever library it is given", () => {
    const js = readFileSync(join(dir, "scenario.mjs"), "utf8");
    expect(js).toMatch(/export\s*\{[^}]*\brunScenario\b/);
    expect(js).not.toMatch(/^\s*import\b/m);
  });
});

describe("determinism across platforms", () => {
  let source: ScenarioResult;
  let bundle: ScenarioResult[];

  beforeAll(() => {
    loadGuestModuleFromFile();
    source = runScenario(gm, SEED);
    bundle = runBundleInNode([SEED, OTHER_SEED]);
  });

  it("the scenario exercises the model: swap, discards, a balloon and in-guest workloads show in the series", () => {
    const lines = source.csv.trimEnd().split("\n");
    const header = lines[0].split(",");
    expect(lines.length).toBe(1 + RUN_NS / SAMPLE_NS + 1); // header, t=0, then a row every 2 ms of 100 ms
    expect(source.refused).toBe(0);
    expect(source.balloonPages).toBe(256); // the last target, 31 MiB of 32 MiB, was reached
    const last = lines[lines.length - 1].split(",").map(Number);
    const at = (id: string): number => {
      const i = header.indexOf(id);
      expect(i, id).toBeGreaterThan(0);
      return last[i];
    };
    expect(at("host.swap_out_pages")).toBeGreaterThan(0);
    expect(at("vm0.discarded_bytes") + at("vm1.discarded_bytes")).toBeGreaterThan(0);
    expect(at("vm0.balloon.inflate_pfns")).toBeGreaterThan(0);
    expect(at("vm0.balloon.deflate_pfns")).toBeGreaterThan(0);
    expect(at("vm0.vmstat.nr_anon") + at("vm1.vmstat.nr_anon")).toBeGreaterThan(0);
  });

  it("the bundle in plain Node gives the sources' series byte for byte; another seed a different one", () => {
    expect(bundle[0].csv).toBe(source.csv);
    expect(bundle[0].endNs).toBe(source.endNs);
    expect(bundle[1].csv).not.toBe(source.csv);
  });

  it.runIf(browserTestsEnabled("browser determinism"))("headless Chromium gives Node's series byte for byte for the same seed; another seed a different one", async () => {
    const server = await serveDir(dir);
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
      await page.goto(server.url);
      await page.waitForFunction(() => "runSeed" in window, undefined, { timeout: 10_000 })
        .catch((e: Error) => { throw new Error(`the page did not load the bundle: ${errors.join("; ") || e.message}`); });
      const inBrowser = await page.evaluate((seeds) => {
        const w = window as unknown as { runSeed(seed: number): ScenarioResult };
        return { ua: navigator.userAgent, results: seeds.map((s) => w.runSeed(s)) };
      }, [SEED, OTHER_SEED]);
      expect(inBrowser.ua).toContain("HeadlessChrome");
      expect(errors).toEqual([]);
      const [same, other] = inBrowser.results;
      expect(same.csv).toBe(source.csv);
      expect(same.endNs).toBe(source.endNs);
      expect(same.balloonPages).toBe(source.balloonPages);
      expect(other.csv).toBe(bundle[1].csv);
      expect(other.csv).not.toBe(same.csv);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
