// SPDX-License-Identifier: MIT
// `guestmem bench`: runs the engine benchmark entry (build/bench.mjs, from bench/main.ts) in a
// child process, or says that it is not built.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIo } from "./io.js";

/** Where the benchmark bundle may be: beside the CLI bundle, or in ./build of the working directory. */
export function benchCandidates(): string[] {
  return [fileURLToPath(new URL("./bench.mjs", import.meta.url)), join(process.cwd(), "build", "bench.mjs")];
}

export function benchCommand(args: string[], io: CliIo, candidates = benchCandidates()): number {
  const entry = candidates.find((p) => existsSync(p));
  if (!entry) {
    io.err(`guestmem bench: the benchmark runner is missing (looked for ${candidates.join(", ")}); build it with npm run build\n`);
    return 1;
  }
  const r = spawnSync(process.execPath, [entry, ...args], { stdio: "inherit" });
  return r.status ?? 1;
}
