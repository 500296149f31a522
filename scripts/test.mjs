// Builds (wasm, bundles; incremental), runs the test suite with vitest and ends with the plain
// closing line CI reads: "N passed, N failed" (vitest's own summary is not among the lines CI
// recognises). Building first makes `npm ci && npm test` enough on a fresh clone.
import { spawnSync } from "node:child_process";
import { readFileSync, mkdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(root, "build"), { recursive: true });
const report = join(root, "build/test-report.json");
const extra = process.argv.slice(2);
const b = spawnSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit", cwd: root });
if (b.status !== 0) {
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const r = spawnSync(process.execPath, [join(root, "node_modules/vitest/vitest.mjs"), "run",
  "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...extra], { stdio: "inherit", cwd: root });
let passed = 0, failed = 0, skipped = 0;
if (existsSync(report)) {
  const j = JSON.parse(readFileSync(report, "utf8"));
  passed = j.numPassedTests ?? 0;
  skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  // A suite that fails to load has no failed tests but must still fail the run.
  const brokenSuites = (j.testResults ?? []).filter((t) => t.status === "failed" && (t.assertionResults ?? []).length === 0).length;
  failed = (j.numFailedTests ?? 0) + brokenSuites;
}
if (r.status !== 0 && failed === 0) failed = 1;
if (skipped) console.log(`${skipped} skipped (see docs/TESTING.md)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || r.status !== 0 ? 1 : 0);
