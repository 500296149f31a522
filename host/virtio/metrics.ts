// SPDX-License-Identifier: MIT
// Publishes a device's counters in the host's MetricsRegistry as `<vm>.<device>.<suffix>`
// (docs/metrics.md naming), computed on read from VirtioDevice.metrics: no cost on the hot path.

import type { MetricsRegistry } from "../metrics/registry.js";
import { DEVICE_METRICS, type VirtioDevice } from "./device.js";

const HELP: Record<(typeof DEVICE_METRICS)[number], string> = {
  desc_fails: "descriptor chains rejected by virtqueue validation (bounds, loops, indirect abuse, order)",
  request_fails: "well-formed chains the device could not use (direction, size, buffer outside the RAM window)",
  event_fails: "notifications that could not be served (no such queue, ring corruption)",
  config_fails: "config accesses out of range or writes to read-only fields",
  status_fails: "status or feature writes out of order, refused FEATURES_OK, bad queue setup",
  notify_count: "queue notifications (kicks) served",
  notify_ignored: "kicks while not DRIVER_OK, failed (NEEDS_RESET) or given up by the driver",
  used_count: "chains returned on used rings",
  interrupt_count: "used-buffer interrupts raised",
  config_change_count: "config-change interrupts raised",
  reset_count: "device resets by the driver",
};

/**
 * Registers the standard counters of `dev` plus `needs_reset` (gauge, 1 while failed) under
 * `<scope>.<dev.name>.`; returns the prefix (for registry.unregister on unplug).
 */
export function registerVirtioMetrics(registry: MetricsRegistry, scope: string, dev: VirtioDevice): string {
  const prefix = `${scope}.${dev.name}.`;
  for (const m of DEVICE_METRICS) registry.computed(prefix + m, "counter", `${dev.name}: ${HELP[m]}`, () => dev.metric(m));
  registry.computed(`${prefix}needs_reset`, "gauge", `${dev.name}: 1 while the device is failed (NEEDS_RESET)`, () => (dev.failedReason === undefined ? 0 : 1));
  return prefix;
}
