// SPDX-License-Identifier: MIT
// virtio-balloon device options, validated at the boundary (ConfigError names the field).
// Vocabulary follows QEMU's -device virtio-balloon properties and Firecracker's PUT /balloon
// (reference/virtio-balloon.md §7): deflate-on-oom, free-page-hint, page-poison,
// free-page-reporting, guest-stats-polling-interval, stats_polling_interval_s.

import { ConfigError } from "../../guest/errors.js";

/** Whose device behaviour to model: queue sizes, config size, how inflated PFNs are discarded. */
export type BalloonVmm = "qemu" | "firecracker";

export interface BalloonOptions {
  /** Device flavour (default "qemu"). */
  vmm?: BalloonVmm;
  /** Offer VIRTIO_BALLOON_F_MUST_TELL_HOST (default false: QEMU, Firecracker and CH do not). */
  mustTellHost?: boolean;
  /** Offer VIRTIO_BALLOON_F_STATS_VQ (default: true for QEMU, interval > 0 for Firecracker). */
  statsVq?: boolean;
  /** Stats polling interval in simulated seconds; 0 disables (QEMU guest-stats-polling-interval). */
  statsPollingIntervalS?: number;
  /** Offer VIRTIO_BALLOON_F_DEFLATE_ON_OOM (default false). */
  deflateOnOom?: boolean;
  /** Offer VIRTIO_BALLOON_F_FREE_PAGE_HINT (default false). */
  freePageHint?: boolean;
  /** Offer VIRTIO_BALLOON_F_PAGE_POISON (default: true for QEMU, false for Firecracker). */
  pagePoison?: boolean;
  /** Offer VIRTIO_BALLOON_F_REPORTING (default false). */
  freePageReporting?: boolean;
  /**
   * How inflated PFNs are discarded: "per-pfn" (QEMU: one discard per 4 KiB PFN, huge host pages
   * only through a PartiallyBalloonedPage per request) or "coalesce" (Firecracker: up to 2048
   * PFNs sorted, deduplicated and discarded as ranges). Default from `vmm`.
   */
  discard?: "per-pfn" | "coalesce";
  /** Initial balloon size in bytes (Firecracker amount_mib x 1 MiB); default 0. */
  initialBalloonBytes?: number;
}

export interface ResolvedBalloonOptions {
  readonly vmm: BalloonVmm;
  readonly mustTellHost: boolean;
  readonly statsVq: boolean;
  readonly statsPollingIntervalS: number;
  readonly deflateOnOom: boolean;
  readonly freePageHint: boolean;
  readonly pagePoison: boolean;
  readonly freePageReporting: boolean;
  readonly discard: "per-pfn" | "coalesce";
  readonly initialBalloonBytes: number;
  /** Queue maximum sizes: inflate, deflate, stats, free_page, reporting. */
  readonly queueSizes: { readonly inflate: number; readonly deflate: number; readonly stats: number; readonly freePage: number; readonly reporting: number };
  /** Config space size in bytes (QEMU 8/12/16 by features, Firecracker 12). */
  readonly configBytes: number;
}

const KEYS: readonly (keyof BalloonOptions)[] = [
  "vmm", "mustTellHost", "statsVq", "statsPollingIntervalS", "deflateOnOom", "freePageHint", "pagePoison",
  "freePageReporting", "discard", "initialBalloonBytes",
];
/** QEMU rejects intervals above UINT32_MAX seconds (balloon_stats_set_poll_interval). */
export const STATS_INTERVAL_MAX_S = 0xffff_ffff;

function bool(o: BalloonOptions, k: keyof BalloonOptions, dflt: boolean): boolean {
  const v = o[k];
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") throw new ConfigError(`balloon.${k}`, v, "true or false");
  return v;
}

/** Validates `o` against a guest of `ramBytes`; unknown keys are refused. */
export function resolveBalloonOptions(o: BalloonOptions = {}, ramBytes: number): ResolvedBalloonOptions {
  if (typeof o !== "object" || o === null) throw new ConfigError("balloon", o, "an options object");
  for (const k of Object.keys(o)) {
    if (!(KEYS as readonly string[]).includes(k)) throw new ConfigError(`balloon.${k}`, (o as Record<string, unknown>)[k], `a known option (${KEYS.join(", ")})`);
  }
  const vmm = o.vmm ?? "qemu";
  if (vmm !== "qemu" && vmm !== "firecracker") throw new ConfigError("balloon.vmm", vmm, '"qemu" or "firecracker"');
  const interval = o.statsPollingIntervalS ?? 0;
  if (typeof interval !== "number" || !Number.isFinite(interval) || interval < 0 || interval > STATS_INTERVAL_MAX_S) {
    throw new ConfigError("balloon.statsPollingIntervalS", interval, `a number of seconds in [0, ${STATS_INTERVAL_MAX_S}] (0 disables)`);
  }
  const fc = vmm === "firecracker";
  const statsVq = bool(o, "statsVq", fc ? interval > 0 : true);
  if (!statsVq && interval > 0) throw new ConfigError("balloon.statsPollingIntervalS", interval, "0 when statsVq is false");
  const freePageHint = bool(o, "freePageHint", false);
  const pagePoison = bool(o, "pagePoison", !fc);
  const discard = o.discard ?? (fc ? "coalesce" : "per-pfn");
  if (discard !== "per-pfn" && discard !== "coalesce") throw new ConfigError("balloon.discard", discard, '"per-pfn" or "coalesce"');
  const initial = o.initialBalloonBytes ?? 0;
  checkBytes("balloon.initialBalloonBytes", initial, ramBytes);
  const q = fc
    ? { inflate: 256, deflate: 256, stats: 256, freePage: 256, reporting: 256 } // FIRECRACKER_MAX_QUEUE_SIZE
    : { inflate: 128, deflate: 128, stats: 128, freePage: 1024, reporting: 32 }; // QB: VIRTQUEUE_MAX_SIZE, 32
  const configBytes = fc ? 12 : pagePoison ? 16 : freePageHint ? 12 : 8;
  return {
    vmm, mustTellHost: bool(o, "mustTellHost", false), statsVq, statsPollingIntervalS: interval,
    deflateOnOom: bool(o, "deflateOnOom", false), freePageHint, pagePoison,
    freePageReporting: bool(o, "freePageReporting", false), discard, initialBalloonBytes: initial,
    queueSizes: q, configBytes: Math.max(configBytes, pagePoison ? 16 : freePageHint ? 12 : 8),
  };
}

/** A byte count in [0, ramBytes], integer; ConfigError naming `field` otherwise. */
export function checkBytes(field: string, v: unknown, ramBytes: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || !Number.isInteger(v)) throw new ConfigError(field, v, "an integer number of bytes");
  if (v < 0) throw new ConfigError(field, v, "a non-negative number of bytes");
  if (v > ramBytes) throw new ConfigError(field, v, `at most the guest RAM (${ramBytes} bytes)`);
  return v;
}
