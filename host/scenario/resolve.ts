// SPDX-License-Identifier: MIT
// Modes (design §4) as transformations of a scenario's devices and policies, and the resolved,
// fully-defaulted scenario the engine runs: numbers with units in their names, one script per VM.
// Model: a mode changes only mechanisms (devices, features, host policies); the workload and the
// hypervisor commands of the timeline stay the same, so modes are comparable.

import { DEFAULTS } from "./defaults.js";
import { ScenarioError } from "./errors.js";
import { GuestFiles, planGuestFiles } from "./guest_files.js";
import { Action, Balloon, BUILTIN_MODES, BuiltinMode, CustomMode, Policies, Scenario, Vm } from "./schema.js";

/** Runs the scenario exactly as written (no mode transformation). */
export const AS_WRITTEN = "as-written";

export interface ResolvedReporting { order: number; delayNs: number; capacity: number }
export interface ResolvedBalloon {
  deflateOnOom: boolean;
  /** Stats polling interval; 0 = off. */
  statsIntervalNs: number;
  reporting: ResolvedReporting | null;
  hinting: boolean;
  pagePoison: boolean;
  mustTellHost: boolean;
}
export interface ResolvedVirtioMem { regionBytes: number; blockSizeBytes: number; requestedBytes: number; mode: "sbm" | "bbm" }
export interface ResolvedPmem { sizeBytes: number; dax: boolean }
export interface ResolvedAutoBalloon { intervalNs: number; keepFreeBytes: number; maxStepBytes: number; minSizeBytes: number }
export interface ResolvedVirtioMemAuto { intervalNs: number; freeHugeFraction: number; stepFraction: number }

export interface ResolvedVm {
  name: string;
  memoryBytes: number;
  vcpus: number;
  movableBytes: number;
  onlining: "online" | "online_kernel" | "online_movable";
  balloon: ResolvedBalloon | null;
  virtioMem: ResolvedVirtioMem | null;
  pmem: ResolvedPmem | null;
  autoBalloon: ResolvedAutoBalloon | null;
  virtioMemAuto: ResolvedVirtioMemAuto | null;
}

/** One step of a VM's script: the action, its index in the file's timeline, its earliest start. */
export interface ScriptStep { index: number; atNs: number | null; action: Action }

export interface ResolvedMode { name: string; base: BuiltinMode | typeof AS_WRITTEN }

export interface ResolvedScenario {
  name: string;
  description: string;
  seed: number;
  sampleNs: number;
  durationNs: number | null;
  host: { ramBytes: number; hostPageSizeBytes: number; swapBytes: number };
  vms: ResolvedVm[];
  costModel: Record<string, number>;
  mode: ResolvedMode;
  /** Per VM name, its actions in file order (an action without `vm` appears in every script). */
  scripts: Record<string, ScriptStep[]>;
  /** Per VM name, the guest files its script's file steps and builds use (planned once, here). */
  guestFiles: Record<string, GuestFiles>;
  /** Files the timeline names (replay CSVs), by the path as written; filled in by the caller. */
  files: Record<string, string>;
}

/** Paths of the files the timeline reads (relative to the scenario file). */
export function referencedFiles(s: Scenario): string[] {
  return [...new Set((s.timeline ?? []).flatMap((a) => (a.do === "replay" ? [a.file] : [])))];
}

/** Names `--mode` accepts for this scenario: as-written, the built-ins, and the file's custom modes. */
export function modeNames(s: Scenario): string[] {
  return [AS_WRITTEN, ...BUILTIN_MODES, ...(s.modes ?? []).flatMap((m) => (typeof m === "string" ? [] : [m.name]))];
}

/** The modes `compare` runs when none are given: the file's `modes`, else none. */
export function defaultModes(s: Scenario): string[] {
  return (s.modes ?? []).map((m) => (typeof m === "string" ? m : m.name));
}

/**
 * Applies mode `mode` to `s` and fills every default. Unknown mode → ScenarioError naming `flag`
 * (the option the mode came from: `--mode` for run, `--modes` for compare).
 */
export function resolveScenario(s: Scenario, mode: string, file: string, flag = "--mode"): ResolvedScenario {
  const valid = modeNames(s);
  if (!valid.includes(mode)) {
    throw new ScenarioError(file, [{ path: flag, value: mode, expected: `one of: ${valid.join(", ")}` }]);
  }
  const custom = (s.modes ?? []).find((m): m is CustomMode => typeof m !== "string" && m.name === mode);
  const base: BuiltinMode | typeof AS_WRITTEN = custom ? custom.from : (mode as BuiltinMode | typeof AS_WRITTEN);
  const vms = s.vms.map((vm, i) => resolveVm(applyMode(vm, base, custom, file, i)));
  const scripts: Record<string, ScriptStep[]> = {};
  for (const vm of s.vms) scripts[vm.name] = [];
  (s.timeline ?? []).forEach((action, index) => {
    for (const vm of action.vm !== undefined ? [action.vm] : s.vms.map((v) => v.name)) {
      scripts[vm].push({ index, atNs: action.at ?? null, action });
    }
  });
  // the guest's file table is fixed: a script that needs more files is refused here
  const guestFiles: Record<string, GuestFiles> = {};
  const issues = Object.entries(scripts).flatMap(([vm, steps]) => {
    const plan = planGuestFiles(vm, steps);
    guestFiles[vm] = plan.ids;
    return plan.issues;
  });
  if (issues.length > 0) throw new ScenarioError(file, issues);
  return {
    name: s.name ?? "scenario",
    description: s.description,
    seed: s.seed,
    sampleNs: s.sample ?? DEFAULTS.sampleNs,
    durationNs: s.duration ?? null,
    host: {
      ramBytes: s.host.ram,
      hostPageSizeBytes: (s.host.hostPageSize ?? DEFAULTS.hostPageSize) === "2MiB" ? 2 << 20 : 4096,
      swapBytes: s.host.swap ?? 0,
    },
    vms,
    costModel: { ...(s.costModel ?? {}) },
    mode: { name: mode, base },
    scripts,
    guestFiles,
    files: {},
  };
}

/** The mode's transformation of one VM's devices and policies (still in file form). */
function applyMode(vm: Vm, base: BuiltinMode | typeof AS_WRITTEN, custom: CustomMode | undefined, file: string, i: number): Vm {
  const devices = { ...(vm.devices ?? {}) };
  let policies: Policies = { ...(vm.policies ?? {}) };
  const balloon: Balloon = { ...(devices.balloon ?? {}) };
  const plain: Balloon = { ...balloon, freePageReporting: undefined, freePageHinting: false, deflateOnOom: false };
  const need = (what: "virtioMem" | "pmem") => {
    if (!devices[what]) throw new ScenarioError(file, [{ path: `vms[${i}].devices.${what}`, value: undefined, expected: `a ${what} device for mode ${base}` }]);
  };
  switch (base) {
    case AS_WRITTEN:
      return vm;
    case "none":
      delete devices.balloon;
      policies = {};
      break;
    case "balloon":
      devices.balloon = plain;
      policies = {};
      break;
    case "balloon-oom":
      devices.balloon = { ...plain, deflateOnOom: true };
      policies = {};
      break;
    case "reporting":
      devices.balloon = { ...plain, freePageReporting: balloon.freePageReporting ?? {} };
      policies = {};
      break;
    case "hinting":
      devices.balloon = { ...plain, freePageHinting: true };
      policies = {};
      break;
    case "auto-balloon":
      devices.balloon = { ...plain, deflateOnOom: balloon.deflateOnOom ?? false, statsInterval: balloon.statsInterval ?? DEFAULTS.autoBalloon.intervalNs };
      policies = { autoBalloon: policies.autoBalloon ?? {} };
      break;
    case "virtio-mem":
    case "virtio-mem-auto":
      need("virtioMem");
      delete devices.balloon;
      policies = base === "virtio-mem-auto" ? { virtioMemAuto: policies.virtioMemAuto ?? {} } : {};
      break;
    case "pmem":
      need("pmem");
      policies = {};
      break;
    case "hyperalloc":
      delete devices.balloon;
      policies = {};
      break;
  }
  if (custom?.balloon && devices.balloon) devices.balloon = { ...devices.balloon, ...custom.balloon };
  if (custom?.policies) policies = { ...policies, ...custom.policies };
  return { ...vm, devices, policies };
}

function resolveVm(vm: Vm): ResolvedVm {
  const b = vm.devices?.balloon;
  const m = vm.devices?.virtioMem;
  const p = vm.devices?.pmem;
  const ab = vm.policies?.autoBalloon;
  const vma = vm.policies?.virtioMemAuto;
  return {
    name: vm.name,
    memoryBytes: vm.memory,
    vcpus: vm.vcpus ?? 1,
    movableBytes: vm.movable ?? 0,
    onlining: vm.onlining ?? "online",
    balloon: b ? {
      deflateOnOom: b.deflateOnOom ?? false,
      statsIntervalNs: b.statsInterval ?? 0,
      reporting: b.freePageReporting ? {
        order: b.freePageReporting.order ?? DEFAULTS.reporting.order,
        delayNs: b.freePageReporting.delay ?? DEFAULTS.reporting.delayNs,
        capacity: b.freePageReporting.capacity ?? DEFAULTS.reporting.capacity,
      } : null,
      hinting: b.freePageHinting ?? false,
      pagePoison: b.pagePoison ?? DEFAULTS.balloon.pagePoison,
      mustTellHost: b.mustTellHost ?? DEFAULTS.balloon.mustTellHost,
    } : null,
    virtioMem: m ? {
      regionBytes: m.region,
      blockSizeBytes: m.blockSize ?? DEFAULTS.virtioMem.blockSizeBytes,
      requestedBytes: m.requested ?? 0,
      mode: m.mode ?? "sbm",
    } : null,
    pmem: p ? { sizeBytes: p.size, dax: p.dax ?? true } : null,
    autoBalloon: ab ? {
      intervalNs: ab.interval ?? DEFAULTS.autoBalloon.intervalNs,
      keepFreeBytes: ab.keepFree ?? DEFAULTS.autoBalloon.keepFreeBytes,
      maxStepBytes: ab.maxStep ?? DEFAULTS.autoBalloon.maxStepBytes,
      minSizeBytes: ab.minSize ?? DEFAULTS.autoBalloon.minSizeBytes,
    } : null,
    virtioMemAuto: vma ? {
      intervalNs: vma.interval ?? DEFAULTS.virtioMemAuto.intervalNs,
      freeHugeFraction: vma.freeHugeFraction ?? DEFAULTS.virtioMemAuto.freeHugeFraction,
      stepFraction: vma.stepFraction ?? DEFAULTS.virtioMemAuto.stepFraction,
    } : null,
  };
}
