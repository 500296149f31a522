// SPDX-License-Identifier: MIT
// Zones (struct zone, reduced): pfn span, managed pages, NR_FREE_PAGES, watermarks and the
// free_area[order].free_list[migratetype] heads, all in unmanaged memory. Model: one node; the
// zone of a frame is stored in its pageblock byte (PB_ZONE_*), like page_zonenum(). Follows
// include/linux/mmzone.h.

import {
  NR_ZONES, NR_ORDERS, NR_MIGRATETYPES, MT_ISOLATE, MT_HIGHATOMIC, PB_ZONE_SHIFT, PB_ZONE_MASK, PAGEBLOCK_ORDER,
  VM_NR_FREE_PAGES, NIL,
} from "../abi";
import { PAGEBLOCK } from "./pfn";
import { listInit, LIST_SIZE } from "../lib/list";
import { vmstatAdd } from "../lib/scb";

// struct zone layout (bytes).
export const Z_START: usize = 0; // zone_start_pfn
export const Z_END: usize = 4; // zone_end_pfn (exclusive); start == end: empty zone
export const Z_MANAGED: usize = 8; // managed_pages
export const Z_FREE: usize = 12; // NR_FREE_PAGES (buddy lists except ISOLATE)
export const Z_WMARK: usize = 16; // _watermark[WMARK_MIN, LOW, HIGH] (u32 each)
export const Z_BOOST: usize = 28; // watermark_boost
export const Z_FLAGS: usize = 32; // ZONE_BOOSTED_WATERMARK
export const Z_RESERVED_HA: usize = 36; // nr_reserved_highatomic (pages of HIGHATOMIC pageblocks)
export const Z_NR_FREE: usize = 40; // free_area[o].nr_free, u32 × NR_ORDERS
export const Z_FREE_HA: usize = 84; // nr_free_highatomic (free pages on HIGHATOMIC lists)
export const Z_LISTS: usize = 88; // free_area[o].free_list[mt], LIST_SIZE × NR_ORDERS × NR_MIGRATETYPES
export const ZONE_SIZE: usize = 752;
export const ZONE_BOOSTED_WATERMARK: u32 = 1;

/** Address of zone 0; zone z is at ZONES + z * ZONE_SIZE. */
export let ZONES: usize = 0;

/** Allocates the zone structs (empty spans, empty lists). Called once by mmInit. */
export function initZones(): void {
  ZONES = heap.alloc(<usize>NR_ZONES * ZONE_SIZE);
  memory.fill(ZONES, 0, <usize>NR_ZONES * ZONE_SIZE);
  for (let z: u32 = 0; z < NR_ZONES; z++) {
    for (let i: u32 = 0; i < NR_ORDERS * NR_MIGRATETYPES; i++) listInit(zonePtr(z) + Z_LISTS + <usize>i * LIST_SIZE);
  }
}

// @ts-ignore: decorator
@inline export function zonePtr(z: u32): usize { return ZONES + <usize>z * ZONE_SIZE; }

/** The free_list head of (zone, order, migratetype). */
// @ts-ignore: decorator
@inline export function freeList(z: u32, order: u32, mt: u32): usize {
  return ZONES + <usize>z * ZONE_SIZE + Z_LISTS + <usize>(order * NR_MIGRATETYPES + mt) * LIST_SIZE;
}

/** Address of the free_list head of (zone, order, migratetype), for list walkers (lib/list.ts). */
export function freeListHead(z: u32, order: u32, mt: u32): usize { return freeList(z, order, mt); }
/** free_area[order].nr_free of zone `z` (all migratetypes). */
export function nrFree(z: u32, order: u32): u32 { return zoneNrFree(z, order); }

// @ts-ignore: decorator
@inline export function zoneStart(z: u32): u32 { return load<u32>(zonePtr(z) + Z_START); }
// @ts-ignore: decorator
@inline export function zoneEnd(z: u32): u32 { return load<u32>(zonePtr(z) + Z_END); }
// @ts-ignore: decorator
@inline export function zoneManaged(z: u32): u32 { return load<u32>(zonePtr(z) + Z_MANAGED); }
/** NR_FREE_PAGES of zone `z`: pages on its buddy free lists, not counting ISOLATE lists or pcp. */
// @ts-ignore: decorator
@inline export function zoneFreePages(z: u32): u32 { return load<u32>(zonePtr(z) + Z_FREE); }
// @ts-ignore: decorator
@inline export function zoneNrFree(z: u32, order: u32): u32 { return load<u32>(zonePtr(z) + Z_NR_FREE + (<usize>order << 2)); }
// @ts-ignore: decorator
@inline export function zonePopulated(z: u32): bool { return zoneManaged(z) != 0; }
/** True if `pfn` lies inside the zone's span. */
// @ts-ignore: decorator
@inline export function zoneSpans(z: u32, pfn: u32): bool { return pfn >= zoneStart(z) && pfn < zoneEnd(z); }

export function setZoneSpan(z: u32, start: u32, end: u32): void {
  store<u32>(zonePtr(z) + Z_START, start);
  store<u32>(zonePtr(z) + Z_END, end);
}

export function addZoneManaged(z: u32, delta: i32): void {
  const p = zonePtr(z) + Z_MANAGED;
  store<u32>(p, <u32>(<i32>load<u32>(p) + delta));
}

// @ts-ignore: decorator
@inline export function addNrFree(z: u32, order: u32, delta: i32): void {
  const p = zonePtr(z) + Z_NR_FREE + (<usize>order << 2);
  store<u32>(p, <u32>(<i32>load<u32>(p) + delta));
}

/**
 * account_freepages(): NR_FREE_PAGES of the zone and the node; ISOLATE lists do not count.
 * HIGHATOMIC free pages are also counted apart (nr_free_highatomic, v6.12+): the watermark
 * check treats them as unusable for requests without reserve rights.
 */
// @ts-ignore: decorator
@inline export function accountFreepages(z: u32, nr: i32, mt: u32): void {
  if (mt == MT_ISOLATE) return;
  const p = zonePtr(z) + Z_FREE;
  store<u32>(p, <u32>(<i32>load<u32>(p) + nr));
  vmstatAdd(VM_NR_FREE_PAGES, <f64>nr);
  if (mt == MT_HIGHATOMIC) {
    const h = zonePtr(z) + Z_FREE_HA;
    store<u32>(h, <u32>(<i32>load<u32>(h) + nr));
  }
}

/** zone->nr_free_highatomic */
// @ts-ignore: decorator
@inline export function zoneFreeHighatomic(z: u32): u32 { return load<u32>(zonePtr(z) + Z_FREE_HA); }
/** zone->nr_reserved_highatomic */
// @ts-ignore: decorator
@inline export function zoneReservedHighatomic(z: u32): u32 { return load<u32>(zonePtr(z) + Z_RESERVED_HA); }
export function setZoneReservedHighatomic(z: u32, pages: u32): void { store<u32>(zonePtr(z) + Z_RESERVED_HA, pages); }

/** Zone of `pfn` (page_zonenum): kept in the pageblock byte. */
// @ts-ignore: decorator
@inline export function pfnZone(pfn: u32): u32 {
  return <u32>((load<u8>(PAGEBLOCK + <usize>(pfn >> PAGEBLOCK_ORDER)) & PB_ZONE_MASK) >> PB_ZONE_SHIFT);
}

/** Tags pageblocks covering [start, end) as belonging to zone `z` (set_zone_contiguous analogue). */
export function setPfnRangeZone(start: u32, end: u32, z: u32): void {
  if (start >= end) return; // an empty span tags nothing (it may sit inside another zone's pageblock)
  for (let pb = start >> PAGEBLOCK_ORDER; pb < ((end + (1 << PAGEBLOCK_ORDER) - 1) >> PAGEBLOCK_ORDER); pb++) {
    const p = PAGEBLOCK + <usize>pb;
    store<u8>(p, (load<u8>(p) & ~PB_ZONE_MASK) | <u8>(z << PB_ZONE_SHIFT));
  }
}

/** First populated zone at or below `highest` in zonelist order, or NIL. */
export function firstZoneBelow(highest: u32): u32 {
  for (let z = <i32>highest; z >= 0; z--) if (zonePopulated(<u32>z)) return <u32>z;
  return NIL;
}
