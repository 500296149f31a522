// SPDX-License-Identifier: MIT
// Guest kernel timers (delayed work). A module registers a handler for its abi.ts TIMER_* id and
// arms it through the host (timer_arm); the host fires it with guest_timer_fire at the
// simulated time. No closures in AssemblyScript: handlers are plain functions.

import { NR_TIMERS } from "../abi";
import { timer_arm, timer_cancel } from "../host";
import { clockNow } from "./clock";

const handlers = new StaticArray<((id: u32) => void) | null>(NR_TIMERS);
const armedAt = new StaticArray<f64>(NR_TIMERS);

/** Registers the handler of timer `id`; called at boot by the owning module. */
export function registerTimer(id: u32, fn: (id: u32) => void): void {
  handlers[id] = fn;
  armedAt[id] = -1;
}

/** Arms timer `id` to fire `delayNs` from the guest's current time (replaces a pending one). */
export function armTimer(id: u32, delayNs: f64): void {
  const at = clockNow() + delayNs;
  armedAt[id] = at;
  timer_arm(id, at);
}

/** Cancels timer `id`. */
export function cancelTimer(id: u32): void {
  armedAt[id] = -1;
  timer_cancel(id);
}

/** True if timer `id` is armed (like delayed_work_pending). */
export function timerPending(id: u32): bool { return armedAt[id] >= 0; }

/** Runs the handler of timer `id`; called by the host through guest_timer_fire. */
export function fireTimer(id: u32): i32 {
  if (id >= NR_TIMERS) return -2;
  const fn = handlers[id];
  armedAt[id] = -1;
  if (fn === null) return -7;
  fn(id);
  return 0;
}
