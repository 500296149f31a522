// SPDX-License-Identifier: MIT
// The RAM window: the only guest frames that have real bytes in this model (design §2). It holds
// what a device must read or write byte by byte: virtqueue rings, PFN arrays, stats buffers,
// request/response structs. It occupies guest pfns [RAMWIN_PFN, RAMWIN_PFN + frames) as
// unmovable kernel memory; guest code hands out pieces of it with a bump allocator at boot.

import { PAGE_SHIFT, PAGE_SIZE, PT_RAMWIN, LAYOUT_RAMWIN_PTR, LAYOUT_RAMWIN_PFN, LAYOUT_RAMWIN_FRAMES } from "../abi";
import { setType, nrFrames } from "../mm/pfn";
import { SCB } from "../lib/scb";

/** First pfn of the window: 1 MiB, above the legacy low memory, like a kernel's early data. */
export const RAMWIN_PFN_DEFAULT: u32 = 256;
/** Window size: 1 MiB holds every virtqueue and request buffer the drivers need. */
export const RAMWIN_FRAMES_DEFAULT: u32 = 256;

export let ramwinPtr: usize = 0;
export let ramwinPfn: u32 = 0;
export let ramwinFrames: u32 = 0;
let bumpOff: u32 = 0;

/** Reserves the window; called once by guest_init after the frame arrays exist. */
export function initRamWindow(pfn: u32, frames: u32): void {
  ramwinPfn = pfn;
  ramwinFrames = frames;
  ramwinPtr = heap.alloc(<usize>frames << PAGE_SHIFT);
  memory.fill(ramwinPtr, 0, <usize>frames << PAGE_SHIFT);
  for (let i: u32 = 0; i < frames; i++) setType(pfn + i, PT_RAMWIN);
  store<u32>(SCB + LAYOUT_RAMWIN_PTR, <u32>ramwinPtr);
  store<u32>(SCB + LAYOUT_RAMWIN_PFN, pfn);
  store<u32>(SCB + LAYOUT_RAMWIN_FRAMES, frames);
  bumpOff = 0;
}

/** Guest physical address of the window's first byte. */
// @ts-ignore: decorator
@inline export function ramwinGpa(): u64 { return <u64>ramwinPfn << PAGE_SHIFT; }

/**
 * Allocates `bytes` (aligned to `align`, a power of two) from the window for a driver
 * structure; returns its guest physical address, or 0 if the window is full.
 */
export function ramwinAlloc(bytes: u32, align: u32): u64 {
  const off = (bumpOff + align - 1) & ~(align - 1);
  if (<u64>off + <u64>bytes > (<u64>ramwinFrames << PAGE_SHIFT)) return 0;
  bumpOff = off + bytes;
  return ramwinGpa() + <u64>off;
}

/** Linear-memory address of guest physical address `gpa` inside the window (0 if outside). */
export function gpaToPtr(gpa: u64, len: u32): usize {
  const base = ramwinGpa();
  const end = base + (<u64>ramwinFrames << PAGE_SHIFT);
  if (gpa < base || gpa + <u64>len > end) return 0;
  return ramwinPtr + <usize>(gpa - base);
}

/** Bytes still free in the window. */
export function ramwinFree(): u32 { return (ramwinFrames << PAGE_SHIFT) - bumpOff; }

export { PAGE_SIZE, nrFrames };
