// SPDX-License-Identifier: MIT
// A validated descriptor chain, as the device sees it after VirtQueue.popAvail(): device-readable
// segments, then device-writable ones, each a guest range already checked against guest RAM.
// Follows rust-vmm virtio-queue DescriptorChain; the whole chain is walked and checked at pop time.

import type { DeviceMemory } from "./guest_ram.js";

/** One buffer of a chain: a guest-physical range inside guest RAM (not necessarily the window). */
export interface Segment {
  readonly gpa: number;
  readonly len: number;
}

/** Why a chain was rejected (virtio 1.x §2.7.5 / §2.7.5.3 driver requirements it broke). */
export type ChainError =
  | "head-out-of-range" // avail ring names a descriptor index >= queue size
  | "next-out-of-range" // `next` >= queue size (or >= indirect table entries)
  | "buffer-out-of-range" // addr/len not inside guest RAM (incl. 64-bit wrap)
  | "chain-too-long" // more descriptors than the table holds: a loop
  | "readable-after-writable" // §2.7.4.2: device-readable descriptors must come first
  | "len-overflow" // readable or writable bytes of one chain exceed 2^32 - 1
  | "indirect-not-negotiated" // INDIRECT used without VIRTIO_RING_F_INDIRECT_DESC
  | "indirect-with-next" // §2.7.5.3.1: INDIRECT and NEXT both set
  | "indirect-nested" // §2.7.5.3.1: INDIRECT inside an indirect table
  | "indirect-bad-len" // table len 0, not a multiple of 16, or more entries than the queue size
  | "indirect-outside-window"; // the table itself must be readable: inside the RAM window

export class DescChain {
  constructor(
    /** Head descriptor index: what pushUsed() returns to the driver. */
    readonly head: number,
    readonly readable: readonly Segment[],
    readonly writable: readonly Segment[],
    readonly readableBytes: number,
    readonly writableBytes: number,
    /** True if the chain went through an indirect table. */
    readonly indirect: boolean,
  ) {}

  /** True if every readable segment has bytes the device can read (inside the RAM window). */
  readableInWindow(mem: DeviceMemory): boolean {
    for (const s of this.readable) if (!mem.inWindow(s.gpa, s.len)) return false;
    return true;
  }

  /** True if every writable segment lies inside the RAM window. */
  writableInWindow(mem: DeviceMemory): boolean {
    for (const s of this.writable) if (!mem.inWindow(s.gpa, s.len)) return false;
    return true;
  }

  /**
   * Copies the readable bytes, in order, into one array; undefined if a segment lies outside
   * the RAM window (then it only names a range: see readable).
   */
  readAll(mem: DeviceMemory): Uint8Array | undefined {
    if (!this.readableInWindow(mem)) return undefined;
    const out = new Uint8Array(this.readableBytes);
    let off = 0;
    for (const s of this.readable) {
      out.set(mem.bytes(s.gpa, s.len, false), off);
      off += s.len;
    }
    return out;
  }

  /**
   * Scatters `data` over the writable segments in order. Returns the bytes written (the used
   * len to report), or -1 if the data does not fit or a segment it needs is outside the window.
   */
  writeAll(mem: DeviceMemory, data: Uint8Array): number {
    if (data.length > this.writableBytes) return -1;
    let off = 0;
    for (const s of this.writable) {
      if (off >= data.length) break;
      const n = Math.min(s.len, data.length - off);
      if (!mem.inWindow(s.gpa, n)) return -1;
      mem.bytes(s.gpa, n, true).set(data.subarray(off, off + n));
      off += n;
    }
    return off;
  }
}

/** Result of VirtQueue.popAvail(). */
export type PopResult =
  | { readonly kind: "empty" }
  | { readonly kind: "chain"; readonly chain: DescChain }
  /** Bad chain: skip it; if `returnable`, give `head` back with used len 0 (resource first). */
  | { readonly kind: "malformed"; readonly head: number; readonly error: ChainError; readonly returnable: boolean }
  /** The ring itself cannot be trusted any more: the device must fail (NEEDS_RESET). */
  | { readonly kind: "fatal"; readonly reason: string };
