// SPDX-License-Identifier: MIT
// The host machine: RAM and swap capacity, the simulation, the VMs (one guest instance each,
// all from one compiled module) and host-level reclaim. Model: when resident memory would exceed
// RAM, the faulting VM does direct reclaim: a clock sweep over all VMs swaps out cold frames.

import { ConfigError } from "./guest/errors.js";
import { defaultGuestModule } from "./guest/module.js";
import { CostModel, defaultCostModel, withCostOverrides } from "./cost-model.js";
import { GuestMemory, HostBacking } from "./memory/guest_memory.js";
import { MetricsRegistry, Counter } from "./metrics/registry.js";
import { Sampler, SamplerOptions } from "./metrics/sampler.js";
import { registerHostMetrics, registerVmMetrics } from "./metrics/standard.js";
import { Simulation } from "./sim/simulation.js";
import { Rng } from "./sim/rng.js";
import { Vm, VmConfig, resolveVmConfig } from "./vm.js";

/** SWAP_CLUSTER_MAX = 32: reclaim works in batches of 32 pages (include/linux/swap.h). */
export const SWAP_CLUSTER_MAX = 32;
const PAGE = 4096;

export interface HostConfig {
  /** Host RAM available to guests, bytes (> 0). */
  ramBytes: number;
  /** Host swap, bytes (default 0: no swap). */
  swapBytes?: number;
  /** Root seed of every PRNG stream in the run (default 1). */
  seed?: number;
  /** Cost model overrides (keys of CostModel), or a complete model. */
  costs?: Partial<Record<keyof CostModel, number>>;
  /** Compiled guest; default: defaultGuestModule() (host/node.ts or the bundle sets it). */
  guestModule?: WebAssembly.Module;
}

export class Host implements HostBacking {
  readonly sim = new Simulation();
  readonly metrics = new MetricsRegistry();
  readonly costs: CostModel;
  readonly rng: Rng;
  readonly ramBytes: number;
  readonly swapBytes: number;
  readonly seed: number;
  /** Times RAM + swap were exhausted; the model over-commits instead of OOM-killing a VM. */
  readonly oomEvents: Counter;
  private readonly vmList: Vm[] = [];
  private module: WebAssembly.Module | undefined;
  private clockVm = 0;
  private peakRss = 0;

  constructor(cfg: HostConfig) {
    if (typeof cfg.ramBytes !== "number" || !Number.isInteger(cfg.ramBytes) || cfg.ramBytes <= 0) {
      throw new ConfigError("ramBytes", cfg.ramBytes, "a positive integer number of bytes");
    }
    const swap = cfg.swapBytes ?? 0;
    if (!Number.isInteger(swap) || swap < 0) throw new ConfigError("swapBytes", swap, "an integer >= 0 bytes");
    const seed = cfg.seed ?? 1;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ConfigError("seed", seed, "an integer in [0, 2^32)");
    this.ramBytes = cfg.ramBytes;
    this.swapBytes = swap;
    this.seed = seed;
    this.rng = new Rng(seed);
    this.costs = cfg.costs ? withCostOverrides(cfg.costs) : defaultCostModel;
    this.module = cfg.guestModule;
    this.oomEvents = this.metrics.counter("host.oom_events", "RAM and swap exhausted; the model over-commits instead of killing a VM");
    registerHostMetrics(this.metrics, this);
  }

  /** The VMs, in creation order. */
  get vms(): readonly Vm[] { return this.vmList; }

  /** The VM named `name`; ConfigError if there is none. */
  vm(name: string): Vm {
    const v = this.vmList.find((x) => x.name === name);
    if (!v) throw new ConfigError("vm", name, `one of ${this.vmList.map((x) => x.name).join(", ") || "(no VMs)"}`);
    return v;
  }

  /** Creates and boots a VM (guest_set_param for its boot parameters, guest_init). */
  createVm(cfg: VmConfig): Vm {
    if (this.vmList.some((v) => v.name === cfg.name)) throw new ConfigError("name", cfg.name, "a name no other VM of this host has");
    const rng = this.rng.fork(`vm:${cfg.name}`);
    const resolved = resolveVmConfig(cfg, rng.fork("guest-seed").nextU32());
    const mod = (this.module ??= defaultGuestModule());
    const vm = new Vm(this.sim, resolved, mod, this.costs, this, rng);
    this.vmList.push(vm);
    registerVmMetrics(this.metrics, vm);
    return vm;
  }

  /** Resident bytes of all guests. */
  get rssBytes(): number {
    let s = 0;
    for (const v of this.vmList) s += v.memory.rssBytes;
    return s;
  }

  /** Swap in use, bytes. */
  get swapUsedBytes(): number {
    let s = 0;
    for (const v of this.vmList) s += v.memory.swapBytes;
    return s;
  }

  /** Highest total guest RSS so far (sampled whenever a page becomes resident), bytes. */
  get peakRssBytes(): number { return Math.max(this.peakRss, this.rssBytes); }

  /** RAM not resident, bytes (0 when over-committed). */
  get freeBytes(): number { return Math.max(0, this.ramBytes - this.rssBytes); }

  /** Records metrics every `sampleIntervalNs` of simulated time (see Sampler). */
  sample(opts: SamplerOptions): Sampler { return new Sampler(this.sim, this.metrics, opts); }

  runFor(ns: number): number { return this.sim.runFor(ns); }
  runUntil(ns: number): number { return this.sim.runUntil(ns); }

  /**
   * HostBacking: `bytes` are about to become resident. If RAM would overflow, swaps out cold
   * frames (at least SWAP_CLUSTER_MAX) with a clock sweep over all VMs; the cost is charged to
   * the faulting guest. Returns ns.
   */
  reserve(bytes: number, _mem: GuestMemory): number {
    const rss = this.rssBytes;
    const over = rss + bytes - this.ramBytes;
    if (over <= 0) {
      if (rss + bytes > this.peakRss) this.peakRss = rss + bytes;
      return 0;
    }
    let need = Math.max(Math.ceil(over / PAGE), SWAP_CLUSTER_MAX);
    let swapFree = Math.floor((this.swapBytes - this.swapUsedBytes) / PAGE);
    let out = 0;
    const n = this.vmList.length;
    // two full turns of the clock: the first may only clear "young" marks (second chance)
    for (let wraps = 0; need > 0 && swapFree > 0 && wraps <= 2 * n && n > 0;) {
      const r = this.vmList[this.clockVm % n].memory.swapOutCold(need, swapFree);
      out += r.swappedFrames;
      need -= r.swappedFrames;
      swapFree -= r.swappedFrames;
      if (!r.wrapped) break; // satisfied, or swap too full for one more host page
      this.clockVm = (this.clockVm + 1) % n;
      wraps++;
    }
    const after = this.rssBytes + bytes;
    if (after > this.ramBytes) this.oomEvents.inc();
    if (after > this.peakRss) this.peakRss = after;
    return out * this.costs.swapOutPageNs;
  }
}
