// SPDX-License-Identifier: MIT
// The device side's only door into guest memory: every access is bounds-checked against guest
// RAM (ranges) or the RAM window (bytes). Model: guest RAM has real bytes only in the RAM window
// (design §2), so a device can name any guest range but read/write bytes only inside the window.
// Follows rust-vmm vm-memory's checked accessors (GuestMemory::checked_offset).

import { PAGE_SIZE } from "../guest/abi.generated.js";
import { InvariantError } from "../guest/errors.js";

/** What the device side needs from a guest instance (host/guest/guest.ts Guest satisfies it). */
export interface GuestRamLike {
  /** Guest RAM size in 4 KiB frames. */
  readonly frames: number;
  /** Guest-physical address of the RAM window's first byte. */
  readonly ramwinGpa: number;
  readonly views: { readonly ramwin: Uint8Array; readonly ramwinView: DataView };
}

/** Observer of every byte access the device side makes (tests: prove it stays where allowed). */
export type MemAccessTrace = (gpa: number, len: number, write: boolean) => void;

export class DeviceMemory {
  /** Optional access observer; undefined in normal runs (costs one branch per access). */
  trace: MemAccessTrace | undefined;

  constructor(private readonly source: () => GuestRamLike) {}

  /** Guest RAM size in bytes. */
  get ramBytes(): number { return this.source().frames * PAGE_SIZE; }
  get windowGpa(): number { return this.source().ramwinGpa; }
  get windowBytes(): number { return this.source().views.ramwin.length; }

  /**
   * True if [gpa, gpa + len) lies inside guest RAM. Written so that huge or non-integer inputs
   * (an le64 address near 2^64 arrives as an inexact double) compare false, never wrap.
   */
  inRam(gpa: number, len: number): boolean {
    const size = this.ramBytes;
    return Number.isInteger(gpa) && Number.isInteger(len) && gpa >= 0 && len >= 0 && gpa <= size && len <= size - gpa;
  }

  /** True if [gpa, gpa + len) lies inside the RAM window (the device may touch its bytes). */
  inWindow(gpa: number, len: number): boolean {
    const base = this.windowGpa;
    const size = this.windowBytes;
    if (!Number.isInteger(gpa) || !Number.isInteger(len) || gpa < base || len < 0) return false;
    const off = gpa - base;
    return off <= size && len <= size - off;
  }

  /**
   * Window offset of [gpa, gpa + len). Callers validated the range already (rings at setup,
   * buffers via inWindow), so a miss here is a bug in guestmem: InvariantError.
   */
  private offset(gpa: number, len: number, write: boolean): number {
    if (!this.inWindow(gpa, len)) {
      throw new InvariantError(`virtio: device access outside the RAM window: gpa=0x${gpa.toString(16)} len=${len}`);
    }
    if (this.trace) this.trace(gpa, len, write);
    return gpa - this.windowGpa;
  }

  read8(gpa: number): number { return this.source().views.ramwin[this.offset(gpa, 1, false)]; }
  read16(gpa: number): number { return this.source().views.ramwinView.getUint16(this.offset(gpa, 2, false), true); }
  read32(gpa: number): number { return this.source().views.ramwinView.getUint32(this.offset(gpa, 4, false), true); }
  /** le64 as a double: exact below 2^53, larger values stay larger than any guest address. */
  read64(gpa: number): number {
    const v = this.source().views.ramwinView;
    const off = this.offset(gpa, 8, false);
    return v.getUint32(off, true) + v.getUint32(off + 4, true) * 0x1_0000_0000;
  }
  write16(gpa: number, value: number): void { this.source().views.ramwinView.setUint16(this.offset(gpa, 2, true), value, true); }
  write32(gpa: number, value: number): void { this.source().views.ramwinView.setUint32(this.offset(gpa, 4, true), value >>> 0, true); }

  /** Zero-copy view of window bytes [gpa, gpa + len); valid until the guest memory grows. */
  bytes(gpa: number, len: number, write: boolean): Uint8Array {
    const off = this.offset(gpa, len, write);
    return this.source().views.ramwin.subarray(off, off + len);
  }
}
