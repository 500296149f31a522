// SPDX-License-Identifier: MIT
// Random allocator operation sequences for the differential and property tests: a seeded
// PRNG (replayable: set BUDDY_SEED=<n> to rerun one seed) and an op generator over an adapter.

import * as abi from "../../host/guest/abi.generated.js";
import { AllocatorAdapter, NIL, typeForGfp } from "./adapters.js";

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeds to run: BUDDY_SEED alone if set (replay), else `n` seeds derived from `base`. */
export function seeds(base: number, n: number): number[] {
  const env = process.env.BUDDY_SEED;
  if (env !== undefined && env !== "") return [Number(env) >>> 0];
  return Array.from({ length: n }, (_, i) => (base + i * 7919) >>> 0);
}

export type Op =
  | { kind: "alloc"; order: number; gfp: number }
  | { kind: "free"; index: number; fpi: number }
  | { kind: "drain" }
  | { kind: "cpu"; cpu: number }
  | { kind: "bad"; pfn: number; order: number };

const CLASSES = [abi.GFP_MOVABLE, abi.GFP_MOVABLE, abi.GFP_MOVABLE, abi.GFP_RECLAIMABLE, abi.GFP_KERNEL, abi.GFP_ATOMIC];
const ORDERS = [0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 9, 10, 0, 1];
/** Mostly small blocks: fills memory with mixed classes, so fallbacks and claims happen. */
export const SMALL_ORDERS = [0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4];

export interface OpMix { allocP?: number; orders?: number[] }

/** Draws the next op. `held` is how many blocks the caller holds (free picks one of them). */
export function nextOp(rnd: () => number, held: number, nrCpus: number, frames: number, mix: OpMix = {}): Op {
  const r = rnd();
  const allocP = mix.allocP ?? 0.5;
  const orders = mix.orders ?? ORDERS;
  if (r < allocP || held === 0) {
    let gfp = CLASSES[Math.floor(rnd() * CLASSES.length)];
    if (rnd() < 0.1) gfp |= abi.GFP_NORETRY;
    return { kind: "alloc", order: orders[Math.floor(rnd() * orders.length)], gfp };
  }
  if (r < allocP + (1 - allocP) * 0.86) {
    const f = rnd();
    const fpi = f < 0.8 ? abi.FPI_NONE : f < 0.9 ? abi.FPI_TO_TAIL : abi.FPI_SKIP_REPORT_NOTIFY;
    return { kind: "free", index: Math.floor(rnd() * held), fpi };
  }
  const rest = (r - allocP) / (1 - allocP);
  if (rest < 0.9) return { kind: "drain" };
  if (rest < 0.96) return { kind: "cpu", cpu: Math.floor(rnd() * nrCpus) };
  return { kind: "bad", pfn: Math.floor(rnd() * (frames + 64)), order: Math.floor(rnd() * 12) };
}

export interface Held { pfn: number; order: number }

/**
 * Applies `op` to `a`; alloc'd blocks are retagged by class (as their owner would) and pushed
 * on `held`; frees remove the block. Returns the allocator's result (pfn or code).
 */
export function applyOp(a: AllocatorAdapter, op: Op, held: Held[]): number {
  switch (op.kind) {
    case "alloc": {
      const pfn = a.alloc(op.order, op.gfp);
      if (pfn !== NIL) {
        a.retag(pfn, op.order, typeForGfp(op.gfp));
        held.push({ pfn, order: op.order });
      }
      return pfn;
    }
    case "free": {
      const h = held[op.index];
      held[op.index] = held[held.length - 1];
      held.pop();
      return a.free(h.pfn, h.order, op.fpi);
    }
    case "drain": a.drain(); return 0;
    case "cpu": return a.setCpu(op.cpu) ? 1 : 0;
    case "bad": {
      // Only probe frames nobody holds: freeing a held block here would desync `held`.
      if (held.some((h) => op.pfn >= h.pfn && op.pfn < h.pfn + (1 << h.order))) return 0;
      return a.free(op.pfn, op.order);
    }
  }
}

export function describeOp(op: Op): string { return JSON.stringify(op); }
