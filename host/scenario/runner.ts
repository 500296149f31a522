// SPDX-License-Identifier: MIT
// The model engine: runs a resolved scenario on a Host. Each VM's script runs as simulated
// events (workload steps are guest entries and block the script for the time they take; waits
// block; the run ends at `duration` or when every script ended); metrics are sampled every
// `sample`. Model: what the engine cannot run yet (devices, some actions) is refused up front
// by unsupported(), with the reason, never silently skipped. Injected guest misbehaviour
// (`crash`) is counted by the device and in the summary, never thrown.

import * as abi from "../guest/abi.generated.js";
import type { GuestExports } from "../guest/exports.generated.js";
import { Host } from "../host.js";
import type { Vm } from "../vm.js";
import { addBalloon, Balloon, BalloonOptions, reportingBootParams } from "../virtio/balloon/index.js";
import { ANON_STEPS, planBuild } from "./build_workload.js";
import { Engine, HOST_COLUMNS, NotSupportedError, RunEvent, RunOptions, RunResult, VM_COLUMNS, VmSummary } from "./engine.js";
import { replayTrace } from "./replay.js";
import type { ResolvedScenario, ScriptStep } from "./resolve.js";
import type { Action } from "./schema.js";
import { LATER_MODES } from "./schema.js";
import { Block, VmDriver } from "./vm_driver.js";
import { fileOf, GuestFiles } from "./guest_files.js";
import { DEFAULTS } from "./defaults.js";
import { autoBalloonTarget } from "./auto_balloon.js";

/** Timeline actions the engine runs today; the others wait for their mechanisms. */
const SUPPORTED_ACTIONS: ReadonlySet<string> = new Set(["anon.touch", "anon.alloc", "anon.free", "file.read", "file.write",
  "kernel.alloc", "kernel.free", "fragment", "hold", "wait", "build", "replay", "drop-caches", "balloon", "stats-interval", "crash"]);
/**
 * The flusher (mm/page-writeback.c, fs/fs-writeback.c wb_workfn): wakes every
 * dirty_writeback_centisecs (500 = 5 s) while files are dirty and writes back (fsync) each file
 * first dirtied at least dirty_expire_centisecs (3000 = 30 s) ago. The guest itself only writes
 * back in balance_dirty_pages (above dirty_ratio) and kswapd; direct reclaim and drop_caches skip
 * dirty pages, so without this written data would stay dirty (and unreclaimable) for good.
 */
const DIRTY_WRITEBACK_NS = 5e9;
const DIRTY_EXPIRE_NS = 30e9;
/** Pages per workload call (the wl_* convention, assembly/workload/workload_exports.ts: 16 MiB). */
const CHUNK_PAGES = 4096;
/** keepEvery for keep = 0: the seeded phase in [0, 2^31 − 1) almost never falls below the guest's frame count, so nothing is kept. */
const KEEP_NONE = 0x7fffffff;
/** Guest process that owns the pages a `fragment` step keeps. */
const FRAGMENT_PID = 0;
// Guest processes of the other workloads (the guest has abi.NR_PROCS): anon.* steps, replay, and
// the build's jobs, job slot j running as BUILD_PID_BASE + j % NR_BUILD_PIDS (more parallel jobs
// than that share processes: the OOM killer then ends all jobs of the chosen one).
const ANON_PID = 1;
const REPLAY_PID = 2;
const BUILD_PID_BASE = 3;
const NR_BUILD_PIDS = abi.NR_PROCS - BUILD_PID_BASE;
/** Pages a `balloon-double-inflate` / `touch-inflated` crash re-sends or touches (most recently inflated first). */
const CRASH_PAGES = 16;
/** Stop a run that has not ended after this much simulated time (a stalled script is a bug): 30 days. */
const MAX_SIM_NS = 30 * 86400e9;
const PROGRESS_EVERY_SAMPLES = 64;

/** Why the engine cannot run `s` yet, or null. */
export function unsupportedReason(s: ResolvedScenario): string | null {
  if ((LATER_MODES as readonly string[]).includes(s.mode.base)) return `mode ${s.mode.base} is not in the engine yet`;
  for (const vm of s.vms) {
    if (vm.virtioMem) return `VM ${vm.name}: the virtio-mem device is not in the engine yet`;
    if (vm.pmem) return `VM ${vm.name}: the virtio-pmem device is not in the engine yet`;
    if (vm.virtioMemAuto) return `VM ${vm.name}: the virtio-mem resize policy is not in the engine yet`;
    if (vm.autoBalloon && !vm.balloon) return `VM ${vm.name}: the auto-balloon policy needs a balloon device`;
    if (vm.onlining !== "online") return `VM ${vm.name}: onlining ${vm.onlining} needs virtio-mem, not in the engine yet`;
  }
  for (const [vm, steps] of Object.entries(s.scripts)) {
    for (const st of steps) {
      if (!SUPPORTED_ACTIONS.has(st.action.do)) return `VM ${vm}: action ${st.action.do} (timeline[${st.index}]) is not in the engine yet`;
    }
  }
  return null;
}

export const modelEngine: Engine = {
  name: "guestmem-model",
  unsupported: unsupportedReason,
  runScenario: (s, opts) => new ScenarioRun(s, opts ?? {}).run(),
};

interface VmState {
  vm: Vm;
  /** The VM's virtio-balloon, when its mode has one. */
  balloon: Balloon | null;
  /** Hypervisor commands the mode could not apply (a balloon target without a balloon). */
  skipped: number;
  driver: VmDriver;
  /** Guest files of the script's file steps and builds. */
  files: GuestFiles;
  /** Guest files with dirty pages → when they were first dirtied (ns), for the flusher. */
  dirtySince: Map<number, number>;
  flusherArmed: boolean;
  /** Kernel memory of kernel.* steps, in allocation order (freed most recent first). */
  kernel: Block[];
  steps: ScriptStep[];
  workloadNs: number;
  done: boolean;
  /** The fragmenter kept pages (owned by FRAGMENT_PID until `anon.free` of everything). */
  fragmentKept: boolean;
  /** `crash` actions injected (misbehaviours sent, panics). */
  crashes: number;
}

class ScenarioRun {
  private readonly host: Host;
  private readonly states: VmState[] = [];
  private readonly events: RunEvent[] = [];
  private readonly columns: string[];
  private readonly readers: (() => number)[];
  private readonly rows: number[][] = [];
  private stopped = false;
  /** VM scripts not yet ended (checked after every event: a counter, not a scan). */
  private running = 0;

  constructor(private readonly s: ResolvedScenario, private readonly opts: RunOptions) {
    const reason = unsupportedReason(s);
    if (reason) throw new NotSupportedError(reason);
    this.host = new Host({ ramBytes: s.host.ramBytes, swapBytes: s.host.swapBytes, seed: s.seed, costs: s.costModel });
    for (const v of s.vms) {
      const rep = v.balloon?.reporting;
      // reporting's order is a boot parameter (it must be set before the driver registers)
      const params = rep ? reportingBootParams({ order: rep.order, delayMs: rep.delayNs / 1e6, capacity: rep.capacity }) : undefined;
      const vm = this.host.createVm({ name: v.name, memBytes: v.memoryBytes, nrCpus: v.vcpus, movableBytes: v.movableBytes,
        hostPageBytes: s.host.hostPageSizeBytes === 4096 ? 4096 : 2097152, params });
      let balloon: Balloon | null = null;
      if (v.balloon) {
        // pagePoison only offers the feature: the guest negotiates it with page poisoning or init_on_free
        const opts: BalloonOptions = { vmm: "qemu", mustTellHost: v.balloon.mustTellHost, pagePoison: v.balloon.pagePoison, deflateOnOom: v.balloon.deflateOnOom,
          statsPollingIntervalS: v.balloon.statsIntervalNs / 1e9, freePageReporting: rep !== null, freePageHint: v.balloon.hinting };
        balloon = addBalloon(vm, opts, { metrics: this.host.metrics });
      }
      const steps = s.scripts[v.name] ?? [];
      this.states.push({ vm, balloon, skipped: 0, driver: new VmDriver(), files: s.guestFiles[v.name],
        dirtySince: new Map(), flusherArmed: false, kernel: [], steps, workloadNs: 0, done: false, fragmentKept: false, crashes: 0 });
    }
    this.columns = ["t_s", ...HOST_COLUMNS, ...s.vms.flatMap((v) => VM_COLUMNS.map((m) => `${v.name}.${m}`))];
    // columns of mechanisms the host does not have (yet) read as 0
    this.readers = this.columns.slice(1).map((id) => (this.host.metrics.has(id) ? this.host.metrics.reader(id) : () => 0));
    this.estimatedEndS = estimateEndNs(s) / 1e9;
  }

  /** Expected end of the run (estimateEndNs), for progress bars. */
  private readonly estimatedEndS: number;

  run(): RunResult {
    const sim = this.host.sim;
    this.sampleEvery();
    this.s.vms.forEach((v, k) => { if (v.autoBalloon) this.autoBalloon(this.states[k], v.autoBalloon, v.memoryBytes); });
    this.running = this.states.length;
    for (const st of this.states) this.next(st, 0);
    let stopReason: string;
    if (this.s.durationNs !== null) {
      this.host.runUntil(this.s.durationNs);
      stopReason = this.states.every((st) => st.done) ? "duration reached (timeline ended)" : "duration reached";
    } else {
      while (this.running > 0 && sim.now < MAX_SIM_NS && sim.step()) { /* run events */ }
      if (this.running > 0) throw new Error(`a VM script stalled at t=${sim.now / 1e9} s`);
      this.host.runUntil(sim.now);
      stopReason = "timeline ended";
    }
    this.stopped = true;
    if (this.rows.length === 0 || this.rows[this.rows.length - 1][0] < sim.now / 1e9) this.sample();
    let valid = true;
    for (const st of this.states) {
      let r = 0;
      let o = 0;
      st.vm.enter("validate", (g) => { r = g.mm_validate(); o = g.mm_validate_owners(); });
      if (r !== abi.OK) { valid = false; stopReason += `; ${st.vm.name}: mm_validate failed (${r})`; }
      // page ownership (process anon lists and their blocks, file LRUs, kernel lists, vmstat)
      if (o !== abi.OK) { valid = false; stopReason += `; ${st.vm.name}: mm_validate_owners failed (${o})`; }
    }
    return { series: { columns: this.columns, rows: this.rows }, summary: this.summary(valid, stopReason), events: this.events,
      valid, stoppedAtS: sim.now / 1e9, stopReason };
  }

  // ---- sampling -------------------------------------------------------------------------------

  private sample(): void {
    const row = [this.host.sim.now / 1e9];
    for (const r of this.readers) row.push(r());
    this.rows.push(row);
    if (this.rows.length % PROGRESS_EVERY_SAMPLES === 0) {
      const now = this.host.sim.now / 1e9;
      // the estimate ignores the time memory work takes: never report an end already passed
      this.opts.onProgress?.(now, Math.max(now, this.estimatedEndS));
    }
  }

  private sampleEvery(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.sample();
      this.host.sim.after(this.s.sampleNs, tick, "sample");
    };
    this.host.sim.schedule(0, tick, "sample");
  }

  /** The auto-balloon policy loop (auto_balloon.ts) on one VM. */
  private autoBalloon(st: VmState, p: NonNullable<ResolvedScenario["vms"][number]["autoBalloon"]>, ramBytes: number): void {
    const b = st.balloon;
    if (!b) return;
    let target = ramBytes;
    const tick = (): void => {
      if (this.stopped) return;
      const free = b.control.guestStats().stats.free_memory_bytes;
      if (free !== undefined && free >= 0) {
        const next = autoBalloonTarget(p, ramBytes, target, b.control.query().actualBytes, free);
        if (next !== target) { target = next; b.control.setTargetBytes(target); }
      }
      this.host.sim.after(p.intervalNs, tick, "auto-balloon");
    };
    this.host.sim.after(p.intervalNs, tick, "auto-balloon");
  }

  // ---- scripts --------------------------------------------------------------------------------

  /** Schedules step `i` of a VM's script (not before its `at`). */
  private next(st: VmState, i: number): void {
    const sim = this.host.sim;
    if (st.vm.isHalted) return; // a `guest-panic` crash ended the script
    if (i >= st.steps.length) {
      if (!st.done) { st.done = true; this.running--; }
      return;
    }
    const step = st.steps[i];
    sim.schedule(Math.max(sim.now, step.atNs ?? 0), () => this.exec(st, i), `${st.vm.name}:${step.action.do}`);
  }

  /** Runs `fn` as a guest entry as soon as the vCPU is free, then `then` (at the entry's start). */
  private guest(st: VmState, label: string, fn: (g: GuestExports) => void, then?: () => void, countWork = true, atNs = this.host.sim.now): void {
    const sim = this.host.sim;
    const run = (): void => {
      if (st.vm.isHalted) return;
      if (st.vm.busyUntilNs > sim.now) { sim.schedule(st.vm.busyUntilNs, run, label); return; }
      const ns = st.vm.enter(label, fn);
      if (countWork) st.workloadNs += ns;
      then?.();
    };
    sim.schedule(Math.max(atNs, sim.now), run, label);
  }

  /** File `file` got dirty pages: the flusher writes them back once they expire. */
  private dirtied(st: VmState, file: number): void {
    if (!st.dirtySince.has(file)) st.dirtySince.set(file, this.host.sim.now);
    if (st.flusherArmed) return;
    st.flusherArmed = true;
    const sim = this.host.sim;
    const tick = (): void => {
      if (this.stopped || st.vm.isHalted) { st.flusherArmed = false; return; }
      this.guest(st, "flusher", (g) => {
        for (const [f, since] of st.dirtySince) {
          if (sim.now - since < DIRTY_EXPIRE_NS) continue;
          g.wl_file_sync(f);
          st.dirtySince.delete(f);
        }
      }, () => {
        if (st.dirtySince.size > 0) sim.after(DIRTY_WRITEBACK_NS, tick, "flusher");
        else st.flusherArmed = false;
      }, false);
    };
    sim.after(DIRTY_WRITEBACK_NS, tick, "flusher");
  }

  /** A guest file call that got fewer pages than asked: the page cache allocation failed after reclaim and OOM. */
  private fileCall(st: VmState, asked: number, done: number): void {
    if (done < asked) st.driver.oomFails++;
  }

  /** Continue the script once the vCPU has finished the entry just made. */
  private continueAfterEntry(st: VmState, i: number): () => void {
    return () => this.host.sim.schedule(Math.max(this.host.sim.now, st.vm.busyUntilNs), () => this.next(st, i + 1), "script");
  }

  private exec(st: VmState, i: number): void {
    const sim = this.host.sim;
    const { index, action: a } = st.steps[i];
    this.events.push({ t_s: sim.now / 1e9, vm: st.vm.name, index, do: a.do, ...(a.label !== undefined ? { label: a.label } : {}) });
    const d = st.driver;
    const cont = this.continueAfterEntry(st, i);
    switch (a.do) {
      case "wait":
      case "hold":
        if (a.do === "hold") st.workloadNs += a.for;
        sim.after(a.for, () => this.next(st, i + 1), a.do);
        return;
      case "anon.touch":
      case "anon.alloc":
        this.guest(st, a.do, (g) => { d.allocAnon(g, a.size, a.do === "anon.touch", ANON_PID); }, cont);
        return;
      case "anon.free":
        this.guest(st, a.do, (g) => {
          d.freeAnon(g, ANON_PID, a.size ?? Infinity);
          // "all anonymous memory" includes what the fragmenter kept: its process exits
          if (a.size === undefined && st.fragmentKept) { g.wl_process_exit(FRAGMENT_PID); st.fragmentKept = false; }
        }, cont);
        return;
      case "fragment":
        this.fragment(st, a, index, cont);
        return;
      case "crash":
        this.crash(st, a.kind, i);
        return;
      case "kernel.alloc":
        this.guest(st, a.do, (g) => { st.kernel.push(...d.alloc(g, a.size, abi.GFP_KERNEL, a.order ?? 0)); }, cont);
        return;
      case "kernel.free":
        this.guest(st, a.do, (g) => { d.free(g, st.kernel, a.size ?? Infinity); }, cont);
        return;
      case "file.read":
      case "file.write": {
        // the guest's page cache (mm/pagecache.ts): a read of N pages hits the file's cached
        // pages and reads the rest from disk; a write dirties N pages, the flusher writes them back
        const f = fileOf(st.files, a.file);
        const n = Math.ceil(a.size / abi.PAGE_SIZE);
        this.guest(st, a.do, (g) => { this.fileCall(st, n, a.do === "file.read" ? g.wl_file_read(f, n) : g.wl_file_write(f, n)); }, cont);
        if (a.do === "file.write") this.dirtied(st, f);
        return;
      }
      case "drop-caches":
        // echo 3 > drop_caches: clean page cache and reclaimable slab; dirty pages stay (no sync)
        this.guest(st, a.do, (g) => { g.mm_drop_caches(abi.DROP_PAGECACHE | abi.DROP_SLAB); }, cont);
        return;
      case "build":
        this.build(st, a, index, () => this.next(st, i + 1));
        return;
      case "replay":
        this.replay(st, a, () => this.next(st, i + 1));
        return;
      case "balloon":
        // QMP balloon: the driver moves towards the target in the background
        if (st.balloon) st.balloon.control.setTargetBytes(a.target); else st.skipped++;
        this.next(st, i + 1);
        return;
      case "stats-interval":
        if (st.balloon) st.balloon.control.setStatsPollingInterval(a.every / 1e9); else st.skipped++;
        this.next(st, i + 1);
        return;
      default:
        throw new NotSupportedError(`action ${a.do}`); // unsupportedReason() refuses these before the run
    }
  }

  // ---- workloads ------------------------------------------------------------------------------

  private build(st: VmState, a: Extract<Action, { do: "build" }>, index: number, done: () => void): void {
    const sim = this.host.sim;
    const b = a.build;
    const units = planBuild({
      jobs: b.jobs, units: b.units, unitTimeNs: b.unitTime, unitAnonBytes: b.unitAnon, unitReadBytes: b.unitRead ?? 0,
      unitWriteBytes: b.unitWrite ?? 0, jitter: b.jitter ?? DEFAULTS.build.jitter, linkTimeNs: b.linkTime ?? 0, linkAnonBytes: b.linkAnon ?? 0,
    }, this.host.rng.fork(`build:${st.vm.name}:${index}`));
    const d = st.driver;
    const t0 = sim.now;
    let nextUnit = 0;
    let running = 0;
    // one unit (or the link step): read, raise anon in ANON_STEPS steps, free, write. Its phases
    // run in order, each one compile slice after the previous phase's guest entry finished: a
    // job waits for its own memory work (faults, refaults, reclaim) and for a vCPU busy with
    // other guest work (reporting, balloon), so that work lengthens the build (guest slowdown).
    const { sourceFiles, objectFiles } = st.files;
    // job slots: a unit runs as its slot's guest process while it holds memory
    const slots = Array.from({ length: Math.max(1, Math.min(b.jobs, units.length)) }, (_, j) => j);
    const runUnit = (k: number, slot: number, timeNs: number, anonBytes: number, readBytes: number, writeBytes: number, after: () => void): void => {
      let pages = 0; // anonymous pages this unit faulted in (its process frees as many at the end)
      const pid = BUILD_PID_BASE + (slot % NR_BUILD_PIDS);
      let gen = -1; // the process's OOM kill count when the unit started; a change ends the unit's work
      const dead = (g: GuestExports): boolean => {
        if (gen < 0) gen = g.wl_proc_killed(pid);
        return g.wl_proc_killed(pid) !== gen;
      };
      const slice = timeNs / ANON_STEPS;
      const phases: { label: string; computeNs: number; fn: (g: GuestExports) => void }[] = [];
      if (readBytes > 0) phases.push({ label: "build:read", computeNs: 0, fn: (g) => { if (!dead(g)) this.readSources(st, g, sourceFiles[k % sourceFiles.length], readBytes); } });
      for (let k = 0; k < ANON_STEPS; k++) {
        phases.push({ label: "build:anon", computeNs: k === 0 ? 0 : slice,
          fn: (g) => { if (!dead(g)) pages += d.allocAnon(g, anonBytes / ANON_STEPS, true, pid); } });
      }
      phases.push({ label: "build:end", computeNs: slice, fn: (g) => {
        // a killed compiler's memory is gone already, and it writes no object (the build goes on
        // like make -k); jobs sharing a process free its newest pages, as many as they took
        if (dead(g)) return;
        if (pages > 0) d.freeAnon(g, pid, pages * abi.PAGE_SIZE);
        if (writeBytes <= 0) return;
        // the object file: new dirty page cache (appended, so objects accumulate as in a real
        // build until reclaim or drop_caches), written back by the flusher
        const f = objectFiles[k % objectFiles.length];
        const n = Math.ceil(writeBytes / abi.PAGE_SIZE);
        this.fileCall(st, n, g.wl_file_append(f, n));
        this.dirtied(st, f);
      } });
      const phase = (k: number, atNs: number): void => {
        this.guest(st, phases[k].label, phases[k].fn, () => {
          const endNs = st.vm.busyUntilNs; // this entry's end
          if (k + 1 < phases.length) phase(k + 1, endNs + phases[k + 1].computeNs);
          else sim.schedule(endNs, after, "build:unit-done");
        }, false, atNs);
      };
      phase(0, sim.now);
    };
    const link = (): void => {
      runUnit(units.length, 0, b.linkTime ?? 0, b.linkAnon ?? 0, 0, 0, () => { st.workloadNs += sim.now - t0; done(); });
    };
    const startNext = (): void => {
      if (nextUnit >= units.length) { if (running === 0) link(); return; }
      const k = nextUnit++;
      const u = units[k];
      running++;
      const slot = slots.shift() as number; // the lowest free slot
      runUnit(k, slot, u.timeNs, u.anonBytes, u.readBytes, u.writeBytes, () => {
        running--;
        slots.push(slot);
        slots.sort((x, y) => x - y);
        startNext();
      });
    };
    for (let j = 0; j < Math.min(b.jobs, units.length); j++) startNext();
  }

  /**
   * A unit reads `bytes` of sources not read before from guest file `f`. The guest's files have
   * no page index (mm/pagecache.ts: a read of N pages hits min(N, cached) pages), so fresh pages
   * are read by asking for the file's cached pages plus the new ones: the cached ones are hits
   * (the headers a unit shares with earlier ones), the rest misses that grow the page cache, as
   * every unit's own source does in a real build (while the file has shadow entries of evicted
   * pages, the guest counts such misses as refaults). One call per CHUNK_PAGES new pages.
   */
  private readSources(st: VmState, g: GuestExports, f: number, bytes: number): void {
    for (let left = Math.ceil(bytes / abi.PAGE_SIZE); left > 0; left -= CHUNK_PAGES) {
      const n = Math.min(left, CHUNK_PAGES);
      const cached = g.wl_file_cached(f);
      const done = g.wl_file_read(f, cached + n);
      this.fileCall(st, cached + n, done);
      if (done < cached + n) return;
    }
  }

  /**
   * The guest's fragmenter (assembly/workload/fragment.ts): allocates `size` in order-0 movable
   * pages, frees them in a seeded random order except about `keep` of them, spread evenly (one
   * page in round(1/keep) by pfn), so most pageblocks it touched keep pinned pages.
   */
  private fragment(st: VmState, a: Extract<Action, { do: "fragment" }>, index: number, cont: () => void): void {
    const keep = a.keep ?? DEFAULTS.fragmentKeep;
    const keepEvery = keep > 0 ? Math.max(1, Math.round(1 / keep)) : KEEP_NONE;
    const seed = this.host.rng.fork(`fragment:${st.vm.name}:${index}`).nextU32();
    const pages = Math.ceil(a.size / abi.PAGE_SIZE);
    this.guest(st, "fragment", (g) => {
      const kept = g.wl_fragment(FRAGMENT_PID, pages, keepEvery, seed, false);
      if (kept > 0) st.fragmentKept = true;
    }, cont);
  }

  /**
   * Injected guest misbehaviour (the hostile-guest cases of tests/balloon): the device counts it
   * in its *_fails / inflate_twice_pfns / inflated_touch_count metrics and goes on. A kind that
   * finds nothing to act on (no balloon, an empty balloon) counts as a skipped action.
   */
  private crash(st: VmState, kind: Extract<Action, { do: "crash" }>["kind"], i: number): void {
    if (kind === "guest-panic") {
      // pvpanic: the vCPU stops for good; memory stays; the rest of this VM's script never runs
      st.crashes++;
      st.skipped += st.steps.length - i - 1;
      st.vm.halt();
      if (!st.done) { st.done = true; this.running--; }
      return;
    }
    const cont = this.continueAfterEntry(st, i);
    if (!st.balloon) { st.skipped++; this.next(st, i + 1); return; }
    const next = st.vm.guest.views.next;
    const inject = (g: GuestExports): number => {
      switch (kind) {
        case "balloon-bad-pfn": return g.balloon_inject_bad_pfns();
        case "balloon-double-inflate": return g.balloon_inject_double_inflate(CRASH_PAGES);
        case "descriptor-corrupt": return g.balloon_inject_corrupt_descriptor();
        case "touch-inflated": {
          // writes to pages still in the balloon (no deflate first): the device's trap counts them
          let n = 0;
          for (let pfn = g.balloon_list_head(); pfn !== abi.NIL && n < CRASH_PAGES; pfn = next[pfn]) {
            g.hw_access_range(pfn, 1, true);
            n++;
          }
          return n;
        }
      }
    };
    this.guest(st, `crash:${kind}`, (g) => { if (inject(g) > 0) st.crashes++; else st.skipped++; }, cont);
  }

  private replay(st: VmState, a: Extract<Action, { do: "replay" }>, done: () => void): void {
    const sim = this.host.sim;
    const trace = replayTrace(this.s.files, a);
    if (trace === undefined) throw new NotSupportedError(`replay file ${a.file} was not provided to the engine`);
    const d = st.driver;
    const t0 = sim.now;
    trace.tS.forEach((t, k) => {
      const want = trace.bytes[k];
      const last = k === trace.tS.length - 1;
      this.guest(st, "replay", (g) => {
        // what the replayed process holds now (the OOM killer may have taken it)
        const have = g.wl_proc_anon_pages(REPLAY_PID) * abi.PAGE_SIZE;
        if (want > have) d.allocAnon(g, want - have, true, REPLAY_PID);
        else if (want < have) d.freeAnon(g, REPLAY_PID, have - want);
      }, last ? () => { st.workloadNs += sim.now - t0; done(); } : undefined, false, t0 + t * 1e9);
    });
    if (trace.tS.length === 0) done();
  }

  // ---- summary --------------------------------------------------------------------------------

  private summary(valid: boolean, stopReason: string) {
    const col = (id: string) => this.columns.indexOf(id);
    const peak = (id: string) => this.rows.reduce((m, r) => Math.max(m, r[col(id)]), 0);
    const vms: Record<string, VmSummary> = {};
    for (const st of this.states) {
      const vs = st.vm.guest.views.vmstat;
      const n = st.vm.name;
      const b = st.balloon;
      vms[n] = {
        host_rss_bytes: st.vm.rssBytes,
        peak_host_rss_bytes: peak(`${n}.rss_bytes`),
        guest_total_bytes: vs[abi.VM_MANAGED_PAGES] * abi.PAGE_SIZE,
        guest_free_bytes: vs[abi.VM_NR_FREE_PAGES] * abi.PAGE_SIZE,
        balloon_actual_bytes: st.balloon ? st.balloon.device.actualPages * abi.PAGE_SIZE : 0,
        virtio_mem_plugged_bytes: 0,
        // faults on frames the host had discarded (reporting, balloon) or swapped out
        refaults: st.vm.memory.stats.refaults + st.vm.memory.stats.faultsSwapIn,
        workload_s: st.workloadNs / 1e9,
        cpu_busy_s: st.vm.stats.cpuBusyNs / 1e9,
        oom_kills: vs[abi.VM_OOM_KILL],
        skipped_actions: st.skipped,
        swap_bytes: st.vm.memory.stats.swappedFrames * abi.PAGE_SIZE,
        page_cache_bytes: vs[abi.VM_NR_FILE] * abi.PAGE_SIZE,
        workload_alloc_fails: st.driver.oomFails,
        // guest accesses the host refused (the guest's fault path counts them)
        access_fails: vs[abi.VM_FAULT_REFUSED],
        free_huge_bytes: freeHugeBytes(st.vm.guest.exports),
        // injected misbehaviour and how the device counted it
        crashes: st.crashes,
        guest_panicked: st.vm.isHalted ? 1 : 0,
        balloon_fails: b ? BALLOON_FAIL_METRICS.reduce((sum, m) => sum + b.device.metric(m), 0) : 0,
        balloon_inflate_twice_pfns: b ? b.device.metric("inflate_twice_pfns") : 0,
        balloon_inflated_touches: b ? b.device.metric("inflated_touch_count") : 0,
      };
    }
    return {
      scenario: this.s.name,
      mode: this.s.mode.name,
      seed: this.s.seed,
      valid,
      stopped_at_s: this.host.sim.now / 1e9,
      stop_reason: stopReason,
      host: { rss_bytes: this.host.rssBytes, peak_rss_bytes: peak("host.rss_bytes"), swap_bytes: this.host.swapUsedBytes,
        oom_events: this.host.oomEvents.value },
      vms,
    };
  }
}

/** The balloon device's `*_fails` counters (host/virtio/balloon/metrics.ts). */
const BALLOON_FAIL_METRICS = ["inflate_fails", "deflate_fails", "pfn_fails", "stats_fails"] as const;

/**
 * Free guest memory in blocks of at least pageblock order (2 MiB): what a huge page allocation
 * can get without compaction (/proc/buddyinfo columns 9 and 10). Reads the buddy's counters only.
 */
function freeHugeBytes(g: GuestExports): number {
  let pages = 0;
  for (let z = 0; z < abi.NR_ZONES; z++) {
    for (let o = abi.PAGEBLOCK_ORDER; o <= abi.MAX_ORDER; o++) pages += g.mm_nr_free(z, o, abi.NR_MIGRATETYPES) * 2 ** o;
  }
  return pages * abi.PAGE_SIZE;
}

/**
 * When the run is expected to end (ns), for progress bars: `duration` if set, else the latest VM
 * script end counting `at`, waits and holds, build time (units × unitTime ÷ jobs, at least one
 * unit, plus the link) and the last row of replayed traces. Guest memory work is not counted (it
 * is short next to these), so the run may end a little later.
 */
export function estimateEndNs(s: ResolvedScenario): number {
  if (s.durationNs !== null) return s.durationNs;
  let end = 0;
  for (const steps of Object.values(s.scripts)) {
    let t = 0;
    for (const { atNs, action: a } of steps) {
      t = Math.max(t, atNs ?? 0);
      if (a.do === "wait" || a.do === "hold") t += a.for;
      else if (a.do === "build") {
        const b = a.build;
        t += Math.max(b.unitTime, (b.units * b.unitTime) / b.jobs) + (b.linkTime ?? 0);
      } else if (a.do === "replay") t += replayLengthNs(s, a);
      else if (a.do === "crash" && a.kind === "guest-panic") break;
    }
    end = Math.max(end, t);
  }
  return end;
}

function replayLengthNs(s: ResolvedScenario, a: Extract<Action, { do: "replay" }>): number {
  try {
    const tS = replayTrace(s.files, a)?.tS ?? [];
    return tS.length ? tS[tS.length - 1] * 1e9 : 0;
  } catch {
    return 0; // the run itself reports the bad file
  }
}
