// SPDX-License-Identifier: MIT
// The guest's export surface: flat, numeric functions the host calls (design §5). Each says who
// calls it and when. Modules add their exports by re-exporting from their own *_exports.ts file
// below, so that this file stays a table of contents.

import { OK, E_STATE, E_INVAL, E_RANGE } from "./abi";
import { initFrames, nrFrames } from "./mm/pfn";
import { initScb, SCB } from "./lib/scb";
import { clockEnter, clockElapsed } from "./lib/clock";
import { initRamWindow, RAMWIN_PFN_DEFAULT, RAMWIN_FRAMES_DEFAULT } from "./hw/ram_window";
import { prngSeed } from "./lib/prng";
import { readFrame, writeFrames } from "./hw/mmu";
import { fireTimer } from "./lib/timers";
import { setParam } from "./lib/params";
import { mmInit } from "./mm/page_alloc";

let initialized = false;

/**
 * Boots the guest's memory core for `frames` 4 KiB frames. Called once by the host right after
 * instantiation, before any other export. Returns OK or an error code.
 */
export function guest_init(frames: u32, seed: u32): i32 {
  if (initialized) return E_STATE;
  if (frames < 1024) return E_INVAL; // at least 4 MiB: the RAM window and one max-order block
  initFrames(frames);
  initScb();
  initRamWindow(RAMWIN_PFN_DEFAULT, RAMWIN_FRAMES_DEFAULT);
  mmInit();
  prngSeed(seed);
  initialized = true;
  return OK;
}

/** Sets boot parameter / tunable `id` (abi.ts PARAM_*); boot-time ones only before guest_init. */
export function guest_set_param(id: u32, value: f64): i32 { return setParam(id, value) ? OK : E_INVAL; }

/** Address of the shared control block (abi.ts SCB_*). Called once by the host after init. */
export function scb_ptr(): usize { return SCB; }

/** Called by the host before every guest entry with the current simulated time. */
export function guest_enter(nowNs: f64): void { clockEnter(nowNs); }

/** Simulated ns the guest spent since guest_enter; read by the host after every entry. */
export function guest_elapsed(): f64 { return clockElapsed(); }

/**
 * Test and workload primitive: the guest CPU writes (or reads) `count` frames from `pfn` on,
 * in one loop. Returns the number of accesses the host refused, or E_RANGE.
 */
export function hw_access_range(pfn: u32, count: u32, write: bool): i32 {
  if (<u64>pfn + <u64>count > <u64>nrFrames) return E_RANGE;
  if (write) return <i32>writeFrames(pfn, count);
  let refused = 0;
  for (let i: u32 = 0; i < count; i++) if (!readFrame(pfn + i)) refused++;
  return refused;
}

/** Fires guest timer `id` (abi.ts TIMER_*); called by the host at the time it was armed for. */
export function guest_timer_fire(id: u32): i32 { return fireTimer(id); }

// ---- module exports (one line per module; keep this list sorted by layer) ----
export * from "./drivers/virtio_exports";
export * from "./drivers/virtio_test_exports";
export * from "./mm/buddy_exports";
export * from "./drivers/balloon_exports";
export * from "./mm/page_reporting_exports";
export * from "./mm/mm2_exports";
export * from "./workload/workload_exports";
export * from "./drivers/balloon_free_page_exports";
