// SPDX-License-Identifier: MIT
// kswapd: woken by the allocator when a zone falls below LOW (or after a watermark boost); runs
// later as deferred work (TIMER_KSWAPD, so in simulated time after the allocating call) and
// reclaims SWAP_CLUSTER_MAX batches until a zone is balanced at HIGH + boost, then clears the
// boost and hands high-order requests to kcompactd. Model: balances for order 0 only (Linux
// also falls back to order 0 after reclaiming compact_gap); one run per wakeup; gives up after
// MAX_RECLAIM_RETRIES runs without progress until reclaim progresses again. Follows
// mm/vmscan.c (wakeup_kswapd, balance_pgdat, pgdat_balanced).

import { NR_ZONES, TIMER_KSWAPD, WMARK_HIGH, SWAP_CLUSTER_MAX, VM_KSWAPD_WAKE, VM_PAGEOUTRUN } from "../abi";
import { vmstatInc } from "../lib/scb";
import { registerTimer, armTimer, timerPending } from "../lib/timers";
import { zonePopulated } from "./zone";
import { zoneWatermarkOk, clearWatermarkBoost, watermarkBoost } from "./watermark";
import { setKswapdWakeHook } from "./page_alloc";
import { kswapdShrink, kswapdFailureCount, kswapdFailed } from "./vmscan";
import { kcompactdWake } from "./kcompactd";
import { resetIsolationSuitable } from "./compaction";

/** MAX_RECLAIM_RETRIES (mm/internal.h): failed kswapd runs before it is considered hopeless. */
const MAX_RECLAIM_RETRIES: u32 = 16;

let pendingOrder: u32 = 0;
let pendingZone: u32 = 0;
let woken: bool = false;

/** pgdat_balanced: some populated zone <= `highest` has free >= HIGH + boost (order-0 check). */
export function pgdatBalanced(highest: u32): bool {
  for (let z: u32 = 0; z <= highest && z < NR_ZONES; z++) {
    if (zonePopulated(z) && zoneWatermarkOk(z, 0, WMARK_HIGH)) return true;
  }
  return false;
}

function boosted(highest: u32): bool {
  for (let z: u32 = 0; z <= highest && z < NR_ZONES; z++) if (watermarkBoost(z) != 0) return true;
  return false;
}

/** wakeup_kswapd: records the request and schedules a run unless balanced or hopeless. */
export function wakeupKswapd(order: u32, highestZone: u32): void {
  if (kswapdFailureCount() >= MAX_RECLAIM_RETRIES) return;
  if (pgdatBalanced(highestZone) && !boosted(highestZone)) {
    if (order > 0) kcompactdWake(order, highestZone);
    return;
  }
  if (!woken || order > pendingOrder) pendingOrder = order;
  if (!woken || highestZone > pendingZone) pendingZone = highestZone;
  woken = true;
  if (!timerPending(TIMER_KSWAPD)) {
    vmstatInc(VM_KSWAPD_WAKE);
    armTimer(TIMER_KSWAPD, 0);
  }
}

/** True while a wakeup waits for its run (tests, kcompactd's "kswapd is idle" check). */
export function kswapdPending(): bool { return woken; }

/** balance_pgdat: the TIMER_KSWAPD handler. */
function kswapdRun(id: u32): void {
  if (!woken) return;
  const order = pendingOrder, highest = pendingZone < NR_ZONES ? pendingZone : NR_ZONES - 1;
  woken = false;
  pendingOrder = 0;
  vmstatInc(VM_PAGEOUTRUN);
  let total: u32 = 0;
  while (!pgdatBalanced(highest)) {
    const freed = kswapdShrink(SWAP_CLUSTER_MAX, highest);
    total += freed;
    if (freed == 0) break;
  }
  if (pgdatBalanced(highest)) {
    for (let z: u32 = 0; z <= highest; z++) clearWatermarkBoost(z);
    // kswapd_try_to_sleep: compaction may succeed again where it recently failed
    resetIsolationSuitable();
  } else if (total == 0) kswapdFailed();
  if (order > 0) kcompactdWake(order, highest);
}

registerTimer(TIMER_KSWAPD, kswapdRun);
setKswapdWakeHook(wakeupKswapd);
