// `npm run golden`: regenerates scenarios/schema.json and the golden summaries
// scenarios/golden/<name>.<mode>.json by running tests/scenario/golden.test.ts in update mode.
import { spawnSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (args, env = {}) => {
  const r = spawnSync(process.execPath, args, { stdio: "inherit", cwd: root, env: { ...process.env, ...env } });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run([join(root, "scripts/gen-schema.mjs")]);
run([join(root, "node_modules/vitest/vitest.mjs"), "run", "tests/scenario/golden.test.ts", "tests/scenario/golden-main.test.ts"], { GUESTMEM_UPDATE_GOLDEN: "1" });
