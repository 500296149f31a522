// SPDX-License-Identifier: MIT
// The shared control block (abi.ts: SCB_*): layout pointers, cost parameters written by the
// host, vmstat counters written by the guest. The host reads and writes it through typed views.

import {
  SCB_SIZE, SCB_COST, SCB_VMSTAT, LAYOUT_FRAMES, LAYOUT_VERSIONS, LAYOUT_NEXT, LAYOUT_PREV,
  LAYOUT_PFLAGS, LAYOUT_PORDER, LAYOUT_HSTATE, LAYOUT_PAGEBLOCK, LAYOUT_HOSTMETA, LAYOUT_HOSTMETA_BYTES,
  HOSTMETA_BITMAPS, HOSTMETA_NIBBLE_ARRAYS,
} from "../abi";
import { nrFrames, VERSIONS, NEXT, PREV, PFLAGS, PORDER, HSTATE, PAGEBLOCK } from "../mm/pfn";

export let SCB: usize = 0;
/** The host-owned per-frame region (abi.ts LAYOUT_HOSTMETA); the guest only reserves it. */
export let HOSTMETA: usize = 0;

export function initScb(): void {
  SCB = heap.alloc(SCB_SIZE);
  memory.fill(SCB, 0, SCB_SIZE);
  store<u32>(SCB + LAYOUT_FRAMES, nrFrames);
  store<u32>(SCB + LAYOUT_VERSIONS, <u32>VERSIONS);
  store<u32>(SCB + LAYOUT_NEXT, <u32>NEXT);
  store<u32>(SCB + LAYOUT_PREV, <u32>PREV);
  store<u32>(SCB + LAYOUT_PFLAGS, <u32>PFLAGS);
  store<u32>(SCB + LAYOUT_PORDER, <u32>PORDER);
  store<u32>(SCB + LAYOUT_HSTATE, <u32>HSTATE);
  store<u32>(SCB + LAYOUT_PAGEBLOCK, <u32>PAGEBLOCK);
  // reserved here, once, so the host's views over it never move (host sizes memory for it)
  const n = <usize>nrFrames;
  const bytes = <usize>HOSTMETA_BITMAPS * (((n + 31) >> 5) << 2) + <usize>HOSTMETA_NIBBLE_ARRAYS * ((n + 1) >> 1);
  HOSTMETA = heap.alloc(bytes);
  memory.fill(HOSTMETA, 0, bytes);
  store<u32>(SCB + LAYOUT_HOSTMETA, <u32>HOSTMETA);
  store<u32>(SCB + LAYOUT_HOSTMETA_BYTES, <u32>bytes);
}

/** Cost parameter `i` (COST_*), in ns. */
// @ts-ignore: decorator
@inline export function cost(i: u32): f64 { return load<f64>(SCB + SCB_COST + (<usize>i << 3)); }

// @ts-ignore: decorator
@inline export function vmstat(i: u32): f64 { return load<f64>(SCB + SCB_VMSTAT + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline export function vmstatAdd(i: u32, d: f64): void {
  const p = SCB + SCB_VMSTAT + (<usize>i << 3);
  store<f64>(p, load<f64>(p) + d);
}
// @ts-ignore: decorator
@inline export function vmstatInc(i: u32): void {
  const p = SCB + SCB_VMSTAT + (<usize>i << 3);
  store<f64>(p, load<f64>(p) + 1.0);
}
// @ts-ignore: decorator
@inline export function vmstatSet(i: u32, v: f64): void { store<f64>(SCB + SCB_VMSTAT + (<usize>i << 3), v); }
