// SPDX-License-Identifier: MIT
// The fragmenter: allocates up to `pages` order-0 pages (movable for process `pid`, or unmovable
// kernel pages), then frees them in a seeded random order except those whose pfn is
// `phase` mod `keepEvery`, so every pageblock it touched keeps a pinned page. Model: the
// allocation never triggers the OOM killer (GFP_NORETRY: one reclaim attempt, then stop).

import { NIL, GFP_MOVABLE, GFP_KERNEL, GFP_NORETRY } from "../abi";
import { allocPages, freePages } from "../mm/page_alloc";
import { procAddAnon } from "../mm/process";
import { kernelAdopt } from "../mm/slab";

/** Returns the pages kept. `keepEvery` >= 1. */
export function fragment(pid: u32, pages: u32, keepEvery: u32, seed: u32, unmovable: bool): u32 {
  const buf = heap.alloc(<usize>(pages == 0 ? 1 : pages) << 2);
  const gfp = (unmovable ? GFP_KERNEL : GFP_MOVABLE) | GFP_NORETRY;
  let n: u32 = 0;
  while (n < pages) {
    const pfn = allocPages(0, gfp);
    if (pfn == NIL) break;
    store<u32>(buf + (<usize>n << 2), pfn);
    n++;
  }
  // xorshift32 seeded by `seed`: phase and free order (Fisher-Yates)
  let x: u32 = seed == 0 ? 0x9e3779b9 : seed;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  const phase = x % keepEvery;
  for (let i = n; i > 1; i--) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    const j = <u32>((<u64>x * <u64>i) >> 32);
    const a = buf + (<usize>(i - 1) << 2), b = buf + (<usize>j << 2);
    const t = load<u32>(a); store<u32>(a, load<u32>(b)); store<u32>(b, t);
  }
  let kept: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const pfn = load<u32>(buf + (<usize>i << 2));
    if (pfn % keepEvery == phase) {
      if (unmovable) kernelAdopt(pfn, false); else procAddAnon(pid, pfn);
      kept++;
    } else freePages(pfn, 0);
  }
  heap.free(buf);
  return kept;
}
