// SPDX-License-Identifier: MIT
// Stats queue, device side: the driver's one buffer is held; a poll timer (interval in simulated
// seconds, 0 = off, first poll at +0 when enabled) returns it, the guest refills it later, the
// device parses the 10-byte {le16 tag, le64 val} entries on receipt and re-arms the timer.
// Follows QEMU virtio_balloon_receive_stats / balloon_stats_poll_cb (guest-stats-polling-interval).
// Model: values read as doubles (exact below 2^53); unknown tags ignored; missing tags unset.

import * as abi from "../../guest/abi.generated.js";
import { ConfigError } from "../../guest/errors.js";
import type { EventHandle } from "../../sim/simulation.js";
import { HOLD } from "../device.js";
import type { VirtQueue } from "../queue.js";
import type { VirtioBalloon } from "./device.js";
import { STATS_INTERVAL_MAX_S } from "./options.js";

/** Stat names in tag order (QEMU "stat-*" names, Firecracker field names in comments). */
export const STAT_NAMES = [
  "swap_in_bytes", // 0 swap_in
  "swap_out_bytes", // 1 swap_out
  "major_faults", // 2 major_faults
  "minor_faults", // 3 minor_faults
  "free_memory_bytes", // 4 free_memory
  "total_memory_bytes", // 5 total_memory
  "available_memory_bytes", // 6 available_memory
  "disk_caches_bytes", // 7 disk_caches
  "hugetlb_allocations", // 8 hugetlb_allocations
  "hugetlb_failures", // 9 hugetlb_failures
  "oom_kills", // 10 oom_kill
  "alloc_stalls", // 11 alloc_stall
  "async_scan_bytes", // 12 async_scan
  "direct_scan_bytes", // 13 direct_scan
  "async_reclaim_bytes", // 14 async_reclaim
  "direct_reclaim_bytes", // 15 direct_reclaim
] as const;
export type StatName = (typeof STAT_NAMES)[number];

/** Last stats the guest sent: each value, or undefined if the tag was missing (QEMU: -1). */
export interface GuestStats {
  /** Simulated time the buffer was received (QEMU last-update), undefined before the first. */
  readonly lastUpdateNs: number | undefined;
  readonly stats: Readonly<Partial<Record<StatName, number>>>;
}

const NS_PER_S = 1e9;

export class StatsQueue {
  /** Head of the held buffer, or -1. */
  private held = -1;
  private heldQueue: VirtQueue | undefined;
  private timer: EventHandle | undefined;
  private intervalS: number;
  private values = new Float64Array(abi.VIRTIO_BALLOON_S_NR).fill(NaN);
  private lastUpdate: number | undefined;
  /** Simulated times of polls that returned a buffer (tests check the cadence). */
  readonly pollTimesNs: number[] = [];

  constructor(private readonly dev: VirtioBalloon, intervalS: number) {
    this.intervalS = intervalS;
    if (intervalS > 0) this.arm(0);
  }

  get pollingIntervalS(): number { return this.intervalS; }

  /**
   * Changes the polling interval (QEMU guest-stats-polling-interval): 0 stops polling; enabling
   * polls at once (+0), changing an active interval re-arms at the new one.
   */
  setPollingInterval(s: number): void {
    if (typeof s !== "number" || !Number.isFinite(s) || s < 0 || s > STATS_INTERVAL_MAX_S) {
      throw new ConfigError("balloon.statsPollingIntervalS", s, `a number of seconds in [0, ${STATS_INTERVAL_MAX_S}] (0 disables)`);
    }
    if (s > 0 && !this.dev.options.statsVq) throw new ConfigError("balloon.statsPollingIntervalS", s, "0: the stats queue is not offered");
    const wasOn = this.intervalS > 0;
    this.intervalS = s;
    if (s === 0) { this.timer?.cancel(); this.timer = undefined; return; }
    this.arm(wasOn ? s : 0);
  }

  private arm(delayS: number): void {
    this.timer?.cancel();
    this.timer = this.dev.sim.schedule(Math.max(this.dev.sim.now, this.dev.nowNs()) + delayS * NS_PER_S, () => this.poll(), "balloon-stats-poll");
  }

  /** balloon_stats_poll_cb: give the held buffer back (guest interrupt); without one, re-arm. */
  private poll(): void {
    this.timer = undefined;
    if (this.intervalS === 0) return;
    const q = this.heldQueue;
    if (this.held < 0 || !q || !this.dev.live) { this.arm(this.intervalS); return; }
    q.pushUsed(this.held, 0);
    this.held = -1;
    this.pollTimesNs.push(this.dev.sim.now);
    this.dev.bump("stats_polls");
    this.dev.interrupt(q);
    // re-armed when the refilled buffer arrives (virtio_balloon_receive_stats)
  }

  /** A kick of the stats queue: parse the buffer and hold it until the next poll. */
  process(q: VirtQueue): number {
    this.dev.serviceChains(q, (chain) => {
      if (this.held >= 0) {
        this.dev.bump("stats_fails"); // a second buffer while one is held: returned at once (QEMU)
        return 0;
      }
      const bytes = chain.writable.length === 0 ? chain.readAll(this.dev.deviceMemory) : undefined;
      if (!bytes) {
        this.dev.bump("stats_fails");
        return -1;
      }
      this.parse(bytes);
      this.held = chain.head;
      this.heldQueue = q;
      if (this.intervalS > 0) this.arm(this.intervalS);
      return HOLD;
    });
    return 0;
  }

  /** Entries are packed {le16 tag; le64 val}; unknown tags ignored, missing ones unset. */
  private parse(bytes: Uint8Array): void {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.values.fill(NaN); // QEMU resets every stat to -1 before parsing a buffer
    const n = Math.floor(bytes.length / abi.VIRTIO_BALLOON_STAT_BYTES);
    for (let i = 0; i < n; i++) {
      const o = i * abi.VIRTIO_BALLOON_STAT_BYTES;
      const tag = v.getUint16(o, true);
      const val = v.getUint32(o + 2, true) + v.getUint32(o + 6, true) * 0x1_0000_0000;
      if (tag < abi.VIRTIO_BALLOON_S_NR) this.values[tag] = val;
    }
    this.lastUpdate = this.dev.nowNs();
    this.dev.bump("stats_updates");
  }

  /** Last values (QEMU qom-get guest-stats). */
  guestStats(): GuestStats {
    const stats: Partial<Record<StatName, number>> = {};
    STAT_NAMES.forEach((name, tag) => { if (!Number.isNaN(this.values[tag])) stats[name] = this.values[tag]; });
    return { lastUpdateNs: this.lastUpdate, stats };
  }

  /** Value of tag `tag`, or -1 if unset (QEMU's u64 -1). */
  stat(tag: number): number {
    const v = this.values[tag];
    return v === undefined || Number.isNaN(v) ? -1 : v;
  }

  /** DRIVER_OK: nothing held yet; the driver's first buffer arrives with its first kick. */
  driverOk(): void {}

  /** Device reset: the held buffer belongs to the old rings. */
  reset(): void {
    this.held = -1;
    this.heldQueue = undefined;
  }
}
