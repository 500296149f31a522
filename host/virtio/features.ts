// SPDX-License-Identifier: MIT
// Feature bits as two u32 words (bits 0-31, 32-63; no bigint on the hot path) and the queue-index
// compaction every transport does: only queues whose feature was negotiated exist, numbered
// consecutively (Linux virtio_find_vqs with NULL names; reference/virtio-balloon.md §1.3).

/** A 64-bit feature set as two unsigned 32-bit words. */
export interface FeatureWords {
  lo: number;
  hi: number;
}

/** Feature set with bits `bits` (each 0..63) set. */
export function featureWords(bits: readonly number[]): FeatureWords {
  const f: FeatureWords = { lo: 0, hi: 0 };
  for (const b of bits) setFeature(f, b);
  return f;
}

export function setFeature(f: FeatureWords, bit: number): void {
  if (bit < 32) f.lo = (f.lo | (1 << bit)) >>> 0;
  else f.hi = (f.hi | (1 << (bit - 32))) >>> 0;
}

export function hasFeature(f: FeatureWords, bit: number): boolean {
  return bit < 32 ? ((f.lo >>> bit) & 1) === 1 : ((f.hi >>> (bit - 32)) & 1) === 1;
}

/** Word `word` (0 or 1) of `f`; 0 for words past 63 bits. */
export function featureWord(f: FeatureWords, word: number): number {
  return word === 0 ? f.lo : word === 1 ? f.hi : 0;
}

/** True if every bit of `sub` is set in `sup`. */
export function isSubset(sub: FeatureWords, sup: FeatureWords): boolean {
  return ((sub.lo & ~sup.lo) >>> 0) === 0 && ((sub.hi & ~sup.hi) >>> 0) === 0;
}

/** One queue a device type may have, in spec order. */
export interface QueueSpec {
  /** Spec name (inflateq, deflateq, statsq, free_page_vq, reporting_vq, ...). */
  readonly name: string;
  /** Largest size the device accepts (a power of two, e.g. QEMU 128, Firecracker 256). */
  readonly maxSize: number;
  /** Feature bit that makes this queue exist; undefined = always present. */
  readonly feature?: number;
}

/**
 * The queues that exist for feature set `f`, in order; a queue's transport index is its
 * position in this list (compacted: absent queues take no index).
 */
export function compactQueues(specs: readonly QueueSpec[], f: FeatureWords): QueueSpec[] {
  return specs.filter((s) => s.feature === undefined || hasFeature(f, s.feature));
}

/** Transport index of queue `name` under feature set `f`, or -1 if it does not exist. */
export function queueIndex(specs: readonly QueueSpec[], f: FeatureWords, name: string): number {
  return compactQueues(specs, f).findIndex((s) => s.name === name);
}
