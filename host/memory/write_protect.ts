// SPDX-License-Identifier: MIT
// Write protection with reasons: several host-side users (dirty logging, hint WP tracking like
// Firecracker's UFFD-WP) may protect the same frame; HS_WP stays set while any reason holds it.
// Model: the first write clears every reason at once (one fault, each user is told).

import { ConfigError } from "../guest/errors.js";

/** Built-in reason used by dirty logging (KVM memslot write protection). */
export const WP_DIRTY_LOG = "dirty-log";
/** At most 8 reasons: one bit each in a host-owned byte per frame (abi.ts LAYOUT_HOSTMETA wp). */
export const MAX_WP_REASONS = 8;

/** Told about the first write to a frame its reason protected (inside the guest's fault). */
export type WpWriteListener = (pfn: number) => void;

export class WriteProtectReasons {
  private readonly store: () => Uint8Array;
  private readonly names: string[] = [];
  private readonly listeners: (WpWriteListener | undefined)[] = [];

  /**
   * `store` returns the current per-frame byte array (all zero at first): for a VM a view over
   * the host region of its linear memory. Without it the reasons keep their own array.
   */
  constructor(frames: number, store?: () => Uint8Array) {
    if (store) {
      this.store = store;
    } else {
      const own = new Uint8Array(frames);
      this.store = () => own;
    }
  }

  /** Reason bits per frame; host-owned, never seen by the guest. */
  get bits(): Uint8Array { return this.store(); }

  /** Registers `name` (or replaces its listener); returns its bit. */
  register(name: string, onWrite?: WpWriteListener): number {
    let i = this.names.indexOf(name);
    if (i < 0) {
      if (this.names.length >= MAX_WP_REASONS) {
        throw new ConfigError("wpReason", name, `at most ${MAX_WP_REASONS} write-protect reasons (have ${this.names.join(", ")})`);
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
