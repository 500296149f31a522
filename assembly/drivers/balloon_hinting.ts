// SPDX-License-Identifier: MIT
// virtio-balloon free page hinting, driver side: on a config change the work item re-reads
// free_page_hint_cmd_id; DONE returns every held block, STOP does nothing, a new run id sends
// START (the id), then order-10 blocks taken without reclaim as 4 MiB in-buffers while more than
// one descriptor is free (one is kept for STOP), then STOP. Blocks stay held (PT_HINTED) until
// DONE, the hint shrinker or removal; the driver never waits for acks.
// Follows Linux drivers/virtio/virtio_balloon.c (report_free_page_func, send_free_pages,
// get_free_page_and_send, return_free_pages_to_mm, shrink_free_pages).
// Model: report_free_page_work is a guest timer (TIMER_FREE_PAGE_HINT, 0 delay) that runs the
// send loop in slices of HINT_SLICE_BLOCKS blocks, so that a config interrupt (new id, STOP) can
// land between slices as it lands between loop iterations on a real vCPU. Linux spins
// allocating and freeing when only the STOP slot is left; the model ends the run there. The
// shrinker is called by mm/vmscan.ts shrink_node after reclaimable slab.

import {
  OK, E_IO, E_NOMEM, NIL, MAX_ORDER, PAGE_SHIFT, PAGE_SIZE, PT_HINTED, PT_ALLOC, PG_HEAD,
  GFP_KERNEL, GFP_NORECLAIM, GFP_NORETRY, GFP_NOMEMALLOC, GFP_NOWARN, GFP_NOKSWAPD, TIMER_FREE_PAGE_HINT,
  VIRTIO_BALLOON_CFG_FREE_PAGE_HINT_CMD_ID, VIRTIO_BALLOON_CMD_ID_STOP, VIRTIO_BALLOON_CMD_ID_DONE,
  VM_NR_HINTED, VM_HINTED_BLOCKS, VM_HINT_RUNS, VM_HINT_RETURNED_BLOCKS, VM_HINT_VQ_FULL,
  VM_HINT_SHRINK_CALLS,
} from "../abi";
import { PFLAGS } from "../mm/pfn";
import { allocLists, listAddHead, listPopHead, listCount } from "../lib/list";
import { allocPages, freePages } from "../mm/page_alloc";
import { registerTimer, armTimer, timerPending, cancelTimer } from "../lib/timers";
import { vmstatAdd, vmstatInc } from "../lib/scb";
import { ramwinAlloc, gpaToPtr } from "../hw/ram_window";
import { Virtqueue, vqAddOutbuf, vqAddInbuf, vqKick, vqGetBuf, vqNumFree } from "./virtqueue";
import { virtioCread32 } from "./virtio";
import { balloonSetHintingHooks } from "./virtio_balloon";
import { registerShrinker } from "../mm/vmscan";

/** VIRTIO_BALLOON_HINT_BLOCK_ORDER = MAX_PAGE_ORDER: 4 MiB blocks on x86-64 (DRV). */
export const HINT_BLOCK_ORDER: u32 = MAX_ORDER;
export const HINT_BLOCK_PAGES: u32 = 1 << HINT_BLOCK_ORDER;
/**
 * VIRTIO_BALLOON_FREE_PAGE_ALLOC_FLAG = __GFP_NORETRY | __GFP_NOWARN | __GFP_NOMEMALLOC with no
 * GFP base: no reclaim, no kswapd wake, no reserves, kernel zones only (never ZONE_MOVABLE).
 */
export const HINT_GFP: u32 = GFP_KERNEL | GFP_NORECLAIM | GFP_NOKSWAPD | GFP_NORETRY | GFP_NOMEMALLOC | GFP_NOWARN;
/** Blocks per work slice (256 MiB): a config interrupt can arrive between slices. */
export const HINT_SLICE_BLOCKS: u32 = 64;
const TOKEN_CMD_ID: u32 = 0xfffffffe;
const EINTR: i32 = -100; // get_free_page_and_send: no block left (internal)

let fvq: Virtqueue | null = null;
let fslot: u32 = 0;
/** vb->free_page_list: held blocks, most recent at the head (balloon_page_push/pop). */
let heldList: usize = 0;
/** vb->cmd_id_active / vb->cmd_id_stop: static 4-byte out-buffers in the RAM window. */
let cmdActiveGpa: u64 = 0;
let cmdStopGpa: u64 = 0;
let cmdIdActive: u32 = VIRTIO_BALLOON_CMD_ID_STOP;
let cmdIdReceivedCache: u32 = VIRTIO_BALLOON_CMD_ID_STOP;
/** VIRTIO_BALLOON_CONFIG_READ_CMD_ID bit of vb->config_read_bitmap. */
let configReadCmdId = false;
/** A run's send loop is in progress (more slices to come). */
let running = false;
/** queue_work while the work was running: run the work again after this run. */
let requeue = false;

/** virtio_balloon_cmd_id_received: re-reads the config field only after a config interrupt. */
function cmdIdReceived(): u32 {
  if (configReadCmdId) {
    configReadCmdId = false;
    cmdIdReceivedCache = virtioCread32(fslot, VIRTIO_BALLOON_CFG_FREE_PAGE_HINT_CMD_ID);
  }
  return cmdIdReceivedCache;
}

/** Detaches every used buffer (the driver never looks at hint acks). */
function detachUsed(vq: Virtqueue): void {
  while (vqGetBuf(vq) != NIL) {}
}

/** Sends one 4-byte out-buffer holding `value` from the static buffer at `gpa`. */
function sendCmdId(vq: Virtqueue, gpa: u64, value: u32): i32 {
  detachUsed(vq);
  store<u32>(gpaToPtr(gpa, 4), value);
  const rc = vqAddOutbuf(vq, gpa, 4, TOKEN_CMD_ID);
  if (rc == OK) vqKick(vq);
  return rc;
}

/** Holds `pfn` (an order-10 block): PT_HINTED frames, head keeps PG_HEAD and its order. */
function holdBlock(pfn: u32): void {
  memory.fill(PFLAGS + <usize>pfn, PT_HINTED, <usize>HINT_BLOCK_PAGES);
  store<u8>(PFLAGS + <usize>pfn, PT_HINTED | PG_HEAD);
  listAddHead(heldList, pfn);
  vmstatAdd(VM_NR_HINTED, <f64>HINT_BLOCK_PAGES);
  vmstatInc(VM_HINTED_BLOCKS);
}

/** Frees a block taken from the held list back to the buddy. */
function releaseBlock(pfn: u32): void {
  memory.fill(PFLAGS + <usize>pfn, PT_ALLOC, <usize>HINT_BLOCK_PAGES);
  store<u8>(PFLAGS + <usize>pfn, PT_ALLOC | PG_HEAD);
  vmstatAdd(VM_NR_HINTED, -<f64>HINT_BLOCK_PAGES);
  vmstatInc(VM_HINT_RETURNED_BLOCKS);
  freePages(pfn, HINT_BLOCK_ORDER);
}

/** return_free_pages_to_mm: up to `num` held blocks back to the buddy (LIFO); returns blocks freed. */
export function returnFreePagesToMm(num: u32): u32 {
  if (heldList == 0) return 0;
  let n: u32 = 0;
  while (n < num) {
    const pfn = listPopHead(heldList);
    if (pfn == NIL) break;
    releaseBlock(pfn);
    n++;
  }
  return n;
}

/**
 * get_free_page_and_send: one order-10 block without reclaim; added as a 4 MiB in-buffer if
 * more than one descriptor is free (one stays reserved for STOP), else freed at once.
 */
function getFreePageAndSend(vq: Virtqueue): i32 {
  detachUsed(vq);
  const pfn = allocPages(HINT_BLOCK_ORDER, HINT_GFP);
  if (pfn == NIL) return EINTR;
  if (vqNumFree(vq) > 1) {
    const rc = vqAddInbuf(vq, <u64>pfn << PAGE_SHIFT, PAGE_SIZE << HINT_BLOCK_ORDER, pfn);
    if (rc != OK) { freePages(pfn, HINT_BLOCK_ORDER); return rc; }
    vqKick(vq);
    holdBlock(pfn);
    return OK;
  }
  freePages(pfn, HINT_BLOCK_ORDER);
  vmstatInc(VM_HINT_VQ_FULL);
  return EINTR; // model: the real driver spins here until the device returns buffers
}

/** Ends the run: STOP id (send_cmd_id_stop); re-queues the work if a config change came meanwhile. */
function finishRun(vq: Virtqueue): void {
  running = false;
  sendCmdId(vq, cmdStopGpa, VIRTIO_BALLOON_CMD_ID_STOP);
  if (requeue) {
    requeue = false;
    armTimer(TIMER_FREE_PAGE_HINT, 0);
  }
}

/** One slice of send_free_pages; re-arms the work for the next slice unless the run ended. */
function sendFreePagesSlice(vq: Virtqueue): void {
  for (let i: u32 = 0; i < HINT_SLICE_BLOCKS; i++) {
    // a stop id or a new cmd id was received from the host: stop hinting
    if (cmdIdActive != cmdIdReceived()) { finishRun(vq); return; }
    const err = getFreePageAndSend(vq);
    if (err != OK) { finishRun(vq); return; }
  }
  armTimer(TIMER_FREE_PAGE_HINT, 0);
}

/** report_free_page_func (TIMER_FREE_PAGE_HINT). */
function reportFreePageWork(id: u32): void {
  if (fvq === null) return;
  const vq = changetype<Virtqueue>(fvq);
  if (running) { sendFreePagesSlice(vq); return; }
  const received = cmdIdReceived();
  if (received == VIRTIO_BALLOON_CMD_ID_DONE) {
    returnFreePagesToMm(0xffffffff);
  } else if (received != VIRTIO_BALLOON_CMD_ID_STOP && received != cmdIdActive) {
    // virtio_balloon_report_free_page: START (the received id), blocks, STOP
    cmdIdActive = received;
    vmstatInc(VM_HINT_RUNS);
    running = true;
    if (sendCmdId(vq, cmdActiveGpa, cmdIdActive) != OK) { finishRun(vq); return; }
    sendFreePagesSlice(vq);
  }
}

/** virtballoon_changed (F_FREE_PAGE_HINT part): mark the id for re-reading and queue the work. */
function balloonHintingConfigChanged(slot: u32): void {
  if (fvq === null) return;
  configReadCmdId = true;
  if (running) requeue = true;
  else if (!timerPending(TIMER_FREE_PAGE_HINT)) armTimer(TIMER_FREE_PAGE_HINT, 0);
}

/** Probe hook: free_page_vq (>= 2 entries, checked by the balloon probe), static id buffers. */
function balloonHintingInit(slot: u32, vq: Virtqueue): i32 {
  if (cmdActiveGpa == 0) {
    cmdActiveGpa = ramwinAlloc(4, 4);
    cmdStopGpa = ramwinAlloc(4, 4);
    if (cmdActiveGpa == 0 || cmdStopGpa == 0) return E_NOMEM;
  }
  if (heldList == 0) heldList = allocLists(1);
  if (vq.num < 2) return E_IO;
  fvq = vq;
  fslot = slot;
  cmdIdActive = VIRTIO_BALLOON_CMD_ID_STOP;
  cmdIdReceivedCache = VIRTIO_BALLOON_CMD_ID_STOP;
  configReadCmdId = false;
  running = false;
  requeue = false;
  registerTimer(TIMER_FREE_PAGE_HINT, reportFreePageWork);
  // virtio_balloon_register_shrinker: reclaim gives held blocks back under memory pressure
  registerShrinker(hintShrinkScan);
  return OK;
}

/** Remove hook: cancel the work, give every held block back (virtballoon_remove). */
function balloonHintingRemove(slot: u32): void {
  if (fvq === null) return;
  cancelTimer(TIMER_FREE_PAGE_HINT);
  running = false;
  registerShrinker(null);
  returnFreePagesToMm(0xffffffff);
  fvq = null;
}

balloonSetHintingHooks(balloonHintingInit, balloonHintingConfigChanged, balloonHintingRemove);

/** Shrinker count_objects: held pages (blocks x 1024). */
export function hintShrinkCount(): u32 { return heldList == 0 ? 0 : listCount(heldList) * HINT_BLOCK_PAGES; }

/**
 * Shrinker scan_objects (shrink_free_pages): the request is rounded up to whole blocks; returns
 * the pages freed. Called by reclaim under memory pressure (or by the host through hinting_shrink).
 */
export function hintShrinkScan(pages: u32): u32 {
  const blocks = (<u64>pages + HINT_BLOCK_PAGES - 1) / HINT_BLOCK_PAGES;
  const n = returnFreePagesToMm(blocks > 0xffffffff ? 0xffffffff : <u32>blocks);
  if (n > 0) vmstatInc(VM_HINT_SHRINK_CALLS);
  return n * HINT_BLOCK_PAGES;
}

export function hintHeldBlocks(): u32 { return heldList == 0 ? 0 : listCount(heldList); }
export function hintCmdIdActive(): u32 { return cmdIdActive; }
export function hintRunning(): bool { return running; }
/** Head of the held-block list (most recent), NIL if none; walk with the `next` view. */
export function hintHeldHead(): u32 { return heldList == 0 ? NIL : load<u32>(heldList); }
