// SPDX-License-Identifier: MIT
// Driver side of a split virtqueue (virtio 1.x §2.7), laid out in the RAM window: descriptor
// table, avail ring, used ring, a free-descriptor list, optional indirect tables and EVENT_IDX.
// Follows Linux drivers/virtio/virtio_ring.c (split ring). Model: no memory barriers (one vCPU,
// the device runs synchronously inside the kick); driver-private state (free list, tokens) is
// shadowed outside the rings, so a device scribbling on the rings cannot corrupt it.
//
// RAM window layout of one queue of `num` entries (vqCreate):
//   +0                desc[num]      16 B each: le64 addr, le32 len, le16 flags, le16 next
//   +16*num           avail          le16 flags, le16 idx, le16 ring[num], le16 used_event
//   +align4(..)       used           le16 flags, le16 idx, {le32 id, le32 len}[num], le16 avail_event
//   (separately)      indirect[num][indirectMax]  16 B entries, one table per head (optional)

import {
  NIL, OK, E_INVAL, E_BUSY, E_IO, NR_VIRTIO_SLOTS, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_INDIRECT,
  VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_USED_F_NO_NOTIFY, VIRTQ_DESC_SIZE, VIRTQ_DESC_ALIGN, VIRTQ_MAX_SIZE,
} from "../abi";
import { virtio_notify } from "../host";
import { charge } from "../lib/clock";
import { ramwinAlloc, gpaToPtr } from "../hw/ram_window";

/** Queues per device slot the driver side can hold (balloon needs 5). */
export const MAX_VQS_PER_SLOT: u32 = 8;
/** Entries of the scatter-gather scratch list (vqSg*, one request at a time). */
export const SG_SCRATCH_ENTRIES: u32 = 64;
/** One scatter-gather entry: u64 gpa, u32 len, u32 pad. */
const SG_ENTRY_BYTES: usize = 16;

/** One driver-side virtqueue; lives in unmanaged memory (vqCreate), never freed. */
@unmanaged export class Virtqueue {
  slot: u32;
  index: u32;
  num: u32;
  descGpa: u64;
  availGpa: u64;
  usedGpa: u64;
  /** Linear addresses of the rings (inside the RAM window). */
  desc: usize;
  avail: usize;
  used: usize;
  /** Free-descriptor list head and length (descriptors chained through shadowNext). */
  freeHead: u32;
  numFree: u32;
  /** Driver's copy of avail.idx (Wrapping u16). */
  availIdx: u32;
  /** avail.idx at the last kick decision (EVENT_IDX: vring_need_event's `old`). */
  kickedIdx: u32;
  /** Next used entry to consume (Wrapping u16, last_used_idx). */
  lastUsedIdx: u32;
  /** Used len of the last buffer vqGetBuf returned. */
  lastLen: u32;
  /** Shadow avail.flags (VIRTQ_AVAIL_F_NO_INTERRUPT while callbacks are disabled). */
  availFlags: u32;
  /** u32[num] token of each in-flight head (NIL = none). */
  tokens: usize;
  /** u16[num] next link of each descriptor (free list and chains; never read back from the ring). */
  shadowNext: usize;
  /** u16[num] descriptors a head's chain holds in the table (1 for an indirect chain). */
  chainLen: usize;
  /** Indirect tables: gpa/ptr of head 0's table, entries per table (0 = no indirect). */
  indirectGpa: u64;
  indirectPtr: usize;
  indirectMax: u32;
  eventIdx: bool;
  /** Set when the device returned an id we never gave it (Linux BAD_RING): queue unusable. */
  broken: bool;
  active: bool;
  kicks: u32;
}

/** Per-slot table of queues, reused across resets (the RAM window cannot free). */
const vqTable = new StaticArray<usize>(<i32>(NR_VIRTIO_SLOTS * MAX_VQS_PER_SLOT));
/** Scatter-gather scratch list for vqSgSet/vqAddSgs. */
let sgScratch: usize = 0;

// @ts-ignore: decorator
@inline function align4(x: u32): u32 { return (x + 3) & ~3; }
// @ts-ignore: decorator
@inline function descPtr(vq: Virtqueue, i: u32): usize { return vq.desc + (<usize>i << 4); }
// @ts-ignore: decorator
@inline function shadowNext(vq: Virtqueue, i: u32): u32 { return <u32>load<u16>(vq.shadowNext + (<usize>i << 1)); }

/** Bytes of the rings of a `num`-entry queue (desc + avail + used, used 4-aligned). */
export function vqRingBytes(num: u32): u32 { return align4(16 * num + 6 + 2 * num) + 6 + 8 * num; }

/**
 * Creates (or re-initialises after a reset) queue `index` of slot `slot` with `num` entries
 * (a power of two) and, if `indirectMax` > 1, one indirect table of that many entries per head.
 * Rings are zeroed. Returns null if `num` is invalid or the RAM window is full.
 */
export function vqCreate(slot: u32, index: u32, num: u32, indirectMax: u32, eventIdx: bool): Virtqueue | null {
  if (slot >= NR_VIRTIO_SLOTS || index >= MAX_VQS_PER_SLOT) return null;
  if (num == 0 || num > VIRTQ_MAX_SIZE || (num & (num - 1)) != 0) return null;
  if (indirectMax == 1 || indirectMax > num) return null; // an indirect table of 1 buys nothing
  const t = <i32>(slot * MAX_VQS_PER_SLOT + index);
  let vq: Virtqueue;
  const old = unchecked(vqTable[t]);
  if (old != 0 && changetype<Virtqueue>(old).num == num && changetype<Virtqueue>(old).indirectMax == indirectMax) {
    vq = changetype<Virtqueue>(old);
  } else {
    const ringGpa = ramwinAlloc(vqRingBytes(num), VIRTQ_DESC_ALIGN);
    if (ringGpa == 0) return null;
    let indGpa: u64 = 0;
    if (indirectMax > 0) {
      indGpa = ramwinAlloc(num * indirectMax * VIRTQ_DESC_SIZE, VIRTQ_DESC_ALIGN);
      if (indGpa == 0) return null;
    }
    vq = changetype<Virtqueue>(heap.alloc(offsetof<Virtqueue>()));
    vq.num = num;
    vq.descGpa = ringGpa;
    vq.availGpa = ringGpa + <u64>(16 * num);
    vq.usedGpa = ringGpa + <u64>align4(16 * num + 6 + 2 * num);
    vq.desc = gpaToPtr(vq.descGpa, 16 * num);
    vq.avail = gpaToPtr(vq.availGpa, 6 + 2 * num);
    vq.used = gpaToPtr(vq.usedGpa, 6 + 8 * num);
    vq.tokens = heap.alloc(<usize>num << 2);
    vq.shadowNext = heap.alloc(<usize>num << 1);
    vq.chainLen = heap.alloc(<usize>num << 1);
    vq.indirectMax = indirectMax;
    vq.indirectGpa = indGpa;
    vq.indirectPtr = indGpa != 0 ? gpaToPtr(indGpa, num * indirectMax * VIRTQ_DESC_SIZE) : 0;
    unchecked(vqTable[t] = changetype<usize>(vq));
  }
  vq.slot = slot;
  vq.index = index;
  vq.eventIdx = eventIdx;
  vqInit(vq);
  return vq;
}

/** Zeroes the rings and rebuilds the free list: the state right after a device reset. */
function vqInit(vq: Virtqueue): void {
  const num = vq.num;
  memory.fill(vq.desc, 0, <usize>vqRingBytes(num));
  if (vq.indirectPtr != 0) memory.fill(vq.indirectPtr, 0, <usize>(num * vq.indirectMax * VIRTQ_DESC_SIZE));
  for (let i: u32 = 0; i < num; i++) {
    store<u16>(vq.shadowNext + (<usize>i << 1), <u16>(i + 1)); // last one's link is never followed
    store<u32>(vq.tokens + (<usize>i << 2), NIL);
    store<u16>(vq.chainLen + (<usize>i << 1), 0);
  }
  vq.freeHead = 0;
  vq.numFree = num;
  vq.availIdx = 0;
  vq.kickedIdx = 0;
  vq.lastUsedIdx = 0;
  vq.lastLen = 0;
  vq.availFlags = 0;
  vq.broken = false;
  vq.active = false;
  vq.kicks = 0;
}

/** Queue `index` of slot `slot` if it was created (active or not). */
export function vqLookup(slot: u32, index: u32): Virtqueue | null {
  if (slot >= NR_VIRTIO_SLOTS || index >= MAX_VQS_PER_SLOT) return null;
  const p = unchecked(vqTable[<i32>(slot * MAX_VQS_PER_SLOT + index)]);
  return p == 0 ? null : changetype<Virtqueue>(p);
}

// ------------------------------------------------------------------------- scatter-gather list

/** The scratch sg list (SG_SCRATCH_ENTRIES entries); callers fill it with vqSgSet. */
export function vqSgScratch(): usize {
  if (sgScratch == 0) sgScratch = heap.alloc(<usize>SG_SCRATCH_ENTRIES * SG_ENTRY_BYTES);
  return sgScratch;
}

/** Sets entry `i` of sg list `sg` to the buffer [gpa, gpa + len). */
// @ts-ignore: decorator
@inline export function vqSgSet(sg: usize, i: u32, gpa: u64, len: u32): void {
  const e = sg + <usize>i * SG_ENTRY_BYTES;
  store<u64>(e, gpa);
  store<u32>(e, len, 8);
}

// ------------------------------------------------------------------------- adding buffers

/**
 * Adds one chain: `outN` device-readable buffers then `inN` device-writable buffers from sg list
 * `sg`, tagged with `token` (anything but NIL; vqGetBuf gives it back). Uses an indirect table if
 * the queue has them and the chain has more than one buffer. Publishes it in the avail ring (the
 * device sees it at the next kick). Returns OK, E_BUSY (ring full), E_INVAL or E_IO (broken).
 */
export function vqAddSgs(vq: Virtqueue, sg: usize, outN: u32, inN: u32, token: u32): i32 {
  const total = outN + inN;
  if (total == 0 || token == NIL || !vq.active) return E_INVAL;
  if (vq.broken) return E_IO;
  const indirect = vq.indirectMax != 0 && total > 1 && total <= vq.indirectMax;
  const need: u32 = indirect ? 1 : total;
  if (vq.numFree < need) return E_BUSY;
  const head = vq.freeHead;
  if (indirect) {
    // one table per head: the head's table is free exactly when the head is
    const table = vq.indirectPtr + <usize>(head * vq.indirectMax) * VIRTQ_DESC_SIZE;
    for (let k: u32 = 0; k < total; k++) {
      const e = sg + <usize>k * SG_ENTRY_BYTES;
      const d = table + (<usize>k << 4);
      let flags: u32 = k + 1 < total ? VIRTQ_DESC_F_NEXT : 0;
      if (k >= outN) flags |= VIRTQ_DESC_F_WRITE;
      store<u64>(d, load<u64>(e));
      store<u32>(d, load<u32>(e, 8), 8);
      store<u16>(d, <u16>flags, 12);
      store<u16>(d, <u16>(k + 1 < total ? k + 1 : 0), 14);
    }
    const d = descPtr(vq, head);
    store<u64>(d, vq.indirectGpa + <u64>(head * vq.indirectMax * VIRTQ_DESC_SIZE));
    store<u32>(d, total * VIRTQ_DESC_SIZE, 8);
    store<u16>(d, <u16>VIRTQ_DESC_F_INDIRECT, 12);
    store<u16>(d, 0, 14);
    vq.freeHead = shadowNext(vq, head);
  } else {
    let i = head;
    for (let k: u32 = 0; k < total; k++) {
      const e = sg + <usize>k * SG_ENTRY_BYTES;
      const d = descPtr(vq, i);
      let flags: u32 = k + 1 < total ? VIRTQ_DESC_F_NEXT : 0;
      if (k >= outN) flags |= VIRTQ_DESC_F_WRITE;
      const next = shadowNext(vq, i);
      store<u64>(d, load<u64>(e));
      store<u32>(d, load<u32>(e, 8), 8);
      store<u16>(d, <u16>flags, 12);
      store<u16>(d, <u16>(k + 1 < total ? next : 0), 14);
      i = next;
    }
    vq.freeHead = i;
  }
  vq.numFree -= need;
  store<u32>(vq.tokens + (<usize>head << 2), token);
  store<u16>(vq.chainLen + (<usize>head << 1), <u16>need);
  // publish: ring entry first, then idx (the device reads idx, then the entry)
  store<u16>(vq.avail + 4 + (<usize>(vq.availIdx & (vq.num - 1)) << 1), <u16>head);
  vq.availIdx = (vq.availIdx + 1) & 0xffff;
  store<u16>(vq.avail, <u16>vq.availIdx, 2);
  return OK;
}

/** Adds one device-readable buffer (e.g. a balloon PFN array). */
export function vqAddOutbuf(vq: Virtqueue, gpa: u64, len: u32, token: u32): i32 {
  const sg = vqSgScratch();
  vqSgSet(sg, 0, gpa, len);
  return vqAddSgs(vq, sg, 1, 0, token);
}

/** Adds one device-writable buffer (e.g. a reported block, a response). */
export function vqAddInbuf(vq: Virtqueue, gpa: u64, len: u32, token: u32): i32 {
  const sg = vqSgScratch();
  vqSgSet(sg, 0, gpa, len);
  return vqAddSgs(vq, sg, 0, 1, token);
}

// ------------------------------------------------------------------------- kick and used ring

/**
 * vring_need_event (virtio 1.x §2.7.10): true if `eventIdx` lies in [old, new) modulo 2^16.
 * Cannot overflow: all three are u16 and the differences are taken mod 2^16.
 */
// @ts-ignore: decorator
@inline export function vringNeedEvent(eventIdx: u32, newIdx: u32, oldIdx: u32): bool {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

/** True if the device wants a notification for what was added since the last kick. */
export function vqKickPrepare(vq: Virtqueue): bool {
  const oldIdx = vq.kickedIdx;
  const newIdx = vq.availIdx;
  vq.kickedIdx = newIdx;
  if (vq.eventIdx) return vringNeedEvent(<u32>load<u16>(vq.used + 4 + (<usize>vq.num << 3)), newIdx, oldIdx);
  return (<u32>load<u16>(vq.used) & VIRTQ_USED_F_NO_NOTIFY) == 0;
}

/**
 * Notifies the device if it asked for it (virtqueue_kick). The host device processes the
 * avail ring before virtio_notify returns; the guest is charged the time it waited.
 * Returns true if a notification was sent.
 */
export function vqKick(vq: Virtqueue): bool {
  if (!vq.active || !vqKickPrepare(vq)) return false;
  vq.kicks++;
  charge(virtio_notify(vq.slot, vq.index));
  return true;
}

/** True if the used ring holds entries vqGetBuf has not consumed. */
export function vqMoreUsed(vq: Virtqueue): bool {
  return vq.lastUsedIdx != <u32>load<u16>(vq.used, 2);
}

/**
 * Pops one used entry: returns the token given to vqAddSgs (its used len in vq.lastLen) and
 * puts the chain's descriptors back on the free list; NIL if none. A used id we never handed
 * out marks the queue broken (Linux BAD_RING) and returns NIL from then on.
 */
export function vqGetBuf(vq: Virtqueue): u32 {
  if (vq.broken || !vqMoreUsed(vq)) return NIL;
  const e = vq.used + 4 + (<usize>(vq.lastUsedIdx & (vq.num - 1)) << 3);
  const id = load<u32>(e);
  const len = load<u32>(e, 4);
  if (id >= vq.num || load<u32>(vq.tokens + (<usize>id << 2)) == NIL) {
    vq.broken = true;
    return NIL;
  }
  const token = load<u32>(vq.tokens + (<usize>id << 2));
  detachBuf(vq, id);
  vq.lastUsedIdx = (vq.lastUsedIdx + 1) & 0xffff;
  vq.lastLen = len;
  // ask for an interrupt at the next used entry unless callbacks are disabled
  if (vq.eventIdx && (vq.availFlags & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0) {
    store<u16>(vq.avail + 4 + (<usize>vq.num << 1), <u16>vq.lastUsedIdx);
  }
  return token;
}

/** Frees the chain of head `head` (walking the shadow links, not the ring). */
function detachBuf(vq: Virtqueue, head: u32): void {
  const n = <u32>load<u16>(vq.chainLen + (<usize>head << 1));
  let tail = head;
  for (let k: u32 = 1; k < n; k++) tail = shadowNext(vq, tail);
  store<u16>(vq.shadowNext + (<usize>tail << 1), <u16>vq.freeHead);
  vq.freeHead = head;
  vq.numFree += n;
  store<u32>(vq.tokens + (<usize>head << 2), NIL);
  store<u16>(vq.chainLen + (<usize>head << 1), 0);
}

/** Free descriptors (virtqueue_get_vring_size minus in-flight ones). */
export function vqNumFree(vq: Virtqueue): u32 { return vq.numFree; }

/** Suppresses used-buffer interrupts (virtqueue_disable_cb): a hint the device may ignore. */
export function vqDisableCb(vq: Virtqueue): void {
  vq.availFlags |= VIRTQ_AVAIL_F_NO_INTERRUPT;
  if (!vq.eventIdx) store<u16>(vq.avail, <u16>vq.availFlags);
}

/**
 * Re-enables interrupts (virtqueue_enable_cb). Returns false if used entries are already
 * pending, so the caller must poll again before sleeping (the race Linux documents).
 */
export function vqEnableCb(vq: Virtqueue): bool {
  vq.availFlags &= ~VIRTQ_AVAIL_F_NO_INTERRUPT;
  if (vq.eventIdx) store<u16>(vq.avail + 4 + (<usize>vq.num << 1), <u16>vq.lastUsedIdx);
  else store<u16>(vq.avail, <u16>vq.availFlags);
  return !vqMoreUsed(vq);
}

/**
 * After a reset (device stopped): takes back one buffer the device never used and returns its
 * token, NIL when none is left (virtqueue_detach_unused_buf).
 */
export function vqDetachUnused(vq: Virtqueue): u32 {
  for (let i: u32 = 0; i < vq.num; i++) {
    const token = load<u32>(vq.tokens + (<usize>i << 2));
    if (token == NIL) continue;
    detachBuf(vq, i);
    vq.availIdx = (vq.availIdx - 1) & 0xffff;
    store<u16>(vq.avail, <u16>vq.availIdx, 2);
    return token;
  }
  return NIL;
}
