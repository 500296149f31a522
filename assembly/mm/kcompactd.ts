// SPDX-License-Identifier: MIT
// kcompactd: per-node compaction daemon. Woken by kswapd for high-order requests, and every
// HPAGE_FRAG_CHECK_INTERVAL_MSEC (500 ms) for proactive compaction: if the node's fragmentation
// score is above wmark_high (90 by default) and kswapd is idle, it compacts zone by zone until
// each is at or below wmark_low (80); no progress ⇒ the next check waits 64 intervals.
// Model: the periodic timer is armed only while something may change: a check that finds the
// score low and nothing allocated or freed since the last check lets the timer lapse; any
// workload call (or kcompactdPoke) re-arms it. Idle guests thus produce no timer events.
// Follows mm/compaction.c (kcompactd, kcompactd_do_work, proactive_compact_node).

import {
  NR_ZONES, TIMER_KCOMPACTD, TIMER_KSWAPD, MT_MOVABLE, PARAM_COMPACTION_PROACTIVENESS, VM_PGALLOC, VM_PGFREE,
  VM_KCOMPACTD_WAKE, VM_COMPACT_DAEMON_WAKE, WMARK_MIN,
} from "../abi";
import { vmstat, vmstatInc } from "../lib/scb";
import { param } from "../lib/params";
import { registerTimer, armTimer, timerPending } from "../lib/timers";
import { zonePopulated } from "./zone";
import { zoneWatermarkOk } from "./watermark";
import {
  compactZone, compactionSuitable, compactionDeferred, compactionDeferReset, deferCompaction,
  fragmentationScoreNode, fragmentationScoreZone, fragmentationScoreWmark, COMPACT_MAX_DEFER_SHIFT,
} from "./compaction";

/** HPAGE_FRAG_CHECK_INTERVAL_MSEC = 500 (mm/compaction.c), in ns. */
export const KCOMPACTD_INTERVAL_NS: f64 = 500e6;

let wakeOrder: u32 = 0;
let wakeZone: u32 = 0;
/** pgalloc + pgfree at the end of the last check: "did anything change since?" */
let lastGen: f64 = -1;
/** The last proactive run made no progress (score did not go down). */
let lastStuck: bool = false;
/** Proactive runs and checks, for tests and the host. */
export let proactiveRuns: u32 = 0;
export let checks: u32 = 0;

// @ts-ignore: decorator
@inline function allocGen(): f64 { return vmstat(VM_PGALLOC) + vmstat(VM_PGFREE); }

function proactiveness(): u32 {
  const p = param(PARAM_COMPACTION_PROACTIVENESS, 20);
  return p <= 0 ? 0 : p >= 100 ? 100 : <u32>p;
}

/** wakeup_kcompactd: kswapd asks for compaction to `order`; runs at the next timer fire (now). */
export function kcompactdWake(order: u32, highestZone: u32): void {
  if (order > wakeOrder) wakeOrder = order;
  if (highestZone > wakeZone) wakeZone = highestZone;
  armTimer(TIMER_KCOMPACTD, 0);
}

/** Arms the periodic check if it is not armed (every workload call does this). */
export function kcompactdPoke(): void {
  if (proactiveness() == 0 || timerPending(TIMER_KCOMPACTD)) return;
  armTimer(TIMER_KCOMPACTD, KCOMPACTD_INTERVAL_NS);
}

/** kcompactd_do_work: compacts zones <= wakeZone for wakeOrder, honouring deferral. */
function kcompactdDoWork(): void {
  const order = wakeOrder;
  for (let z: u32 = 0; z <= wakeZone && z < NR_ZONES; z++) {
    if (!zonePopulated(z)) continue;
    if (compactionDeferred(z, order)) continue;
    if (zoneWatermarkOk(z, order, WMARK_MIN)) continue;
    if (!compactionSuitable(z, order)) continue;
    compactZone(z, <i32>order, MT_MOVABLE, false);
    if (zoneWatermarkOk(z, order, WMARK_MIN)) compactionDeferReset(z, order);
    else deferCompaction(z, order);
  }
  wakeOrder = 0;
  wakeZone = 0;
}

/** proactive_compact_node: each populated zone until its score is <= wmark_low. */
function proactiveCompactNode(): void {
  for (let z: u32 = 0; z < NR_ZONES; z++) {
    if (!zonePopulated(z)) continue;
    if (fragmentationScoreZone(z) <= fragmentationScoreWmark(true)) continue;
    compactZone(z, -1, MT_MOVABLE, true);
  }
}

/** The TIMER_KCOMPACTD handler: one wakeup of the kcompactd loop. */
function kcompactdFire(id: u32): void {
  checks++;
  if (wakeOrder > 0) { vmstatInc(VM_KCOMPACTD_WAKE); kcompactdDoWork(); }
  if (proactiveness() == 0) { lastGen = allocGen(); return; }
  const changed = allocGen() != lastGen;
  const score = fragmentationScoreNode();
  // should_proactive_compact_node; a stuck node is retried only after something changed
  if (score > fragmentationScoreWmark(false) && !timerPending(TIMER_KSWAPD) && (changed || !lastStuck)) {
    proactiveRuns++;
    vmstatInc(VM_COMPACT_DAEMON_WAKE);
    proactiveCompactNode();
    lastStuck = fragmentationScoreNode() >= score;
    lastGen = allocGen();
    armTimer(TIMER_KCOMPACTD, lastStuck ? KCOMPACTD_INTERVAL_NS * <f64>(1 << COMPACT_MAX_DEFER_SHIFT) : KCOMPACTD_INTERVAL_NS);
    return;
  }
  lastGen = allocGen();
  if (changed) armTimer(TIMER_KCOMPACTD, KCOMPACTD_INTERVAL_NS);
}

registerTimer(TIMER_KCOMPACTD, kcompactdFire);
