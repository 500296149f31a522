// SPDX-License-Identifier: MIT
// The host-owned per-frame region's layout (abi.ts LAYOUT_HOSTMETA), defined once on the host side:
// sizing (guest.ts), views (guest.ts), standalone stores (dirty_log.ts, write_protect.ts) all derive
// from hostMetaLayout. assembly/lib/scb.ts reserves the same bytes from the same abi constants;
// Guest's constructor checks the two agree (LAYOUT_HOSTMETA_BYTES).

import * as abi from "./abi.generated.js";

/** Frames per u32 bitmap word (abi.ts: one bit per frame). */
const FRAMES_PER_BITMAP_WORD = 32;
/** Frames per byte of a nibble array (abi.ts: four bits per frame). */
const FRAMES_PER_NIBBLE_BYTE = 2;

/** Byte offsets (from LAYOUT_HOSTMETA) and sizes of the host region for one frame count. */
export interface HostMetaLayout {
  /** u32 words of each bitmap. */
  readonly bitmapWords: number;
  /** Dirty log bitmap: bitmap 0. */
  readonly dirtyOffset: number;
  /** Discarded-and-untouched bitmap: bitmap 1. */
  readonly discardedOffset: number;
  /** Bytes of each nibble array. */
  readonly nibbleBytes: number;
  /** Write-protect reason nibbles: nibble array 0, after the HOSTMETA_BITMAPS bitmaps (u32 first, for alignment). */
  readonly wpOffset: number;
  /** Whole region, as guest_init reserves it. */
  readonly bytes: number;
}

export function hostMetaLayout(frames: number): HostMetaLayout {
  const bitmapWords = Math.ceil(frames / FRAMES_PER_BITMAP_WORD);
  const nibbleBytes = Math.ceil(frames / FRAMES_PER_NIBBLE_BYTE);
  const bitmapBytes = bitmapWords * 4;
  const wpOffset = abi.HOSTMETA_BITMAPS * bitmapBytes;
  return {
    bitmapWords,
    dirtyOffset: 0,
    discardedOffset: bitmapBytes,
    nibbleBytes,
    wpOffset,
    bytes: wpOffset + abi.HOSTMETA_NIBBLE_ARRAYS * nibbleBytes,
  };
}

/** Per-frame bytes of the host region with no rounding (0.75 today): a frame count both units divide. */
export const HOSTMETA_BYTES_PER_FRAME =
  hostMetaLayout(FRAMES_PER_BITMAP_WORD * FRAMES_PER_NIBBLE_BYTE).bytes / (FRAMES_PER_BITMAP_WORD * FRAMES_PER_NIBBLE_BYTE);
