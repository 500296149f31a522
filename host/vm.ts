// SPDX-License-Identifier: MIT
// One virtual machine: a guest instance, its memory as the host sees it, its vCPU time and the
// VM-exit handlers (GuestImports). Model: one vCPU timeline per VM (nrCpus only sizes the
// guest's per-cpu lists); every guest entry runs to completion and keeps the vCPU busy.

import * as abi from "./guest/abi.generated.js";
import { Guest, GuestImports, MAX_GUEST_FRAMES } from "./guest/guest.js";
import { GuestExports } from "./guest/exports.generated.js";
import { ConfigError, InvariantError, check } from "./guest/errors.js";
import { CostModel, writeGuestCosts } from "./cost-model.js";
import { GuestMemory, HostBacking, HostPageBytes, HOST_PAGE_4K, HOST_PAGE_2M } from "./memory/guest_memory.js";
import { Simulation, EventHandle } from "./sim/simulation.js";
import { Rng } from "./sim/rng.js";
import { InterruptSink, NULL_BUS, VirtioBusLike } from "./virtio/port.js";

/** What Host.createVm accepts. */
export interface VmConfig {
  /** Lower-case name, also the metric scope ("<name>.rss_bytes"). */
  name: string;
  /** Guest RAM in bytes: a multiple of the host page size, >= 4 MiB. */
  memBytes: number;
  /** Host backing page size: 4096 (default) or 2097152 (THP / hugetlb-like). */
  hostPageBytes?: HostPageBytes;
  /** vCPUs (the guest's per-cpu page lists); default 1. */
  nrCpus?: number;
  /** Bytes at the top of guest RAM that form ZONE_MOVABLE (movablecore=); default 0. */
  movableBytes?: number;
  /** Seed of the guest's PRNG and of this VM's host-side streams; default derived from the host seed. */
  seed?: number;
  /** Boot parameters by abi PARAM_* name without the prefix (e.g. PAGE_REPORTING_ORDER) or numeric id. */
  params?: Readonly<Record<string, number>>;
}

/** A validated VmConfig. */
export interface ResolvedVmConfig {
  readonly name: string;
  readonly memBytes: number;
  readonly frames: number;
  readonly hostPageBytes: HostPageBytes;
  readonly nrCpus: number;
  readonly movableBytes: number;
  readonly seed: number;
  readonly bootParams: ReadonlyArray<readonly [number, number]>;
}

const NAME_RE = /^[a-z][a-z0-9_-]*$/;
/** guest_init refuses fewer than 1024 frames (assembly/index.ts): the RAM window and one max-order block. */
export const MIN_GUEST_BYTES = 1024 * abi.PAGE_SIZE;
/**
 * Largest guest: what one wasm32 memory holds (MAX_GUEST_FRAMES), and what the guest's runtime
 * can allocate as one block: AssemblyScript's TLSF refuses blocks >= 1 GiB (BLOCK_MAXSIZE) and
 * the versions array takes 4 bytes per frame, so frames < 2^28 (1 TiB of guest RAM).
 */
export const MAX_VM_FRAMES = Math.min(MAX_GUEST_FRAMES, Math.floor(((1 << 30) - 64) / 4));
/** Largest guest RAM in bytes: MAX_VM_FRAMES rounded down to whole 2 MiB pages (either host page size divides it). */
export const MAX_VM_BYTES = Math.floor(MAX_VM_FRAMES / 512) * 512 * abi.PAGE_SIZE;

/** Validates `cfg` (ConfigError names the field, value and expectation). */
export function resolveVmConfig(cfg: VmConfig, defaultSeed: number): ResolvedVmConfig {
  if (typeof cfg.name !== "string" || !NAME_RE.test(cfg.name) || cfg.name === "host") {
    throw new ConfigError("name", cfg.name, "a lower-case name matching [a-z][a-z0-9_-]* other than 'host'");
  }
  const hostPageBytes = cfg.hostPageBytes ?? HOST_PAGE_4K;
  if (hostPageBytes !== HOST_PAGE_4K && hostPageBytes !== HOST_PAGE_2M) {
    throw new ConfigError("hostPageBytes", hostPageBytes, "4096 or 2097152");
  }
  const mem = cfg.memBytes;
  if (typeof mem !== "number" || !Number.isInteger(mem) || mem <= 0) {
    throw new ConfigError("memBytes", mem, "a positive integer number of bytes");
  }
  if (mem % hostPageBytes !== 0) {
    throw new ConfigError("memBytes", mem, `a multiple of the host page size (${hostPageBytes} bytes)`);
  }
  if (mem < MIN_GUEST_BYTES) throw new ConfigError("memBytes", mem, `>= ${MIN_GUEST_BYTES} bytes (4 MiB)`);
  if (mem > MAX_VM_BYTES) throw new ConfigError("memBytes", mem, `<= ${MAX_VM_BYTES} bytes (what one wasm32 guest instance can describe)`);
  const frames = mem / abi.PAGE_SIZE;
  const nrCpus = cfg.nrCpus ?? 1;
  if (!Number.isInteger(nrCpus) || nrCpus < 1 || nrCpus > 1024) throw new ConfigError("nrCpus", nrCpus, "an integer in [1, 1024]");
  const movableBytes = cfg.movableBytes ?? 0;
  if (!Number.isInteger(movableBytes) || movableBytes < 0 || movableBytes % abi.PAGE_SIZE !== 0 || movableBytes >= mem) {
    throw new ConfigError("movableBytes", movableBytes, `a multiple of ${abi.PAGE_SIZE} in [0, memBytes)`);
  }
  const seed = cfg.seed ?? defaultSeed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ConfigError("seed", seed, "an integer in [0, 2^32)");

  const params = new Map<number, number>();
  params.set(abi.PARAM_NR_CPUS, nrCpus);
  if (movableBytes > 0) params.set(abi.PARAM_MOVABLE_START_PFN, frames - movableBytes / abi.PAGE_SIZE);
  for (const [key, value] of Object.entries(cfg.params ?? {})) {
    const id = paramId(key);
    if (typeof value !== "number" || !Number.isFinite(value)) throw new ConfigError(`params.${key}`, value, "a finite number");
    params.set(id, value);
  }
  return { name: cfg.name, memBytes: mem, frames, hostPageBytes, nrCpus, movableBytes, seed, bootParams: [...params] };
}

/** Numeric id of boot parameter `key` ("PAGE_REPORTING_ORDER", "page_reporting_order" or "5"). */
export function paramId(key: string): number {
  const ids = abi as unknown as Record<string, number>;
  const id = /^\d+$/.test(key) ? Number(key) : ids[`PARAM_${key.toUpperCase()}`];
  if (id === undefined || !(id >= 0 && id < abi.NR_PARAMS)) {
    const known = Object.keys(ids).filter((k) => k.startsWith("PARAM_")).map((k) => k.slice(6));
    throw new ConfigError(`params.${key}`, key, `a boot parameter name (${known.join(", ")}) or an id < ${abi.NR_PARAMS}`);
  }
  return id;
}

/** Counters of guest misbehaviour and entries seen by the VM. */
export class VmStats {
  entries = 0;
  cpuBusyNs = 0;
  timerFails = 0; // guest_timer_fire returned an error (no handler registered)
  irqFails = 0; // virtio_interrupt / virtio_config_changed returned an error
  deferredEvents = 0; // events that waited for a busy vCPU
}

export class Vm implements InterruptSink {
  readonly name: string;
  readonly config: ResolvedVmConfig;
  readonly guest: Guest;
  readonly memory: GuestMemory;
  /** Host-side PRNG stream of this VM (devices fork from it). */
  readonly rng: Rng;
  readonly stats = new VmStats();
  /** Simulated ns spent per entry label (cumulative). */
  readonly cpuNsByLabel = new Map<string, number>();
  /** The virtio devices behind the transport exits; NULL_BUS until a bus is attached. */
  bus: VirtioBusLike = NULL_BUS;

  private busyUntil = 0;
  private halted = false;
  private inGuest = false;
  private entryStart = 0;
  private readonly timers = new Map<number, EventHandle>();

  /** @internal use Host.createVm. */
  constructor(readonly sim: Simulation, cfg: ResolvedVmConfig, module: WebAssembly.Module, costs: CostModel, backing: HostBacking, rng: Rng) {
    this.name = cfg.name;
    this.config = cfg;
    this.rng = rng;
    let memory: GuestMemory | undefined;
    const imports: GuestImports = {
      hwFault: (pfn, write) => {
        if (!memory) throw new InvariantError(`${cfg.name}: guest faulted on pfn:0x${pfn.toString(16)} during guest_init`);
        return memory.hwFault(pfn, write);
      },
      virtioNotify: (dev, queue) => this.bus.notify(dev, queue),
      timerArm: (id, atNs) => this.armTimer(id, atNs),
      timerCancel: (id) => this.cancelTimer(id),
      virtioTransport: (dev, op, a, b, c) => this.bus.transport(dev, op, a, b, c),
      virtioQueueSetup: (dev, queue, size, d, a, u) => this.bus.queueSetup(dev, queue, size, d, a, u),
    };
    this.guest = new Guest(module, cfg.frames, cfg.seed, imports, cfg.bootParams);
    memory = new GuestMemory(this.guest, { hostPageBytes: cfg.hostPageBytes, costs, backing });
    this.memory = memory;
    this.setCosts(costs);
    // vring memory stays resident, as with a vhost backend that maps it
    memory.pin(this.guest.ramwinPfn, this.guest.ramwinFrames);
  }

  get frames(): number { return this.config.frames; }
  get memBytes(): number { return this.config.memBytes; }
  get rssBytes(): number { return this.memory.rssBytes; }
  /** The cost model this VM charges (host side and the guest's COST_* slots). */
  get costs(): CostModel { return this.memory.costs; }
  /** The vCPU is busy until this simulated time (end of the last guest entry). */
  get busyUntilNs(): number { return this.busyUntil; }
  /** True once the guest panicked (halt()): no timers or interrupts run any more. */
  get isHalted(): boolean { return this.halted; }
  /** True while a guest entry runs (host code called from a VM exit). */
  get inGuestEntry(): boolean { return this.inGuest; }

  /** Guest's current simulated time: inside an entry, its start plus the guest's elapsed ns. */
  guestNowNs(): number {
    return this.inGuest ? this.entryStart + this.guest.exports.guest_elapsed() : Math.max(this.sim.now, this.busyUntil);
  }

  /** Switches cost models: the host side immediately, the guest's COST_* slots too. */
  setCosts(costs: CostModel): void {
    this.memory.costs = costs;
    writeGuestCosts(costs, this.guest.views.costs);
  }

  /**
   * Runs `fn` as one guest entry, starting when the vCPU is free (max(now, busyUntil)), and
   * accounts the simulated ns it took to the vCPU. Every host->guest call goes through here.
   */
  enter(label: string, fn: (g: GuestExports) => void): number {
    if (this.inGuest) throw new InvariantError(`${this.name}: guest entry '${label}' while the guest is running`);
    const start = Math.max(this.sim.now, this.busyUntil);
    this.inGuest = true;
    this.entryStart = start;
    let ns: number;
    try {
      ns = this.guest.enter(start, fn);
    } finally {
      this.inGuest = false;
    }
    this.busyUntil = start + ns;
    this.stats.entries++;
    this.stats.cpuBusyNs += ns;
    this.cpuNsByLabel.set(label, (this.cpuNsByLabel.get(label) ?? 0) + ns);
    return ns;
  }

  /**
   * The guest panicked: like QEMU's pvpanic "guest-panicked" state, the vCPU stops, so armed
   * timers and pending interrupts never run; guest memory (and host RSS) stays as it was.
   * Host code may still read guest state (and validate it) through enter().
   */
  halt(): void {
    this.halted = true;
    for (const h of this.timers.values()) h.cancel();
    this.timers.clear();
  }

  /** The guest CPU writes (or reads) frames [pfn, pfn+count); returns accesses refused. */
  touch(pfn: number, count: number, write: boolean): number {
    let r = 0;
    this.enter(write ? "touch-write" : "touch-read", (g) => { r = g.hw_access_range(pfn, count, write); });
    return check("hw_access_range", r, `pfn=${pfn} count=${count}`);
  }

  /**
   * Schedules a guest entry at the current time (or `atNs`); if the vCPU is busy then, the
   * event waits until it is free. The handle follows the deferrals: cancel() works until it ran.
   */
  deliver(label: string, fn: (g: GuestExports) => void, atNs = this.sim.now): EventHandle {
    const handle = new DeferredHandle();
    const run = (): void => {
      if (this.halted) return;
      if (this.busyUntil > this.sim.now) {
        this.stats.deferredEvents++;
        handle.inner = this.sim.schedule(this.busyUntil, run, label);
        return;
      }
      this.enter(label, fn);
    };
    handle.inner = this.sim.schedule(Math.max(atNs, this.sim.now), run, label);
    return handle;
  }

  // ---- InterruptSink --------------------------------------------------------------------------

  interrupt(dev: number, queue: number): void {
    this.deliver("virtio-irq", (g) => { if (g.virtio_interrupt(dev, queue) < 0) this.stats.irqFails++; });
  }

  configChanged(dev: number): void {
    this.deliver("virtio-config", (g) => { if (g.virtio_config_changed(dev) < 0) this.stats.irqFails++; });
  }

  // ---- guest timers ---------------------------------------------------------------------------

  /** Timers currently armed: id -> absolute fire time. */
  armedTimers(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [id, h] of this.timers) if (h.pending) out.set(id, h.atNs);
    return out;
  }

  private armTimer(id: number, atNs: number): void {
    this.cancelTimer(id);
    if (this.halted) return;
    const fire = (): void => {
      if (this.halted) return;
      if (this.busyUntil > this.sim.now) {
        this.stats.deferredEvents++;
        this.timers.set(id, this.sim.schedule(this.busyUntil, fire, `timer:${id}`));
        return;
      }
      this.timers.delete(id);
      this.enter(`timer:${id}`, (g) => { if (g.guest_timer_fire(id) < 0) this.stats.timerFails++; });
    };
    const at = Number.isFinite(atNs) ? Math.max(atNs, this.sim.now) : this.sim.now;
    this.timers.set(id, this.sim.schedule(at, fire, `timer:${id}`));
  }

  private cancelTimer(id: number): void {
    this.timers.get(id)?.cancel();
    this.timers.delete(id);
  }
}

/** An event handle that follows an event re-queued behind a busy vCPU. */
class DeferredHandle implements EventHandle {
  inner!: EventHandle;
  get atNs(): number { return this.inner.atNs; }
  get label(): string { return this.inner.label; }
  get pending(): boolean { return this.inner.pending; }
  cancel(): boolean { return this.inner.cancel(); }
}
