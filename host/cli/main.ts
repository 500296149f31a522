// SPDX-License-Identifier: MIT
// `guestmem`: the command-line interface (commander). Thin: parses arguments and hands over to
// run.ts / report.ts. Exit codes: 0 ok, 1 a run failed or is invalid, 2 bad input (arguments or
// scenario file). main() takes argv and the output streams, so tests call it in-process.

import { Command, CommanderError } from "commander";
import { ConfigError } from "../guest/errors.js";
import type { Engine } from "../scenario/engine.js";
import { cliEngine } from "./engine.js";
import { scenarioJsonSchema } from "../scenario/schema.js";
import { benchCommand } from "./bench.js";
import { json, writeAtomic } from "./files.js";
import { CliIo, processIo, UsageError } from "./io.js";
import { reportCommand } from "./report.js";
import { compareCommand, loadScenarioFile, runCommand, TraceOptions } from "./run.js";
import { GUESTMEM_VERSION } from "./version.js";
import { resolveScenario, AS_WRITTEN, modeNames } from "../scenario/resolve.js";

export const EXIT_OK = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

export interface CliDeps { engine?: Engine }

interface TraceFlags { trace?: string; align?: string; baseline?: string; traceVm?: string; traceFrom?: string }

function traceOptions(f: TraceFlags): TraceOptions | undefined {
  if (!f.trace) return undefined;
  const fromS = f.traceFrom === undefined ? undefined : Number(f.traceFrom);
  if (fromS !== undefined && !(fromS >= 0)) throw new UsageError(`--trace-from: got ${JSON.stringify(f.traceFrom)}, expected seconds ≥ 0`);
  return { file: f.trace, align: f.align, baseline: f.baseline, vm: f.traceVm, fromS };
}

const addTraceOptions = (c: Command) => c
  .option("--trace <measured.csv>", "overlay a measured host RSS series (t_s, phase, vmrss_kib) and print how far the simulation is from it")
  .option("--align <phase>", "trace phase aligned with the scenario action of the same label", "free")
  .option("--baseline <phase>", "phase whose median RSS is subtracted on each side (VMM + boot footprint)", "idle")
  .option("--trace-vm <vm>", "compare this VM's host RSS (default: the host total)")
  .option("--trace-from <s>", "compare from this many seconds before the aligned event", "5");

export async function main(argv: string[], io: CliIo = processIo(), deps: CliDeps = {}): Promise<number> {
  const engine = deps.engine ?? cliEngine;
  let code = EXIT_OK;
  const program = new Command()
    .name("guestmem")
    .description("Deterministic model of hypervisor/guest memory: run scenarios, compare mechanisms, report.")
    .version(GUESTMEM_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError("(run with --help for usage)");

  addTraceOptions(program.command("run")
    .description("run one scenario in one mode; writes series.csv, summary.json, meta.json")
    .argument("<scenario>", "scenario file (.yaml, .yml or .json)")
    .option("-m, --mode <mode>", `mode to apply (default: ${AS_WRITTEN}, the scenario as written)`)
    .option("-o, --out <dir>", "output directory (default: results/<scenario>/<mode>)")
    .option("-q, --quiet", "no progress bar"))
    .action(async (file: string, o: TraceFlags & { mode?: string; out?: string; quiet?: boolean }) => {
      code = await runCommand(file, o.mode, engine, io, { outDir: o.out, progress: !o.quiet, trace: traceOptions(o) }, argv);
    });

  addTraceOptions(program.command("compare")
    .description("run one scenario under several modes and print one comparison table")
    .argument("<scenario>", "scenario file")
    .option("--modes <a,b,c>", "comma-separated modes (default: the scenario's `modes`)")
    .option("-o, --out <dir>", "output directory, one subdirectory per mode (default: results/<scenario>)")
    .option("--report <file.html>", "also write the HTML report")
    .option("--skip-unsupported", "leave out (and list) modes the engine cannot run yet instead of failing")
    .option("-q, --quiet", "no progress bar"))
    .action(async (file: string, o: TraceFlags & { modes?: string; out?: string; report?: string; quiet?: boolean; skipUnsupported?: boolean }) => {
      const modes = o.modes?.split(",").map((m) => m.trim()).filter((m) => m !== "");
      if (o.modes !== undefined && (!modes || modes.length === 0)) throw new UsageError("--modes: expected a comma-separated list of modes");
      code = await compareCommand(file, engine, io, { modes, outDir: o.out, report: o.report, progress: !o.quiet,
        trace: traceOptions(o), skipUnsupported: o.skipUnsupported }, argv);
    });

  program.command("report")
    .description("write one self-contained HTML report from run or compare output directories")
    .argument("<dir...>", "directories written by run or compare")
    .requiredOption("-o, --out <file.html>", "report file to write")
    .option("--title <title>", "report title")
    .action((dirs: string[], o: { out: string; title?: string }) => {
      code = reportCommand(dirs, o.out, o.title, io);
    });

  program.command("validate")
    .description("check scenario files against the schema; prints what each one runs")
    .argument("<scenario...>", "scenario files")
    .action((files: string[]) => {
      for (const f of files) {
        const { scenario: s } = loadScenarioFile(f);
        for (const m of s.modes ?? []) resolveScenario(s, typeof m === "string" ? m : m.name, f);
        io.out(`ok: ${f}: ${s.vms.length} VM(s), ${(s.timeline ?? []).length} action(s), modes: ${(s.modes ?? []).map((m) => (typeof m === "string" ? m : m.name)).join(", ") || AS_WRITTEN}\n`);
      }
    });

  program.command("modes")
    .description("list the modes a scenario accepts (built-in and its own)")
    .argument("<scenario>", "scenario file")
    .action((file: string) => { io.out(modeNames(loadScenarioFile(file).scenario).join("\n") + "\n"); });

  program.command("schema")
    .description("print the scenario JSON Schema (the one scenarios/schema.json holds)")
    .option("-o, --out <file>", "write it to a file instead")
    .action((o: { out?: string }) => {
      const text = json(scenarioJsonSchema());
      if (o.out) writeAtomic(o.out, text); else io.out(text);
    });

  program.command("bench")
    .description("run the engine benchmarks (build/bench.mjs); extra arguments are passed on")
    .argument("[args...]", "arguments for the benchmark runner")
    .allowUnknownOption()
    .action((args: string[]) => { code = benchCommand(args, io); });

  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return EXIT_OK;
      return EXIT_BAD_INPUT;
    }
    if (e instanceof ConfigError || e instanceof UsageError) {
      io.err(`guestmem: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    io.err(`guestmem: failed: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT_RUN_FAILED;
  }
}

// Entry point when run as the bundled CLI (build/cli.mjs), not when imported by tests.
const entry = process.argv[1] ?? "";
if (/(^|[\\/])(cli\.mjs|guestmem)$/.test(entry)) {
  main(process.argv.slice(2)).then((c) => { process.exitCode = c; });
}
