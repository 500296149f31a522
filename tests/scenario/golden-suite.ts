// Golden scenarios: every file in scenarios/ validates, and each of its modes runs on the model
// engine with a summary equal to scenarios/golden/<name>.<mode>.json. `npm run golden` rewrites
// the golden files (GUESTMEM_UPDATE_GOLDEN=1). Modes the engine cannot run yet are skipped with
// the engine's reason in the test name.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadGuestModuleFromFile } from "../../host/node.js";
import { parseScenario } from "../../host/scenario/load.js";
import { AS_WRITTEN, defaultModes, resolveScenario } from "../../host/scenario/resolve.js";
import { modelEngine } from "../../host/scenario/runner.js";
import { readReferencedFiles } from "../../host/cli/files.js";
import { referencedFiles } from "../../host/scenario/resolve.js";

const root = join(import.meta.dirname, "../..");
const dir = join(root, "scenarios");
const goldenDir = join(dir, "golden");
const update = process.env.GUESTMEM_UPDATE_GOLDEN === "1";
const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f) && f !== "schema.json").sort();

/** The golden suite for the scenario files `pick` selects (split across test files so they run in parallel). */
export function goldenSuite(title: string, pick: (file: string) => boolean): void {
describe(title, () => {
  beforeAll(() => { loadGuestModuleFromFile(); });

  for (const f of files.filter(pick)) {
    const path = join(dir, f);
    const s = parseScenario(readFileSync(path, "utf8"), path);
    const name = s.name ?? f.replace(/\.[^.]+$/, "");
    const modes = defaultModes(s);
    for (const mode of modes.length ? modes : [AS_WRITTEN]) {
      const resolved = resolveScenario(s, mode, path);
      const reason = modelEngine.unsupported?.(resolved) ?? null;
      const title = `${name}.${mode}: summary equals scenarios/golden/${name}.${mode}.json`;
      it.skipIf(reason !== null)(reason ? `${title} (skipped: ${reason})` : title, async () => {
        resolved.files = readReferencedFiles(path, referencedFiles(s));
        const r = await modelEngine.runScenario(resolved);
        const summary = JSON.parse(JSON.stringify(r.summary));
        const golden = join(goldenDir, `${name}.${mode}.json`);
        if (update) {
          mkdirSync(goldenDir, { recursive: true });
          writeFileSync(golden, JSON.stringify(summary, null, 2) + "\n");
        }
        expect(existsSync(golden), `${golden} is missing: run npm run golden`).toBe(true);
        expect(r.valid).toBe(true);
        expect(summary, `${name}.${mode} differs from its golden file; if the model changed on purpose, run npm run golden and commit scenarios/golden/`)
          .toEqual(JSON.parse(readFileSync(golden, "utf8")));
      });
    }
  }
});
}
