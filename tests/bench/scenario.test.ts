// SPDX-License-Identifier: MIT
// The scenario-speed benchmark (bench/scenario.ts) runs its 16 GiB, 60 s reporting scenario in
// every mode, deterministically. Asserts what the runs did, never how fast.

import { expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { runScenarioBench } from "../../bench/scenario.js";
import { releaseGuestModule } from "../helpers/guest.js";
import { setDefaultGuestModule } from "../../host/guest/module.js";

const FILE = fileURLToPath(new URL("../../bench/scenarios/reporting-16g-60s.yaml", import.meta.url));

it("the bench scenario covers 60 s of a 16 GiB guest in none and reporting; reporting gives the freed 12 GiB back", async () => {
  setDefaultGuestModule(releaseGuestModule());
  const r = await runScenarioBench(FILE, 2); // two rounds: the bench checks they agree
  expect(r.map((x) => x.name)).toEqual(["scenario.reporting-16g-60s.none", "scenario.reporting-16g-60s.reporting"]);
  const [none, rep] = r;
  for (const x of r) {
    expect(x.sim_s).toBeGreaterThanOrEqual(60);
    expect(x.summary.valid).toBe(true);
    expect(x.summary.vms.vm0.guest_total_bytes).toBeGreaterThan(15.9 * 2 ** 30);
    expect(x.summary.vms.vm0.peak_host_rss_bytes).toBeGreaterThan(12 * 2 ** 30);
    expect(x.wall_s).toBeGreaterThan(0);
  }
  expect(none.summary.vms.vm0.host_rss_bytes).toBeGreaterThan(12 * 2 ** 30); // nothing returns without reporting
  expect(rep.summary.vms.vm0.host_rss_bytes).toBeLessThan(2 ** 30);
});
