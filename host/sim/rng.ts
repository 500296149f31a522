// SPDX-License-Identifier: MIT
// Seeded PRNG for host-side components: sfc32 (Chris Doty-Humphrey's Small Fast Counting
// generator, PractRand-clean), seeded through splitmix32. `fork(name)` derives an independent
// stream from (seed, path of names) only, so adding draws in one component never shifts another.

import { ConfigError } from "../guest/errors.js";

/** splitmix32 step: scrambles a 32-bit state into a well-mixed output (seed expansion only). */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of `s`, mixed with `h`. */
function hashName(h: number, s: string): number {
  h = (h ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return splitmix32(h);
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** The 32-bit key this stream was derived from (seed for the root, hash for forks). */
  readonly key: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new ConfigError("seed", seed, "an integer");
    this.key = seed >>> 0;
    let s = this.key;
    this.a = s = splitmix32(s);
    this.b = s = splitmix32(s);
    this.c = s = splitmix32(s);
    this.d = 1;
    // discard the first outputs: sfc32's state needs a few rounds to mix (author's recommendation)
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** An independent stream named `name`, derived from this stream's key only (not its position). */
  fork(name: string): Rng {
    return new Rng(hashName(this.key, name));
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  float(): number { return this.nextU32() / 4294967296; }

  /** Uniform integer in [lo, hi) (hi - lo <= 2^32). */
  int(lo: number, hi: number): number {
    if (!(hi > lo)) throw new ConfigError("hi", hi, `> lo (${lo})`);
    return lo + Math.floor(this.float() * (hi - lo));
  }

  /** True with probability p. */
  chance(p: number): boolean { return this.float() < p; }
}
