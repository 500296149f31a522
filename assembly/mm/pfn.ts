// SPDX-License-Identifier: MIT
// Per-frame metadata (a reduced struct page), as a structure of arrays in unmanaged memory.
// Layout and encodings: abi.ts. Allocated once by initFrames(); never moved or grown, so the
// host's typed-array views over it stay valid.

import {
  NIL, PT_MASK, PAGEBLOCK_ORDER, PB_MT_MASK, PT_RESERVED,
} from "../abi";

export let nrFrames: u32 = 0;
export let VERSIONS: usize = 0;
export let NEXT: usize = 0;
export let PREV: usize = 0;
export let PFLAGS: usize = 0;
export let PORDER: usize = 0;
export let HSTATE: usize = 0;
export let PAGEBLOCK: usize = 0;
export let nrPageblocks: u32 = 0;

/** Allocates and clears the per-frame arrays for `frames` frames. Called once by guest_init. */
export function initFrames(frames: u32): void {
  nrFrames = frames;
  nrPageblocks = (frames + (1 << PAGEBLOCK_ORDER) - 1) >> PAGEBLOCK_ORDER;
  const n = <usize>frames;
  VERSIONS = heap.alloc(n << 2);
  NEXT = heap.alloc(n << 2);
  PREV = heap.alloc(n << 2);
  PFLAGS = heap.alloc(n);
  PORDER = heap.alloc(n);
  HSTATE = heap.alloc(n);
  PAGEBLOCK = heap.alloc(<usize>nrPageblocks);
  memory.fill(VERSIONS, 0, n << 2);
  memory.fill(NEXT, 0xff, n << 2); // NIL links
  memory.fill(PREV, 0xff, n << 2);
  memory.fill(PFLAGS, PT_RESERVED, n);
  memory.fill(PORDER, 0, n);
  memory.fill(HSTATE, 0, n); // not backed: the host populates on first touch
  memory.fill(PAGEBLOCK, 1, <usize>nrPageblocks); // MIGRATE_MOVABLE at boot (L-MHP)
}

// @ts-ignore: decorator
@inline export function pfnValid(pfn: u32): bool { return pfn < nrFrames; }

// @ts-ignore: decorator
@inline export function getVersion(pfn: u32): u32 { return load<u32>(VERSIONS + (<usize>pfn << 2)); }
// @ts-ignore: decorator
@inline export function setVersion(pfn: u32, v: u32): void { store<u32>(VERSIONS + (<usize>pfn << 2), v); }

// @ts-ignore: decorator
@inline export function getNext(pfn: u32): u32 { return load<u32>(NEXT + (<usize>pfn << 2)); }
// @ts-ignore: decorator
@inline export function setNext(pfn: u32, v: u32): void { store<u32>(NEXT + (<usize>pfn << 2), v); }
// @ts-ignore: decorator
@inline export function getPrev(pfn: u32): u32 { return load<u32>(PREV + (<usize>pfn << 2)); }
// @ts-ignore: decorator
@inline export function setPrev(pfn: u32, v: u32): void { store<u32>(PREV + (<usize>pfn << 2), v); }

// @ts-ignore: decorator
@inline export function getFlags(pfn: u32): u8 { return load<u8>(PFLAGS + <usize>pfn); }
// @ts-ignore: decorator
@inline export function setFlags(pfn: u32, f: u8): void { store<u8>(PFLAGS + <usize>pfn, f); }
// @ts-ignore: decorator
@inline export function getType(pfn: u32): u8 { return load<u8>(PFLAGS + <usize>pfn) & PT_MASK; }
/** Sets the page type, keeping the flag bits. */
// @ts-ignore: decorator
@inline export function setType(pfn: u32, t: u8): void {
  const p = PFLAGS + <usize>pfn;
  store<u8>(p, (load<u8>(p) & ~PT_MASK) | t);
}
// @ts-ignore: decorator
@inline export function testFlag(pfn: u32, f: u8): bool { return (load<u8>(PFLAGS + <usize>pfn) & f) != 0; }
// @ts-ignore: decorator
@inline export function setFlag(pfn: u32, f: u8): void {
  const p = PFLAGS + <usize>pfn;
  store<u8>(p, load<u8>(p) | f);
}
// @ts-ignore: decorator
@inline export function clearFlag(pfn: u32, f: u8): void {
  const p = PFLAGS + <usize>pfn;
  store<u8>(p, load<u8>(p) & ~f);
}

// @ts-ignore: decorator
@inline export function getOrder(pfn: u32): u32 { return <u32>(load<u8>(PORDER + <usize>pfn) & 0x0f); }
// @ts-ignore: decorator
@inline export function getListMt(pfn: u32): u32 { return <u32>(load<u8>(PORDER + <usize>pfn) >> 4); }
/** Records order and the migratetype of the list the block sits on (or was allocated as). */
// @ts-ignore: decorator
@inline export function setOrderMt(pfn: u32, order: u32, mt: u32): void {
  store<u8>(PORDER + <usize>pfn, <u8>((mt << 4) | order));
}

// @ts-ignore: decorator
@inline export function getHostState(pfn: u32): u8 { return load<u8>(HSTATE + <usize>pfn); }

// @ts-ignore: decorator
@inline export function pageblockOf(pfn: u32): u32 { return pfn >> PAGEBLOCK_ORDER; }
// @ts-ignore: decorator
@inline export function getPageblockMt(pfn: u32): u32 {
  return <u32>(load<u8>(PAGEBLOCK + <usize>(pfn >> PAGEBLOCK_ORDER)) & PB_MT_MASK);
}
// @ts-ignore: decorator
@inline export function setPageblockMt(pfn: u32, mt: u32): void {
  const p = PAGEBLOCK + <usize>(pfn >> PAGEBLOCK_ORDER);
  store<u8>(p, (load<u8>(p) & ~PB_MT_MASK) | <u8>mt);
}
// @ts-ignore: decorator
@inline export function getPageblockFlags(pfn: u32): u8 { return load<u8>(PAGEBLOCK + <usize>(pfn >> PAGEBLOCK_ORDER)); }
// @ts-ignore: decorator
@inline export function setPageblockFlags(pfn: u32, f: u8): void { store<u8>(PAGEBLOCK + <usize>(pfn >> PAGEBLOCK_ORDER), f); }

export const NO_PFN: u32 = NIL;
