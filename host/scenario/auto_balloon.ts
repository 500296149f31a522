// SPDX-License-Identifier: MIT
// The `auto-balloon` host policy: every interval, read the guest's free memory from the balloon
// stats queue and move the balloon target so the guest keeps `keepFree` free (in the spirit of
// oVirt MoM / libvirt auto-ballooning). Model: uses MemFree (not MemAvailable): the balloon does
// not take page cache; one step is at most `maxStep`; the guest never goes below `minSize`.

import type { ResolvedAutoBalloon } from "./resolve.js";

/**
 * Hysteresis: act only when the target is off by more than this fraction of keepFree (and at
 * least 4 MiB), so the balloon does not chase every allocation of a busy guest back and forth.
 */
export const AUTO_BALLOON_DEADBAND_FRACTION = 0.25;
const MIN_DEADBAND_BYTES = 4 << 20;

/**
 * The next target guest size (bytes) given the current target, the guest size the balloon leaves
 * (ram − actual) and the guest's free memory; returns `currentTarget` when no change is needed.
 */
export function autoBalloonTarget(p: ResolvedAutoBalloon, ramBytes: number, currentTarget: number, guestSizeBytes: number,
  freeBytes: number): number {
  const used = Math.max(0, guestSizeBytes - freeBytes);
  const want = Math.min(ramBytes, Math.max(p.minSizeBytes, used + p.keepFreeBytes));
  const step = Math.max(-p.maxStepBytes, Math.min(p.maxStepBytes, want - currentTarget));
  if (Math.abs(want - currentTarget) < Math.max(MIN_DEADBAND_BYTES, AUTO_BALLOON_DEADBAND_FRACTION * p.keepFreeBytes)) return currentTarget;
  return Math.round((currentTarget + step) / 4096) * 4096;
}
