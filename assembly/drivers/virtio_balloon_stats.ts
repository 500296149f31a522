// SPDX-License-Identifier: MIT
// The balloon's stats queue, driver side: one out-buffer of 16 {le16 tag, le64 val} entries
// kept with the device; each time the device returns it, the stats work (TIMER_BALLOON_STATS,
// queued by the interrupt) samples the values and hands it back. Follows Linux
// drivers/virtio/virtio_balloon.c (update_balloon_stats, stats_handle_request).
// Model: no guest swap (SWAP_IN/OUT 0) and no hugetlb (HTLB_* 0); MemAvailable is approximated.

import {
  NIL, OK, E_NOMEM, NR_ZONES, PAGE_SIZE, WMARK_LOW, TIMER_BALLOON_STATS, VIRTIO_BALLOON_STAT_BYTES,
  VIRTIO_BALLOON_S_NR, VIRTIO_BALLOON_S_SWAP_IN, VIRTIO_BALLOON_S_SWAP_OUT, VIRTIO_BALLOON_S_MAJFLT,
  VIRTIO_BALLOON_S_MINFLT, VIRTIO_BALLOON_S_MEMFREE, VIRTIO_BALLOON_S_MEMTOT, VIRTIO_BALLOON_S_AVAIL,
  VIRTIO_BALLOON_S_CACHES, VIRTIO_BALLOON_S_HTLB_PGALLOC, VIRTIO_BALLOON_S_HTLB_PGFAIL,
  VIRTIO_BALLOON_S_OOM_KILL, VIRTIO_BALLOON_S_ALLOC_STALL, VIRTIO_BALLOON_S_ASYNC_SCAN,
  VIRTIO_BALLOON_S_DIRECT_SCAN, VIRTIO_BALLOON_S_ASYNC_RECLAIM, VIRTIO_BALLOON_S_DIRECT_RECLAIM,
  VM_NR_FREE_PAGES, VM_MANAGED_PAGES, VM_NR_FILE, VM_NR_SLAB_RECLAIMABLE, VM_PGMAJFAULT, VM_PGFAULT,
  VM_OOM_KILL, VM_ALLOCSTALL, VM_PGSCAN_KSWAPD, VM_PGSCAN_DIRECT, VM_PGSTEAL_KSWAPD, VM_PGSTEAL_DIRECT,
  VM_BALLOON_STATS_UPDATES,
} from "../abi";
import { ramwinAlloc, gpaToPtr } from "../hw/ram_window";
import { vmstat, vmstatInc } from "../lib/scb";
import { registerTimer, armTimer, cancelTimer } from "../lib/timers";
import { wmarkPages } from "../mm/watermark";
import { zonePopulated } from "../mm/zone";
import { Virtqueue, vqAddOutbuf, vqKick, vqGetBuf } from "./virtqueue";

const STATS_BYTES: u32 = VIRTIO_BALLOON_S_NR * VIRTIO_BALLOON_STAT_BYTES;
const TOKEN_STATS: u32 = 2;

let statsGpa: u64 = 0;
let statsPtr: usize = 0;
let vq: Virtqueue | null = null;
let nEntries: u32 = 0;

// @ts-ignore: decorator
@inline function updateStat(tag: u32, val: u64): void {
  const e = statsPtr + <usize>(nEntries * VIRTIO_BALLOON_STAT_BYTES);
  store<u16>(e, <u16>tag);
  store<u64>(e, val, 2); // packed: the value is unaligned, as in struct virtio_balloon_stat
  nEntries++;
}

// @ts-ignore: decorator
@inline function pagesToBytes(p: f64): u64 { return <u64>p * <u64>PAGE_SIZE; }

/**
 * si_mem_available, reduced: free pages above the low watermarks, plus the page cache and
 * reclaimable slab that reclaim could give back (each minus min(half, low watermarks)).
 */
export function memAvailablePages(): u64 {
  let low: f64 = 0;
  for (let z: u32 = 0; z < NR_ZONES; z++) if (zonePopulated(z)) low += <f64>wmarkPages(z, WMARK_LOW);
  let avail = vmstat(VM_NR_FREE_PAGES) - low;
  const file = vmstat(VM_NR_FILE);
  avail += file - Math.min(file / 2, low);
  const slab = vmstat(VM_NR_SLAB_RECLAIMABLE);
  avail += slab - Math.min(slab / 2, low);
  return avail < 0 ? 0 : <u64>avail;
}

/** update_balloon_stats: VM-event tags first, then MEMFREE, MEMTOT, AVAIL, CACHES (Linux order). */
function updateBalloonStats(): void {
  nEntries = 0;
  updateStat(VIRTIO_BALLOON_S_SWAP_IN, 0);
  updateStat(VIRTIO_BALLOON_S_SWAP_OUT, 0);
  updateStat(VIRTIO_BALLOON_S_MAJFLT, <u64>vmstat(VM_PGMAJFAULT));
  updateStat(VIRTIO_BALLOON_S_MINFLT, <u64>vmstat(VM_PGFAULT));
  updateStat(VIRTIO_BALLOON_S_OOM_KILL, <u64>vmstat(VM_OOM_KILL));
  updateStat(VIRTIO_BALLOON_S_ALLOC_STALL, <u64>vmstat(VM_ALLOCSTALL));
  updateStat(VIRTIO_BALLOON_S_ASYNC_SCAN, pagesToBytes(vmstat(VM_PGSCAN_KSWAPD)));
  updateStat(VIRTIO_BALLOON_S_DIRECT_SCAN, pagesToBytes(vmstat(VM_PGSCAN_DIRECT)));
  updateStat(VIRTIO_BALLOON_S_ASYNC_RECLAIM, pagesToBytes(vmstat(VM_PGSTEAL_KSWAPD)));
  updateStat(VIRTIO_BALLOON_S_DIRECT_RECLAIM, pagesToBytes(vmstat(VM_PGSTEAL_DIRECT)));
  updateStat(VIRTIO_BALLOON_S_HTLB_PGALLOC, 0);
  updateStat(VIRTIO_BALLOON_S_HTLB_PGFAIL, 0);
  updateStat(VIRTIO_BALLOON_S_MEMFREE, pagesToBytes(vmstat(VM_NR_FREE_PAGES)));
  updateStat(VIRTIO_BALLOON_S_MEMTOT, pagesToBytes(vmstat(VM_MANAGED_PAGES)));
  updateStat(VIRTIO_BALLOON_S_AVAIL, memAvailablePages() * <u64>PAGE_SIZE);
  updateStat(VIRTIO_BALLOON_S_CACHES, pagesToBytes(vmstat(VM_NR_FILE)));
  vmstatInc(VM_BALLOON_STATS_UPDATES);
}

/** Hands the (freshly filled) buffer to the device: at most one outstanding (SPEC). */
function sendStats(q: Virtqueue): i32 {
  updateBalloonStats();
  const rc = vqAddOutbuf(q, statsGpa, nEntries * VIRTIO_BALLOON_STAT_BYTES, TOKEN_STATS);
  if (rc != OK) return rc;
  vqKick(q);
  return OK;
}

/** init_vqs: the first buffer carries real stats (Linux pre-fills it). Called at probe after DRIVER_OK. */
export function balloonStatsInit(slot: u32, q: Virtqueue): i32 {
  if (statsGpa == 0) {
    statsGpa = ramwinAlloc(STATS_BYTES, 16);
    if (statsGpa == 0) return E_NOMEM;
    statsPtr = gpaToPtr(statsGpa, STATS_BYTES);
  }
  vq = q;
  registerTimer(TIMER_BALLOON_STATS, statsWork);
  return sendStats(q);
}

/** stats_request: the device returned the buffer; the work samples and re-adds it. */
export function balloonStatsInterrupt(): void {
  if (vq === null) return;
  armTimer(TIMER_BALLOON_STATS, 0);
}

/** stats_handle_request (TIMER_BALLOON_STATS): takes the buffer back, refills it, kicks. */
function statsWork(id: u32): void {
  if (vq === null) return;
  const q = changetype<Virtqueue>(vq);
  let got = false;
  while (vqGetBuf(q) != NIL) got = true;
  if (got) sendStats(q);
}

export function balloonStatsReset(): void {
  if (vq !== null) cancelTimer(TIMER_BALLOON_STATS);
  vq = null;
}
