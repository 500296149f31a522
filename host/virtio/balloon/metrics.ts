// SPDX-License-Identifier: MIT
// virtio-balloon metrics (Firecracker balloon/metrics.rs family, units in the names): device
// counters kept in VirtioDevice.metrics as `balloon_<suffix>`, published in the host registry as
// `<vm>.balloon.<suffix>` next to the standard virtio counters, plus gauges computed on read.

import * as abi from "../../guest/abi.generated.js";
import type { MetricsRegistry } from "../../metrics/registry.js";
import { registerVirtioMetrics } from "../metrics.js";
import type { VirtioBalloon } from "./device.js";
import { STAT_NAMES } from "./stats.js";
import { REPORTING_METRIC_HELP } from "./reporting.js";
import { HINTING_METRIC_HELP } from "./hinting.js";

/** Help of the counters the reporting_vq / free_page_vq handlers keep. */
const HANDLER_METRIC_HELP: Record<string, string> = { ...REPORTING_METRIC_HELP, ...HINTING_METRIC_HELP };

const PAGE = abi.PAGE_SIZE;

/** Device-specific counters (suffixes of `balloon_`), with their meaning. */
export const BALLOON_METRIC_HELP = {
  inflate_count: "inflate requests served (descriptor chains with a valid PFN array)",
  inflate_pfns: "4 KiB PFNs accepted on the inflate queue",
  inflate_fails: "inflate chains skipped: device-writable, length not a multiple of 4, > 256 PFNs, outside the RAM window",
  inflate_twice_pfns: "PFNs inflated while already inflated (hostile or buggy guest)",
  deflate_count: "deflate requests served",
  deflate_pfns: "4 KiB PFNs accepted on the deflate queue",
  deflate_fails: "deflate chains skipped (same rules as inflate)",
  deflate_unknown_pfns: "PFNs deflated that were not inflated",
  pfn_fails: "PFNs outside guest RAM or in pinned vring memory, skipped",
  freed_bytes: "host bytes freed by discarding inflated PFNs",
  discard_calls: "discard (madvise) calls made for inflated PFNs",
  inflated_touch_count: "guest accesses to an inflated frame without deflating it (allowed: zero page refault)",
  stats_polls: "stats buffers returned to the guest by the poll timer",
  stats_updates: "stats buffers received and parsed",
  stats_fails: "stats chains refused (second buffer while one is held, bad direction, outside the window)",
} as const;
export type BalloonMetric = keyof typeof BALLOON_METRIC_HELP;
export const BALLOON_METRICS = Object.keys(BALLOON_METRIC_HELP) as BalloonMetric[];

/** Guest-side balloon counters (guest vmstat), published as `<vm>.balloon.<name>`. */
const GUEST_COUNTERS: readonly [string, number, string][] = [
  ["oom_deflate_count", abi.VM_BALLOON_OOM_NOTIFY, "deflate-on-OOM notifier calls that released pages (1 MiB each)"],
  ["oom_deflate_pages", abi.VM_BALLOON_OOM_DEFLATE, "4 KiB pages released by the deflate-on-OOM notifier"],
  ["reinflate_pages", abi.VM_BALLOON_REINFLATE, "pages inflated again after an OOM deflate (the ping-pong)"],
  ["out_of_puff_count", abi.VM_BALLOON_OUT_OF_PUFF, "balloon page allocations that failed (200 ms back-off)"],
  ["guest_requests", abi.VM_BALLOON_REQUESTS, "inflate + deflate requests the driver sent (virtqueue round trips)"],
];

/**
 * Registers every balloon metric of `dev` under `<scope>.balloon.` (standard virtio counters,
 * balloon counters, gauges, guest stats, guest-side counters read from `vmstat()` if given).
 * Returns the prefix for registry.unregister.
 */
export function registerBalloonMetrics(r: MetricsRegistry, scope: string, dev: VirtioBalloon, vmstat?: () => Float64Array): string {
  const p = registerVirtioMetrics(r, scope, dev);
  const extra = Object.keys(dev.metrics).map((k) => k.slice(dev.name.length + 1))
    .filter((s) => !r.has(p + s));
  for (const m of extra) {
    const help = (BALLOON_METRIC_HELP as Record<string, string>)[m] ?? HANDLER_METRIC_HELP[m] ?? `balloon queue handler counter ${m}`;
    r.computed(p + m, "counter", `balloon: ${help}`, () => dev.metric(m));
  }
  const ram = dev.guestMemory.frames * PAGE;
  r.computed(`${p}actual_bytes`, "gauge", "balloon: bytes in the balloon (driver's `actual` x 4 KiB)", () => dev.actualPages * PAGE);
  r.computed(`${p}target_bytes`, "gauge", "balloon: target balloon size (num_pages x 4 KiB)", () => dev.targetPages * PAGE);
  r.computed(`${p}guest_size_bytes`, "gauge", "balloon: guest size as QEMU query-balloon reports it (ram - actual x 4 KiB)", () => ram - dev.actualPages * PAGE);
  r.computed(`${p}inflated_bytes`, "gauge", "balloon: frames the device holds as inflated x 4 KiB", () => dev.inflate.inflatedPages * PAGE);
  STAT_NAMES.forEach((name, tag) => {
    r.computed(`${p}stats_${name}`, "gauge", `balloon: last guest stat tag ${tag} (-1 = unset)`, () => dev.stats.stat(tag));
  });
  if (vmstat) {
    for (const [name, idx, help] of GUEST_COUNTERS) r.computed(p + name, "counter", `balloon (guest): ${help}`, () => vmstat()[idx]);
  }
  return p;
}
