// SPDX-License-Identifier: MIT
// Runs the example of docs/api.md exactly as written: the first ```ts block is transpiled with
// esbuild and executed with "guestmem" / "guestmem/node" bound to host/index.ts / host/node.ts,
// so the doc cannot drift from the API without this test failing.

import { readFileSync } from "node:fs";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";
import * as guestmem from "../../host/index.js";
import * as guestmemNode from "../../host/node.js";

const DOC = new URL("../../docs/api.md", import.meta.url);

/** The first ```ts block of docs/api.md. */
function docExample(): string {
  const m = /```ts\n([\s\S]*?)```/.exec(readFileSync(DOC, "utf8"));
  if (!m) throw new Error("docs/api.md has no ```ts block");
  return m[1];
}

/** Runs the example; returns what it printed, one string per console.log call. */
function runExample(code: string): string[] {
  const js = transformSync(code, { loader: "ts", format: "cjs", target: "es2022" }).code;
  const modules: Record<string, unknown> = { guestmem, "guestmem/node": guestmemNode };
  const require = (name: string): unknown => {
    if (!(name in modules)) throw new Error(`the docs/api.md example imports ${name}; only guestmem and guestmem/node are public`);
    return modules[name];
  };
  const printed: string[] = [];
  const console = { log: (...a: unknown[]) => printed.push(a.map(String).join(" ")) };
  const module = { exports: {} };
  new Function("require", "module", "exports", "console", js)(require, module, module.exports, console);
  return printed;
}

describe("docs/api.md example", () => {
  it("runs as written and prints what the doc says it prints", () => {
    const out = runExample(docExample());
    console.log(out.join("\n"));
    const doc = readFileSync(DOC, "utf8");
    // the doc shows the output; every printed line must appear there verbatim
    for (const line of out) expect(doc).toContain(line);
    expect(out.length).toBeGreaterThanOrEqual(5);
  });
});
