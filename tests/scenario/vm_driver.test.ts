// SPDX-License-Identifier: MIT
// The runner's anonymous-memory driver (host/scenario/vm_driver.ts): anon steps fault memory in
// like THP faults under defrag=madvise (GFP_TRANSHUGE_LIGHT first, never direct compaction),
// falling back to 4 KiB pages that may reclaim; kernel memory uses its full gfp at every size.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { VmDriver, Block } from "../../host/scenario/vm_driver.js";
import { timerGuest } from "../guest/mm2-harness.js";

const MIB = 1 << 20;
const pagesOf = (bs: Block[]): number => bs.reduce((s, b) => s + (1 << b.order), 0);

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
    let bs: Block[] = [];
    t.run((g) => { bs = d.allocAnon(g, 64 * MIB, true, 1); });
    expect(bs.length).toBe(32);
    expect(bs.every((b) => b.order === 9)).toBe(true);
    expect(d.oomFails).toBe(0);
  });

  it("with fragmented memory falls back to small blocks without direct compaction; a full-gfp order-9 request would compact", () => {
    const t = fragmented();
    const vs = t.guest.views.vmstat;
    for (let o = 6; o <= 10; o++) expect(t.g.mm_nr_free(abi.ZONE_DMA32, o, abi.NR_MIGRATETYPES)).toBe(0);
    expect(vs[abi.VM_NR_FREE_PAGES]).toBeGreaterThan(4 * 2048);
    const d = new VmDriver();
    let bs: Block[] = [];
    const stall0 = vs[abi.VM_COMPACT_STALL];
    t.run((g) => { bs = d.allocAnon(g, 8 * MIB, true, 1); });
    expect(pagesOf(bs)).toBe(2048);
    expect(bs.every((b) => b.order < 6)).toBe(true);
    expect(vs[abi.VM_COMPACT_STALL] - stall0).toBe(0);
    // the same request with the full gfp at order 9 (what the runner did before) stalls in compaction
    t.validate();
    const u = fragmented();
    const ustall0 = u.guest.views.vmstat[abi.VM_COMPACT_STALL];
    u.run((g) => { new VmDriver().alloc(g, 8 * MIB, abi.GFP_MOVABLE, true); });
    expect(u.guest.views.vmstat[abi.VM_COMPACT_STALL] - ustall0).toBeGreaterThan(0);
  });

  it("the 4 KiB fallback may reclaim: with memory full of page cache the step succeeds by direct reclaim", () => {
    const t = timerGuest(256, { release: true });
    const vs = t.guest.views.vmstat;
    t.run((g) => { g.wl_file_read(0, 60000); }); // ~234 MiB of clean page cache
    const d = new VmDriver();
    let bs: Block[] = [];
    t.run((g) => { bs = d.allocAnon(g, 64 * MIB, true, 1); });
    expect(pagesOf(bs)).toBe(16384);
    expect(d.oomFails).toBe(0);
    expect(vs[abi.VM_PGSTEAL_DIRECT]).toBeGreaterThan(0);
    expect(vs[abi.VM_COMPACT_STALL]).toBe(0);
    t.validate();
  });
});
