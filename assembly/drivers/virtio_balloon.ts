// SPDX-License-Identifier: MIT
// The virtio-balloon driver: probe and validate() rules, the size work item (fill/leak in
// <= 256-PFN batches, one round trip each), deflate-on-OOM notifier, page poisoning, and hook
// points for free page reporting/hinting. Follows Linux drivers/virtio/virtio_balloon.c.
// Model: one balloon device; kicks are synchronous (the device acked when vqKick returns), so
// MUST_TELL_HOST's "wait for the ack" always holds; msleep(200) becomes a re-armed timer.

import {
  NIL, OK, E_INVAL, E_IO, E_NOMEM, E_STATE, E_BUSY, PAGE_SIZE, PT_ALLOC, PT_BALLOON, GFP_MOVABLE, GFP_NORETRY,
  GFP_NOMEMALLOC, GFP_NOWARN, VIRTIO_ID_BALLOON, NR_VIRTIO_SLOTS, TIMER_BALLOON_WORK,
  VIRTIO_BALLOON_F_MUST_TELL_HOST, VIRTIO_BALLOON_F_STATS_VQ, VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VIRTIO_BALLOON_F_FREE_PAGE_HINT, VIRTIO_BALLOON_F_PAGE_POISON, VIRTIO_BALLOON_F_REPORTING,
  VIRTIO_BALLOON_ARRAY_PFNS_MAX, VIRTIO_BALLOON_OOM_NR_PAGES, VIRTIO_BALLOON_OUT_OF_PUFF_MS,
  VIRTIO_BALLOON_CFG_NUM_PAGES, VIRTIO_BALLOON_CFG_ACTUAL, VIRTIO_BALLOON_CFG_POISON_VAL,
  VIRTIO_BALLOON_POISON_VAL, BALLOON_VQ_INFLATE, BALLOON_VQ_DEFLATE, BALLOON_VQ_STATS,
  BALLOON_VQ_FREE_PAGE, BALLOON_VQ_REPORTING, PARAM_INIT_ON_FREE, PARAM_PAGE_POISONING,
  VM_NR_BALLOON, VM_BALLOON_INFLATE, VM_BALLOON_DEFLATE, VM_BALLOON_OOM_DEFLATE, VM_BALLOON_OOM_NOTIFY,
  VM_BALLOON_REINFLATE, VM_BALLOON_OUT_OF_PUFF, VM_BALLOON_REQUESTS, VM_BALLOON_MIGRATE, COST_PAGE_WRITE_NS,
} from "../abi";
import { ramwinAlloc, gpaToPtr } from "../hw/ram_window";
import { writeFrame } from "../hw/mmu";
import { getType, setType, getNext, nrFrames } from "../mm/pfn";
import { allocLists, listAddHead, listAddTail, listPopHead, listHead, listCount, listDel, listReplace } from "../lib/list";
import { allocPages, freePages, adjustManagedPages, registerOomNotifier } from "../mm/page_alloc";
import { param } from "../lib/params";
import { vmstatAdd, vmstatInc, cost } from "../lib/scb";
import { charge } from "../lib/clock";
import { registerTimer, armTimer } from "../lib/timers";
import { Virtqueue, vqAddOutbuf, vqKick, vqGetBuf, vqDisableCb } from "./virtqueue";
import {
  virtioProbe, virtioNegotiate, virtioFindVq, virtioDriverOk, virtioRegister, virtioHasFeature,
  virtioQueueIndex, virtioCread32, virtioCwrite32, virtioFail, virtioRemove, virtioDeviceFeatures,
} from "./virtio";
import { balloonStatsInit, balloonStatsInterrupt, balloonStatsReset } from "./virtio_balloon_stats";

/** Features the Linux driver knows (virtio_balloon feature_table). */
const DRIVER_FEATURES: u32 = (1 << VIRTIO_BALLOON_F_MUST_TELL_HOST) | (1 << VIRTIO_BALLOON_F_STATS_VQ)
  | (1 << VIRTIO_BALLOON_F_DEFLATE_ON_OOM) | (1 << VIRTIO_BALLOON_F_FREE_PAGE_HINT)
  | (1 << VIRTIO_BALLOON_F_PAGE_POISON) | (1 << VIRTIO_BALLOON_F_REPORTING);
/** Ring sizes the driver asks for (clamped to the device maximum by virtioFindVq). */
const VQ_WANT_SIZE: u32 = 256;
const FREE_PAGE_VQ_WANT_SIZE: u32 = 1024;
/** PAGE_REPORTING_CAPACITY: Linux refuses a reporting vring smaller than this (-ENOSPC, DRV). */
const REPORTING_MIN_VQ_SIZE: u32 = 32;
/** fill_balloon's allocation: order 0, movable, one reclaim/compaction attempt, no reserves (DRV). */
export const BALLOON_GFP: u32 = GFP_MOVABLE | GFP_NORETRY | GFP_NOMEMALLOC | GFP_NOWARN;
/** 200 ms in ns: the "Out of puff!" msleep before the work is re-queued (DRV). */
const OUT_OF_PUFF_NS: f64 = <f64>VIRTIO_BALLOON_OUT_OF_PUFF_MS * 1e6;
/** Tokens of the inflate/deflate requests (any non-NIL value). */
const TOKEN_PFNS: u32 = 1;

// ---- hook points for free page reporting / hinting (assembly/drivers/balloon_{reporting,hinting}.ts)

/** Called at probe once reporting_vq is set up (F_REPORTING); returns OK or an E_* code (probe fails). */
export type BalloonVqInitFn = (slot: u32, vq: Virtqueue) => i32;
/** Called on every config-change interrupt (hinting re-reads free_page_hint_cmd_id) and at remove. */
export type BalloonSlotFn = (slot: u32) => void;

function noVqInit(slot: u32, vq: Virtqueue): i32 { return OK; }
function noSlotFn(slot: u32): void {}

let reportingInitHook: BalloonVqInitFn = noVqInit;
let reportingRemoveHook: BalloonSlotFn = noSlotFn;
let hintingInitHook: BalloonVqInitFn = noVqInit;
let hintingConfigHook: BalloonSlotFn = noSlotFn;
let hintingRemoveHook: BalloonSlotFn = noSlotFn;

/**
 * Free page reporting glue: `init` runs at probe with reporting_vq (page_reporting_register),
 * `remove` at device removal (page_reporting_unregister). Call once at module start.
 */
export function balloonSetReportingHooks(init: BalloonVqInitFn, remove: BalloonSlotFn): void {
  reportingInitHook = init;
  reportingRemoveHook = remove;
}

/**
 * Free page hinting glue: `init` runs at probe with free_page_vq, `onConfig` on every
 * config-change interrupt when F_FREE_PAGE_HINT was negotiated (virtballoon_changed sets
 * VIRTIO_BALLOON_CONFIG_READ_CMD_ID and queues report_free_page_work), `remove` at removal.
 */
export function balloonSetHintingHooks(init: BalloonVqInitFn, onConfig: BalloonSlotFn, remove: BalloonSlotFn): void {
  hintingInitHook = init;
  hintingConfigHook = onConfig;
  hintingRemoveHook = remove;
}

// ---- driver state (struct virtio_balloon) ----------------------------------------------------

let bound = false;
let vbSlot: u32 = 0;
let inflateVq: Virtqueue | null = null;
let deflateVq: Virtqueue | null = null;
let statsVq: Virtqueue | null = null;
let freePageVq: Virtqueue | null = null;
let reportingVq: Virtqueue | null = null;
/** vb->pfns: the request array (<= 256 le32 PFNs) in the RAM window, and its guest address. */
let pfnsGpa: u64 = 0;
let pfnsPtr: usize = 0;
let numPfns: u32 = 0;
/** vb_dev_info->pages: balloon pages, most recently inflated at the head (LIFO). */
let pagesList: usize = 0;
/** fill_balloon's private list of pages allocated but not enqueued yet. */
let newPages: usize = 0;
/** vb->num_pages: pages in the balloon (4 KiB units = guest pages on x86-64). */
let numPages: u32 = 0;
let deflateOnOom = false;
let poisonActive = false;
let poisonVal: u32 = 0;
let oomRegistered = false;
/** Pages the OOM notifier took back that the size work has not re-inflated yet (ping-pong meter). */
let oomDebt: u32 = 0;
/** balloon_lock held (compaction must not migrate while the size work or OOM path runs). */
let balloonLocked = false;

/** Slot the balloon is bound to, or -1. */
export function balloonSlot(): i32 { return bound ? <i32>vbSlot : -1; }
export function balloonNumPages(): u32 { return numPages; }
/** Head of the balloon page list (most recently inflated), NIL if empty; walk with mm/pfn getNext. */
export function balloonListHead(): u32 { return pagesList == 0 ? NIL : listHead(pagesList); }
export function balloonFreePageVq(): Virtqueue | null { return freePageVq; }
export function balloonReportingVq(): Virtqueue | null { return reportingVq; }
export function balloonStatsVq(): Virtqueue | null { return statsVq; }
export function balloonInflateVq(): Virtqueue | null { return inflateVq; }
export function balloonDeflateVq(): Virtqueue | null { return deflateVq; }
/** poison_val written at probe (0 if F_PAGE_POISON was not negotiated or init_on_free). */
export function balloonPoisonVal(): u32 { return poisonVal; }
export function balloonPoisonActive(): bool { return poisonActive; }
export function balloonLockHeld(): bool { return balloonLocked; }

// ---- probe -------------------------------------------------------------------------------------

/**
 * virtballoon_validate: drops F_PAGE_POISON unless init_on_free or page poisoning is on; drops
 * F_REPORTING if the device lacks F_PAGE_POISON while poisoning is on (reporting would lose the
 * pattern). Returns the driver feature word to negotiate.
 */
export function balloonValidate(deviceLo: u32): u32 {
  let f = DRIVER_FEATURES;
  const initOnFree = param(PARAM_INIT_ON_FREE, 0) != 0;
  const poisoning = param(PARAM_PAGE_POISONING, 0) != 0;
  if (!initOnFree && !poisoning) f &= ~(<u32>1 << VIRTIO_BALLOON_F_PAGE_POISON);
  else if ((deviceLo & (<u32>1 << VIRTIO_BALLOON_F_PAGE_POISON)) == 0) f &= ~(<u32>1 << VIRTIO_BALLOON_F_REPORTING);
  return f;
}

/** Present-queue mask for virtioQueueIndex from the negotiated features. */
function presentMask(slot: u32): u32 {
  let m: u32 = (1 << BALLOON_VQ_INFLATE) | (1 << BALLOON_VQ_DEFLATE);
  if (virtioHasFeature(slot, VIRTIO_BALLOON_F_STATS_VQ)) m |= 1 << BALLOON_VQ_STATS;
  if (virtioHasFeature(slot, VIRTIO_BALLOON_F_FREE_PAGE_HINT)) m |= 1 << BALLOON_VQ_FREE_PAGE;
  if (virtioHasFeature(slot, VIRTIO_BALLOON_F_REPORTING)) m |= 1 << BALLOON_VQ_REPORTING;
  return m;
}

/** Transport index of balloon queue `name` (BALLOON_VQ_*) under the negotiated features, or -1. */
export function balloonQueueIndex(name: u32): i32 {
  return bound ? virtioQueueIndex(presentMask(vbSlot), name) : -1;
}

function findVq(slot: u32, name: u32, want: u32): Virtqueue | null {
  const idx = virtioQueueIndex(presentMask(slot), name);
  if (idx < 0) return null;
  return virtioFindVq(slot, <u32>idx, want, 0);
}

/**
 * virtballoon_probe: binds the balloon in `slot`: negotiation (validate rules), the five queues
 * (compacted indices), poison_val before DRIVER_OK, the stats buffer, the OOM notifier if
 * DEFLATE_ON_OOM, and a first size work if the host already has a target. Returns OK or E_*.
 */
export function balloonProbe(slot: u32): i32 {
  if (slot >= NR_VIRTIO_SLOTS) return E_INVAL;
  if (bound) return E_STATE; // one balloon per VM (as QEMU allows); remove before probing again
  const rc = virtioProbe(slot, VIRTIO_ID_BALLOON);
  if (rc != OK) return rc;
  bound = false;
  const devLo = virtioDeviceFeatures(slot, 0);
  if (virtioNegotiate(slot, balloonValidate(devLo), 0) != OK) return E_IO;
  vbSlot = slot;
  if (pfnsGpa == 0) {
    pfnsGpa = ramwinAlloc(VIRTIO_BALLOON_ARRAY_PFNS_MAX * 4, 16);
    if (pfnsGpa == 0) { virtioFail(slot); return E_NOMEM; }
    pfnsPtr = gpaToPtr(pfnsGpa, VIRTIO_BALLOON_ARRAY_PFNS_MAX * 4);
  }
  if (pagesList == 0) { pagesList = allocLists(1); newPages = allocLists(1); }
  inflateVq = findVq(slot, BALLOON_VQ_INFLATE, VQ_WANT_SIZE);
  deflateVq = findVq(slot, BALLOON_VQ_DEFLATE, VQ_WANT_SIZE);
  if (inflateVq === null || deflateVq === null) { virtioFail(slot); return E_IO; }
  // Model: tell_host's wait_event is the synchronous kick (its cost is the round trip), so the
  // balloon_ack interrupts would wake nobody: ask the device not to send them.
  vqDisableCb(changetype<Virtqueue>(inflateVq));
  vqDisableCb(changetype<Virtqueue>(deflateVq));
  statsVq = null; freePageVq = null; reportingVq = null;
  if (virtioHasFeature(slot, VIRTIO_BALLOON_F_STATS_VQ)) {
    statsVq = findVq(slot, BALLOON_VQ_STATS, VQ_WANT_SIZE);
    if (statsVq === null) { virtioFail(slot); return E_IO; }
  }
  if (virtioHasFeature(slot, VIRTIO_BALLOON_F_FREE_PAGE_HINT)) {
    freePageVq = findVq(slot, BALLOON_VQ_FREE_PAGE, FREE_PAGE_VQ_WANT_SIZE);
    // free_page_vq needs >= 2 entries: one is always kept for the STOP id (DRV)
    if (freePageVq === null || changetype<Virtqueue>(freePageVq).num < 2) { virtioFail(slot); return E_IO; }
  }
  if (virtioHasFeature(slot, VIRTIO_BALLOON_F_REPORTING)) {
    reportingVq = findVq(slot, BALLOON_VQ_REPORTING, REPORTING_MIN_VQ_SIZE);
    if (reportingVq === null || changetype<Virtqueue>(reportingVq).num < REPORTING_MIN_VQ_SIZE) { virtioFail(slot); return E_IO; }
  }
  deflateOnOom = virtioHasFeature(slot, VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
  // MUST_TELL_HOST needs no flag: leak_balloon always tells the host before freeing
  poisonActive = virtioHasFeature(slot, VIRTIO_BALLOON_F_PAGE_POISON);
  poisonVal = 0;
  if (poisonActive) {
    // poison_val before DRIVER_OK, then frozen (SPEC §4): 0 with init_on_free, else PAGE_POISON x4
    poisonVal = param(PARAM_INIT_ON_FREE, 0) != 0 ? 0 : VIRTIO_BALLOON_POISON_VAL;
    virtioCwrite32(slot, VIRTIO_BALLOON_CFG_POISON_VAL, poisonVal);
  }
  registerTimer(TIMER_BALLOON_WORK, balloonSizeWork);
  virtioRegister(slot, balloonInterrupt, balloonConfigChanged);
  bound = true;
  if (freePageVq !== null && hintingInitHook(slot, changetype<Virtqueue>(freePageVq)) != OK) { balloonUnbind(slot); return E_IO; }
  if (reportingVq !== null && reportingInitHook(slot, changetype<Virtqueue>(reportingVq)) != OK) { balloonUnbind(slot); return E_IO; }
  if (virtioDriverOk(slot) != OK) { balloonUnbind(slot); return E_IO; }
  if (statsVq !== null) balloonStatsInit(slot, changetype<Virtqueue>(statsVq));
  if (deflateOnOom && !oomRegistered) oomRegistered = registerOomNotifier(balloonOomNotify);
  // a target set before the driver loaded is honoured right away (virtballoon_probe queues the work)
  if (virtioCread32(slot, VIRTIO_BALLOON_CFG_NUM_PAGES) != numPages) armTimer(TIMER_BALLOON_WORK, 0);
  return OK;
}

function balloonUnbind(slot: u32): void {
  bound = false;
  virtioRemove(slot);
}

/**
 * virtballoon_remove: stops hinting and reporting, leaks the whole balloon (telling the host),
 * resets the device. Returns the pages given back.
 */
export function balloonRemove(): u32 {
  if (!bound) return 0;
  hintingRemoveHook(vbSlot);
  reportingRemoveHook(vbSlot);
  let freed: u32 = 0;
  while (numPages > 0) {
    const n = leakBalloon(VIRTIO_BALLOON_ARRAY_PFNS_MAX);
    if (n == 0) break;
    freed += n;
    updateBalloonSize();
  }
  balloonStatsReset();
  balloonUnbind(vbSlot);
  return freed;
}

// ---- interrupts and work -----------------------------------------------------------------------

/** Used-buffer interrupt: only the stats queue needs one (inflate/deflate acks are polled). */
function balloonInterrupt(slot: u32, queue: u32): void {
  if (!bound || slot != vbSlot) return;
  if (statsVq !== null && queue == changetype<Virtqueue>(statsVq).index) balloonStatsInterrupt();
}

/** virtballoon_changed: queue the size work; hinting re-reads its command id. */
function balloonConfigChanged(slot: u32): void {
  if (!bound || slot != vbSlot) return;
  armTimer(TIMER_BALLOON_WORK, 0);
  if (virtioHasFeature(slot, VIRTIO_BALLOON_F_FREE_PAGE_HINT)) hintingConfigHook(slot);
}

/** towards_target: host target minus pages in the balloon (4 KiB units). */
function towardsTarget(): i64 {
  const target = virtioCread32(vbSlot, VIRTIO_BALLOON_CFG_NUM_PAGES);
  return <i64>target - <i64>numPages;
}

/** update_balloon_size: `actual` = pages in the balloon, one le32 write. */
function updateBalloonSize(): void {
  virtioCwrite32(vbSlot, VIRTIO_BALLOON_CFG_ACTUAL, numPages);
}

/**
 * update_balloon_size_func (TIMER_BALLOON_WORK): one batch of at most 256 PFNs towards the
 * target, `actual` written, and immediately re-queued while the target is not reached (after
 * 200 ms if fill ran out of puff).
 */
function balloonSizeWork(id: u32): void {
  if (!bound) return;
  const diff = towardsTarget();
  let backoff = false;
  if (diff > 0) {
    const want = diff > <i64>VIRTIO_BALLOON_ARRAY_PFNS_MAX ? VIRTIO_BALLOON_ARRAY_PFNS_MAX : <u32>diff;
    const got = fillBalloon(want);
    backoff = got < want;
  } else if (diff < 0) {
    const want = -diff > <i64>VIRTIO_BALLOON_ARRAY_PFNS_MAX ? VIRTIO_BALLOON_ARRAY_PFNS_MAX : <u32>(-diff);
    leakBalloon(want);
  }
  updateBalloonSize();
  if (towardsTarget() != 0) armTimer(TIMER_BALLOON_WORK, backoff ? OUT_OF_PUFF_NS : 0);
}

/** tell_host: one out-buffer of `numPfns` le32 PFNs, kick, wait for the device to return it. */
function tellHost(vq: Virtqueue): i32 {
  if (numPfns == 0) return OK;
  return sendPfnArray(vq, numPfns * 4);
}

/** One request of `bytes` of the PFN array on `vq`, kicked and waited for. */
function sendPfnArray(vq: Virtqueue, bytes: u32): i32 {
  const rc = vqAddOutbuf(vq, pfnsGpa, bytes, TOKEN_PFNS);
  if (rc != OK) return rc;
  vqKick(vq);
  vmstatInc(VM_BALLOON_REQUESTS);
  // the kick is synchronous: the device has used the buffer when it returns (wait_event in Linux)
  while (vqGetBuf(vq) != NIL) {}
  return OK;
}

/** Puts `pfn` at slot `numPfns` of the request array (set_page_pfns: one 4 KiB PFN per page on x86-64). */
// @ts-ignore: decorator
@inline function appendPfn(pfn: u32): void {
  store<u32>(pfnsPtr + (<usize>numPfns << 2), pfn);
  numPfns++;
}

/** balloon_page_enqueue: PageOffline, on the list head (LIFO), out of MemTotal unless DEFLATE_ON_OOM. */
function balloonPageEnqueue(pfn: u32): void {
  setType(pfn, PT_BALLOON);
  listAddHead(pagesList, pfn);
  vmstatAdd(VM_NR_BALLOON, 1);
  vmstatInc(VM_BALLOON_INFLATE);
  if (!deflateOnOom) adjustManagedPages(pfn, -1);
}

/**
 * fill_balloon: allocates up to `num` order-0 movable pages (NORETRY: one reclaim/compaction
 * attempt, never OOM) onto a private list, stopping at the first failure; then, under
 * balloon_lock, enqueues them and sends one inflate request. Returns the pages added.
 */
export function fillBalloon(num: u32): u32 {
  if (!bound || inflateVq === null) return 0;
  if (num > VIRTIO_BALLOON_ARRAY_PFNS_MAX) num = VIRTIO_BALLOON_ARRAY_PFNS_MAX;
  // balloon_page_alloc without the lock: compaction may migrate balloon pages meanwhile
  for (let i: u32 = 0; i < num; i++) {
    const pfn = allocPages(0, BALLOON_GFP);
    if (pfn == NIL) {
      vmstatInc(VM_BALLOON_OUT_OF_PUFF); // "Out of puff! Can't get %u pages"
      break;
    }
    listAddTail(newPages, pfn);
  }
  balloonLocked = true;
  numPfns = 0;
  for (let pfn = listPopHead(newPages); pfn != NIL; pfn = listPopHead(newPages)) {
    balloonPageEnqueue(pfn);
    appendPfn(pfn);
  }
  const n = numPfns;
  numPages += n;
  if (oomDebt > 0) {
    const re = n < oomDebt ? n : oomDebt;
    oomDebt -= re;
    vmstatAdd(VM_BALLOON_REINFLATE, <f64>re);
  }
  tellHost(changetype<Virtqueue>(inflateVq));
  balloonLocked = false;
  return n;
}

/** Frees one deflated page: PageOffline cleared, poison written if F_PAGE_POISON, back to the buddy. */
function releasePage(pfn: u32): void {
  setType(pfn, PT_ALLOC);
  if (poisonActive && poisonVal != 0) {
    // page poisoning fills the freed page with poison_val (a guest write: the host backs it again)
    writeFrame(pfn);
    charge(cost(COST_PAGE_WRITE_NS));
  }
  if (!deflateOnOom) adjustManagedPages(pfn, 1);
  freePages(pfn, 0);
}

/**
 * leak_balloon: takes up to `num` pages from the list head (most recent first), tells the host
 * (deflate request) FIRST, then frees them. Returns the pages released.
 */
export function leakBalloon(num: u32): u32 {
  if (!bound || deflateVq === null) return 0;
  if (num > VIRTIO_BALLOON_ARRAY_PFNS_MAX) num = VIRTIO_BALLOON_ARRAY_PFNS_MAX;
  if (num > numPages) num = numPages;
  balloonLocked = true;
  numPfns = 0;
  // balloon_page_dequeue: from the head (LIFO), skipping pages compaction has isolated
  let pfn = listHead(pagesList);
  while (pfn != NIL && numPfns < num) {
    const next = getNext(pfn);
    if (!isIsolated(pfn)) {
      listDel(pagesList, pfn);
      appendPfn(pfn);
    }
    pfn = next;
  }
  const n = numPfns;
  numPages -= n;
  vmstatAdd(VM_NR_BALLOON, -<f64>n);
  // tell the host first (MUST_TELL_HOST or not): the pages are reused only after the ack
  tellHost(changetype<Virtqueue>(deflateVq));
  for (let i: u32 = 0; i < n; i++) {
    releasePage(load<u32>(pfnsPtr + (<usize>i << 2)));
    vmstatInc(VM_BALLOON_DEFLATE);
  }
  balloonLocked = false;
  return n;
}

/**
 * virtio_balloon_oom_notify (DEFLATE_ON_OOM): releases VIRTIO_BALLOON_OOM_NR_PAGES (1 MiB) and
 * writes `actual`; the host target stays, so the size work inflates again when it next runs.
 */
export function balloonOomNotify(order: u32, gfp: u32): u32 {
  if (!bound || !deflateOnOom || balloonLocked) return 0;
  const n = leakBalloon(VIRTIO_BALLOON_OOM_NR_PAGES);
  updateBalloonSize();
  if (n > 0) {
    vmstatAdd(VM_BALLOON_OOM_DEFLATE, <f64>n);
    vmstatInc(VM_BALLOON_OOM_NOTIFY);
    oomDebt += n;
  }
  return n;
}

// ---- balloon compaction (mm/balloon_compaction.c + virtballoon_migratepage) -------------------

/** Balloon pages compaction has isolated (b_dev_info->isolated_pages); at most COMPACT_CLUSTER_MAX. */
const MAX_ISOLATED: i32 = 64;
const isolated = new StaticArray<u32>(MAX_ISOLATED);
let nrIsolated: i32 = 0;

function isolatedIndex(pfn: u32): i32 {
  for (let i: i32 = 0; i < nrIsolated; i++) if (unchecked(isolated[i]) == pfn) return i;
  return -1;
}
// @ts-ignore: decorator
@inline function isIsolated(pfn: u32): bool { return nrIsolated > 0 && isolatedIndex(pfn) >= 0; }

/**
 * balloon_page_isolate: compaction takes a balloon page aside. The page stays on the list (so
 * its replacement can take its place) but leak_balloon skips it. False if busy.
 */
export function balloonIsolatePage(pfn: u32): bool {
  if (!bound || pfn >= nrFrames || getType(pfn) != PT_BALLOON) return false;
  if (nrIsolated >= MAX_ISOLATED || isolatedIndex(pfn) >= 0) return false;
  unchecked(isolated[nrIsolated++] = pfn);
  return true;
}

/** balloon_page_putback: migration failed or was skipped; the page is an ordinary balloon page again. */
export function balloonPutbackPage(pfn: u32): void {
  const i = isolatedIndex(pfn);
  if (i < 0) return;
  nrIsolated--;
  unchecked(isolated[i] = isolated[nrIsolated]);
}

/**
 * virtballoon_migratepage: `newPfn` (allocated by the migration core) replaces balloon page
 * `oldPfn` at the same list position: 1-PFN inflate of the new page, then 1-PFN deflate of the
 * old one. The migration core frees `oldPfn` afterwards (mm/migrate.ts contract). E_BUSY if
 * balloon_lock is held (mutex_trylock failed: -EAGAIN), E_INVAL if `oldPfn` is no balloon page.
 */
export function balloonMigratePage(oldPfn: u32, newPfn: u32): i32 {
  if (!bound || balloonLocked) return E_BUSY;
  if (oldPfn >= nrFrames || newPfn >= nrFrames || getType(oldPfn) != PT_BALLOON || oldPfn == newPfn) return E_INVAL;
  balloonLocked = true;
  setType(newPfn, PT_BALLOON);
  listReplace(pagesList, oldPfn, newPfn);
  // zones may differ: the managed counts follow the pages
  if (!deflateOnOom) { adjustManagedPages(newPfn, -1); adjustManagedPages(oldPfn, 1); }
  numPfns = 0;
  appendPfn(newPfn);
  tellHost(changetype<Virtqueue>(inflateVq));
  numPfns = 0;
  appendPfn(oldPfn);
  tellHost(changetype<Virtqueue>(deflateVq));
  balloonPutbackPage(oldPfn);
  setType(oldPfn, PT_ALLOC);
  vmstatInc(VM_BALLOON_MIGRATE);
  balloonLocked = false;
  return OK;
}

/** Pages on the balloon list (== numPages unless compaction holds one isolated). */
export function balloonListCount(): u32 { return pagesList == 0 ? 0 : listCount(pagesList); }

// ---- misbehaviour injection (scenario `crash` actions) -----------------------------------------
// A buggy or hostile guest driver, for the device's robustness paths: each sends one malformed
// inflate request through the real queue (the device must count it in its *_fails/metrics and go
// on). Between entries: the size work is not running, so the request array is free to reuse.

/** Sends the `numPfns` PFNs of the request array as one inflate request (callers checked the state). */
function injectInflate(): i32 {
  if (inflateVq === null) return E_STATE;
  const rc = tellHost(changetype<Virtqueue>(inflateVq));
  numPfns = 0;
  return rc;
}

/** An inflate request naming PFNs outside guest RAM (nrFrames and 0xffffffff). Returns PFNs sent. */
export function balloonInjectBadPfns(): i32 {
  if (!bound || balloonLocked) return E_STATE;
  numPfns = 0;
  appendPfn(nrFrames);
  appendPfn(0xffffffff);
  const rc = injectInflate();
  return rc == OK ? 2 : rc;
}

/** Re-sends the `num` most recently inflated PFNs on the inflate queue. Returns PFNs sent (0: balloon empty). */
export function balloonInjectDoubleInflate(num: u32): i32 {
  if (!bound || balloonLocked) return E_STATE;
  if (num > VIRTIO_BALLOON_ARRAY_PFNS_MAX) num = VIRTIO_BALLOON_ARRAY_PFNS_MAX;
  numPfns = 0;
  for (let pfn = listHead(pagesList); pfn != NIL && numPfns < num; pfn = getNext(pfn)) appendPfn(pfn);
  const n = numPfns;
  if (n == 0) return 0;
  const rc = injectInflate();
  return rc == OK ? <i32>n : rc;
}

/** An inflate descriptor whose length (6 bytes) is not a multiple of 4. Returns 1. */
export function balloonInjectCorruptDescriptor(): i32 {
  if (!bound || inflateVq === null || balloonLocked) return E_STATE;
  const rc = sendPfnArray(changetype<Virtqueue>(inflateVq), 6);
  return rc == OK ? 1 : rc;
}
