// SPDX-License-Identifier: MIT
// `npm run bench`: engine throughput of guestmem (wall clock, never simulated time). Runs the
// allocator micro benchmarks on the release wasm and on the TypeScript reference, measures
// per-frame metadata and the boot time of a 64 GiB guest, prints a table, writes
// results/bench/<run-id>/{meta.json, summary.json} and, with `--json FILE`, a flat JSON array.
// Then the scenario-speed benchmark (bench/scenario.ts): bench/scenarios/reporting-16g-60s.yaml
// in each of its modes.
// Options: --json FILE, --rounds N (default 15), --mib N (allocator guest size, default 1024),
//          --boot-gib N (default 64, 0 skips), --scenario-rounds N (default 3, 0 skips).

import { mkdirSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { cpus, totalmem, loadavg } from "node:os";
import { execSync } from "node:child_process";
import { loadGuestModuleFromFile } from "../host/node.js";
import { runAllocBench, bootTimeMs, BenchResult } from "./alloc.js";
import { runScenarioBench, ScenarioBenchResult } from "./scenario.js";

/** The scenario-speed bench file, next to this bundle's source tree (build/bench.mjs -> bench/). */
const SCENARIO_FILE = fileURLToPath(new URL("../bench/scenarios/reporting-16g-60s.yaml", import.meta.url));

interface Args { json?: string; rounds: number; mib: number; bootGib: number; scenarioRounds: number }

function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 15, mib: 1024, bootGib: 64, scenarioRounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    const num = (name: string): number => {
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${name}: got ${JSON.stringify(v)}, expected a non-negative number`);
      i++;
      return n;
    };
    if (k === "--json") { if (!v) throw new Error("--json: expected a file name"); a.json = v; i++; }
    else if (k === "--rounds") a.rounds = Math.max(1, Math.floor(num(k)));
    else if (k === "--mib") a.mib = Math.max(64, Math.floor(num(k)));
    else if (k === "--boot-gib") a.bootGib = num(k);
    else if (k === "--scenario-rounds") a.scenarioRounds = Math.floor(num(k));
    else throw new Error(`unknown option ${k}: expected --json FILE, --rounds N, --mib N, --boot-gib N, --scenario-rounds N`);
  }
  return a;
}

function gitCommit(): string {
  try { return execSync("git rev-parse --short HEAD", { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(); } catch { return "unknown"; }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const module = loadGuestModuleFromFile({ debug: false });
  const started = new Date();
  const alloc = runAllocBench({ module, guestMib: args.mib, rounds: args.rounds });
  const bootMs = args.bootGib > 0 ? bootTimeMs(module, args.bootGib) : NaN;

  const byName = new Map(alloc.results.map((r) => [r.name, r]));
  console.log(`guest allocator micro benchmarks: ${args.mib} MiB guest, best of ${args.rounds} rounds, median, and process CPU time per op, frames pre-backed, init_on_alloc=1`);
  console.log("");
  console.log(`${"benchmark".padEnd(22)}${"wasm ns/op".padStart(12)}${"(median)".padStart(10)}${"(cpu)".padStart(8)}`
    + `${"TS ref ns/op".padStart(14)}${"(median)".padStart(10)}${"(cpu)".padStart(8)}${"ref/wasm".padStart(10)}${"(cpu)".padStart(8)}`);
  for (const r of alloc.results) {
    if (r.name.startsWith("reference.")) continue;
    const ref = byName.get(`reference.${r.name}`);
    const ratio = ref ? ref.ns_per_op / r.ns_per_op : NaN;
    const cpuRatio = ref ? ref.cpu_ns_per_op / r.cpu_ns_per_op : NaN;
    console.log(`${r.name.padEnd(22)}${r.ns_per_op.toFixed(1).padStart(12)}${r.ns_per_op_median.toFixed(1).padStart(10)}${r.cpu_ns_per_op.toFixed(1).padStart(8)}`
      + `${(ref?.ns_per_op ?? NaN).toFixed(1).padStart(14)}${(ref?.ns_per_op_median ?? NaN).toFixed(1).padStart(10)}${(ref?.cpu_ns_per_op ?? NaN).toFixed(1).padStart(8)}`
      + `${ratio.toFixed(2).padStart(9)}x${cpuRatio.toFixed(2).padStart(7)}x`);
  }
  console.log("");
  const totalPerFrame = alloc.totalMetadataBytesPerFrame;
  console.log(`metadata: ${alloc.metadataBytesPerFrame.toFixed(3)} guest + ${alloc.hostMetadataBytesPerFrame.toFixed(3)} host = ${totalPerFrame.toFixed(3)} bytes per 4 KiB frame, all included (per-frame arrays in linear memory, as allocated)`);
  if (args.bootGib > 0) console.log(`boot: ${args.bootGib} GiB guest instantiated and booted in ${bootMs.toFixed(1)} ms`);
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} on ${cpus().length} cpus (other processes inflate wall-clock numbers)`);
  if (alloc.hostFaults !== 0) console.log(`warning: ${alloc.hostFaults} host faults during the allocator benchmarks`);

  let scen: ScenarioBenchResult[] = [];
  if (args.scenarioRounds > 0) {
    scen = await runScenarioBench(SCENARIO_FILE, args.scenarioRounds);
    const base = scen[0];
    console.log(`\nscenario speed: bench/scenarios/reporting-16g-60s.yaml, best of ${args.scenarioRounds} rounds (goal: well under 1 s for the reporting mode)`);
    console.log(`${"benchmark".padEnd(40)}${"wall s".padStart(8)}${"(median)".padStart(10)}${"sim s".padStart(8)}${"wall s/sim min".padStart(16)}${`vs ${base.summary.mode}`.padStart(9)}`);
    for (const r of scen) {
      console.log(`${r.name.padEnd(40)}${r.wall_s.toFixed(3).padStart(8)}${r.wall_s_median.toFixed(3).padStart(10)}${r.sim_s.toFixed(1).padStart(8)}`
        + `${r.wall_s_per_sim_min.toFixed(3).padStart(16)}${(r.wall_s / base.wall_s).toFixed(2).padStart(8)}x`);
    }
  }

  const flat: (BenchResult | Record<string, number | string>)[] = [...alloc.results,
    // bytes_per_frame is the all-included number issue 2 bounds; the parts follow
    { name: "metadata", bytes_per_frame: totalPerFrame, guest_bytes_per_frame: alloc.metadataBytesPerFrame, host_bytes_per_frame: alloc.hostMetadataBytesPerFrame }];
  if (args.bootGib > 0) flat.push({ name: `boot.${args.bootGib}gib`, ms: bootMs });
  for (const r of scen) flat.push({ name: r.name, wall_s: r.wall_s, wall_s_median: r.wall_s_median, sim_s: r.sim_s, wall_s_per_sim_min: r.wall_s_per_sim_min, rounds: r.rounds });
  if (args.json) {
    mkdirSync(dirname(args.json) || ".", { recursive: true });
    writeFileSync(args.json, JSON.stringify(flat, null, 2) + "\n");
  }
  const runId = started.toISOString().replace(/[:.]/g, "-");
  const dir = join("results", "bench", runId);
  mkdirSync(dir, { recursive: true });
  const meta = {
    load_average: loadavg(),
    run_id: runId, started: started.toISOString(), commit: gitCommit(), node: process.version,
    cpu: cpus()[0]?.model ?? "unknown", cpus: cpus().length, total_mem_bytes: totalmem(),
    guest_mib: args.mib, rounds: args.rounds, boot_gib: args.bootGib, scenario_rounds: args.scenarioRounds, wasm: "build/guest.wasm (release)",
    notes: "frames pre-backed in hstate (no host faults measured); init_on_alloc=1 in wasm and reference",
  };
  writeFileSync(join(dir, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  writeFileSync(join(dir, "summary.json"), JSON.stringify(flat, null, 2) + "\n");
  console.log(`\nwrote ${dir}/{meta.json, summary.json}${args.json ? ` and ${args.json}` : ""}`);
}

main().catch((e: unknown) => { console.error(e instanceof Error ? e.message : String(e)); process.exitCode = 1; });
