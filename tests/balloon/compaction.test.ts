// Balloon compaction: ballooned pages are movable; a migration is a 1-PFN inflate of the new page
// and a 1-PFN deflate of the old one, and the balloon list keeps its order.
import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import type { Vm } from "../../host/vm.js";
import { balloonList, balloonVm, MIB } from "./helpers.js";

const S = 1e9;

/** Free blocks of order >= 9 (2 MiB) in every zone and migratetype. */
function freeHugeBlocks(vm: Vm): number {
  let n = 0;
  for (let z = 0; z < abi.NR_ZONES; z++) for (let o = abi.PAGEBLOCK_ORDER; o <= abi.MAX_ORDER; o++) {
    for (let mt = 0; mt < abi.NR_MIGRATETYPES; mt++) n += vm.guest.exports.mm_nr_free(z, o, mt) << (o - abi.PAGEBLOCK_ORDER);
  }
  return n;
}

describe("balloon compaction", () => {
  it("migrate: the new page takes the old one's list position; the host sees inflate(new) then deflate(old)", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false });
    t.balloon.control.setBalloonBytes(1 * MIB);
    t.host.runFor(1 * S);
    const list = balloonList(t.vm);
    const old = list[100];
    const dev = t.balloon.device;
    const infl0 = dev.metric("inflate_count"), defl0 = dev.metric("deflate_count");
    let fresh = 0, rc = 0;
    t.vm.enter("test", (g) => { fresh = g.mm_alloc(0, abi.GFP_MOVABLE) >>> 0; rc = g.balloon_migrate_page(old, fresh); });
    expect(rc).toBe(0);
    const after = balloonList(t.vm);
    expect(after[100]).toBe(fresh);
    expect(after.filter((_, i) => i !== 100)).toEqual(list.filter((_, i) => i !== 100));
    expect(dev.metric("inflate_count") - infl0).toBe(1);
    expect(dev.metric("deflate_count") - defl0).toBe(1);
    expect(dev.inflate.isInflated(fresh)).toBe(true);
    expect(dev.inflate.isInflated(old)).toBe(false);
    expect([abi.PT_FREE, abi.PT_PCP]).toContain(t.vm.guest.views.pflags[old] & abi.PT_MASK);
    expect(t.vm.guest.views.vmstat[abi.VM_BALLOON_MIGRATE]).toBe(1);
    expect(t.balloon.device.actualPages).toBe(256);
  });

  it("compaction: builds 2 MiB blocks around a balloon that holds scattered pages", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false });
    const { vm } = t;
    // fragment: take all free memory as 4 KiB pages, give every other one to the balloon
    let n = 0;
    vm.enter("fill", (g) => { n = g.mm_bench_alloc(0, abi.GFP_MOVABLE, 1 << 20); });
    const pfns = [...new Uint32Array(vm.guest.memory.buffer, vm.guest.exports.mm_bench_buf(), n)].sort((a, b) => a - b);
    const holes = pfns.filter((_, i) => i % 2 === 0);
    const rest = pfns.filter((_, i) => i % 2 === 1);
    vm.enter("free-holes", (g) => { for (const p of holes) g.mm_free(p, 0); g.mm_drain_pcp(); });
    t.balloon.control.setBalloonBytes(Math.floor(holes.length / 256) * 256 * 4096);
    t.host.runFor(2 * S);
    const ballooned = t.balloon.device.actualPages;
    expect(ballooned).toBeGreaterThan(2048);
    vm.enter("free-rest", (g) => { for (const p of rest) g.mm_free(p, 0); g.mm_drain_pcp(); });
    const huge0 = freeHugeBlocks(vm);
    vm.enter("compact", (g) => { g.mm_compact_all(); });
    const migrated = vm.guest.views.vmstat[abi.VM_BALLOON_MIGRATE];
    expect(migrated).toBeGreaterThan(0);
    expect(freeHugeBlocks(vm)).toBeGreaterThan(huge0);
    // the balloon did not change size, and the device's view still matches the guest's list
    expect(t.balloon.device.actualPages).toBe(ballooned);
    expect(vm.guest.exports.balloon_num_pages()).toBe(ballooned);
    const list = balloonList(vm).sort((a, b) => a - b);
    expect(list.length).toBe(ballooned);
    expect(t.balloon.device.inflate.inflatedPfns()).toEqual(list);
    expect(list.every((p) => (vm.guest.views.pflags[p] & abi.PT_MASK) === abi.PT_BALLOON)).toBe(true);
    expect(t.balloon.device.metric("inflate_count")).toBe(Math.ceil(ballooned / 256) + migrated);
    expect(vm.guest.exports.mm_validate()).toBe(0);
  });
});
