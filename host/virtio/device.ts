// SPDX-License-Identifier: MIT
// Base class of every device model: id, offered/acked features, the status state machine, config
// space, queues compacted by negotiated features, reset and the failed (NEEDS_RESET) state.
// Follows Firecracker devices/virtio/device.rs (VirtioDevice) and virtio 1.x §2.1, §3.1.
// Trust model: every value the driver writes is checked; misbehaviour is counted in
// `<name>_*_fails` metrics and ignored; only bugs in guestmem throw.

import {
  E_INVAL, E_STATE, VIRTIO_F_VERSION_1, VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC,
  VIRTIO_STATUS_ACKNOWLEDGE, VIRTIO_STATUS_DRIVER, VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_FAILED,
  VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_NEEDS_RESET, VIRTQ_MAX_SIZE,
} from "../guest/abi.generated.js";
import { ConfigError, InvariantError } from "../guest/errors.js";
import { ConfigSpace, type ConfigField } from "./config.js";
import type { DescChain } from "./chain.js";
import { compactQueues, featureWord, featureWords, hasFeature, isSubset, setFeature, type FeatureWords, type QueueSpec } from "./features.js";
import type { DeviceMemory } from "./guest_ram.js";
import type { InterruptSink } from "./port.js";
import { VirtQueue } from "./queue.js";

export interface VirtioDeviceOptions {
  /** Metric prefix and log name, e.g. "balloon". */
  readonly name: string;
  /** Virtio device id (abi VIRTIO_ID_*). */
  readonly deviceId: number;
  /** Device-specific feature bits offered; VIRTIO_F_VERSION_1 is always added. */
  readonly features: readonly number[];
  /** All queues of the device type in spec order, with the feature that enables each. */
  readonly queues: readonly QueueSpec[];
  readonly config: readonly ConfigField[];
  /** Config space size in bytes (default: end of the last field). */
  readonly configSize?: number;
}

/** handleChain() result: the chain stays with the device (e.g. the balloon stats buffer). */
export const HOLD = -2;
/** handleChain() result: well-formed chain the device cannot use; returned with used len 0. */
export const REQUEST_FAILED = -1;

/** Metric suffixes every device keeps (`<name>_<suffix>`). */
export const DEVICE_METRICS = [
  "desc_fails", // chains rejected by VirtQueue validation
  "request_fails", // well-formed chains the device could not use (direction, size, outside window)
  "event_fails", // notifies that could not be served (bad queue, ring corruption)
  "config_fails", // config accesses out of range or writes to read-only fields
  "status_fails", // status/feature writes breaking §3.1 order, FEATURES_OK refused
  "notify_count", // queue notifications served
  "notify_ignored", // notifications while not DRIVER_OK, failed or reset
  "used_count", // chains returned on the used ring
  "interrupt_count", // used-buffer interrupts raised
  "config_change_count", // config-change interrupts raised
  "reset_count", // resets by the driver
] as const;
export type DeviceMetric = (typeof DEVICE_METRICS)[number];

export abstract class VirtioDevice {
  readonly name: string;
  readonly deviceId: number;
  readonly config: ConfigSpace;
  /** Counters, keyed `<name>_<suffix>`. */
  readonly metrics: Record<string, number> = {};
  /** Why the device failed (NEEDS_RESET), undefined while healthy. */
  failedReason: string | undefined;
  /** Transport-visible queues for the current feature set (compacted). */
  queues: VirtQueue[] = [];

  // ---- virtio fields
  private readonly offered: FeatureWords;
  /** Features the driver wrote; negotiated once FEATURES_OK stuck. */
  private readonly acked: FeatureWords = { lo: 0, hi: 0 };
  private status = 0;
  private readonly queueSpecs: readonly QueueSpec[];
  private activeSpecs: QueueSpec[] = [];

  // ---- transport fields (set by the bus)
  private slot = -1;
  private sink: InterruptSink | undefined;
  private memory: DeviceMemory | undefined;

  constructor(opts: VirtioDeviceOptions) {
    this.name = opts.name;
    this.deviceId = opts.deviceId;
    this.offered = featureWords(opts.features);
    setFeature(this.offered, VIRTIO_F_VERSION_1);
    for (const q of opts.queues) {
      // split queue sizes are powers of 2, at most 32768 (virtio 1.x §2.7, abi VIRTQ_MAX_SIZE)
      if (!(Number.isInteger(q.maxSize) && q.maxSize >= 1 && q.maxSize <= VIRTQ_MAX_SIZE && (q.maxSize & (q.maxSize - 1)) === 0)) {
        throw new ConfigError(`${opts.name}.queues.${q.name}.maxSize`, q.maxSize, `a power of two in [1, ${VIRTQ_MAX_SIZE}] (virtio split queue size)`);
      }
    }
    this.queueSpecs = opts.queues;
    this.config = new ConfigSpace(opts.config, opts.configSize);
    for (const m of DEVICE_METRICS) this.metrics[`${this.name}_${m}`] = 0;
    this.activeSpecs = compactQueues(this.queueSpecs, this.acked);
  }

  // ======================================================================= hooks for subclasses

  /** Serves a kick of `queue`; returns the device's work in simulated ns. */
  protected abstract processQueue(queue: VirtQueue, name: string): number;
  /** Device-specific state back to power-on values (queues and negotiation are done by reset()). */
  protected onReset(): void {}
  /** Called once DRIVER_OK is set. */
  protected onDriverOk(): void {}
  /** A driver write to writable field `field` was accepted. */
  protected onConfigWrite(_field: ConfigField): void {}
  /** Extra feature-dependency checks at FEATURES_OK (§2.2.1); return false to refuse. */
  protected validateFeatures(_acked: FeatureWords): boolean { return true; }

  // ======================================================================= bus side

  /** Plugs the device into a bus slot. */
  attach(slot: number, memory: DeviceMemory, sink: InterruptSink): void {
    if (this.sink) throw new ConfigError(`${this.name}.attach`, slot, "a device that is not plugged into a bus yet");
    this.slot = slot;
    this.memory = memory;
    this.sink = sink;
  }

  detach(): void {
    this.reset();
    this.sink = undefined;
    this.memory = undefined;
    this.slot = -1;
  }

  get busSlot(): number { return this.slot; }

  protected get mem(): DeviceMemory {
    if (!this.memory) throw new InvariantError(`${this.name}: device used before it was attached to a bus`);
    return this.memory;
  }

  /** Device feature word `word` (VT_GET_FEATURES). */
  deviceFeatures(word: number): number { return featureWord(this.offered, word); }

  /** Driver feature word (VT_SET_FEATURES): only between DRIVER and FEATURES_OK (§3.1.1). */
  writeDriverFeatures(word: number, value: number): void {
    if ((this.status & VIRTIO_STATUS_DRIVER) === 0 || (this.status & VIRTIO_STATUS_FEATURES_OK) !== 0 || word > 1) {
      this.count("status_fails");
      return;
    }
    if (word === 0) this.acked.lo = value >>> 0;
    else this.acked.hi = value >>> 0;
    this.activeSpecs = compactQueues(this.queueSpecs, this.acked);
  }

  /** Status byte the driver reads (NEEDS_RESET while failed). */
  readStatus(): number {
    return this.failedReason === undefined ? this.status : this.status | VIRTIO_STATUS_NEEDS_RESET;
  }

  /**
   * Status write (VT_SET_STATUS): 0 resets; otherwise bits are only added, in the order of
   * §3.1.1. FEATURES_OK is refused (left clear) if the driver acked an unoffered bit, left out
   * VERSION_1, or validateFeatures() objects.
   */
  writeStatus(value: number): void {
    value &= 0xff & ~VIRTIO_STATUS_NEEDS_RESET;
    if (value === 0) {
      this.reset();
      this.count("reset_count");
      return;
    }
    const added = value & ~this.status;
    if ((value & this.status) !== this.status) return this.count("status_fails"); // clearing bits needs a reset
    if (added & VIRTIO_STATUS_FAILED) {
      this.status |= VIRTIO_STATUS_FAILED; // the driver gave up: serve nothing until reset
      return;
    }
    const need = (bit: number, prereq: number): boolean => (added & bit) === 0 || (value & prereq) === prereq;
    if (!need(VIRTIO_STATUS_DRIVER, VIRTIO_STATUS_ACKNOWLEDGE) || !need(VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER)
      || !need(VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_FEATURES_OK)) {
      return this.count("status_fails");
    }
    if (added & VIRTIO_STATUS_FEATURES_OK) {
      if (!this.featuresAcceptable()) {
        this.count("status_fails");
        this.status = value & ~(VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
        return;
      }
      this.status = value & ~VIRTIO_STATUS_DRIVER_OK;
      this.createQueues();
      if ((added & VIRTIO_STATUS_DRIVER_OK) === 0) return;
    }
    this.status = value;
    if (added & VIRTIO_STATUS_DRIVER_OK) this.onDriverOk();
  }

  private featuresAcceptable(): boolean {
    return isSubset(this.acked, this.offered) && hasFeature(this.acked, VIRTIO_F_VERSION_1) && this.validateFeatures(this.acked);
  }

  private createQueues(): void {
    this.activeSpecs = compactQueues(this.queueSpecs, this.acked);
    this.queues = this.activeSpecs.map((s, i) => new VirtQueue(i, s.maxSize, this.mem));
  }

  /** Config read (VT_CONFIG_READ); 0 and a config_fails count outside config space. */
  configRead(offset: number, size: number): number {
    const v = this.config.driverRead(offset, size);
    if (v === undefined) {
      this.count("config_fails");
      return 0;
    }
    return v;
  }

  /** Config write (VT_CONFIG_WRITE); writes to device-owned bytes are ignored and counted. */
  configWrite(offset: number, size: number, value: number): void {
    const r = this.config.driverWrite(offset, size, value);
    if (typeof r === "string") this.count("config_fails");
    else this.onConfigWrite(r);
  }

  /** Max size of queue `index` under the current features (VT_QUEUE_SIZE_MAX), 0 if none. */
  queueSizeMax(index: number): number {
    const s = this.activeSpecs[index];
    return s ? s.maxSize : 0;
  }

  /** Number of queues under the current features (VT_NUM_QUEUES). */
  numQueues(): number { return this.activeSpecs.length; }

  /** Queue address setup: after FEATURES_OK, before DRIVER_OK (§3.1.1 step 7). */
  setupQueue(index: number, size: number, descGpa: number, availGpa: number, usedGpa: number): number {
    if ((this.status & VIRTIO_STATUS_FEATURES_OK) === 0 || (this.status & VIRTIO_STATUS_DRIVER_OK) !== 0) {
      this.count("status_fails");
      return E_STATE;
    }
    const q = this.queues[index];
    if (!q) {
      this.count("status_fails");
      return E_INVAL;
    }
    const r = q.setup(size, descGpa, availGpa, usedGpa);
    if (r !== 0) {
      this.count("status_fails");
      return r;
    }
    q.indirectDesc = hasFeature(this.acked, VIRTIO_RING_F_INDIRECT_DESC);
    q.eventIdx = hasFeature(this.acked, VIRTIO_RING_F_EVENT_IDX);
    q.setNotification(true);
    return 0;
  }

  /** Queue kick; returns the device's work in ns. Ignored unless DRIVER_OK and healthy. */
  notify(index: number): number {
    if (!this.live) {
      this.count("notify_ignored");
      return 0;
    }
    const q = this.queues[index];
    if (!q || !q.ready) {
      this.count("event_fails");
      return 0;
    }
    this.count("notify_count");
    return this.processQueue(q, this.activeSpecs[index].name);
  }

  // ======================================================================= device side helpers

  /** DRIVER_OK, not failed, not given up by the driver. */
  get live(): boolean {
    return this.failedReason === undefined && (this.status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED)) === VIRTIO_STATUS_DRIVER_OK;
  }

  /** True if feature `bit` was negotiated (FEATURES_OK accepted). */
  hasFeature(bit: number): boolean {
    return (this.status & VIRTIO_STATUS_FEATURES_OK) !== 0 && hasFeature(this.acked, bit);
  }

  /** Negotiated features (zero before FEATURES_OK). */
  negotiated(): FeatureWords {
    return (this.status & VIRTIO_STATUS_FEATURES_OK) !== 0 ? { ...this.acked } : { lo: 0, hi: 0 };
  }

  /** The queue named `name` if it exists under the negotiated features. */
  queue(name: string): VirtQueue | undefined {
    const i = this.activeSpecs.findIndex((s) => s.name === name);
    return i < 0 ? undefined : this.queues[i];
  }

  /** Metric `<name>_<suffix>`. */
  metric(suffix: string): number { return this.metrics[this.metricKey(suffix)] ?? 0; }

  protected count(suffix: string, n = 1): void {
    const k = this.metricKey(suffix);
    this.metrics[k] = (this.metrics[k] ?? 0) + n;
  }

  // Counters are bumped per page on some paths (QEMU's per-PFN discard): build each key once.
  private readonly metricKeys = new Map<string, string>();
  private metricKey(suffix: string): string {
    let k = this.metricKeys.get(suffix);
    if (k === undefined) { k = `${this.name}_${suffix}`; this.metricKeys.set(suffix, k); }
    return k;
  }

  /**
   * Pops every available chain of `q` and hands well-formed ones to `handle`, which returns the
   * used len, REQUEST_FAILED or HOLD. Malformed chains are counted and returned with len 0
   * (resource first); ring corruption fails the device. Raises one interrupt if needed.
   */
  protected serviceQueue(q: VirtQueue, handle: (chain: DescChain) => number): void {
    let pushed = 0;
    // A kick can only find <= size new entries (more is fatal in popAvail), and the driver does
    // not run while the device does: more than `size` pops in one pass means the device's own
    // writes (a writable buffer over avail.idx) are feeding the ring. Stop instead of spinning.
    for (let n = 0; n < q.size; n++) {
      const r = q.popAvail();
      if (r.kind === "empty") break;
      if (r.kind === "fatal") {
        this.fail(r.reason);
        break;
      }
      if (r.kind === "malformed") {
        this.count("desc_fails");
        if (r.returnable) {
          q.pushUsed(r.head, 0);
          pushed++;
        }
        continue;
      }
      const len = handle(r.chain);
      if (len === HOLD) continue;
      if (len < 0) this.count("request_fails");
      q.pushUsed(r.chain.head, len < 0 ? 0 : len);
      pushed++;
    }
    if (pushed > 0) this.count("used_count", pushed);
    if (!this.live) return; // failed mid-way: the config-change interrupt tells the driver
    q.setNotification(true);
    if (pushed > 0) this.interrupt(q);
  }

  /** Used-buffer interrupt for `q`, unless the driver suppressed it. */
  interrupt(q: VirtQueue): void {
    if (!this.sink || !this.live || !q.needsInterrupt()) return;
    this.count("interrupt_count");
    this.sink.interrupt(this.slot, q.index);
  }

  /** Config-change interrupt (only after DRIVER_OK, as QEMU virtio_notify_config). */
  configChanged(): void {
    if (!this.sink || (this.status & VIRTIO_STATUS_DRIVER_OK) === 0) return;
    this.count("config_change_count");
    this.sink.configChanged(this.slot);
  }

  /**
   * Unrecoverable guest misbehaviour: NEEDS_RESET, reason kept, further notifies ignored, and
   * (if DRIVER_OK) a config-change interrupt so the driver notices (§2.1.2).
   */
  fail(reason: string): void {
    if (this.failedReason !== undefined) return;
    this.failedReason = reason;
    this.count("event_fails");
    this.configChanged();
  }

  /** Device reset (status 0): queues, negotiation and failure forgotten. Not overridable by design. */
  reset(): void {
    this.status = 0;
    this.acked.lo = this.acked.hi = 0;
    this.failedReason = undefined;
    for (const q of this.queues) q.reset();
    this.queues = [];
    this.activeSpecs = compactQueues(this.queueSpecs, this.acked);
    this.onReset();
  }
}
