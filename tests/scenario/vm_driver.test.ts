// SPDX-License-Identifier: MIT
// The runner's memory driver (host/scenario/vm_driver.ts): anon steps fault a guest process's
// memory in like THP faults under defrag=madvise (GFP_TRANSHUGE_LIGHT first, never direct
// compaction), falling back to 4 KiB pages that may reclaim; kernel memory uses its full gfp.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { VmDriver } from "../../host/scenario/vm_driver.js";
import { timerGuest } from "../guest/mm2-harness.js";

const MIB = 1 << 20;
/** Orders of process `pid`'s anon entries (block heads and order-0 pages), from the frame arrays. */
function entryOrders(t: ReturnType<typeof timerGuest>, pid: number): number[] {
  const v = t.guest.views;
  const out: number[] = [];
  for (let p = 0; p < t.guest.frames; p++) {
    const f = v.pflags[p];
    if ((f & abi.PT_MASK) === abi.PT_ANON && (f & abi.PG_HEAD) !== 0 && v.porder[p] >> 4 === pid) out.push(v.porder[p] & 0x0f);
  }
  return out;
}

/** A 256 MiB guest whose free memory is all in blocks below order 6 (one movable page kept per 64). */
function fragmented() {
  const t = timerGuest(256, { release: true });
  const free = t.guest.views.vmstat[abi.VM_NR_FREE_PAGES];
  t.run((g) => {
    g.wl_fragment(0, free, 64, 7, false);
    // what the fragmenter could not reach (it stops at the watermark) is held by the test
    for (let o = 10; o >= 6; o--) while (g.mm_alloc(o, abi.GFP_MOVABLE | abi.GFP_NORECLAIM | abi.GFP_NOKSWAPD) !== abi.NIL);
  });
  return t;
}

describe("VmDriver: anonymous memory as THP faults", () => {
  it("takes 2 MiB blocks while they are free", () => {
    const t = timerGuest(256, { release: true });
    const d = new VmDriver();
    let pages = 0;
    t.run((g) => { pages = d.allocAnon(g, 64 * MIB, true, 1); });
    expect(pages).toBe(16384);
    expect(entryOrders(t, 1)).toEqual(new Array(32).fill(9));
    expect(t.g.wl_proc_anon_pages(1)).toBe(16384);
    expect(d.oomFails).toBe(0);
    t.run((g) => { expect(d.freeAnon(g, 1, 3 * MIB)).toBe(3 * MIB); }); // splits the newest block
    expect(t.g.wl_proc_anon_pages(1)).toBe(16384 - 768);
    t.validate();
  });

  it("with fragmented memory falls back to small blocks without direct compaction; a full-gfp order-9 request would compact", () => {
    const t = fragmented();
    const vs = t.guest.views.vmstat;
    for (let o = 6; o <= 10; o++) expect(t.g.mm_nr_free(abi.ZONE_DMA32, o, abi.NR_MIGRATETYPES)).toBe(0);
    expect(vs[abi.VM_NR_FREE_PAGES]).toBeGreaterThan(4 * 2048);
    const d = new VmDriver();
    let pages = 0;
    const stall0 = vs[abi.VM_COMPACT_STALL];
    t.run((g) => { pages = d.allocAnon(g, 8 * MIB, true, 1); });
    expect(pages).toBe(2048);
    expect(entryOrders(t, 1).every((o) => o < 6)).toBe(true);
    expect(vs[abi.VM_COMPACT_STALL] - stall0).toBe(0);
    // the same request with the full gfp at order 9 (what the runner did before) stalls in compaction
    t.validate();
    const u = fragmented();
    const ustall0 = u.guest.views.vmstat[abi.VM_COMPACT_STALL];
    u.run((g) => { new VmDriver().alloc(g, 8 * MIB, abi.GFP_MOVABLE, 9); });
    expect(u.guest.views.vmstat[abi.VM_COMPACT_STALL] - ustall0).toBeGreaterThan(0);
  });

  it("the 4 KiB fallback may reclaim: with memory full of page cache the step succeeds by direct reclaim", () => {
    const t = timerGuest(256, { release: true });
    const vs = t.guest.views.vmstat;
    t.run((g) => { g.wl_file_read(0, 60000); }); // ~234 MiB of clean page cache
    const d = new VmDriver();
    let pages = 0;
    t.run((g) => { pages = d.allocAnon(g, 64 * MIB, true, 1); });
    expect(pages).toBe(16384);
    expect(d.oomFails).toBe(0);
    expect(vs[abi.VM_PGSTEAL_DIRECT]).toBeGreaterThan(0);
    expect(vs[abi.VM_COMPACT_STALL]).toBe(0);
    t.validate();
  });
});
