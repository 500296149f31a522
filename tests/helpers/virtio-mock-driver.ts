// SPDX-License-Identifier: MIT
// Test fixture: a mock virtio driver in TypeScript that writes descriptor tables and avail rings
// straight into the guest's RAM window (guest.views.ramwin) and drives a device through the bus,
// as rust-vmm virtio-queue's mock.rs does. Raw writers let tests build hostile rings.

import {
  VIRTIO_STATUS_ACKNOWLEDGE, VIRTIO_STATUS_DRIVER, VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_FEATURES_OK, VT_GET_FEATURES,
  VT_GET_STATUS, VT_SET_FEATURES, VT_SET_STATUS, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_INDIRECT,
} from "../../host/guest/abi.generated.js";
import type { Guest } from "../../host/guest/guest.js";
import type { VirtioBusLike } from "../../host/virtio/port.js";
import { availBytes, usedBytes } from "../../host/virtio/queue.js";

export interface MockSeg {
  readonly gpa: number;
  readonly len: number;
  /** Device-writable. */
  readonly write?: boolean;
}

export class MockDriver {
  constructor(readonly guest: Guest, readonly bus: VirtioBusLike, readonly slot: number) {}

  /** RAM window bytes for rings and buffers (the guest's own allocator, so nothing overlaps). */
  alloc(bytes: number, align = 16): number {
    const gpa = this.guest.exports.vtest_ramwin_alloc(bytes, align);
    if (gpa === 0) throw new Error(`mock driver: RAM window full (${bytes} bytes)`);
    return gpa;
  }

  private off(gpa: number, n: number): number {
    const off = gpa - this.guest.ramwinGpa;
    if (off < 0 || off + n > this.guest.views.ramwin.length) throw new Error(`mock driver: gpa 0x${gpa.toString(16)} outside the window`);
    return off;
  }
  w8(gpa: number, v: number): void { this.guest.views.ramwin[this.off(gpa, 1)] = v; }
  w16(gpa: number, v: number): void { this.guest.views.ramwinView.setUint16(this.off(gpa, 2), v & 0xffff, true); }
  w32(gpa: number, v: number): void { this.guest.views.ramwinView.setUint32(this.off(gpa, 4), v >>> 0, true); }
  /** le64 from a double (exact up to 2^53) or from explicit words. */
  w64(gpa: number, v: number, hi?: number): void {
    const o = this.off(gpa, 8);
    const lo = hi === undefined ? v % 0x1_0000_0000 : v;
    this.guest.views.ramwinView.setUint32(o, lo >>> 0, true);
    this.guest.views.ramwinView.setUint32(o + 4, (hi ?? Math.floor(v / 0x1_0000_0000)) >>> 0, true);
  }
  r16(gpa: number): number { return this.guest.views.ramwinView.getUint16(this.off(gpa, 2), true); }
  r32(gpa: number): number { return this.guest.views.ramwinView.getUint32(this.off(gpa, 4), true); }
  bytes(gpa: number, len: number): Uint8Array { const o = this.off(gpa, len); return this.guest.views.ramwin.subarray(o, o + len); }

  status(): number { return this.bus.transport(this.slot, VT_GET_STATUS, 0, 0, 0, ); }
  setStatus(s: number): void { this.bus.transport(this.slot, VT_SET_STATUS, s, 0, 0); }

  /**
   * §3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, write `lo`/`hi` as driver features (as given:
   * tests may ack unoffered bits), FEATURES_OK. Returns true if FEATURES_OK stuck.
   */
  negotiate(lo: number, hi: number): boolean {
    this.setStatus(0);
    this.setStatus(VIRTIO_STATUS_ACKNOWLEDGE);
    this.setStatus(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    this.bus.transport(this.slot, VT_SET_FEATURES, 0, lo >>> 0, 0);
    this.bus.transport(this.slot, VT_SET_FEATURES, 1, hi >>> 0, 0);
    this.setStatus(this.status() | VIRTIO_STATUS_FEATURES_OK);
    return (this.status() & VIRTIO_STATUS_FEATURES_OK) !== 0;
  }

  deviceFeatures(): { lo: number; hi: number } {
    return { lo: this.bus.transport(this.slot, VT_GET_FEATURES, 0, 0, 0), hi: this.bus.transport(this.slot, VT_GET_FEATURES, 1, 0, 0) };
  }

  /** Allocates rings for queue `index` and hands them to the device. Throws if refused. */
  setupQueue(index: number, size: number): MockQueue {
    const desc = this.alloc(16 * size, 16);
    const avail = this.alloc(availBytes(size), 2);
    const used = this.alloc(usedBytes(size), 4);
    return this.setupQueueAt(index, size, desc, avail, used);
  }

  /** Re-uses ring memory (after a reset): zeroes the rings and hands them to the device. */
  setupQueueAt(index: number, size: number, desc: number, avail: number, used: number): MockQueue {
    this.bytes(desc, 16 * size).fill(0);
    this.bytes(avail, availBytes(size)).fill(0);
    this.bytes(used, usedBytes(size)).fill(0);
    const rc = this.bus.queueSetup(this.slot, index, size, desc, avail, used);
    if (rc !== 0) throw new Error(`mock driver: queue ${index} setup refused (${rc})`);
    return new MockQueue(this, index, size, desc, avail, used);
  }

  driverOk(): void { this.setStatus(this.status() | VIRTIO_STATUS_DRIVER_OK); }
}

export class MockQueue {
  /** Driver's avail idx (Wrapping u16). */
  availIdx = 0;
  /** Next used entry to read (Wrapping u16). */
  lastUsed = 0;
  private readonly free: number[] = [];
  private readonly chainLen = new Map<number, number[]>();

  constructor(readonly drv: MockDriver, readonly index: number, readonly size: number,
    readonly desc: number, readonly avail: number, readonly used: number) {
    for (let i = 0; i < size; i++) this.free.push(i);
  }

  /** Raw descriptor write (addr as a double, or explicit lo/hi words via addrHi). */
  writeDesc(i: number, addr: number, len: number, flags: number, next: number, addrHi?: number): void {
    const d = this.desc + 16 * i;
    this.drv.w64(d, addr, addrHi);
    this.drv.w32(d + 8, len);
    this.drv.w16(d + 12, flags);
    this.drv.w16(d + 14, next);
  }

  /** Raw descriptor write into an indirect table at `table`. */
  writeTableDesc(table: number, i: number, addr: number, len: number, flags: number, next: number): void {
    const d = table + 16 * i;
    this.drv.w64(d, addr);
    this.drv.w32(d + 8, len);
    this.drv.w16(d + 12, flags);
    this.drv.w16(d + 14, next);
  }

  /** Puts `head` in the next avail slot and publishes idx. */
  publish(head: number): void {
    this.drv.w16(this.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.drv.w16(this.avail + 2, this.availIdx);
  }

  /** Raw avail.idx write (bogus-idx tests). */
  setAvailIdx(v: number): void { this.drv.w16(this.avail + 2, v); }
  setAvailFlags(v: number): void { this.drv.w16(this.avail, v); }
  setUsedEvent(v: number): void { this.drv.w16(this.avail + 4 + 2 * this.size, v); }
  usedFlags(): number { return this.drv.r16(this.used); }
  availEvent(): number { return this.drv.r16(this.used + 4 + 8 * this.size); }

  kick(): number { return this.drv.bus.notify(this.drv.slot, this.index); }

  usedIdx(): number { return this.drv.r16(this.used + 2); }

  /** Used entries published since the last call (id, len), in order. */
  takeUsed(): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    const idx = this.usedIdx();
    while (this.lastUsed !== idx) {
      const e = this.used + 4 + 8 * (this.lastUsed % this.size);
      out.push({ id: this.drv.r32(e), len: this.drv.r32(e + 4) });
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** Well-formed chain from the free list; returns its head (published, not kicked). */
  add(segs: readonly MockSeg[]): number {
    if (segs.length === 0 || segs.length > this.free.length) throw new Error("mock queue: no room");
    const ids = this.free.splice(0, segs.length);
    segs.forEach((s, k) => {
      const last = k === segs.length - 1;
      this.writeDesc(ids[k], s.gpa, s.len, (last ? 0 : VIRTQ_DESC_F_NEXT) | (s.write ? VIRTQ_DESC_F_WRITE : 0), last ? 0 : ids[k + 1]);
    });
    this.chainLen.set(ids[0], ids);
    this.publish(ids[0]);
    return ids[0];
  }

  /** Chain through an indirect table at `table` (>= 16 * segs.length bytes); returns its head. */
  addIndirect(segs: readonly MockSeg[], table: number): number {
    const head = this.free.shift();
    if (head === undefined) throw new Error("mock queue: no room");
    segs.forEach((s, k) => {
      const last = k === segs.length - 1;
      this.writeTableDesc(table, k, s.gpa, s.len, (last ? 0 : VIRTQ_DESC_F_NEXT) | (s.write ? VIRTQ_DESC_F_WRITE : 0), last ? 0 : k + 1);
    });
    this.writeDesc(head, table, 16 * segs.length, VIRTQ_DESC_F_INDIRECT, 0);
    this.chainLen.set(head, [head]);
    this.publish(head);
    return head;
  }

  /** Takes used entries and returns their descriptors to the free list. */
  complete(): { id: number; len: number }[] {
    const used = this.takeUsed();
    for (const u of used) {
      const ids = this.chainLen.get(u.id);
      if (!ids) throw new Error(`mock queue: device returned unknown id ${u.id}`);
      this.chainLen.delete(u.id);
      this.free.push(...ids);
    }
    return used;
  }

  get numFree(): number { return this.free.length; }
}
