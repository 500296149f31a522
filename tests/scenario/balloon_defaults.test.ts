// SPDX-License-Identifier: MIT
// Scenario-layer balloon defaults agree with the device's (QEMU's): a scenario that says nothing
// about mustTellHost/pagePoison gets what `-device virtio-balloon` would offer.
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../host/scenario/load.js";
import { resolveScenario } from "../../host/scenario/resolve.js";
import { scenarioJsonSchema } from "../../host/scenario/schema.js";
import { resolveBalloonOptions } from "../../host/virtio/balloon/options.js";

const SCENARIO = `
description: "Covers: balloon defaults. Scenario: a VM with a bare balloon."
seed: 1
host: { ram: 4GiB }
vms:
  - name: vm0
    memory: 1GiB
    devices:
      balloon: {}
`;

describe("scenario balloon defaults", () => {
  it("are the QEMU device's: no MUST_TELL_HOST, page-poison on (resolved and published in the JSON Schema)", () => {
    const b = resolveScenario(parseScenario(SCENARIO, "ok.yaml"), "as-written", "ok.yaml").vms[0].balloon;
    const dev = resolveBalloonOptions({ vmm: "qemu" }, 2 ** 30);
    // reference/virtio-balloon.md §7.3: page-poison=on (def); §1.2: QEMU does not offer MUST_TELL_HOST
    expect(b?.mustTellHost).toBe(false);
    expect(b?.pagePoison).toBe(true);
    expect(b?.mustTellHost).toBe(dev.mustTellHost);
    expect(b?.pagePoison).toBe(dev.pagePoison);
    // every balloon object in the JSON Schema (the VM's device and custom modes) documents the same
    const found: Record<string, unknown>[] = [];
    const walk = (n: unknown): void => {
      if (n === null || typeof n !== "object") return;
      const props = (n as { properties?: Record<string, Record<string, unknown>> }).properties;
      if (props?.mustTellHost && props.pagePoison) found.push({ mustTellHost: props.mustTellHost.default, pagePoison: props.pagePoison.default });
      for (const v of Object.values(n)) walk(v);
    };
    walk(scenarioJsonSchema());
    expect(found.length).toBeGreaterThanOrEqual(2);
    for (const f of found) expect(f).toEqual({ mustTellHost: false, pagePoison: true });
  });
});
