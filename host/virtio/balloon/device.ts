// SPDX-License-Identifier: MIT
// The virtio-balloon device (id 5): feature bits 0-5 offered per options, config space
// {num_pages, actual, free_page_hint_cmd_id, poison_val} (le32), five queues compacted by the
// negotiated features, and per-queue dispatch: inflate/deflate (inflate.ts), stats (stats.ts),
// free_page_vq and reporting_vq to handlers supplied by hinting.ts / reporting.ts.
// Follows QEMU hw/virtio/virtio-balloon.c and Firecracker devices/virtio/balloon/device.rs.

import * as abi from "../../guest/abi.generated.js";
import { InvariantError } from "../../guest/errors.js";
import type { GuestMemory } from "../../memory/guest_memory.js";
import type { Simulation } from "../../sim/simulation.js";
import type { DescChain } from "../chain.js";
import type { ConfigField } from "../config.js";
import { VirtioDevice, REQUEST_FAILED } from "../device.js";
import type { QueueSpec } from "../features.js";
import type { DeviceMemory } from "../guest_ram.js";
import type { VirtQueue } from "../queue.js";
import { InflateEngine } from "./inflate.js";
import { BALLOON_METRICS } from "./metrics.js";
import type { ResolvedBalloonOptions } from "./options.js";
import { StatsQueue } from "./stats.js";

const PAGE = abi.PAGE_SIZE;

// Queue names (spec order, reference/virtio-balloon.md §1.3).
export const INFLATEQ = "inflateq";
export const DEFLATEQ = "deflateq";
export const STATSQ = "statsq";
export const FREE_PAGE_VQ = "free_page_vq";
export const REPORTING_VQ = "reporting_vq";

/**
 * What a queue handler (free page reporting, free page hinting) gets from the device: guest
 * memory to act on, the queue service loop, counters, config fields and interrupts.
 */
export interface BalloonDeviceContext {
  /** Metric prefix of the device's counters ("balloon"). */
  readonly name: string;
  readonly options: ResolvedBalloonOptions;
  /** The VM's memory as the host sees it: discard, traps, write protection, dirty log. */
  readonly guestMemory: GuestMemory;
  /** Bounds-checked access to the RAM window (bytes of buffers that carry data). */
  readonly deviceMemory: DeviceMemory;
  readonly sim: Simulation;
  /** Current simulated time (inside a kick: the guest's time). */
  nowNs(): number;
  /** Negotiated feature `bit` (abi VIRTIO_BALLOON_F_*). */
  hasFeature(bit: number): boolean;
  /** poison_val the driver wrote (0 unless F_PAGE_POISON was negotiated). */
  readonly poisonVal: number;
  /**
   * Pops every available chain of `q`, hands well-formed ones to `handle` (returns used len,
   * REQUEST_FAILED = -1, or HOLD = -2 to keep the chain), counts malformed ones, pushes used
   * entries and raises one interrupt if the driver wants it.
   */
  serviceChains(q: VirtQueue, handle: (chain: DescChain) => number): void;
  /** Adds `n` to counter `<name>_<suffix>` (listed in the device's metrics). */
  countMetric(suffix: string, n?: number): void;
  /** Used-buffer interrupt for `q` (for handlers that push used entries outside serviceChains). */
  interrupt(q: VirtQueue): void;
  /** Device-side config write (e.g. free_page_hint_cmd_id) followed by a config-change interrupt. */
  setConfigAndNotify(field: BalloonConfigField, value: number): void;
  /** Device-side config write without an interrupt (QEMU's START status silently reads 0). */
  setConfig(field: BalloonConfigField, value: number): void;
  getConfig(field: BalloonConfigField): number;
}

/**
 * A handler for one balloon queue, supplied by the module that owns it. `process` serves one
 * kick and returns the device's work in simulated ns (e.g. discard cost).
 */
export interface BalloonQueueHandler {
  process(dev: BalloonDeviceContext, q: VirtQueue): number;
  /** Device reset (status 0): forget per-run state. */
  reset?(dev: BalloonDeviceContext): void;
  /** DRIVER_OK was set (queues are live). */
  driverOk?(dev: BalloonDeviceContext): void;
  /** Extra counters this handler bumps through countMetric (suffixes, registered as metrics). */
  readonly metrics?: readonly string[];
}

export type BalloonConfigField = "num_pages" | "actual" | "free_page_hint_cmd_id" | "poison_val";

/** QEMU BALLOON_CHANGE: emitted when `actual` changes; `actualBytes` = ram - actual x 4 KiB. */
export interface BalloonChangeEvent {
  readonly atNs: number;
  /** Guest memory size as QEMU reports it (ram_size - actual x 4 KiB). */
  readonly actualBytes: number;
  /** Pages in the balloon (`actual`). */
  readonly actualPages: number;
}

export interface BalloonEnv {
  readonly memory: GuestMemory;
  readonly sim: Simulation;
  /** Current simulated time (the VM passes vm.guestNowNs). */
  nowNs(): number;
  /** Handler of free_page_vq (host/virtio/balloon/hinting.ts); default: ack and count. */
  readonly freePageHandler?: BalloonQueueHandler;
  /** Handler of reporting_vq (host/virtio/balloon/reporting.ts); default: ack and count. */
  readonly reportingHandler?: BalloonQueueHandler;
}

/** Acks every chain with used len 0 and counts it: a queue nobody handles yet. */
export const ACK_HANDLER: BalloonQueueHandler = {
  process(dev, q) {
    dev.serviceChains(q, () => 0);
    return 0;
  },
};

/** Queue specs for the options (sizes per VMM), in spec order. */
export function balloonQueueSpecs(o: ResolvedBalloonOptions): QueueSpec[] {
  return [
    { name: INFLATEQ, maxSize: o.queueSizes.inflate },
    { name: DEFLATEQ, maxSize: o.queueSizes.deflate },
    { name: STATSQ, maxSize: o.queueSizes.stats, feature: abi.VIRTIO_BALLOON_F_STATS_VQ },
    { name: FREE_PAGE_VQ, maxSize: o.queueSizes.freePage, feature: abi.VIRTIO_BALLOON_F_FREE_PAGE_HINT },
    { name: REPORTING_VQ, maxSize: o.queueSizes.reporting, feature: abi.VIRTIO_BALLOON_F_REPORTING },
  ];
}

/** Config fields (SPEC §1.1): all le32; actual and poison_val are the driver's. */
export const BALLOON_CONFIG: readonly ConfigField[] = [
  { name: "num_pages", offset: abi.VIRTIO_BALLOON_CFG_NUM_PAGES, size: 4 },
  { name: "actual", offset: abi.VIRTIO_BALLOON_CFG_ACTUAL, size: 4, driverWritable: true },
  { name: "free_page_hint_cmd_id", offset: abi.VIRTIO_BALLOON_CFG_FREE_PAGE_HINT_CMD_ID, size: 4 },
  { name: "poison_val", offset: abi.VIRTIO_BALLOON_CFG_POISON_VAL, size: 4, driverWritable: true },
];

/** Feature bits offered for the options (VERSION_1 is added by the base class). */
export function balloonFeatures(o: ResolvedBalloonOptions): number[] {
  const f: number[] = [];
  if (o.mustTellHost) f.push(abi.VIRTIO_BALLOON_F_MUST_TELL_HOST);
  if (o.statsVq) f.push(abi.VIRTIO_BALLOON_F_STATS_VQ);
  if (o.deflateOnOom) f.push(abi.VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
  if (o.freePageHint) f.push(abi.VIRTIO_BALLOON_F_FREE_PAGE_HINT);
  if (o.pagePoison) f.push(abi.VIRTIO_BALLOON_F_PAGE_POISON);
  if (o.freePageReporting) f.push(abi.VIRTIO_BALLOON_F_REPORTING);
  return f;
}

export class VirtioBalloon extends VirtioDevice implements BalloonDeviceContext {
  // ---- device specific fields
  readonly options: ResolvedBalloonOptions;
  readonly guestMemory: GuestMemory;
  readonly sim: Simulation;
  readonly inflate: InflateEngine;
  readonly stats: StatsQueue;
  /** BALLOON_CHANGE events, in order (QEMU emits one per `actual` change). */
  readonly events: BalloonChangeEvent[] = [];
  private readonly listeners: ((e: BalloonChangeEvent) => void)[] = [];
  private readonly freePageHandler: BalloonQueueHandler;
  private readonly reportingHandler: BalloonQueueHandler;
  private readonly env: BalloonEnv;
  private lastActual = 0;

  constructor(options: ResolvedBalloonOptions, env: BalloonEnv) {
    super({
      name: "balloon",
      deviceId: abi.VIRTIO_ID_BALLOON,
      features: balloonFeatures(options),
      queues: balloonQueueSpecs(options),
      config: BALLOON_CONFIG.filter((f) => f.offset + f.size <= options.configBytes),
      configSize: options.configBytes,
    });
    this.options = options;
    this.env = env;
    this.guestMemory = env.memory;
    this.sim = env.sim;
    this.freePageHandler = env.freePageHandler ?? ACK_HANDLER;
    this.reportingHandler = env.reportingHandler ?? ACK_HANDLER;
    for (const m of BALLOON_METRICS) this.metrics[`${this.name}_${m}`] ??= 0;
    for (const h of [this.freePageHandler, this.reportingHandler]) for (const m of h.metrics ?? []) this.metrics[`${this.name}_${m}`] ??= 0;
    this.inflate = new InflateEngine(this);
    this.stats = new StatsQueue(this, options.statsPollingIntervalS);
    if (options.initialBalloonBytes > 0) this.config.set("num_pages", Math.floor(options.initialBalloonBytes / PAGE));
  }

  // ======================================================================= context for handlers

  get deviceMemory(): DeviceMemory { return this.mem; }
  nowNs(): number { return this.env.nowNs(); }
  get poisonVal(): number { return this.hasField("poison_val") && this.hasFeature(abi.VIRTIO_BALLOON_F_PAGE_POISON) ? this.config.get("poison_val") : 0; }
  /** True if config space is large enough to hold `field` (QEMU 8/12/16-byte layouts). */
  hasField(field: BalloonConfigField): boolean { return this.config.fields.some((f) => f.name === field); }
  serviceChains(q: VirtQueue, handle: (chain: DescChain) => number): void { this.serviceQueue(q, handle); }
  countMetric(suffix: string, n = 1): void { this.count(suffix, n); }
  getConfig(field: BalloonConfigField): number { return this.config.get(field); }
  setConfig(field: BalloonConfigField, value: number): void { this.config.set(field, value); }
  setConfigAndNotify(field: BalloonConfigField, value: number): void {
    this.config.set(field, value);
    this.configChanged();
  }

  // ======================================================================= VirtioDevice hooks

  protected processQueue(q: VirtQueue, name: string): number {
    switch (name) {
      case INFLATEQ: return this.inflate.processInflate(q);
      case DEFLATEQ: return this.inflate.processDeflate(q);
      case STATSQ: return this.stats.process(q);
      case FREE_PAGE_VQ: return this.freePageHandler.process(this, q);
      case REPORTING_VQ: return this.reportingHandler.process(this, q);
      default: throw new InvariantError(`balloon: no handler for queue '${name}'`);
    }
  }

  protected override onDriverOk(): void {
    this.stats.driverOk();
    this.freePageHandler.driverOk?.(this);
    this.reportingHandler.driverOk?.(this);
  }

  protected override onReset(): void {
    // the driver re-inflates from zero after a reset: forget the guest's writes, keep the target
    this.config.set("actual", 0);
    if (this.hasField("poison_val")) this.config.set("poison_val", 0);
    this.stats?.reset();
    this.inflate?.reset();
    this.freePageHandler?.reset?.(this);
    this.reportingHandler?.reset?.(this);
    this.noteActual();
  }

  protected override onConfigWrite(field: ConfigField): void {
    if (field.name === "actual") this.noteActual();
  }

  private noteActual(): void {
    const a = this.config.get("actual");
    if (a === this.lastActual) return;
    this.lastActual = a;
    const e: BalloonChangeEvent = { atNs: this.nowNs(), actualBytes: this.guestMemory.frames * PAGE - a * PAGE, actualPages: a };
    this.events.push(e);
    for (const l of this.listeners) l(e);
  }

  // ======================================================================= control surface

  /** Sets the target balloon size in 4 KiB pages (num_pages) and raises a config change. */
  setNumPages(pages: number): void {
    this.config.set("num_pages", pages);
    this.configChanged();
  }

  /** Listens to BALLOON_CHANGE events. */
  onBalloonChange(l: (e: BalloonChangeEvent) => void): void { this.listeners.push(l); }

  /** `actual` as the driver last wrote it (pages). */
  get actualPages(): number { return this.config.get("actual"); }
  get targetPages(): number { return this.config.get("num_pages"); }

  /** Counter helper for engines in this directory. */
  bump(suffix: string, n = 1): void { this.count(suffix, n); }

  /** REQUEST_FAILED re-exported for the engines. */
  static readonly REQUEST_FAILED = REQUEST_FAILED;
}
