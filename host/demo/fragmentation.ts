// SPDX-License-Identifier: MIT
// The fragmentation demo (`guestmem demo`): a guest fragments its memory with movable anonymous
// pages and some unmovable kernel pages, then runs /proc/sys/vm/compact_memory. Before and
// after, it prints /proc/buddyinfo- and /proc/pagetypeinfo-style tables, the fragmentation
// index and proactive score for order 9, and how many order-9 blocks an allocation attempt
// (no reclaim, no compaction) gets. Returns the text; simulated times are deterministic.

import { Host } from "../host.js";
import type { Vm } from "../vm.js";
import type { GuestExports } from "../guest/exports.generated.js";
import * as abi from "../guest/abi.generated.js";

export interface FragmentationDemoOptions {
  /** Guest RAM, MiB (default 256). */
  memMiB?: number;
  /** Fraction of free memory the unmovable fragmenter takes first (default 0.125). */
  unmovableShare?: number;
  /** Keep one page in this many (default 64: every 2 MiB pageblock keeps 8 pages). */
  keepEvery?: number;
  seed?: number;
  /** Compiled guest; default: the host's default module (host/node.ts or the bundle sets it). */
  guestModule?: WebAssembly.Module;
}

const ZONE_NAMES = ["DMA32", "Normal", "Movable"];
const MT_NAMES = ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"];
const ORDER_9_GFP = abi.GFP_MOVABLE | abi.GFP_NORETRY | abi.GFP_NORECLAIM;

function pad(s: string | number, n: number): string { return String(s).padStart(n); }

/** /proc/buddyinfo: free blocks per order, one line per populated zone. */
export function buddyinfo(g: GuestExports): string {
  const lines: string[] = [];
  for (let z = 0; z < abi.NR_ZONES; z++) {
    if (g.mm_zone_info(z, abi.ZI_MANAGED) === 0) continue;
    const cols: string[] = [];
    for (let o = 0; o <= abi.MAX_ORDER; o++) cols.push(pad(g.mm_nr_free(z, o, abi.NR_MIGRATETYPES), 6));
    lines.push(`Node 0, zone ${pad(ZONE_NAMES[z], 8)} ${cols.join(" ")}`);
  }
  return lines.join("\n");
}

/** /proc/pagetypeinfo's "Free pages count per migrate type at order" block. */
export function pagetypeinfo(g: GuestExports): string {
  const head = `${" ".repeat(36)}${Array.from({ length: abi.MAX_ORDER + 1 }, (_, o) => pad(o, 6)).join(" ")}`;
  const lines = ["Free pages count per migrate type at order", head];
  for (let z = 0; z < abi.NR_ZONES; z++) {
    if (g.mm_zone_info(z, abi.ZI_MANAGED) === 0) continue;
    for (let mt = 0; mt < abi.NR_MIGRATETYPES; mt++) {
      const cols: string[] = [];
      for (let o = 0; o <= abi.MAX_ORDER; o++) cols.push(pad(g.mm_nr_free(z, o, mt), 6));
      lines.push(`Node 0, zone ${pad(ZONE_NAMES[z], 8)}, type ${MT_NAMES[mt].padEnd(11)} ${cols.join(" ")}`);
    }
  }
  return lines.join("\n");
}

/** Pageblocks per migratetype (the "Number of blocks type" block of /proc/pagetypeinfo). */
function pageblockCounts(vm: Vm): string {
  const pb = vm.guest.views.pageblock;
  const counts = new Array<number>(abi.NR_MIGRATETYPES).fill(0);
  for (let i = 0; i < pb.length; i++) counts[pb[i] & abi.PB_MT_MASK]++;
  return `Number of blocks type ${MT_NAMES.map((n, i) => `${n} ${counts[i]}`).join(", ")}`;
}

/** Allocates order-9 blocks until one fails (no reclaim, no compaction), frees them; returns how many. */
function order9Attempt(vm: Vm): number {
  let got = 0;
  vm.enter("demo:order9", (g) => {
    got = g.mm_bench_alloc(9, ORDER_9_GFP, 1 << 20);
    g.mm_bench_free(9, got);
    g.mm_drain_pcp();
  });
  return got;
}

function snapshot(vm: Vm, title: string): string {
  const g = vm.guest.exports;
  g.mm_drain_pcp();
  const z = abi.ZONE_DMA32;
  const out = [
    `== ${title} ==`,
    "/proc/buddyinfo:",
    buddyinfo(g),
    "",
    pagetypeinfo(g),
    "",
    pageblockCounts(vm),
    "",
    `fragmentation index, order 9 (zone ${ZONE_NAMES[z]}): ${(g.mm_frag_index(z, 9) / 1000).toFixed(3)}` +
      `   extfrag score: ${g.mm_frag_score(abi.NR_ZONES)} (kcompactd starts above ${g.mm_frag_score_wmark(false)}, stops at ${g.mm_frag_score_wmark(true)})`,
    `order-9 allocation attempt (no reclaim/compaction) gets ${order9Attempt(vm)} blocks`,
  ];
  return out.join("\n");
}

/** Runs the demo; returns its report text. */
export function runFragmentationDemo(opts: FragmentationDemoOptions = {}): string {
  const memMiB = opts.memMiB ?? 256;
  const keepEvery = opts.keepEvery ?? 64;
  const share = opts.unmovableShare ?? 0.125;
  const host = new Host({ ramBytes: memMiB * 2 * 1024 * 1024, seed: opts.seed ?? 1, guestModule: opts.guestModule });
  const vm = host.createVm({ name: "demo", memBytes: memMiB * 1024 * 1024 });
  const g = vm.guest.exports;
  const z = abi.ZONE_DMA32;
  const lines: string[] = [`guestmem fragmentation demo: one ${memMiB} MiB guest, 4 KiB pages, 2 MiB pageblocks`, ""];
  let keptUnmovable = 0, keptMovable = 0;
  const fragNs = vm.enter("demo:fragment", (x) => {
    keptUnmovable = x.wl_fragment(0, Math.floor(x.mm_zone_info(z, abi.ZI_FREE) * share), keepEvery, 7, true);
    keptMovable = x.wl_fragment(1, x.mm_zone_info(z, abi.ZI_FREE), keepEvery, 11, false);
  });
  lines.push(`fragmenter: kept ${keptUnmovable} unmovable kernel pages and ${keptMovable} movable anon pages ` +
    `(one in ${keepEvery}), ${(fragNs / 1e6).toFixed(1)} ms simulated`, "");
  lines.push(snapshot(vm, "before compact_memory"), "");
  let migrated = 0;
  const compactNs = vm.enter("demo:compact", (x) => { migrated = x.mm_compact_all(); });
  lines.push(`echo 1 > /proc/sys/vm/compact_memory: migrated ${migrated} pages in ${(compactNs / 1e6).toFixed(2)} ms simulated ` +
    `(migrate scanner ${g.mm_compact_stats(abi.CS_MIGRATE_SCANNED)} pfns, free scanner ${g.mm_compact_stats(abi.CS_FREE_SCANNED)} pfns)`, "");
  lines.push(snapshot(vm, "after compact_memory"));
  const bad = g.mm_validate() || g.mm_validate_owners();
  if (bad !== 0) lines.push("", `INVARIANT BROKEN: validate code ${bad}`);
  return lines.join("\n") + "\n";
}
