// SPDX-License-Identifier: MIT
// Micro benchmarks of the guest page allocator (engine throughput, wall clock): bulk alloc,
// bulk free, repeated alloc+free and random-order free at orders 0 and 9, run whole inside the
// release wasm (mm_bench_*), and the same sequences on the TypeScript reference model.
// Model: every frame is pre-backed in hstate, so no host faults are measured; init_on_alloc is
// on (Debian's default) in both, so each allocated page is written once (a version bump).

import * as abi from "../host/guest/abi.generated.js";
import { Guest, GuestImports } from "../host/guest/guest.js";
import { RefBuddy } from "../tests/reference/buddy.js";

export interface BenchResult {
  name: string;
  /** Best round (least disturbed by other processes on a shared machine). */
  ns_per_op: number;
  ns_per_op_median: number;
  /** Process CPU time (user + system) per op, best round: less sensitive to other processes. */
  cpu_ns_per_op: number;
  /** Operations timed per round. */
  ops: number;
  rounds: number;
}

const NIL = 0xffffffff;

/** Imports for a guest whose frames are all pre-backed: a fault here is a bench bug. */
export function benchImports(): GuestImports & { faults: number } {
  const imp = {
    faults: 0,
    hwFault: () => { imp.faults++; return 0; },
    virtioNotify: () => 0,
    timerArm: () => {},
    timerCancel: () => {},
    virtioTransport: () => 0xffffffff,
    virtioQueueSetup: () => -2,
  };
  return imp;
}

/** Table and JSON order (each also with the `reference.` prefix). */
const BENCH_NAMES = [
  "alloc.order0", "free.order0", "alloc.order9", "free.order9", "repeat.order0", "repeat.order9", "free_random.order0", "free_random.order9",
];

function nowNs(): number { return Number(process.hrtime.bigint()); }

/** Median of the per-round ns/op (the first round is a warm-up and dropped). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Sequences {
  alloc(order: number, n: number): number;
  free(order: number, n: number): number;
  freeRandom(order: number, n: number, seed: number): number;
  repeat(order: number, n: number): number;
}

function wasmSequences(g: Guest): Sequences {
  const x = g.exports;
  return {
    alloc: (order, n) => x.mm_bench_alloc(order, abi.GFP_MOVABLE, n),
    free: (order, n) => x.mm_bench_free(order, n),
    freeRandom: (order, n, seed) => x.mm_bench_free_random(order, n, seed),
    repeat: (order, n) => x.mm_bench_repeat(order, n),
  };
}

function refSequences(r: RefBuddy): Sequences {
  let buf = new Uint32Array(0);
  let len = 0;
  const free = (order: number, n: number): number => {
    let ok = 0;
    const m = Math.min(n, len);
    for (let i = 0; i < m; i++) if (r.free(buf[i], order) === abi.OK) ok++;
    len = 0;
    return ok;
  };
  return {
    alloc(order, n) {
      if (buf.length < n) buf = new Uint32Array(n);
      let i = 0;
      for (; i < n; i++) {
        const p = r.alloc(order, abi.GFP_MOVABLE);
        if (p === NIL) break;
        buf[i] = p;
      }
      len = i;
      return i;
    },
    free,
    freeRandom(order, n, seed) {
      const m = Math.min(n, len);
      let x = seed >>> 0 || 0x9e3779b9;
      for (let i = m; i > 1; i--) {
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        const j = Math.floor((x / 4294967296) * i);
        const t = buf[i - 1]; buf[i - 1] = buf[j]; buf[j] = t;
      }
      return free(order, m);
    },
    repeat(order, n) {
      let ok = 0;
      for (let i = 0; i < n; i++) {
        const p = r.alloc(order, abi.GFP_MOVABLE);
        if (p === NIL) break;
        if (r.free(p, order) === abi.OK) ok++;
      }
      return ok;
    },
  };
}

/**
 * Runs the op sequences `rounds` times (+1 warm-up) and returns ns/op per benchmark. An order-9
 * sequence is a few hundred operations (tens of microseconds), so each round repeats it `reps9`
 * times and times the sum: a round of either order then lasts milliseconds, long enough for the
 * clock and for the best-of-rounds to mean something.
 */
function runSequences(prefix: string, s: Sequences, n0: number, n9: number, rounds: number, reps9: number): BenchResult[] {
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const acc: Record<string, { ns: number; cpuUs: number; ops: number }> = {};
  const timed = (name: string, f: () => number): number => {
    const c0 = process.cpuUsage();
    const t0 = nowNs();
    const ops = f();
    const ns = nowNs() - t0;
    const c = process.cpuUsage(c0);
    if (ops === 0) throw new Error(`${prefix}${name}: no operation succeeded`);
    const a = (acc[name] ??= { ns: 0, cpuUs: 0, ops: 0 });
    a.ns += ns; a.cpuUs += c.user + c.system; a.ops += ops;
    return ops;
  };
  for (let round = 0; round <= rounds; round++) {
    for (const k of Object.keys(acc)) delete acc[k];
    let ops = timed("alloc.order0", () => s.alloc(0, n0));
    timed("free.order0", () => s.free(0, ops));
    timed("repeat.order0", () => s.repeat(0, n0));
    ops = s.alloc(0, n0);
    timed("free_random.order0", () => s.freeRandom(0, ops, 12345 + round));
    for (let rep = 0; rep < reps9; rep++) {
      ops = timed("alloc.order9", () => s.alloc(9, n9));
      timed("free.order9", () => s.free(9, ops));
      timed("repeat.order9", () => s.repeat(9, n9));
      // Order 9 in random order: pageblock-sized frees merge up to order 10 only when the buddy
      // pageblock is already back, so the merge path is taken about half the time.
      ops = s.alloc(9, n9);
      timed("free_random.order9", () => s.freeRandom(9, ops, 54321 + round * reps9 + rep));
    }
    if (round === 0) continue; // warm-up: compiles and tiers up both sides
    for (const [name, a] of Object.entries(acc)) {
      (wall[name] ??= []).push(a.ns / a.ops);
      (cpu[name] ??= []).push((a.cpuUs * 1000) / a.ops);
    }
  }
  return BENCH_NAMES.map((name) => [name, wall[name]] as const).map(([name, xs]) => ({
    name: prefix + name, ns_per_op: Math.min(...xs), ns_per_op_median: median(xs), cpu_ns_per_op: Math.min(...cpu[name]),
    ops: name.endsWith("order9") ? n9 * reps9 : n0, rounds,
  }));
}

export interface AllocBenchOptions {
  module: WebAssembly.Module;
  guestMib: number;
  rounds: number;
}

export interface AllocBenchReport {
  results: BenchResult[];
  /** Guest-owned per-frame arrays, bytes per frame, as allocated. */
  metadataBytesPerFrame: number;
  /** Host-owned per-frame region in the same linear memory, bytes per frame. */
  hostMetadataBytesPerFrame: number;
  /** Both: issue 2's "<= 16 bytes per frame all included" (totalMetadataBytesPerFrame). */
  totalMetadataBytesPerFrame: number;
  hostFaults: number;
}

/** Both allocators, same guest size, same sequences, in this process. */
export function runAllocBench(opts: AllocBenchOptions): AllocBenchReport {
  const frames = (opts.guestMib * 1048576) / abi.PAGE_SIZE; // not << 20: 4096 MiB overflows int32
  const imports = benchImports();
  const guest = new Guest(opts.module, frames, 1, imports);
  guest.views.hstate.fill(abi.HS_BACKED); // pre-back: measure the allocator, not host faults
  const n0 = Math.floor(frames * 0.6);
  const n9 = Math.floor((frames * 0.6) / abi.PAGEBLOCK_NR_PAGES);
  // Order-9 sequences repeat to about as many operations per round as order 0 has frames / 8.
  const reps9 = Math.max(1, Math.round(n0 / 8 / Math.max(1, n9)));
  const results = runSequences("", wasmSequences(guest), n0, n9, opts.rounds, reps9);
  if (guest.exports.mm_validate() !== abi.MMV_OK) throw new Error("bench left the guest allocator invalid");
  const ref = new RefBuddy({ frames });
  results.push(...runSequences("reference.", refSequences(ref), n0, n9, opts.rounds, reps9));
  return {
    results, metadataBytesPerFrame: metadataBytesPerFrame(guest), hostMetadataBytesPerFrame: hostMetadataBytesPerFrame(guest),
    totalMetadataBytesPerFrame: totalMetadataBytesPerFrame(guest), hostFaults: imports.faults,
  };
}

/**
 * Bytes of per-frame metadata as actually allocated by the guest: from the first per-frame array
 * (versions) to the end of the last (pageblock tags), headers and alignment included.
 */
export function metadataBytesPerFrame(g: Guest): number {
  const scb = new Uint32Array(g.memory.buffer, g.scbPtr, 16);
  const ptrs = [abi.LAYOUT_VERSIONS, abi.LAYOUT_NEXT, abi.LAYOUT_PREV, abi.LAYOUT_PFLAGS, abi.LAYOUT_PORDER, abi.LAYOUT_HSTATE, abi.LAYOUT_PAGEBLOCK]
    .map((off) => scb[off >> 2]);
  const first = Math.min(...ptrs);
  const end = scb[abi.LAYOUT_PAGEBLOCK >> 2] + Math.ceil(g.frames / abi.PAGEBLOCK_NR_PAGES);
  return (end - first) / g.frames;
}

/**
 * Bytes per frame of the host-owned region the guest reserves in the same linear memory (dirty
 * bitmap, discarded bits, write-protect reason nibbles; abi.ts LAYOUT_HOSTMETA), as reserved.
 * Trap handler ids need none: they sit in hstate's top bits.
 */
export function hostMetadataBytesPerFrame(g: Guest): number {
  const scb = new Uint32Array(g.memory.buffer, g.scbPtr, 16);
  return scb[abi.LAYOUT_HOSTMETA_BYTES >> 2] / g.frames;
}

/**
 * All per-frame metadata in the instance's linear memory, guest arrays and host region: the
 * number issue 2 bounds ("<= 16 bytes per frame all included").
 */
export function totalMetadataBytesPerFrame(g: Guest): number {
  return metadataBytesPerFrame(g) + hostMetadataBytesPerFrame(g);
}

/** Wall time to instantiate and boot a guest of `gib` GiB (memory, frame arrays, buddy). */
export function bootTimeMs(module: WebAssembly.Module, gib: number): number {
  const frames = (gib * 1024 * 1024 * 1024) / abi.PAGE_SIZE;
  const t0 = nowNs();
  const g = new Guest(module, frames, 1, benchImports());
  const ms = (nowNs() - t0) / 1e6;
  const managed = [abi.ZONE_DMA32, abi.ZONE_NORMAL, abi.ZONE_MOVABLE].reduce((s, z) => s + g.exports.mm_zone_info(z, abi.ZI_MANAGED), 0);
  if (managed < frames - 1024) throw new Error(`boot left ${frames - managed} frames out of the buddy`);
  return ms;
}
