// SPDX-License-Identifier: MIT
// The balloon's control surface in QEMU's words: `balloon <bytes>` sets the desired guest size,
// `query-balloon` reports it, BALLOON_CHANGE events follow `actual`; guest-stats and
// guest-stats-polling-interval. Firecracker's amount_mib style is setBalloonBytes.
// Follows QEMU hw/virtio/virtio-balloon.c (virtio_balloon_to_target, virtio_balloon_stat).

import * as abi from "../../guest/abi.generated.js";
import { ConfigError } from "../../guest/errors.js";
import type { BalloonChangeEvent, VirtioBalloon } from "./device.js";
import { checkBytes } from "./options.js";
import type { GuestStats } from "./stats.js";

const PAGE = abi.PAGE_SIZE;

export interface BalloonInfo {
  /** Guest memory size with the balloon taken out: ram - actual x 4 KiB (QEMU "actual"). */
  readonly actualBytes: number;
  /** Pages in the balloon as the driver reports them. */
  readonly actualPages: number;
  /** Target balloon size in pages (num_pages). */
  readonly targetPages: number;
}

export class BalloonControl {
  constructor(readonly device: VirtioBalloon) {}

  /** Guest RAM in bytes (QEMU ram_size). */
  get ramBytes(): number { return this.device.guestMemory.frames * PAGE; }

  /**
   * QMP `balloon value=<bytes>`: the desired guest size. num_pages = (ram - target) >> 12, a
   * config-change interrupt follows (also when unchanged, as QEMU). 0 is ignored, as QEMU.
   */
  setTargetBytes(bytes: number): void {
    checkBytes("balloon.targetBytes", bytes, this.ramBytes);
    if (bytes === 0) return;
    this.device.setNumPages(Math.floor((this.ramBytes - bytes) / PAGE));
  }

  /** Firecracker PATCH /balloon amount_mib: the balloon size itself, in bytes (<= guest RAM). */
  setBalloonBytes(bytes: number): void {
    checkBytes("balloon.balloonBytes", bytes, this.ramBytes);
    this.device.setNumPages(Math.floor(bytes / PAGE));
  }

  /** QMP `query-balloon`. */
  query(): BalloonInfo {
    const a = this.device.actualPages;
    return { actualBytes: this.ramBytes - a * PAGE, actualPages: a, targetPages: this.device.targetPages };
  }

  /** BALLOON_CHANGE events so far (sim time, actual bytes), in order. */
  get events(): readonly BalloonChangeEvent[] { return this.device.events; }

  /** Subscribes to BALLOON_CHANGE events. */
  onChange(listener: (e: BalloonChangeEvent) => void): void { this.device.onBalloonChange(listener); }

  /** QOM guest-stats: last values and their last-update time. */
  guestStats(): GuestStats { return this.device.stats.guestStats(); }

  /** QOM guest-stats-polling-interval (seconds; 0 disables; at most 2^32 - 1). */
  setStatsPollingInterval(seconds: number): void {
    if (typeof seconds !== "number") throw new ConfigError("balloon.statsPollingIntervalS", seconds, "a number of seconds");
    this.device.stats.setPollingInterval(seconds);
  }
}
