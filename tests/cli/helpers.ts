// Calls the CLI's main() in-process with captured output and a chosen engine.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../host/cli/main.js";
import type { Engine } from "../../host/scenario/engine.js";
import { fakeEngine } from "../scenario/fake-engine.js";

export const root = join(import.meta.dirname, "../..");
export const scenario = (name: string) => join(root, "scenarios", name);

export async function cli(argv: string[], engine: Engine = fakeEngine): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, errIsTTY: false }, { engine });
  return { code, out, err };
}

export const tmp = () => mkdtempSync(join(tmpdir(), "guestmem-cli-"));
