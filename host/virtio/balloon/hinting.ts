// SPDX-License-Identifier: MIT
// Free page hinting, device side: command ids (STOP 0, DONE 1, runs >= 2), the status machine
// S_STOP/S_REQUESTED/S_START/S_DONE, config reads of free_page_hint_cmd_id per status, the START
// and STOP out-buffers, and in-buffers (4 MiB blocks) honoured only in START for the current id;
// honoured ranges go to a HintConsumer (live migration later, a test harness now) and, in
// Firecracker's discard-on-hint mode, are discarded except for frames the guest wrote after
// handing them over (write-protect tracking, reference/virtio-balloon.md §5.6).
// Follows QEMU hw/virtio/virtio-balloon.c (get_free_page_hints, virtio_balloon_free_page_start/
// stop/done, get_config) and Firecracker devices/virtio/balloon (hinting start/stop/status).
// Model: hints are received at the kick; `processDelayNs` > 0 holds them and processes them
// later (QEMU's iothread bottom half, Firecracker's event loop), which opens the reuse race.

import * as abi from "../../guest/abi.generated.js";
import { ConfigError } from "../../guest/errors.js";
import type { EventHandle } from "../../sim/simulation.js";
import type { DescChain } from "../chain.js";
import type { VirtQueue } from "../queue.js";
import { HOLD } from "../device.js";
import type { BalloonDeviceContext, BalloonQueueHandler } from "./device.js";

const PAGE = abi.PAGE_SIZE;

// QEMU FreePageHintStatus (include/hw/virtio/virtio-balloon.h).
export const FREE_PAGE_HINT_S_STOP = 0;
export const FREE_PAGE_HINT_S_REQUESTED = 1;
export const FREE_PAGE_HINT_S_START = 2;
export const FREE_PAGE_HINT_S_DONE = 3;
export const CMD_ID_STOP = abi.VIRTIO_BALLOON_CMD_ID_STOP;
export const CMD_ID_DONE = abi.VIRTIO_BALLOON_CMD_ID_DONE;
/** VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN: QEMU's first run id; wraps back here after UINT_MAX. */
export const CMD_ID_MIN_QEMU = 0x8000_0000;
/** Firecracker: ids count up from 2, skipping STOP/DONE. */
export const CMD_ID_MIN_FIRECRACKER = 2;
/** The write-protect reason of discard-on-hint tracking (GuestMemory.registerWpReason). */
export const WP_HINT = "hint-wp";

export type HintStatusName = "stop" | "requested" | "start" | "done";
const STATUS_NAMES: readonly HintStatusName[] = ["stop", "requested", "start", "done"];

/** Who receives hinted ranges: QEMU's migration (skip sending them), or a test harness. */
export interface HintConsumer {
  /** The guest's START for run `cmdId` arrived (QEMU: S_REQUESTED -> S_START). */
  runStarted?(cmdId: number): void;
  /** Frames [pfn, pfn + frames) are free in the guest as of run `cmdId` (qemu_guest_free_page_hint). */
  hint(pfn: number, frames: number, cmdId: number): void;
  /** The run ended (the guest's STOP, or the host stopped/finished it). */
  runStopped?(cmdId: number): void;
}

export interface HintingOptions {
  /** "qemu" (ids from 0x80000000, START reads 0, never discards) or "firecracker" (ids from 2, discard-on-hint). */
  mode?: "qemu" | "firecracker";
  /** Discard honoured ranges (Firecracker's RSS reduction); default: true in firecracker mode, never in qemu mode. */
  discardOnHint?: boolean;
  /** Firecracker acknowledge_on_stop: write DONE as soon as the guest's STOP arrives (default true). */
  acknowledgeOnStop?: boolean;
  /** Host latency before received hints are processed, ns (default 0: during the kick). */
  processDelayNs?: number;
  /** Receiver of honoured ranges (e.g. host/migration/hint_consumer.ts). */
  consumer?: HintConsumer;
}

/** Counters of hinting (suffixes of `balloon_`), with their meaning. */
export const HINTING_METRIC_HELP = {
  free_page_hint_count: "hinted ranges honoured (START, current id)",
  free_page_hint_freed_bytes: "host bytes freed by discarding hinted ranges (discard-on-hint mode)",
  free_page_hint_fails: "hint buffers refused: cmd-id buffer not 4 bytes or outside the RAM window, ranges in vring memory",
  free_page_hint_stale_count: "hinted ranges ignored: not in START or tagged with a stale id",
  free_page_hint_reused_ranges: "honoured ranges the guest wrote after hinting (not discarded in those frames)",
  free_page_hint_reused_pages: "4 KiB frames of hinted ranges written after hinting, kept",
  free_page_hint_runs: "hinting runs started by the host",
} as const;
export const HINTING_METRICS = Object.keys(HINTING_METRIC_HELP);

/** Hinting status as the host API reports it (Firecracker GET /balloon/hinting/status). */
export interface HintingStatus {
  readonly status: HintStatusName;
  /** The host's current command id (free_page_hint_cmd_id of the current or last run). */
  readonly hostCmd: number;
  /** The id of the last out-buffer the guest sent (START id, or 0 = STOP). */
  readonly guestCmd: number;
  /** Chains received but not processed yet (processDelayNs > 0). */
  readonly pendingChains: number;
}

/**
 * The free_page_vq handler and the host's hinting control (startHinting/stopHinting/doneHinting).
 * Plug it into addBalloon(..., { freePageHandler }) with a device offering freePageHint.
 */
export class FreePageHinting implements BalloonQueueHandler {
  readonly metrics = HINTING_METRICS;
  readonly mode: "qemu" | "firecracker";
  readonly discardOnHint: boolean;
  readonly acknowledgeOnStop: boolean;
  readonly processDelayNs: number;
  consumer: HintConsumer | undefined;

  private dev: BalloonDeviceContext | undefined;
  private status = FREE_PAGE_HINT_S_STOP;
  private cmdId = 0;
  private started = false;
  private guestCmd = CMD_ID_STOP;
  private pending: { q: VirtQueue; chain: DescChain }[] = [];
  private processEvent: EventHandle | undefined;
  /** 1 for frames written since their hint was received (discard-on-hint tracking). */
  private written: Uint8Array | undefined;
  private wpRegistered = false;

  constructor(opts: HintingOptions = {}) {
    const mode = opts.mode ?? "qemu";
    if (mode !== "qemu" && mode !== "firecracker") throw new ConfigError("hinting.mode", mode, '"qemu" or "firecracker"');
    this.mode = mode;
    const discard = opts.discardOnHint ?? mode === "firecracker";
    if (typeof discard !== "boolean") throw new ConfigError("hinting.discardOnHint", discard, "true or false");
    if (discard && mode === "qemu") throw new ConfigError("hinting.discardOnHint", discard, "false in qemu mode (QEMU only skips sending hinted pages)");
    this.discardOnHint = discard;
    const ack = opts.acknowledgeOnStop ?? true;
    if (typeof ack !== "boolean") throw new ConfigError("hinting.acknowledgeOnStop", ack, "true or false");
    this.acknowledgeOnStop = ack;
    const d = opts.processDelayNs ?? 0;
    if (typeof d !== "number" || !Number.isFinite(d) || d < 0) throw new ConfigError("hinting.processDelayNs", d, "a finite delay >= 0 ns");
    this.processDelayNs = d;
    this.consumer = opts.consumer;
  }

  // ======================================================================= host control

  /**
   * Starts a run (QEMU virtio_balloon_free_page_start / Firecracker hinting/start): a new id,
   * S_REQUESTED, config change. The guest answers with START, blocks, STOP.
   */
  startHinting(): number {
    const dev = this.device("startHinting");
    if (this.mode === "qemu") {
      this.cmdId = !this.started || this.cmdId === 0xffff_ffff ? CMD_ID_MIN_QEMU : this.cmdId + 1;
    } else {
      this.cmdId = !this.started || this.cmdId === 0xffff_ffff ? CMD_ID_MIN_FIRECRACKER : this.cmdId + 1;
    }
    this.started = true;
    this.status = FREE_PAGE_HINT_S_REQUESTED;
    dev.countMetric("free_page_hint_runs");
    dev.setConfigAndNotify("free_page_hint_cmd_id", this.configValue());
    return this.cmdId;
  }

  /** Stops the run, the guest keeps its blocks (virtio_balloon_free_page_stop; QEMU before each bitmap sync). */
  stopHinting(): void {
    const dev = this.device("stopHinting");
    if (this.status === FREE_PAGE_HINT_S_STOP) return;
    const was = this.status;
    this.status = FREE_PAGE_HINT_S_STOP;
    if (was === FREE_PAGE_HINT_S_START) this.consumer?.runStopped?.(this.cmdId);
    dev.setConfigAndNotify("free_page_hint_cmd_id", this.configValue());
  }

  /** Ends hinting, the guest frees its blocks (virtio_balloon_free_page_done; Firecracker hinting/stop). */
  doneHinting(): void {
    const dev = this.device("doneHinting");
    if (this.status === FREE_PAGE_HINT_S_DONE) return;
    const was = this.status;
    this.status = FREE_PAGE_HINT_S_DONE;
    if (was === FREE_PAGE_HINT_S_START) this.consumer?.runStopped?.(this.cmdId);
    dev.setConfigAndNotify("free_page_hint_cmd_id", this.configValue());
  }

  /** Firecracker GET /balloon/hinting/status (host_cmd, guest_cmd) plus the QEMU status. */
  hintingStatus(): HintingStatus {
    return { status: STATUS_NAMES[this.status], hostCmd: this.cmdId, guestCmd: this.guestCmd, pendingChains: this.pending.length };
  }

  /** Processes held chains now (for tests and for a host that drains before a bitmap sync). */
  processPending(): void {
    this.processEvent?.cancel();
    this.processEvent = undefined;
    const dev = this.dev;
    if (!dev) return;
    const work = this.pending;
    this.pending = [];
    const queues = new Set<VirtQueue>();
    for (const { q, chain } of work) {
      if (!q.ready) continue; // the device was reset meanwhile
      this.handleChain(dev, chain);
      q.pushUsed(chain.head, 0);
      dev.countMetric("used_count");
      queues.add(q);
    }
    for (const q of queues) dev.interrupt(q);
  }

  // ======================================================================= BalloonQueueHandler

  process(dev: BalloonDeviceContext, q: VirtQueue): number {
    this.dev = dev;
    if (this.processDelayNs === 0) {
      let costNs = 0;
      dev.serviceChains(q, (chain) => {
        costNs += this.handleChain(dev, chain);
        return 0;
      });
      return costNs;
    }
    dev.serviceChains(q, (chain) => {
      this.receive(dev, chain);
      this.pending.push({ q, chain });
      return HOLD;
    });
    if (this.pending.length > 0 && !this.processEvent) {
      this.processEvent = dev.sim.schedule(Math.max(dev.sim.now, dev.nowNs() + this.processDelayNs), () => {
        this.processEvent = undefined;
        this.processPending();
      }, "balloon:free-page-hints");
    }
    return 0;
  }

  driverOk(dev: BalloonDeviceContext): void {
    this.dev = dev;
    if (this.discardOnHint && !this.wpRegistered) {
      // frames written after their hint was received must never be discarded
      dev.guestMemory.registerWpReason(WP_HINT, (pfn) => { if (this.written) this.written[pfn] = 1; });
      this.written = new Uint8Array(dev.guestMemory.frames);
      this.wpRegistered = true;
    }
    dev.setConfig("free_page_hint_cmd_id", this.configValue());
  }

  reset(dev: BalloonDeviceContext): void {
    this.processEvent?.cancel();
    this.processEvent = undefined;
    for (const { chain } of this.pending) this.disarm(dev, chain);
    this.pending = [];
    this.status = FREE_PAGE_HINT_S_STOP;
    this.guestCmd = CMD_ID_STOP;
  }

  // ======================================================================= internals

  private device(op: string): BalloonDeviceContext {
    if (!this.dev) throw new ConfigError(`hinting.${op}`, "no driver", "a balloon whose driver is loaded (DRIVER_OK) with freePageHint");
    if (!this.dev.hasFeature(abi.VIRTIO_BALLOON_F_FREE_PAGE_HINT)) {
      throw new ConfigError(`hinting.${op}`, "F_FREE_PAGE_HINT not negotiated", "a balloon with freePageHint: true");
    }
    return this.dev;
  }

  /** free_page_hint_cmd_id as the driver reads it (QEMU get_config: START reads 0). */
  private configValue(): number {
    switch (this.status) {
      case FREE_PAGE_HINT_S_REQUESTED: return this.cmdId;
      case FREE_PAGE_HINT_S_DONE: return CMD_ID_DONE;
      case FREE_PAGE_HINT_S_START: return this.mode === "qemu" ? CMD_ID_STOP : this.cmdId;
      default: return CMD_ID_STOP;
    }
  }

  /** At the kick: in discard-on-hint mode, protect the hinted ranges and forget older writes. */
  private receive(dev: BalloonDeviceContext, chain: DescChain): void {
    if (!this.discardOnHint || !this.written) return;
    for (const s of chain.writable) {
      if (!this.rangeOk(dev, s.gpa, s.len)) continue;
      const pfn = s.gpa / PAGE, n = s.len / PAGE;
      // writes before the guest handed the block over (allocation zeroing) do not matter
      this.written.fill(0, pfn, pfn + n);
      dev.guestMemory.writeProtect(pfn, n, WP_HINT);
    }
  }

  private disarm(dev: BalloonDeviceContext, chain: DescChain): void {
    if (!this.discardOnHint) return;
    for (const s of chain.writable) {
      if (this.rangeOk(dev, s.gpa, s.len)) dev.guestMemory.unprotect(s.gpa / PAGE, s.len / PAGE, WP_HINT);
    }
  }

  /** Page-aligned, non-empty, outside the RAM window (chain validation kept it inside guest RAM). */
  private rangeOk(dev: BalloonDeviceContext, gpa: number, len: number): boolean {
    if (gpa % PAGE !== 0 || len % PAGE !== 0 || len === 0) return false;
    const ws = dev.deviceMemory.windowGpa, we = ws + dev.deviceMemory.windowBytes;
    return !(gpa < we && gpa + len > ws);
  }

  /** get_free_page_hints for one chain; returns the device's work in ns. */
  private handleChain(dev: BalloonDeviceContext, chain: DescChain): number {
    let costNs = 0;
    if (chain.readable.length > 0) {
      const bytes = chain.readAll(dev.deviceMemory);
      if (!bytes || bytes.length !== 4) {
        dev.countMetric("free_page_hint_fails");
      } else {
        const id = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
        this.guestCmd = id;
        if (this.status === FREE_PAGE_HINT_S_REQUESTED && id === this.cmdId) {
          this.status = FREE_PAGE_HINT_S_START;
          if (this.mode === "qemu") dev.setConfig("free_page_hint_cmd_id", this.configValue());
          this.consumer?.runStarted?.(id);
        } else if (this.status === FREE_PAGE_HINT_S_START) {
          // a stop only counts once the run started (no stale stop of an older command)
          this.status = FREE_PAGE_HINT_S_STOP;
          this.consumer?.runStopped?.(this.cmdId);
          if (this.mode === "firecracker" && this.acknowledgeOnStop) this.doneHinting();
          else dev.setConfig("free_page_hint_cmd_id", this.configValue());
        }
      }
    }
    if (chain.writable.length === 0) return costNs;
    const honoured = this.status === FREE_PAGE_HINT_S_START && this.guestCmd === this.cmdId;
    for (const s of chain.writable) {
      if (!honoured) {
        dev.countMetric("free_page_hint_stale_count");
        if (this.discardOnHint && this.rangeOk(dev, s.gpa, s.len)) dev.guestMemory.unprotect(s.gpa / PAGE, s.len / PAGE, WP_HINT);
        continue;
      }
      if (!this.rangeOk(dev, s.gpa, s.len)) {
        dev.countMetric("free_page_hint_fails");
        continue;
      }
      const pfn = s.gpa / PAGE, n = s.len / PAGE;
      dev.countMetric("free_page_hint_count");
      this.consumer?.hint(pfn, n, this.cmdId);
      if (this.discardOnHint) costNs += this.discardUnwritten(dev, pfn, n);
    }
    return costNs;
  }

  /** Discards the frames of [pfn, pfn + n) not written since the hint arrived; drops the protection. */
  private discardUnwritten(dev: BalloonDeviceContext, pfn: number, n: number): number {
    const mem = dev.guestMemory;
    const w = this.written;
    let costNs = 0;
    let reused = 0;
    let runStart = -1;
    const flush = (end: number): void => {
      if (runStart < 0) return;
      const r = mem.discard(runStart, end - runStart);
      dev.countMetric("free_page_hint_freed_bytes", r.freedPages * PAGE);
      costNs += r.costNs;
      runStart = -1;
    };
    for (let f = pfn; f < pfn + n; f++) {
      if (w && w[f]) { reused++; flush(f); continue; }
      if (runStart < 0) runStart = f;
    }
    flush(pfn + n);
    mem.unprotect(pfn, n, WP_HINT);
    if (reused > 0) {
      dev.countMetric("free_page_hint_reused_ranges");
      dev.countMetric("free_page_hint_reused_pages", reused);
    }
    return costNs;
  }
}
