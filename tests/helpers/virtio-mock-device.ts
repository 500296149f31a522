// SPDX-License-Identifier: MIT
// Test fixture: a mock virtio device in TypeScript, independent of host/virtio/, that reads the
// guest driver's rings straight out of the RAM window. It records every transport access and
// chain, and answers like the sum device unless a test installs its own policy.

import * as abi from "../../host/guest/abi.generated.js";
import type { Guest } from "../../host/guest/guest.js";
import type { VirtioBusLike } from "../../host/virtio/port.js";

export interface MockChainSeg { gpa: number; len: number; write: boolean }
export interface MockChain { queue: number; head: number; segs: MockChainSeg[]; indirect: boolean }
export interface MockQueueSetup { size: number; desc: number; avail: number; used: number; lastAvail: number; usedIdx: number }

export class MockDevice implements VirtioBusLike {
  deviceId = abi.VIRTIO_ID_TEST_SUM;
  features = { lo: 0, hi: 1 << (abi.VIRTIO_F_VERSION_1 - 32) };
  acked = { lo: 0, hi: 0 };
  status = 0;
  /** Refuse FEATURES_OK (a device that dislikes the driver's feature set). */
  refuseFeatures = false;
  readonly statusWrites: number[] = [];
  readonly config = new Uint8Array(32);
  generation = 0;
  /** Bump the generation on the next N config reads (forces the driver's retry loop). */
  bumpOnRead = 0;
  queueMax: number[] = [8];
  readonly queues = new Map<number, MockQueueSetup>();
  readonly chains: MockChain[] = [];
  notifies = 0;
  /** Wait returned for each notify, ns. */
  notifyNs = 700;
  /** Per-chain policy: used len to return now, or null to hold the chain. Default: sum device. */
  onChain: (c: MockChain) => number | null = (c) => this.sum(c);

  constructor(readonly guest: Guest, readonly slot = 0) {}

  private get dv(): DataView { return this.guest.views.ramwinView; }
  private off(gpa: number): number { return gpa - this.guest.ramwinGpa; }
  r16(gpa: number): number { return this.dv.getUint16(this.off(gpa), true); }
  r32(gpa: number): number { return this.dv.getUint32(this.off(gpa), true); }
  r64(gpa: number): number { return this.r32(gpa) + this.r32(gpa + 4) * 2 ** 32; }
  w16(gpa: number, v: number): void { this.dv.setUint16(this.off(gpa), v, true); }
  w32(gpa: number, v: number): void { this.dv.setUint32(this.off(gpa), v >>> 0, true); }

  transport(dev: number, op: number, a: number, b: number, c: number): number {
    if (dev !== this.slot) return 0xffffffff;
    switch (op) {
      case abi.VT_DEVICE_ID: return this.deviceId;
      case abi.VT_GET_FEATURES: return a === 0 ? this.features.lo : a === 1 ? this.features.hi : 0;
      case abi.VT_SET_FEATURES: if (a === 0) this.acked.lo = b; else if (a === 1) this.acked.hi = b; return 0;
      case abi.VT_GET_STATUS: return this.status;
      case abi.VT_SET_STATUS:
        this.statusWrites.push(a);
        if (a === 0) { this.status = 0; this.queues.clear(); this.acked = { lo: 0, hi: 0 }; return 0; }
        this.status = this.refuseFeatures ? a & ~abi.VIRTIO_STATUS_FEATURES_OK : a;
        return 0;
      case abi.VT_CONFIG_READ: {
        if (this.bumpOnRead > 0) { this.bumpOnRead--; this.generation++; }
        const v = new DataView(this.config.buffer);
        return b === 1 ? v.getUint8(a) : b === 2 ? v.getUint16(a, true) : v.getUint32(a, true);
      }
      case abi.VT_CONFIG_WRITE: {
        const v = new DataView(this.config.buffer);
        if (b === 1) v.setUint8(a, c); else if (b === 2) v.setUint16(a, c, true); else v.setUint32(a, c >>> 0, true);
        return 0;
      }
      case abi.VT_QUEUE_SIZE_MAX: return this.queueMax[a] ?? 0;
      case abi.VT_NUM_QUEUES: return this.queueMax.length;
      case abi.VT_CONFIG_GENERATION: return this.generation;
      default: return 0;
    }
  }

  queueSetup(dev: number, queue: number, size: number, desc: number, avail: number, used: number): number {
    if (dev !== this.slot || (this.queueMax[queue] ?? 0) < size) return abi.E_INVAL;
    this.queues.set(queue, { size, desc, avail, used, lastAvail: 0, usedIdx: 0 });
    return 0;
  }

  notify(dev: number, queue: number): number {
    this.notifies++;
    const q = this.queues.get(queue);
    if (dev !== this.slot || !q) return 0;
    const idx = this.r16(q.avail + 2);
    while (q.lastAvail !== idx) {
      const head = this.r16(q.avail + 4 + 2 * (q.lastAvail % q.size));
      q.lastAvail = (q.lastAvail + 1) & 0xffff;
      const c = this.readChain(queue, q, head);
      this.chains.push(c);
      const len = this.onChain(c);
      if (len !== null) this.pushUsed(queue, head, len);
    }
    return this.notifyNs;
  }

  /** Walks a chain the simple, trusting way (the driver under test is ours). */
  private readChain(queue: number, q: MockQueueSetup, head: number): MockChain {
    const segs: MockChainSeg[] = [];
    let table = q.desc, i = head, indirect = false;
    for (let n = 0; n < 4 * q.size; n++) {
      const d = table + 16 * i;
      const flags = this.r16(d + 12);
      if (flags & abi.VIRTQ_DESC_F_INDIRECT) { table = this.r64(d); i = 0; indirect = true; continue; }
      segs.push({ gpa: this.r64(d), len: this.r32(d + 8), write: (flags & abi.VIRTQ_DESC_F_WRITE) !== 0 });
      if (!(flags & abi.VIRTQ_DESC_F_NEXT)) break;
      i = this.r16(d + 14);
    }
    return { queue, head, segs, indirect };
  }

  /** Writes a used entry (tests may call it for held chains, in any order, or with bogus ids). */
  pushUsed(queue: number, id: number, len: number): void {
    const q = this.queues.get(queue)!;
    const e = q.used + 4 + 8 * (q.usedIdx % q.size);
    this.w32(e, id);
    this.w32(e + 4, len);
    q.usedIdx = (q.usedIdx + 1) & 0xffff;
    this.w16(q.used + 2, q.usedIdx);
  }

  /** The sum device's answer: {le32 byte sum, le32 readable bytes} into the first writable segment. */
  private sum(c: MockChain): number {
    let sum = 0, total = 0;
    for (const s of c.segs) {
      if (s.write) continue;
      const b = new Uint8Array(this.guest.views.ramwin.buffer, this.guest.views.ramwin.byteOffset + this.off(s.gpa), s.len);
      for (let i = 0; i < b.length; i++) sum += b[i];
      total += s.len;
    }
    const w = c.segs.find((s) => s.write);
    if (!w || w.len < 8) return 0;
    this.w32(w.gpa, sum);
    this.w32(w.gpa + 4, total);
    return 8;
  }
}
