// Regenerates scenarios/schema.json from host/scenario/schema.ts (the one typed definition).
// Bundles the TS module with esbuild in memory, imports it, writes the JSON Schema.
// `--check` exits 1 when the committed file is out of date instead of writing it.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Imports a TS module of this repo through an in-memory esbuild bundle. */
export async function importTs(rel) {
  const esbuild = await import("esbuild");
  const r = await esbuild.build({ entryPoints: [join(root, rel)], bundle: true, format: "esm", platform: "node",
    write: false, logLevel: "warning" });
  const code = r.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}

export function schemaText(mod) {
  return JSON.stringify(mod.scenarioJsonSchema(), null, 2) + "\n";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = schemaText(await importTs("host/scenario/schema.ts"));
  const out = join(root, "scenarios/schema.json");
  if (process.argv.includes("--check")) {
    const same = existsSync(out) && readFileSync(out, "utf8") === text;
    if (!same) { console.error("scenarios/schema.json is out of date: run npm run golden"); process.exit(1); }
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${out}`);
  }
}
