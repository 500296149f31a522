// SPDX-License-Identifier: MIT
// Guest-side behaviour of the page allocator that only the wasm build has: host faults and
// simulated cost of init_on_alloc, vmstat counters, isolation for reporting, pageblock moves,
// memory on/offlining, split_page.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { wasmAllocator } from "../conformance/adapters.js";

const NIL = 0xffffffff;

describe("mm/page_alloc: boot and init_on_alloc", () => {
  it("boot frees every frame without touching it: no host faults, all versions zero", () => {
    const a = wasmAllocator({ mib: 64 });
    expect(a.faults()).toBe(0);
    expect(a.guest.views.versions.every((v) => v === 0)).toBe(true);
    const vm = a.guest.views.vmstat;
    expect(vm[abi.VM_MANAGED_PAGES]).toBe(16384 - 512);
    expect(vm[abi.VM_NR_FREE_PAGES]).toBe(16384 - 512);
  });

  it("init_on_alloc writes every allocated page once: one host fault per new page, cost charged", () => {
    const a = wasmAllocator({ mib: 16 });
    const costs = a.guest.views.costs;
    costs[abi.COST_PAGE_WRITE_NS] = 100;
    costs[abi.COST_ALLOC_FAST_NS] = 10;
    costs[abi.COST_ALLOC_SLOW_NS] = 1000;
    let pfn = 0;
    const ns = a.guest.enter(0, (g) => { pfn = g.mm_alloc(3, abi.GFP_MOVABLE); });
    expect(a.faults()).toBe(8);
    for (let i = 0; i < 8; i++) expect(a.guest.views.versions[pfn + i]).toBe(1);
    expect(ns).toBe(8 * 1500 + 8 * 100 + 10); // host faults + zeroing + pcp fast path
    const ns9 = a.guest.enter(0, (g) => { g.mm_alloc(9, abi.GFP_MOVABLE); });
    expect(ns9).toBe(512 * 1500 + 512 * 100 + 1000); // order 9 bypasses pcp: the zone-locked path
  });

  it("with init_on_alloc=0 allocation touches nothing", () => {
    const a = wasmAllocator({ mib: 16, initOnAlloc: false });
    const p = a.alloc(4, abi.GFP_KERNEL);
    expect(p).not.toBe(NIL);
    expect(a.faults()).toBe(0);
    expect(a.version(p)).toBe(0);
  });

  it("vmstat: pgalloc/pgfree count pages, nr_free_pages excludes pcp pages", () => {
    const a = wasmAllocator({ mib: 64 });
    const vm = a.guest.views.vmstat;
    const p = a.alloc(2, abi.GFP_MOVABLE);
    expect(vm[abi.VM_PGALLOC]).toBe(4);
    const pcp = vm[abi.VM_NR_PCP];
    expect(pcp).toBeGreaterThan(0);
    expect(vm[abi.VM_NR_FREE_PAGES] + pcp + 4).toBe(vm[abi.VM_MANAGED_PAGES]);
    expect(a.free(p, 2)).toBe(abi.OK);
    expect(vm[abi.VM_PGFREE]).toBe(4);
    a.drain();
    expect(vm[abi.VM_NR_PCP]).toBe(0);
    expect(vm[abi.VM_NR_FREE_PAGES]).toBe(vm[abi.VM_MANAGED_PAGES]);
  });
});

describe("mm/buddy: isolation, pageblocks, hotplug", () => {
  it("isolate_free_page takes a free block off its list as PT_ISOLATED; putback returns it to the tail", () => {
    const a = wasmAllocator({ mib: 64 });
    const x = a.guest.exports;
    const free0 = a.zoneInfo(0, abi.ZI_FREE);
    expect(x.mm_isolate_free(2048, 10)).toBe(1);
    expect(a.pflags(2048) & abi.PT_MASK).toBe(abi.PT_ISOLATED);
    expect(a.pflags(3071) & abi.PT_MASK).toBe(abi.PT_ISOLATED);
    expect(a.zoneInfo(0, abi.ZI_FREE)).toBe(free0 - 1024);
    expect(a.validate()).toBe(abi.MMV_OK);
    expect(a.free(2048, 10)).toBe(abi.E_BUSY);
    expect(x.mm_isolate_free(2048, 10)).toBe(0); // no longer a free head
    expect(x.mm_isolate_free(4096, 9)).toBe(0); // not a head of that order
    expect(x.mm_putback_isolated(2048, 10, abi.MT_MOVABLE)).toBe(abi.OK);
    expect(a.freeListLast(0, 10, abi.MT_MOVABLE)).toBe(2048);
    expect(a.zoneInfo(0, abi.ZI_FREE)).toBe(free0);
    expect(a.validate()).toBe(abi.MMV_OK);
  });

  it("isolation is refused when the zone would fall to min + 2^order free pages", () => {
    const a = wasmAllocator({ mib: 16, initOnAlloc: false });
    const x = a.guest.exports;
    while (a.alloc(0, abi.GFP_ATOMIC) !== NIL);
    a.drain();
    let head = NIL;
    for (let o = 10; o >= 0 && head === NIL; o--) for (const mt of [0, 1, 2]) if (a.freeListFirst(0, o, mt) !== NIL) { head = a.freeListFirst(0, o, mt); break; }
    expect(head).not.toBe(NIL);
    expect(x.mm_isolate_free(head, a.porder(head) & 0x0f)).toBe(0);
  });

  it("an ISOLATE pageblock keeps its free pages out of NR_FREE_PAGES and frees bypass the pcp", () => {
    const a = wasmAllocator({ mib: 16 });
    const x = a.guest.exports;
    const p = a.alloc(0, abi.GFP_MOVABLE); // 512, pageblock 1
    const free0 = a.zoneInfo(0, abi.ZI_FREE);
    a.drain();
    const free1 = a.zoneInfo(0, abi.ZI_FREE);
    const moved = x.mm_move_pageblock(p, abi.MT_ISOLATE);
    expect(moved).toBe(511);
    expect(a.zoneInfo(0, abi.ZI_FREE)).toBe(free1 - 511);
    expect(a.free(p, 0)).toBe(abi.OK);
    expect(a.pflags(p) & abi.PT_MASK).toBe(abi.PT_FREE); // straight to the buddy, on the ISOLATE list
    expect(a.nrFree(0, 9, abi.MT_ISOLATE)).toBe(1);
    expect(a.validate()).toBe(abi.MMV_OK);
    expect(x.mm_move_pageblock(p, abi.MT_MOVABLE)).toBe(512);
    expect(a.zoneInfo(0, abi.ZI_FREE)).toBe(free1 + 1); // the freed page merged back in
    expect(a.validate()).toBe(abi.MMV_OK);
    expect(free0).toBeLessThanOrEqual(free1);
  });

  it("moving one pageblock of a free order-10 block splits the block first", () => {
    const a = wasmAllocator({ mib: 16 });
    const x = a.guest.exports;
    expect(x.mm_move_pageblock(1536, abi.MT_UNMOVABLE)).toBe(512);
    expect(a.pageblockMt(1536)).toBe(abi.MT_UNMOVABLE);
    expect(a.pageblockMt(1024)).toBe(abi.MT_MOVABLE);
    expect(a.nrFree(0, 9, abi.MT_UNMOVABLE)).toBe(1);
    expect(a.validate()).toBe(abi.MMV_OK);
  });

  it("offline takes free memory out of the zone (managed drops); online gives it back at the tail", () => {
    const a = wasmAllocator({ mib: 16 });
    const x = a.guest.exports;
    const managed = a.zoneInfo(0, abi.ZI_MANAGED);
    expect(x.mm_offline_pages(3072, 1024)).toBe(abi.OK);
    expect(a.zoneInfo(0, abi.ZI_MANAGED)).toBe(managed - 1024);
    expect(a.pflags(3072) & abi.PT_MASK).toBe(abi.PT_OFFLINE);
    expect(a.validate()).toBe(abi.MMV_OK);
    const p = a.alloc(0, abi.GFP_KERNEL);
    expect(x.mm_offline_pages(p & ~511, 512)).toBe(abi.E_BUSY); // allocated page in the way
    expect(a.online(3072, 1024, abi.ZONE_DMA32)).toBe(abi.OK);
    expect(a.zoneInfo(0, abi.ZI_MANAGED)).toBe(managed);
    expect(a.freeListLast(0, 10, abi.MT_MOVABLE)).toBe(3072);
    expect(a.validate()).toBe(abi.MMV_OK);
  });

  it("memory above PARAM_BOOT_END_PFN stays out until onlined into ZONE_MOVABLE", () => {
    const a = wasmAllocator({ mib: 32, bootEndPfn: 4096 });
    expect(a.zoneInfo(abi.ZONE_MOVABLE, abi.ZI_MANAGED)).toBe(0);
    expect(a.pflags(5000) & abi.PT_MASK).toBe(abi.PT_RESERVED);
    expect(a.online(4096, 4096, abi.ZONE_MOVABLE)).toBe(abi.OK);
    expect(a.zoneInfo(abi.ZONE_MOVABLE, abi.ZI_START_PFN)).toBe(4096);
    expect(a.alloc(0, abi.GFP_MOVABLE)).toBe(4096); // movable requests prefer ZONE_MOVABLE
    expect(a.alloc(0, abi.GFP_KERNEL)).toBeLessThan(4096); // kernel requests never use it
    expect(a.validate()).toBe(abi.MMV_OK);
  });

  it("find_buddy and split_page", () => {
    const a = wasmAllocator({ mib: 16 });
    const x = a.guest.exports;
    expect(x.mm_find_buddy(1500)).toBe(1024);
    expect(x.mm_find_buddy(10)).toBe(NIL);
    const p = a.alloc(2, abi.GFP_MOVABLE);
    expect(x.mm_find_buddy(p)).toBe(NIL);
    expect(x.mm_split_page(p, 2)).toBe(abi.OK);
    for (let i = 0; i < 4; i++) expect(a.free(p + i, 0)).toBe(abi.OK);
    a.drain();
    expect(a.validate()).toBe(abi.MMV_OK);
  });
});
