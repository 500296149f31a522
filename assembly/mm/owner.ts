// SPDX-License-Identifier: MIT
// Who owns an allocated page (page->mapping, reduced): the owner id (pid or file id) sits in the
// high nibble of porder, which the buddy only reads on free blocks. Model: owned pages are
// order 0, so the low nibble stays 0 and freePages(pfn, 0) still recognises them.

import { PG_HEAD, MT_MOVABLE } from "../abi";
import { PORDER, PFLAGS } from "./pfn";

// @ts-ignore: decorator
@inline export function ownerOf(pfn: u32): u32 { return <u32>load<u8>(PORDER + <usize>pfn) >> 4; }

/** Makes an allocated order-0 frame an owned page of type `type` and owner `id` (flags cleared but PG_HEAD). */
// @ts-ignore: decorator
@inline export function setOwned(pfn: u32, type: u8, id: u32): void {
  store<u8>(PFLAGS + <usize>pfn, type | PG_HEAD);
  store<u8>(PORDER + <usize>pfn, <u8>(id << 4));
}

/** Back to a plain allocated order-0 MOVABLE frame (before freePages or after migration). */
// @ts-ignore: decorator
@inline export function clearOwned(pfn: u32, type: u8): void {
  store<u8>(PFLAGS + <usize>pfn, type | PG_HEAD);
  store<u8>(PORDER + <usize>pfn, <u8>(MT_MOVABLE << 4));
}
