// SPDX-License-Identifier: MIT
// The engine the CLI runs: the model engine, with the guest wasm loaded from build/ on first use
// (Node only; the library path leaves loading to its caller).

import { loadGuestModuleFromFile } from "../node.js";
import type { Engine } from "../scenario/engine.js";
import { modelEngine } from "../scenario/runner.js";

let loaded = false;

export const cliEngine: Engine = {
  name: modelEngine.name,
  unsupported: (s) => modelEngine.unsupported?.(s) ?? null,
  runScenario(s, opts) {
    if (!loaded) { loadGuestModuleFromFile(); loaded = true; }
    return modelEngine.runScenario(s, opts);
  },
};
