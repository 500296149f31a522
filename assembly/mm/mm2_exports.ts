// SPDX-License-Identifier: MIT
// Host-facing exports of compaction, reclaim, drop_caches, OOM and migration: flat and numeric.
// Importing this file also installs the allocator hooks (kswapd wake, direct reclaim, direct
// compaction, OOM killer) and the kswapd/kcompactd timers: each module registers itself at
// instantiation. Tests use the mm_test_* exports; the scenario runner the rest.

import {
  OK, E_INVAL, E_RANGE, NR_ZONES, NR_ORDERS, MT_PCPTYPES, CS_MIGRATED,
  CS_MIGRATE_SCANNED, CS_FREE_SCANNED, CS_RESULT, VM_OOM_KILL,
} from "../abi";
import { vmstat } from "../lib/scb";
import { zonePopulated } from "./zone";
import {
  compactAll, compactZone, compactionSuitable, extfragForOrder, fragmentationScoreZone,
  fragmentationScoreNode, fragmentationScoreWmark, compactDeferShift, lastMigrated,
  lastMigrateScanned, lastFreeScanned, lastResult, zoneSkipMarks,
} from "./compaction";
import { kcompactdPoke, proactiveRuns, checks } from "./kcompactd";
import { kswapdPending } from "./kswapd";
import { dropCaches, shrinkNode } from "./vmscan";
import { oomVictim, selectBadProcess } from "./oom";
import { migratePage } from "./migrate";
import { registerOomNotifier } from "./page_alloc";
import { kernelFreeNewest } from "./slab";
import { ownersValidate } from "./owner_validate";

/** /proc/sys/vm/drop_caches: mode 1, 2 or 3 (bit 4, "quiet", is accepted). Returns pages freed. */
export function mm_drop_caches(mode: u32): i32 {
  const m = mode & 3;
  if (m == 0 || mode > 7) return E_INVAL;
  return <i32>dropCaches(m);
}

/** /proc/sys/vm/compact_memory: compacts every zone whole; returns pages migrated. */
export function mm_compact_all(): i32 { return <i32>compactAll(); }

/**
 * compact_zone on `zone` for `order` (-1: whole zone) and free-list type `mt`, no suitability
 * check; returns abi.ts COMPACT_* (see mm_compact_stats for what it did).
 */
export function mm_compact_zone(zone: u32, order: i32, mt: u32): i32 {
  if (zone >= NR_ZONES || order >= <i32>NR_ORDERS || mt >= MT_PCPTYPES) return E_INVAL;
  if (!zonePopulated(zone)) return E_RANGE;
  return compactZone(zone, order < 0 ? -1 : order, mt, false);
}

/** Pageblocks of `zone` marked PB_migrate_skip (compaction skips them until the marks are reset). */
export function mm_compact_skip_marks(zone: u32): i32 {
  if (zone >= NR_ZONES) return E_INVAL;
  return <i32>zoneSkipMarks(zone);
}

/** Statistic `id` (abi.ts CS_*) of the last compaction run. */
export function mm_compact_stats(id: u32): f64 {
  if (id == CS_MIGRATED) return <f64>lastMigrated;
  if (id == CS_MIGRATE_SCANNED) return <f64>lastMigrateScanned;
  if (id == CS_FREE_SCANNED) return <f64>lastFreeScanned;
  if (id == CS_RESULT) return <f64>lastResult;
  return NaN;
}

/** compaction_suitable(zone, order): 1 or 0; E_INVAL for bad arguments. */
export function mm_compaction_suitable(zone: u32, order: u32): i32 {
  if (zone >= NR_ZONES || order >= NR_ORDERS) return E_INVAL;
  return compactionSuitable(zone, order) ? 1 : 0;
}

/** compact_defer_shift of `zone`. */
export function mm_compact_defer_shift(zone: u32): i32 { return zone >= NR_ZONES ? E_INVAL : <i32>compactDeferShift(zone); }

/** extfrag_for_order(zone, order) in %. */
export function mm_extfrag(zone: u32, order: u32): i32 {
  if (zone >= NR_ZONES || order >= NR_ORDERS) return E_INVAL;
  return <i32>extfragForOrder(zone, order);
}

/** Proactive fragmentation score of `zone`, or of the node for zone >= NR_ZONES. */
export function mm_frag_score(zone: u32): i32 {
  return zone >= NR_ZONES ? <i32>fragmentationScoreNode() : <i32>fragmentationScoreZone(zone);
}

/** fragmentation_score_wmark: low (1) or high (0) watermark of the proactive score. */
export function mm_frag_score_wmark(low: bool): i32 { return <i32>fragmentationScoreWmark(low); }

/** Arms kcompactd's periodic check if idle (any host action that changes memory may call it). */
export function mm_kcompactd_poke(): void { kcompactdPoke(); }

/** kcompactd counters: 0 = timer fires (checks), 1 = proactive compaction runs. */
export function mm_kcompactd_stat(id: u32): i32 { return id == 0 ? <i32>checks : id == 1 ? <i32>proactiveRuns : E_INVAL; }

/** 1 while a kswapd wakeup waits for its TIMER_KSWAPD run. */
export function mm_kswapd_pending(): i32 { return kswapdPending() ? 1 : 0; }

/** shrink_node for `pages` pages from every zone, as direct reclaim does it (no counters). */
export function mm_shrink(pages: u32): i32 { return <i32>shrinkNode(pages, NR_ZONES - 1, false); }

/** pid the OOM killer chose last, or NO_PROC (-1). */
export function mm_oom_victim(): i32 { return oomVictim(); }

/** pid the OOM killer would choose now, or NO_PROC. */
export function mm_oom_select(): i32 { return selectBadProcess(); }

/** migrate_pages for one page: `oldPfn` (anon/file/registered type) into `newPfn` (allocated order-0 or isolated). */
export function mm_migrate_page(oldPfn: u32, newPfn: u32): i32 { return migratePage(oldPfn, newPfn); }

/** Owner lists vs page types vs vmstat: 0 = ok, else owner_validate.ts OV_*. */
export function mm_validate_owners(): i32 { return ownersValidate(); }

// ---- test hooks -----------------------------------------------------------------------------

let testNotifierCalls: u32 = 0;
let testNotifierRegistered = false;
let testNotifierKillsAtFirstCall: i32 = -1;

/** A deflate-on-OOM-like notifier: frees up to 256 unmovable kernel pages (1 MiB) per call. */
function testOomNotifier(order: u32, gfp: u32): u32 {
  if (testNotifierCalls == 0) testNotifierKillsAtFirstCall = <i32>vmstat(VM_OOM_KILL);
  testNotifierCalls++;
  return kernelFreeNewest(false, 256);
}

/** Registers the test OOM notifier (once); returns OK or E_INVAL if the chain is full. */
export function mm_test_oom_notifier(): i32 {
  if (testNotifierRegistered) return OK;
  if (!registerOomNotifier(testOomNotifier)) return E_INVAL;
  testNotifierRegistered = true;
  return OK;
}

/** Test notifier statistics: 0 = calls, 1 = VM_OOM_KILL when it was first called (-1: never). */
export function mm_test_oom_notifier_stat(id: u32): i32 { return id == 0 ? <i32>testNotifierCalls : testNotifierKillsAtFirstCall; }
