// SPDX-License-Identifier: MIT
// Device view of one split virtqueue (virtio 1.x §2.7): ring addresses validated at setup, chains
// walked and bounds-checked at pop, used entries pushed, notification suppression (flags and
// EVENT_IDX). Follows rust-vmm virtio-queue Queue; ring indices are Wrapping<u16> (`& 0xffff`).
//
// Ring layout (all little-endian, inside the RAM window):
//   desc  size × { le64 addr; le32 len; le16 flags; le16 next }            align 16
//   avail { le16 flags; le16 idx; le16 ring[size]; le16 used_event }       align 2
//   used  { le16 flags; le16 idx; {le32 id; le32 len} ring[size]; le16 avail_event }  align 4

import {
  E_INVAL, E_RANGE, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_INDIRECT, VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_USED_F_NO_NOTIFY, VIRTQ_DESC_SIZE, VIRTQ_DESC_ALIGN, VIRTQ_AVAIL_ALIGN, VIRTQ_USED_ALIGN, VIRTQ_MAX_SIZE,
} from "../guest/abi.generated.js";
import { DescChain, type ChainError, type PopResult, type Segment } from "./chain.js";
import type { DeviceMemory } from "./guest_ram.js";
import { InvariantError } from "../guest/errors.js";

const U32_MAX = 0xffff_ffff;
const EMPTY: PopResult = { kind: "empty" };

/** Bytes of the avail ring for `size` entries (flags, idx, ring, used_event). */
export function availBytes(size: number): number { return 6 + 2 * size; }
/** Bytes of the used ring for `size` entries (flags, idx, ring, avail_event). */
export function usedBytes(size: number): number { return 6 + 8 * size; }

export class VirtQueue {
  /** Negotiated size (0 until setup). */
  size = 0;
  ready = false;
  descGpa = 0;
  availGpa = 0;
  usedGpa = 0;
  /** Next avail ring entry the device consumes (Wrapping u16, like last_avail_idx). */
  lastAvailIdx = 0;
  /** Next used ring entry the device fills (Wrapping u16). */
  nextUsedIdx = 0;
  /** VIRTIO_RING_F_INDIRECT_DESC negotiated. */
  indirectDesc = false;
  /** VIRTIO_RING_F_EVENT_IDX negotiated. */
  eventIdx = false;
  /** used idx at the last interrupt (EVENT_IDX bookkeeping, vhost's signalled_used). */
  private signalledUsed = 0;
  private signalledValid = false;

  constructor(
    /** Transport index (compacted over existing queues). */
    readonly index: number,
    /** Largest size the device accepts (a power of two). */
    readonly maxSize: number,
    private readonly mem: DeviceMemory,
  ) {}

  /**
   * Validates and installs the ring addresses (the driver's queue_enable). Returns 0, E_INVAL
   * (size not a power of two in [1, maxSize], misaligned) or E_RANGE (a ring outside the window:
   * the device must read and write ring bytes).
   */
  setup(size: number, descGpa: number, availGpa: number, usedGpa: number): number {
    if (!Number.isInteger(size) || size < 1 || size > this.maxSize || size > VIRTQ_MAX_SIZE || (size & (size - 1)) !== 0) return E_INVAL;
    if (!aligned(descGpa, VIRTQ_DESC_ALIGN) || !aligned(availGpa, VIRTQ_AVAIL_ALIGN) || !aligned(usedGpa, VIRTQ_USED_ALIGN)) return E_INVAL;
    if (!this.mem.inWindow(descGpa, size * VIRTQ_DESC_SIZE) || !this.mem.inWindow(availGpa, availBytes(size))
      || !this.mem.inWindow(usedGpa, usedBytes(size))) return E_RANGE;
    this.size = size;
    this.descGpa = descGpa;
    this.availGpa = availGpa;
    this.usedGpa = usedGpa;
    this.lastAvailIdx = 0;
    this.nextUsedIdx = 0;
    this.signalledValid = false;
    this.ready = true;
    return 0;
  }

  /** Forgets the rings (device reset). */
  reset(): void {
    this.ready = false;
    this.size = 0;
    this.descGpa = this.availGpa = this.usedGpa = 0;
    this.lastAvailIdx = this.nextUsedIdx = 0;
    this.signalledValid = false;
    this.indirectDesc = this.eventIdx = false;
  }

  /** avail.idx as the driver last published it. */
  availIdx(): number { return this.mem.read16(this.availGpa + 2); }

  /** Entries the driver made available that the device has not consumed (u16 distance). */
  pending(): number { return this.ready ? (this.availIdx() - this.lastAvailIdx) & 0xffff : 0; }

  /**
   * Takes the next available chain. Never throws on guest data: a bad chain is "malformed"
   * (count, skip, return the head if it exists); an avail idx more than `size` ahead of what
   * the device consumed means the ring is corrupt: "fatal" (Firecracker InvalidAvailIdx).
   */
  popAvail(): PopResult {
    if (!this.ready) return EMPTY;
    const availIdx = this.availIdx();
    // cannot overflow: both are u16, the difference is taken mod 2^16
    const pending = (availIdx - this.lastAvailIdx) & 0xffff;
    if (pending === 0) return EMPTY;
    if (pending > this.size) {
      return { kind: "fatal", reason: `avail idx ${availIdx} is ${pending} entries ahead of ${this.lastAvailIdx} (queue size ${this.size})` };
    }
    const slot = this.lastAvailIdx & (this.size - 1);
    const head = this.mem.read16(this.availGpa + 4 + 2 * slot);
    this.lastAvailIdx = (this.lastAvailIdx + 1) & 0xffff;
    if (head >= this.size) return { kind: "malformed", head, error: "head-out-of-range", returnable: false };
    return this.walk(head);
  }

  /** Walks and checks the chain starting at `head` (< size). */
  private walk(head: number): PopResult {
    const readable: Segment[] = [];
    const writable: Segment[] = [];
    let rBytes = 0;
    let wBytes = 0;
    let table = this.descGpa;
    let entries = this.size;
    let idx = head;
    let visited = 0;
    let inIndirect = false;
    const bad = (error: ChainError): PopResult => ({ kind: "malformed", head, error, returnable: true });
    for (;;) {
      // loop detection: a chain can visit each entry of its table at most once (§2.7.5.2)
      if (++visited > entries) return bad("chain-too-long");
      const d = table + idx * VIRTQ_DESC_SIZE;
      const addr = this.mem.read64(d);
      const len = this.mem.read32(d + 8);
      const flags = this.mem.read16(d + 12);
      const next = this.mem.read16(d + 14);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (inIndirect) return bad("indirect-nested");
        if (!this.indirectDesc) return bad("indirect-not-negotiated");
        if (flags & VIRTQ_DESC_F_NEXT) return bad("indirect-with-next");
        if (len === 0 || len % VIRTQ_DESC_SIZE !== 0 || len / VIRTQ_DESC_SIZE > this.size) return bad("indirect-bad-len");
        if (!this.mem.inWindow(addr, len)) return bad("indirect-outside-window");
        table = addr;
        entries = len / VIRTQ_DESC_SIZE;
        idx = 0;
        visited = 0;
        inIndirect = true;
        continue;
      }
      if (!this.mem.inRam(addr, len)) return bad("buffer-out-of-range");
      if (flags & VIRTQ_DESC_F_WRITE) {
        wBytes += len;
        writable.push({ gpa: addr, len });
      } else {
        if (writable.length > 0) return bad("readable-after-writable");
        rBytes += len;
        readable.push({ gpa: addr, len });
      }
      if (rBytes > U32_MAX || wBytes > U32_MAX) return bad("len-overflow");
      if (!(flags & VIRTQ_DESC_F_NEXT)) break;
      if (next >= entries) return bad("next-out-of-range");
      idx = next;
    }
    return { kind: "chain", chain: new DescChain(head, readable, writable, rBytes, wBytes, inIndirect) };
  }

  /**
   * Rewinds the avail index by `n` entries so they are popped again (QEMU virtqueue_unpop):
   * for devices that popped a chain they cannot serve yet.
   */
  unpop(n = 1): void { this.lastAvailIdx = (this.lastAvailIdx - n) & 0xffff; }

  /** Returns chain `head` to the driver with `len` bytes written (§2.7.8). */
  pushUsed(head: number, len: number): void {
    // a device model pushing on a queue that was reset (or never set up) is a bug in guestmem
    if (!this.ready) throw new InvariantError(`virtio: pushUsed(${head}) on queue ${this.index} that is not ready`);
    const slot = this.nextUsedIdx & (this.size - 1);
    const e = this.usedGpa + 4 + 8 * slot;
    this.mem.write32(e, head);
    this.mem.write32(e + 4, len);
    this.nextUsedIdx = (this.nextUsedIdx + 1) & 0xffff;
    // the idx store publishes the entry (a release store on real hardware)
    this.mem.write16(this.usedGpa + 2, this.nextUsedIdx);
  }

  /**
   * True if the driver wants an interrupt for the used entries pushed since the last one:
   * VIRTQ_AVAIL_F_NO_INTERRUPT, or with EVENT_IDX used_event crossed (vring_need_event).
   */
  needsInterrupt(): boolean {
    if (!this.ready) return false;
    if (!this.eventIdx) return (this.mem.read16(this.availGpa) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    const usedEvent = this.mem.read16(this.availGpa + 4 + 2 * this.size);
    const old = this.signalledUsed;
    const valid = this.signalledValid;
    this.signalledUsed = this.nextUsedIdx;
    this.signalledValid = true;
    if (!valid) return true;
    return needEvent(usedEvent, this.nextUsedIdx, old);
  }

  /**
   * Asks the driver to kick (or not) for new buffers: VIRTQ_USED_F_NO_NOTIFY, or with
   * EVENT_IDX avail_event = the next entry the device will consume.
   */
  setNotification(enabled: boolean): void {
    if (!this.ready) return;
    if (this.eventIdx) {
      if (enabled) this.mem.write16(this.usedGpa + 4 + 8 * this.size, this.lastAvailIdx);
      return;
    }
    this.mem.write16(this.usedGpa, enabled ? 0 : VIRTQ_USED_F_NO_NOTIFY);
  }
}

/**
 * vring_need_event (virtio 1.x §2.7.10, include/uapi/linux/virtio_ring.h): true if `eventIdx`
 * lies in [old, new) modulo 2^16, i.e. the other side asked to hear about an entry we passed.
 */
export function needEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

function aligned(gpa: number, align: number): boolean {
  return Number.isInteger(gpa) && gpa >= 0 && gpa % align === 0;
}
