// SPDX-License-Identifier: MIT
// `npm run screenshot`: the README's picture of the HTML report (docs/images/report.png). Builds,
// runs `guestmem compare` on the main job (scenarios/build-16g.yaml, as `npm start`; about 2-3 min)
// or, with --quick, on reporting-600m (none, reporting; about a second), then renders the report in
// Debian's headless Chromium (playwright-core, never a downloaded browser) and saves a full-page PNG.
//
//   node scripts/screenshot.mjs [--quick] [--scenario <file>] [--modes a,b] [--html <report.html>]
//                               [--out <file.png>] [--width <px>]
// --html skips the build and the run and photographs an existing report.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opt } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    scenario: { type: "string" },
    modes: { type: "string" },
    html: { type: "string" },
    out: { type: "string", default: join(root, "docs/images/report.png") },
    width: { type: "string", default: "1200" },
  },
});
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps trying hosts the closed network refuses.
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** The README embeds the picture: keep the repository light. */
const MAX_PNG_BYTES = 500 * 1024;

function run(args, what) {
  console.error(`screenshot: ${what}: node ${args.join(" ")}`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status})`);
}

const work = mkdtempSync(join(tmpdir(), "guestmem-shot-"));
try {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  let html = opt.html ? resolve(opt.html) : join(work, "report.html");
  if (!opt.html) {
    const scenario = opt.scenario ?? (opt.quick ? "scenarios/reporting-600m.yaml" : "scenarios/build-16g.yaml");
    const modes = opt.modes ?? (opt.quick && !opt.scenario ? "none,reporting" : undefined);
    run(["scripts/build.mjs"], "build");
    // --skip-unsupported: a mode the engine cannot run yet is listed in the report, not fatal
    run(["build/cli.mjs", "compare", scenario, ...(modes ? ["--modes", modes] : []), "--skip-unsupported",
      "--out", join(work, "out"), "--report", html, "-q"], "compare");
  }
  if (!existsSync(html)) throw new Error(`no report at ${html}`);

  const profile = join(work, "profile");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    viewport: { width: Number(opt.width), height: 900 }, deviceScaleFactor: 1,
  });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(pathToFileURL(html).href);
    // the report draws its charts with uPlot on load; wait for the canvases and two frames
    await page.waitForFunction(() => document.querySelectorAll(".uplot canvas").length >= 2, undefined, { timeout: 15_000 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    if (errors.length) throw new Error(`the report's page script failed: ${errors.join("; ")}`);
    mkdirSync(dirname(resolve(opt.out)), { recursive: true });
    await page.screenshot({ path: resolve(opt.out), fullPage: true, type: "png" });
  } finally {
    await context.close();
  }
  const bytes = statSync(resolve(opt.out)).size;
  console.error(`screenshot: wrote ${opt.out} (${(bytes / 1024).toFixed(0)} KiB)`);
  if (bytes > MAX_PNG_BYTES) throw new Error(`${opt.out} is ${bytes} bytes, more than ${MAX_PNG_BYTES}: use a smaller --width`);
} catch (e) {
  console.error(`screenshot: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
