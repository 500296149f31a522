// SPDX-License-Identifier: MIT
// The host's dirty bitmap: one bit per guest frame, like KVM's memslot dirty_bitmap. For a VM it
// is a view over the host region of the guest's linear memory (abi.ts LAYOUT_HOSTMETA), fetched
// on every use so a re-created view is always seen. Cleared in chunks of 2^clear_bitmap_shift
// frames, as QEMU's clear_bmap drives KVM_CLEAR_DIRTY_LOG (reference/virtio-balloon.md §5.3).
// Re-protection is the caller's job.

import { ConfigError } from "../guest/errors.js";
import { hostMetaLayout } from "../guest/host_meta.js";

/** CLEAR_BITMAP_SHIFT_DEFAULT = 18: 2^18 frames = 1 GiB chunks at 4 KiB (QEMU migration/ram.c). */
export const CLEAR_BITMAP_SHIFT_DEFAULT = 18;
/** CLEAR_BITMAP_SHIFT_MIN / _MAX (QEMU migration/ram.c). */
export const CLEAR_BITMAP_SHIFT_MIN = 6;
export const CLEAR_BITMAP_SHIFT_MAX = 31;

export class DirtyLog {
  private readonly words: () => Uint32Array;
  private count = 0;
  private shift = CLEAR_BITMAP_SHIFT_DEFAULT;
  active = false;

  /**
   * `words` returns the bitmap's current storage (>= hostMetaLayout(frames).bitmapWords words, all zero at first);
   * without it the log keeps its own array (standalone use).
   */
  constructor(readonly frames: number, words?: () => Uint32Array) {
    if (words) {
      this.words = words;
    } else {
      const own = new Uint32Array(hostMetaLayout(frames).bitmapWords);
      this.words = () => own;
    }
  }

  /** One bit per frame, bit (pfn & 31) of word (pfn >>> 5). Read-only for callers. */
  get bitmap(): Uint32Array { return this.words(); }

  /** Frames per clear chunk (2^clearBitmapShift). */
  get chunkFrames(): number { return 2 ** this.shift; }
  get clearBitmapShift(): number { return this.shift; }
  /** Number of clear chunks covering guest memory. */
  get chunks(): number { return Math.ceil(this.frames / this.chunkFrames); }
  /** Frames whose bit is set. */
  get dirtyPages(): number { return this.count; }

  start(clearBitmapShift: number): void {
    if (!Number.isInteger(clearBitmapShift) || clearBitmapShift < CLEAR_BITMAP_SHIFT_MIN || clearBitmapShift > CLEAR_BITMAP_SHIFT_MAX) {
      throw new ConfigError("clearBitmapShift", clearBitmapShift, `an integer in [${CLEAR_BITMAP_SHIFT_MIN}, ${CLEAR_BITMAP_SHIFT_MAX}]`);
    }
    this.shift = clearBitmapShift;
    this.reset();
    this.active = true;
  }

  stop(): void {
    this.active = false;
    this.reset();
  }

  reset(): void {
    this.bitmap.fill(0);
    this.count = 0;
  }

  mark(pfn: number): void {
    const bm = this.words();
    const w = pfn >>> 5;
    const m = 1 << (pfn & 31);
    if ((bm[w] & m) === 0) {
      bm[w] |= m;
      this.count++;
    }
  }

  test(pfn: number): boolean {
    return (this.bitmap[pfn >>> 5] & (1 << (pfn & 31))) !== 0;
  }

  /** Frame range [first, end) of clear chunk `chunk`. */
  chunkRange(chunk: number): [number, number] {
    if (!Number.isInteger(chunk) || chunk < 0 || chunk >= this.chunks) {
      throw new ConfigError("chunk", chunk, `a chunk index in [0, ${this.chunks})`);
    }
    const first = chunk * this.chunkFrames;
    return [first, Math.min(first + this.chunkFrames, this.frames)];
  }

  /**
   * Clears the bits of frames [first, end), calling `onCleared(pfn)` for each bit that was set.
   * Returns the number of bits cleared. Walks words, so clean memory costs 1/32 per frame.
   */
  clearRange(first: number, end: number, onCleared: (pfn: number) => void): number {
    let n = 0;
    const bm = this.words();
    for (let w = first >>> 5; w < Math.ceil(end / 32); w++) {
      let bits = bm[w];
      if (bits === 0) continue;
      const base = w << 5;
      // keep bits of frames outside [first, end) in the edge words
      let mask = 0xffffffff;
      if (base < first) mask &= ~((1 << (first - base)) - 1) >>> 0;
      if (base + 32 > end) mask &= (end - base >= 32 ? 0xffffffff : (1 << (end - base)) - 1) >>> 0;
      bits &= mask;
      if (bits === 0) continue;
      bm[w] &= ~bits;
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        onCleared(base + b);
        n++;
      }
    }
    this.count -= n;
    return n;
  }
}
