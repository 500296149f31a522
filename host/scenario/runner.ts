// SPDX-License-Identifier: MIT
// The model engine: maps a resolved scenario's per-VM scripts onto Host/Vm/devices.
// TODO(runner): the host API (Host, Vm, balloon device) is being built in parallel; until it
// lands this engine reports that it cannot run, and everything above the seam (CLI, outputs,
// comparison, report, trace) is tested against a fake engine (tests/scenario/fake-engine.ts).

import { Engine, NotSupportedError } from "./engine.js";

export const modelEngine: Engine = {
  name: "guestmem-model",
  unsupported: () => "the model engine (host/scenario/runner.ts) is not wired to the host yet",
  runScenario() {
    throw new NotSupportedError("running scenarios: the model engine (host/scenario/runner.ts) is not wired to the host yet");
  },
};

/** True once runScenario can run built-in modes (golden tests skip the engine part until then). */
export const MODEL_ENGINE_READY = false;
