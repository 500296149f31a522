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
  // cached views: refreshed when the guest memory grows (a grown buffer detaches old views)
  private u8: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));
  private base = 0;

  constructor(private readonly source: () => GuestRamLike) {}

  private refresh(): void {
    if (this.u8.length !== 0) return;
    const g = this.source();
    this.u8 = g.views.ramwin;
    this.dv = g.views.ramwinView;
    this.base = g.ramwinGpa;
  }

  /** Guest RAM size in bytes. */
  get ramBytes(): number { return this.source().frames * PAGE_SIZE; }
  get windowGpa(): number { this.refresh(); return this.base; }
  get windowBytes(): number { this.refresh(); return this.u8.length; }

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
    this.refresh();
    if (!Number.isInteger(gpa) || !Number.isInteger(len) || gpa < this.base || len < 0) return false;
    const off = gpa - this.base;
    const size = this.u8.length;
    return off <= size && len <= size - off;
  }

  /**
   * Window offset of [gpa, gpa + len). Callers validated the range already (rings at setup,
   * buffers via inWindow), so a miss here is a bug in guestmem: InvariantError. Zero-length
   * accesses touch nothing and are not traced.
   */
  private offset(gpa: number, len: number, write: boolean): number {
    if (!this.inWindow(gpa, len)) {
      throw new InvariantError(`virtio: device access outside the RAM window: gpa=0x${gpa.toString(16)} len=${len}`);
    }
    if (this.trace && len > 0) this.trace(gpa, len, write);
    return gpa - this.base;
  }

  read8(gpa: number): number { const o = this.offset(gpa, 1, false); return this.u8[o]; }
  read16(gpa: number): number { const o = this.offset(gpa, 2, false); return this.dv.getUint16(o, true); }
  read32(gpa: number): number { const o = this.offset(gpa, 4, false); return this.dv.getUint32(o, true); }
  /** le64 as a double: exact below 2^53, larger values stay larger than any guest address. */
  read64(gpa: number): number {
    const o = this.offset(gpa, 8, false);
    return this.dv.getUint32(o, true) + this.dv.getUint32(o + 4, true) * 0x1_0000_0000;
  }
  write16(gpa: number, value: number): void { const o = this.offset(gpa, 2, true); this.dv.setUint16(o, value, true); }
  write32(gpa: number, value: number): void { const o = this.offset(gpa, 4, true); this.dv.setUint32(o, value >>> 0, true); }

  /** Zero-copy view of window bytes [gpa, gpa + len); valid until the guest memory grows. */
  bytes(gpa: number, len: number, write: boolean): Uint8Array {
    const o = this.offset(gpa, len, write);
    return this.u8.subarray(o, o + len);
  }
}
