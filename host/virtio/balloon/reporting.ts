// SPDX-License-Identifier: MIT
// Free page reporting, device side: every chain on reporting_vq names guest RAM ranges (one
// buddy block each, device-writable); each range is discarded (host RSS falls, contents read
// back as zero) unless the guest poisons freed pages or the range is not aligned to the host
// page size; the chain is acked with used len 0. The guest reuses reported pages simply by
// allocating them: the first touch refaults a zero page (GuestMemory counts refaults).
// Follows QEMU hw/virtio/virtio-balloon.c virtio_balloon_handle_report.

import * as abi from "../../guest/abi.generated.js";
import type { Vm } from "../../vm.js";
import { ConfigError, check } from "../../guest/errors.js";
import type { DescChain } from "../chain.js";
import type { VirtQueue } from "../queue.js";
import type { BalloonDeviceContext, BalloonQueueHandler } from "./device.js";

const PAGE = abi.PAGE_SIZE;

/** Counters of reporting (suffixes of `balloon_`), with their meaning. */
export const REPORTING_METRIC_HELP = {
  free_page_report_count: "report requests (chains) served on reporting_vq",
  free_page_report_ranges: "reported ranges (buddy blocks) received",
  free_page_report_freed_bytes: "host bytes freed by discarding reported ranges (resident before)",
  free_page_report_discarded_bytes: "bytes of reported ranges discarded (resident or not)",
  free_page_report_skipped: "ranges not discarded: poison_val != 0 or misaligned to the host page size",
  free_page_report_fails: "ranges refused: device-readable buffer or inside the RAM window (vring memory)",
} as const;
export const REPORTING_METRICS = Object.keys(REPORTING_METRIC_HELP);

/**
 * The reporting_vq handler. QEMU's rules: poison_val != 0 (F_PAGE_POISON with a non-zero
 * pattern) means "just ack" (a discard would read back zeros, not the pattern); a range whose
 * offset or size is not a multiple of the host page size is skipped (1 GiB-backed RAM never
 * qualifies, 2 MiB pages do for order >= 9).
 */
export class FreePageReportingHandler implements BalloonQueueHandler {
  readonly metrics = REPORTING_METRICS;

  process(dev: BalloonDeviceContext, q: VirtQueue): number {
    let costNs = 0;
    dev.serviceChains(q, (chain) => {
      costNs += this.handleReport(dev, chain);
      return 0;
    });
    return costNs;
  }

  /** virtio_balloon_handle_report for one chain; returns the discard cost in ns. */
  private handleReport(dev: BalloonDeviceContext, chain: DescChain): number {
    dev.countMetric("free_page_report_count");
    if (chain.readable.length > 0) dev.countMetric("free_page_report_fails", chain.readable.length);
    const n = chain.writable.length;
    dev.countMetric("free_page_report_ranges", n);
    if (dev.poisonVal !== 0) {
      dev.countMetric("free_page_report_skipped", n);
      return 0;
    }
    const mem = dev.guestMemory;
    const hostPage = mem.hostPageBytes;
    const winStart = dev.deviceMemory.windowGpa;
    const winEnd = winStart + dev.deviceMemory.windowBytes;
    let costNs = 0;
    for (const s of chain.writable) {
      // chain validation already kept every segment inside guest RAM
      if (s.gpa < winEnd && s.gpa + s.len > winStart) {
        dev.countMetric("free_page_report_fails");
        continue;
      }
      if (s.gpa % hostPage !== 0 || s.len % hostPage !== 0 || s.len === 0) {
        dev.countMetric("free_page_report_skipped");
        continue;
      }
      const r = mem.discard(s.gpa / PAGE, s.len / PAGE);
      dev.countMetric("free_page_report_freed_bytes", r.freedPages * PAGE);
      dev.countMetric("free_page_report_discarded_bytes", s.len);
      costNs += r.costNs;
    }
    return costNs;
  }
}

/** Guest-side tunables of free page reporting (mm/page_reporting.c knobs). */
export interface ReportingTunables {
  /** page_reporting_order: smallest buddy order reported, 0..10 (default pageblock order 9). */
  order?: number;
  /** Delay between a qualifying free and the pass, and between passes, in ms (default 2000). */
  delayMs?: number;
  /** Blocks per report call (default 32); the reporting queue must be at least this large. */
  capacity?: number;
}

/**
 * Boot parameters for VmConfig.params that set the tunables before the guest boots (the way to
 * set `order` before the balloon registers; capacity and delay may also change at run time).
 */
export function reportingBootParams(t: ReportingTunables): Record<string, number> {
  validateTunables(t);
  const p: Record<string, number> = {};
  if (t.order !== undefined) p.PAGE_REPORTING_ORDER = t.order;
  if (t.delayMs !== undefined) p.PAGE_REPORTING_DELAY_MS = t.delayMs;
  if (t.capacity !== undefined) p.PAGE_REPORTING_CAPACITY = t.capacity;
  return p;
}

/** Changes the tunables of a running guest (sysfs/module parameter writes); the next pass uses them. */
export function setReportingTunables(vm: Vm, t: ReportingTunables): void {
  validateTunables(t);
  vm.enter("page-reporting-tunables", (g) => {
    if (t.delayMs !== undefined) check("guest_set_param", g.guest_set_param(abi.PARAM_PAGE_REPORTING_DELAY_MS, t.delayMs), "delayMs");
    if (t.capacity !== undefined) check("guest_set_param", g.guest_set_param(abi.PARAM_PAGE_REPORTING_CAPACITY, t.capacity), "capacity");
    if (t.order !== undefined) {
      check("guest_set_param", g.guest_set_param(abi.PARAM_PAGE_REPORTING_ORDER, t.order), "order");
      check("page_reporting_set_order", g.page_reporting_set_order(t.order), "order");
    }
  });
}

function validateTunables(t: ReportingTunables): void {
  if (typeof t !== "object" || t === null) throw new ConfigError("reporting", t, "an object with order, delayMs, capacity");
  for (const k of Object.keys(t)) {
    if (!["order", "delayMs", "capacity"].includes(k)) throw new ConfigError(`reporting.${k}`, (t as Record<string, unknown>)[k], "one of order, delayMs, capacity");
  }
  if (t.order !== undefined && !(Number.isInteger(t.order) && t.order >= 0 && t.order <= abi.MAX_ORDER)) {
    throw new ConfigError("reporting.order", t.order, `an integer in [0, ${abi.MAX_ORDER}]`);
  }
  if (t.delayMs !== undefined && !(typeof t.delayMs === "number" && Number.isFinite(t.delayMs) && t.delayMs >= 0)) {
    throw new ConfigError("reporting.delayMs", t.delayMs, "a non-negative number of milliseconds");
  }
  if (t.capacity !== undefined && !(Number.isInteger(t.capacity) && t.capacity >= 1 && t.capacity <= 1024)) {
    throw new ConfigError("reporting.capacity", t.capacity, "an integer in [1, 1024]");
  }
}

/** Guest-side reporting state (abi PAGE_REPORTING_*), order in effect, counters from vmstat. */
export function reportingStatus(vm: Vm): { state: number; order: number; reportedPages: number; reportCalls: number; reportFails: number } {
  const v = vm.guest.views.vmstat;
  const x = vm.guest.exports;
  return {
    state: x.page_reporting_state(),
    order: x.page_reporting_order(),
    reportedPages: v[abi.VM_REPORTED_PAGES],
    reportCalls: v[abi.VM_REPORT_CALLS],
    reportFails: v[abi.VM_REPORT_FAILS],
  };
}
