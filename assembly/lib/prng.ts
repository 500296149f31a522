// SPDX-License-Identifier: MIT
// Seeded PRNG for guest-side randomness (workload access patterns, fragmenter). xorshift32*,
// one state per instance: the same seed gives the same sequence in Node and in the browser.

let state: u32 = 0x9e3779b9;

export function prngSeed(seed: u32): void { state = seed == 0 ? 0x9e3779b9 : seed; }

/** Next 32-bit value. */
export function prngNext(): u32 {
  let x = state;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  state = x;
  return x * 0x2545f491;
}

/** Uniform integer in [0, n). n > 0. */
export function prngBelow(n: u32): u32 { return <u32>((<u64>prngNext() * <u64>n) >> 32); }
