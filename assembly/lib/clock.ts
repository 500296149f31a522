// SPDX-License-Identifier: MIT
// The guest's view of simulated time. The host sets `now` when it enters the guest
// (guest_enter); guest work adds its cost to `elapsedNs`; the host reads it back when the call
// returns and advances the simulation by that much. Guest code never sees the wall clock.

let baseNs: f64 = 0;
let elapsedNs: f64 = 0;

export function clockEnter(nowNs: f64): void { baseNs = nowNs; elapsedNs = 0; }
/** Simulated time spent inside the guest since the last clockEnter. */
export function clockElapsed(): f64 { return elapsedNs; }
/** Current simulated time as the guest sees it. */
export function clockNow(): f64 { return baseNs + elapsedNs; }
// @ts-ignore: decorator
@inline export function charge(ns: f64): void { elapsedNs += ns; }
