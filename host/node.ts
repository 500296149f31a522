// SPDX-License-Identifier: MIT
// Node-only entry: loads the guest wasm from build/ (tests, Node scripts). The library path
// (host/index.ts) never imports this file, so it stays free of Node built-ins.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compileGuest, setDefaultGuestModule } from "./guest/module.js";

/** Compiles build/guest.wasm (or the debug build) and makes it the default guest module. */
export function loadGuestModuleFromFile(opts: { debug?: boolean; path?: string } = {}): WebAssembly.Module {
  const path = opts.path ?? fileURLToPath(new URL(opts.debug ? "../build/guest.debug.wasm" : "../build/guest.wasm", import.meta.url));
  const mod = compileGuest(readFileSync(path));
  setDefaultGuestModule(mod);
  return mod;
}
