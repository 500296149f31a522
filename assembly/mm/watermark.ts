// SPDX-License-Identifier: MIT
// Zone watermarks: min_free_kbytes, per-zone min/low/high, watermark_boost and the watermark
// check (__zone_watermark_ok). Model: no lowmem_reserve.
// Follows mm/page_alloc.c (calculate_min_free_kbytes, __setup_per_zone_wmarks, boost_watermark).

import {
  NR_ZONES, ZONE_MOVABLE, NR_ORDERS, MT_PCPTYPES, MT_HIGHATOMIC, PAGEBLOCK_NR_PAGES, PAGE_SHIFT,
  PARAM_MIN_FREE_KBYTES, PARAM_WATERMARK_SCALE_FACTOR, PARAM_WATERMARK_BOOST_FACTOR, WMARK_HIGH,
} from "../abi";
import { param, paramIsSet } from "../lib/params";
import {
  zonePtr, zoneManaged, zoneFreePages, zoneFreeHighatomic, zoneNrFree, freeList, Z_WMARK, Z_BOOST, Z_FLAGS,
  ZONE_BOOSTED_WATERMARK,
} from "./zone";
import { listEmpty } from "../lib/list";

// Allocation flags of the watermark check (ALLOC_*, mm/internal.h).
export const ALLOC_MIN_RESERVE: u32 = 0x1; // __GFP_HIGH: may use half of the min reserve
export const ALLOC_NON_BLOCK: u32 = 0x2; // atomic: another quarter of it
export const ALLOC_HIGHATOMIC: u32 = 0x4; // may use the MIGRATE_HIGHATOMIC lists
export const ALLOC_OOM: u32 = 0x8; // OOM victim: half of what is left

/** min_free_kbytes in effect (sysctl vm.min_free_kbytes). */
export let minFreeKbytes: u32 = 0;

/** int_sqrt(): floor of the square root. */
export function intSqrt(x: u64): u64 {
  let r = <u64>Math.sqrt(<f64>x);
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/** Pages of the zones GFP_KERNEL may use (not ZONE_MOVABLE): "lowmem" of a 64-bit kernel. */
function lowmemPages(): u64 {
  let n: u64 = 0;
  for (let z: u32 = 0; z < NR_ZONES; z++) if (z != ZONE_MOVABLE) n += <u64>zoneManaged(z);
  return n;
}

/**
 * calculate_min_free_kbytes + __setup_per_zone_wmarks: recomputed at boot and on every
 * online/offline (init_per_zone_wmark_min). Resets watermark_boost like Linux does.
 */
export function setupPerZoneWmarks(): void {
  const lowmem = lowmemPages();
  if (paramIsSet(PARAM_MIN_FREE_KBYTES)) {
    minFreeKbytes = <u32>param(PARAM_MIN_FREE_KBYTES, 0);
  } else {
    const lowmemKbytes = lowmem << (PAGE_SHIFT - 10);
    let k = intSqrt(lowmemKbytes * 16);
    if (k < 128) k = 128; // clamp(…, 128, 262144): mm/page_alloc.c
    if (k > 262144) k = 262144;
    minFreeKbytes = <u32>k;
  }
  const pagesMin: u64 = <u64>minFreeKbytes >> (PAGE_SHIFT - 10);
  const scale = <u64>param(PARAM_WATERMARK_SCALE_FACTOR, 10); // 0.1 %: vm.watermark_scale_factor
  for (let z: u32 = 0; z < NR_ZONES; z++) {
    const managed = <u64>zoneManaged(z);
    const prop: u64 = lowmem == 0 ? 0 : pagesMin * managed / lowmem;
    let min: u64 = prop;
    if (z == ZONE_MOVABLE) {
      // ZONE_MOVABLE serves no __GFP_HIGH/atomic requests: a small fixed reserve.
      min = managed / 1024;
      if (min < 32) min = 32; // SWAP_CLUSTER_MAX
      if (min > 128) min = 128;
    }
    let tmp = prop >> 2;
    const scaled = managed * scale / 10000;
    if (scaled > tmp) tmp = scaled;
    const p = zonePtr(z);
    store<u32>(p + Z_WMARK, <u32>min);
    store<u32>(p + Z_WMARK + 4, <u32>(min + tmp));
    store<u32>(p + Z_WMARK + 8, <u32>(min + 2 * tmp));
    store<u32>(p + Z_BOOST, 0);
  }
}

/** Watermark `mark` (WMARK_*) of zone `z` without the boost. */
// @ts-ignore: decorator
@inline export function wmarkRaw(z: u32, mark: u32): u32 { return load<u32>(zonePtr(z) + Z_WMARK + (<usize>mark << 2)); }
/** wmark_pages(): watermark plus the current boost. */
// @ts-ignore: decorator
@inline export function wmarkPages(z: u32, mark: u32): u32 {
  const p = zonePtr(z);
  return load<u32>(p + Z_WMARK + (<usize>mark << 2)) + load<u32>(p + Z_BOOST);
}
// @ts-ignore: decorator
@inline export function watermarkBoost(z: u32): u32 { return load<u32>(zonePtr(z) + Z_BOOST); }

/** Clears the boost (kswapd does this once the zone is balanced). */
export function clearWatermarkBoost(z: u32): void { store<u32>(zonePtr(z) + Z_BOOST, 0); }

/** ALLOC_RESERVES (mm/internal.h): flags that grant access to some reserve below MIN. */
export const ALLOC_RESERVES: u32 = ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC | ALLOC_OOM;

/**
 * __zone_watermark_unusable_free: the part of free memory a request cannot use: the tail below
 * its order, and the free HIGHATOMIC reserve unless it has reserve rights.
 */
// @ts-ignore: decorator
@inline export function zoneWatermarkUnusableFree(z: u32, order: u32, allocFlags: u32): u32 {
  let unusable: u32 = (<u32>1 << order) - 1;
  if ((allocFlags & ALLOC_RESERVES) == 0) unusable += zoneFreeHighatomic(z);
  return unusable;
}

/**
 * __zone_watermark_ok: free pages minus the unusable part of the request must stay above
 * `mark` (reduced for reserve-allowed requests); order > 0 also needs a free block of at least
 * that order on a list the request may use.
 */
export function zoneWatermarkOkFlags(z: u32, order: u32, mark: u32, allocFlags: u32): bool {
  let freePages = <i64>zoneFreePages(z) - <i64>zoneWatermarkUnusableFree(z, order, allocFlags);
  let min = <i64>mark;
  if (allocFlags & ALLOC_MIN_RESERVE) {
    min -= min / 2;
    if (allocFlags & ALLOC_NON_BLOCK) min -= min / 4;
  }
  if (allocFlags & ALLOC_OOM) min -= min / 2;
  if (freePages <= min) return false;
  if (order == 0) return true;
  for (let o = order; o < NR_ORDERS; o++) {
    if (zoneNrFree(z, o) == 0) continue;
    for (let mt: u32 = 0; mt < MT_PCPTYPES; mt++) if (!listEmpty(freeList(z, o, mt))) return true;
    if ((allocFlags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) != 0 && !listEmpty(freeList(z, o, MT_HIGHATOMIC))) return true;
  }
  return false;
}

/** zone_watermark_ok() with no reserve flags, against watermark id `markId` (WMARK_*) + boost. */
export function zoneWatermarkOk(z: u32, order: u32, markId: u32): bool {
  return zoneWatermarkOkFlags(z, order, wmarkPages(z, markId), 0);
}

/**
 * boost_watermark: after a fragmenting fallback, raise the watermarks by a pageblock (up to
 * watermark_boost_factor % of HIGH) so kswapd reclaims and compacts a little ahead.
 */
export function boostWatermark(z: u32): bool {
  const factor = <u64>param(PARAM_WATERMARK_BOOST_FACTOR, 15000); // 150 %: vm.watermark_boost_factor
  if (factor == 0) return false;
  if (<u64>PAGEBLOCK_NR_PAGES * 4 > <u64>zoneManaged(z)) return false; // tiny zones: boosting would OOM
  let maxBoost = <u64>wmarkRaw(z, WMARK_HIGH) * factor / 10000;
  if (maxBoost == 0) return false;
  if (maxBoost < <u64>PAGEBLOCK_NR_PAGES) maxBoost = PAGEBLOCK_NR_PAGES;
  const p = zonePtr(z);
  let b = <u64>load<u32>(p + Z_BOOST) + PAGEBLOCK_NR_PAGES;
  if (b > maxBoost) b = maxBoost;
  store<u32>(p + Z_BOOST, <u32>b);
  store<u32>(p + Z_FLAGS, load<u32>(p + Z_FLAGS) | ZONE_BOOSTED_WATERMARK);
  return true;
}

/** Tests and clears ZONE_BOOSTED_WATERMARK (rmqueue wakes kswapd when it was set). */
export function testClearBoosted(z: u32): bool {
  const p = zonePtr(z);
  const f = load<u32>(p + Z_FLAGS);
  if ((f & ZONE_BOOSTED_WATERMARK) == 0) return false;
  store<u32>(p + Z_FLAGS, f & ~ZONE_BOOSTED_WATERMARK);
  return true;
}
