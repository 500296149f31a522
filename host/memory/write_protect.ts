// SPDX-License-Identifier: MIT
// Write protection with reasons: several host-side users (dirty logging, hint WP tracking like
// Firecracker's UFFD-WP) may protect the same frame; HS_WP stays set while any reason holds it.
// Model: the first write clears every reason at once (one fault, each user is told).

import * as abi from "../guest/abi.generated.js";
import { ConfigError } from "../guest/errors.js";
import { hostMetaLayout } from "../guest/host_meta.js";

/** Built-in reason used by dirty logging (KVM memslot write protection). */
export const WP_DIRTY_LOG = "dirty-log";
/**
 * At most 4 reasons: one bit each in a host-owned nibble per frame (abi.ts LAYOUT_HOSTMETA wp,
 * 2 frames per byte, to keep metadata <= 16 bytes/frame). Registered today: dirty-log, hint-wp.
 */
export const MAX_WP_REASONS = abi.WP_REASON_BITS;

/** Told about the first write to a frame its reason protected (inside the guest's fault). */
export type WpWriteListener = (pfn: number) => void;

export class WriteProtectReasons {
  private readonly store: () => Uint8Array;
  private readonly names: string[] = [];
  private readonly listeners: (WpWriteListener | undefined)[] = [];

  /**
   * `store` returns the current nibble array (hostMetaLayout(frames).nibbleBytes bytes, all zero
   * at first): for a VM a view over the host region of its linear memory (Guest.views.hostWp).
   * Without it the reasons keep their own.
   */
  constructor(frames: number, store?: () => Uint8Array) {
    if (store) {
      this.store = store;
    } else {
      const own = new Uint8Array(hostMetaLayout(frames).nibbleBytes);
      this.store = () => own;
    }
  }

  // Nibbles: two frames per byte, pfn's at bit 4 * (pfn & 1) of byte pfn >> 1 (abi.ts LAYOUT_HOSTMETA wp).
  // Loops over many frames pass `a`, the store fetched once (for a VM it goes through the
  // Guest.views getter); it must be the array `store` returns now.

  /** Reason bits of `pfn`. */
  get(pfn: number, a: Uint8Array = this.store()): number {
    return (a[pfn >>> 1] >>> ((pfn & 1) << 2)) & 0xf;
  }

  /** Adds reason bits `bits` to `pfn`. */
  add(pfn: number, bits: number, a: Uint8Array = this.store()): void {
    a[pfn >>> 1] |= bits << ((pfn & 1) << 2);
  }

  /** Drops reason bits `bits` from `pfn`; returns the bits left. */
  remove(pfn: number, bits: number, a: Uint8Array = this.store()): number {
    const sh = (pfn & 1) << 2;
    const v = a[pfn >>> 1] & ~(bits << sh);
    a[pfn >>> 1] = v;
    return (v >>> sh) & 0xf;
  }

  /** Drops every reason of `pfn`; returns the bits it had. */
  take(pfn: number, a: Uint8Array = this.store()): number {
    const sh = (pfn & 1) << 2;
    const v = a[pfn >>> 1];
    a[pfn >>> 1] = v & ~(0xf << sh);
    return (v >>> sh) & 0xf;
  }

  /** Registers `name` (or replaces its listener); returns its bit. */
  register(name: string, onWrite?: WpWriteListener): number {
    let i = this.names.indexOf(name);
    if (i < 0) {
      if (this.names.length >= MAX_WP_REASONS) {
        throw new ConfigError("wpReason", name, `at most ${MAX_WP_REASONS} write-protect reasons per VM (have ${this.names.join(", ")})`);
      }
      i = this.names.push(name) - 1;
    }
    this.listeners[i] = onWrite;
    return 1 << i;
  }

  /** Bit of a registered reason; ConfigError for an unknown one. */
  bitOf(name: string): number {
    const i = this.names.indexOf(name);
    if (i < 0) throw new ConfigError("wpReason", name, `a registered write-protect reason (${this.names.join(", ") || "none"})`);
    return 1 << i;
  }

  get registered(): readonly string[] { return this.names; }

  /** Calls the listeners of every reason in `bits` for a write to `pfn`. */
  notify(bits: number, pfn: number): void {
    for (let i = 0; bits !== 0; i++, bits >>>= 1) {
      if (bits & 1) this.listeners[i]?.(pfn);
    }
  }
}
