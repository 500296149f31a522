// SPDX-License-Identifier: MIT
// Conformance suite of the page allocator: every test runs against the guest (wasm) and the
// TypeScript reference through one adapter, and checks mm_validate after every step.
// Worked examples E3/E4/E5 come from reference/virtio-mem-pmem-buddy.md §4.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { ALLOCATORS, AllocatorAdapter, NIL } from "./adapters.js";

const Z0 = abi.ZONE_DMA32;

function ok(a: AllocatorAdapter): void {
  expect(a.validate(), `${a.name}: validate`).toBe(abi.MMV_OK);
}

/** Allocates order-0 movable pages until the allocator refuses, draining pcp lists in between. */
function exhaust(a: AllocatorAdapter, gfp = abi.GFP_MOVABLE): number[] {
  const got: number[] = [];
  for (;;) {
    let n = 0;
    for (let p = a.alloc(0, gfp); p !== NIL; p = a.alloc(0, gfp)) { got.push(p); n++; }
    a.drain();
    if (n === 0) return got;
  }
}

describe.each(ALLOCATORS)("buddy conformance (%s)", (_name, make) => {
  it("boot: firmware and RAM window stay out, the rest is free in max-order blocks at the list tails", () => {
    const a = make({ mib: 64 });
    ok(a);
    expect(a.pflags(0) & abi.PT_MASK).toBe(abi.PT_RESERVED);
    expect(a.pflags(255) & abi.PT_MASK).toBe(abi.PT_RESERVED);
    expect(a.pflags(256) & abi.PT_MASK).toBe(abi.PT_RAMWIN);
    expect(a.pflags(512)).toBe(abi.PT_FREE | abi.PG_BUDDY);
    expect(a.zoneInfo(Z0, abi.ZI_MANAGED)).toBe(16384 - 512);
    expect(a.zoneInfo(Z0, abi.ZI_FREE)).toBe(16384 - 512);
    const bi = a.buddyinfo()[Z0];
    expect(bi[9]).toBe(1); // 512..1023
    expect(bi[10]).toBe(15); // 1024..16383
    expect(a.freeListFirst(Z0, 10, abi.MT_MOVABLE)).toBe(1024);
    expect(a.freeListLast(Z0, 10, abi.MT_MOVABLE)).toBe(16384 - 1024);
  });

  it("boot: zones split at 4 GiB and at the movable start, pageblocks start MOVABLE", () => {
    const a = make({ mib: 4096 + 64, movableStartPfn: (1 << 20) + 8000 });
    ok(a);
    expect(a.zoneInfo(abi.ZONE_DMA32, abi.ZI_END_PFN)).toBe(1 << 20);
    expect(a.zoneInfo(abi.ZONE_NORMAL, abi.ZI_START_PFN)).toBe(1 << 20);
    expect(a.zoneInfo(abi.ZONE_NORMAL, abi.ZI_END_PFN)).toBe((1 << 20) + 8192); // rounded to 1024 pages
    expect(a.zoneInfo(abi.ZONE_MOVABLE, abi.ZI_MANAGED)).toBe(16384 - 8192);
    expect(a.pageblockMt(5000)).toBe(abi.MT_MOVABLE);
  });

  it("alloc: order-0 pages come lowest first, PT_ALLOC with PG_HEAD and written once (init_on_alloc)", () => {
    const a = make({ mib: 256 });
    const p = [a.alloc(0, abi.GFP_MOVABLE), a.alloc(0, abi.GFP_MOVABLE), a.alloc(0, abi.GFP_MOVABLE)];
    expect(p).toEqual([512, 513, 514]);
    expect(a.pflags(512)).toBe(abi.PT_ALLOC | abi.PG_HEAD);
    expect(a.porder(512)).toBe((abi.MT_MOVABLE << 4) | 0);
    expect(a.version(512)).toBe(1);
    expect(a.pflags(515) & abi.PT_MASK).toBe(abi.PT_PCP); // the rest of the rmqueue_bulk batch
    ok(a);
  });

  it("alloc: a split returns the lowest part and puts the upper halves on the list heads", () => {
    const a = make({ mib: 16 });
    const p = a.alloc(4, abi.GFP_MOVABLE); // pcp order: batch of max(batch >> 4, 2) blocks
    expect(p).toBe(512);
    expect(a.pflags(512 + 15) & abi.PT_MASK).toBe(abi.PT_ALLOC);
    expect(a.porder(512) & 0x0f).toBe(4);
    ok(a);
    const q = a.alloc(9, abi.GFP_MOVABLE); // bypasses pcp
    expect(q).toBe(1024); // 512's block is split; the next whole order-9 is the upper half of 1024
    expect(a.freeListFirst(Z0, 9, abi.MT_MOVABLE)).toBe(1536);
    ok(a);
  });

  it("free: order-0 frees go to the pcp list head (LIFO) and come back first", () => {
    const a = make({ mib: 16 });
    const p = a.alloc(0, abi.GFP_MOVABLE);
    a.alloc(0, abi.GFP_MOVABLE);
    expect(a.free(p, 0)).toBe(abi.OK);
    expect(a.pflags(p) & abi.PT_MASK).toBe(abi.PT_PCP);
    ok(a);
    expect(a.alloc(0, abi.GFP_MOVABLE)).toBe(p);
    ok(a);
  });

  it("free: pcp lists over `high` give a batch back to the buddy, drain gives back all", () => {
    const a = make({ mib: 64 });
    const high = a.zoneInfo(Z0, abi.ZI_PCP_HIGH);
    const batch = a.zoneInfo(Z0, abi.ZI_PCP_BATCH);
    expect(batch).toBe(3); // zone_batchsize(15872 pages)
    const pages: number[] = [];
    for (let i = 0; i < high + 10; i++) pages.push(a.alloc(0, abi.GFP_MOVABLE));
    a.drain();
    ok(a);
    for (const p of pages) expect(a.free(p, 0)).toBe(abi.OK);
    expect(a.zoneInfo(Z0, abi.ZI_PCP_COUNT)).toBeLessThan(high);
    ok(a);
    a.drain();
    expect(a.zoneInfo(Z0, abi.ZI_PCP_COUNT)).toBe(0);
    expect(a.zoneInfo(Z0, abi.ZI_FREE)).toBe(16384 - 512);
    expect(a.buddyinfo()[Z0][10]).toBe(15); // everything merged back
    ok(a);
  });

  it("fallback: the first unmovable request claims a whole max-order block (both pageblocks retagged)", () => {
    const a = make({ mib: 16 });
    const p = a.alloc(0, abi.GFP_KERNEL);
    expect(p).toBe(1024); // CLAIM scans from MAX_ORDER down: the order-10 head
    expect(a.pageblockMt(1024)).toBe(abi.MT_UNMOVABLE);
    expect(a.pageblockMt(1536)).toBe(abi.MT_UNMOVABLE);
    expect(a.pageblockMt(512)).toBe(abi.MT_MOVABLE);
    expect(a.extfragFails()).toBe(0); // whole pageblocks: not fragmenting
    ok(a);
  });

  it("fallback: a movable request steals from an unmovable pageblock when nothing else is left", () => {
    const a = make({ mib: 16, minFreeKbytes: 0, watermarkScaleFactor: 0 });
    const k = a.alloc(0, abi.GFP_KERNEL); // claims 1024..2047 for UNMOVABLE
    a.retag(k, 0, abi.PT_KERNEL);
    const mov = exhaust(a);
    expect(mov.length).toBe(4096 - 512 - 1); // every page but the kernel one (batch 1: nothing held on pcp)
    ok(a);
    expect(a.extfragFails()).toBeGreaterThan(0);
  });

  it("claim: an unmovable request takes over a movable pageblock with >= 256 free pages (retagged, free pages moved)", () => {
    const a = make({ mib: 16, minFreeKbytes: 0, watermarkScaleFactor: 0, initOnAlloc: false });
    for (const p of exhaust(a)) a.retag(p, 0, abi.PT_ANON);
    for (let p = 2048; p < 2348; p++) expect(a.free(p, 0, abi.FPI_SKIP_REPORT_NOTIFY)).toBe(abi.OK); // 256+32+8+4 pages
    const k = a.alloc(0, abi.GFP_KERNEL);
    expect(k).toBe(2344); // the smallest UNMOVABLE block after the claim moved all four
    expect(a.pageblockMt(2048)).toBe(abi.MT_UNMOVABLE);
    expect(a.nrFree(Z0, 8, abi.MT_UNMOVABLE)).toBe(1);
    expect(a.extfragFails()).toBe(1);
    ok(a);
  });

  it("a fragmenting claim boosts the watermark by a pageblock (watermark_boost_factor)", () => {
    const a = make({ mib: 16, initOnAlloc: false });
    for (const p of exhaust(a)) a.retag(p, 0, abi.PT_ANON);
    expect(a.zoneInfo(Z0, abi.ZI_WMARK_BOOST)).toBe(0);
    for (let p = 2048; p < 2348; p++) a.free(p, 0, abi.FPI_SKIP_REPORT_NOTIFY);
    expect(a.alloc(0, abi.GFP_KERNEL)).not.toBe(NIL);
    expect(a.zoneInfo(Z0, abi.ZI_WMARK_BOOST)).toBe(512); // max(pageblock, 150 % of HIGH) caps it
    ok(a);
  });

  it("steal: with < 256 free and the rest movable, the request splits the smallest block and the pageblock stays MOVABLE", () => {
    const a = make({ mib: 16, minFreeKbytes: 0, watermarkScaleFactor: 0, initOnAlloc: false });
    for (const p of exhaust(a)) a.retag(p, 0, abi.PT_ANON);
    for (let p = 3072; p < 3172; p++) expect(a.free(p, 0, abi.FPI_SKIP_REPORT_NOTIFY)).toBe(abi.OK); // 64+32+4 pages
    const k = a.alloc(0, abi.GFP_KERNEL);
    expect(k).toBe(3168);
    expect(a.pageblockMt(3072)).toBe(abi.MT_MOVABLE);
    expect(a.nrFree(Z0, 0, abi.MT_MOVABLE)).toBe(1); // expand() left the rest on the block's own lists
    expect(a.nrFree(Z0, 1, abi.MT_MOVABLE)).toBe(1);
    expect(a.extfragFails()).toBe(1);
    ok(a);
  });

  it("claim: a movable request only claims from blocks of order >= 4 (should_try_claim_block)", () => {
    const a = make({ mib: 16, minFreeKbytes: 0, watermarkScaleFactor: 0, initOnAlloc: false });
    for (let i = 0; i < 1024; i++) { // the first claims 1024..2047 for UNMOVABLE, the rest fill it
      const k = a.alloc(0, abi.GFP_KERNEL);
      expect(k).toBe(1024 + i);
      a.retag(k, 0, abi.PT_KERNEL);
    }
    for (const p of exhaust(a)) a.retag(p, 0, abi.PT_ANON);
    // Free 8 pages in the unmovable pageblock: one order-3 block, too small to claim, so stolen.
    for (let p = 1280; p < 1288; p++) expect(a.free(p, 0, abi.FPI_SKIP_REPORT_NOTIFY)).toBe(abi.OK);
    expect(a.alloc(0, abi.GFP_MOVABLE)).toBe(1280);
    expect(a.pageblockMt(1280)).toBe(abi.MT_UNMOVABLE);
    ok(a);
  });

  it("bad input: out of range, order 11, misaligned, double free, never allocated → error, state intact", () => {
    const a = make({ mib: 16 });
    const p = a.alloc(2, abi.GFP_MOVABLE);
    expect(a.free(a.frames, 0)).toBe(abi.E_RANGE);
    expect(a.free(0xfffffffe, 0)).toBe(abi.E_RANGE);
    expect(a.free(p, 11)).toBe(abi.E_INVAL);
    expect(a.free(p + 1, 1)).toBe(abi.E_INVAL);
    expect(a.free(p + 1, 0)).toBe(abi.E_NOT_ALLOCATED); // tail page
    expect(a.free(p, 1)).toBe(abi.E_NOT_ALLOCATED); // wrong order
    expect(a.free(10, 0)).toBe(abi.E_NOT_ALLOCATED); // firmware frame
    expect(a.free(300, 0)).toBe(abi.E_NOT_ALLOCATED); // RAM window
    expect(a.free(4000, 0)).toBe(abi.E_DOUBLE_FREE); // free in the buddy
    ok(a);
    expect(a.free(p, 2)).toBe(abi.OK);
    expect(a.free(p, 2)).toBe(abi.E_DOUBLE_FREE); // on the pcp list
    a.drain();
    expect(a.free(p, 2)).toBe(abi.E_DOUBLE_FREE); // merged in the buddy
    ok(a);
    expect(a.alloc(11, abi.GFP_MOVABLE)).toBe(NIL);
    expect(a.alloc(0, 7)).toBe(NIL); // no such class
    ok(a);
  });

  it("E3: freeing 0x40001 next to a free 0x40000 merges to order 1, placed at the head", () => {
    const a = make({ mib: 1100, initOnAlloc: false });
    const held = exhaustUpTo(a, 0x40007);
    ok(a);
    expect(a.free(0x40000, 0, abi.FPI_SKIP_REPORT_NOTIFY)).toBe(abi.OK);
    expect(a.free(0x40001, 0, abi.FPI_SKIP_REPORT_NOTIFY)).toBe(abi.OK);
    expect(a.pflags(0x40000)).toBe(abi.PT_FREE | abi.PG_BUDDY);
    expect(a.porder(0x40000) & 0x0f).toBe(1);
    expect(a.freeListFirst(Z0, 1, abi.MT_MOVABLE)).toBe(0x40000); // 0x40004 (order 2) not free: head
    ok(a);
    expect(held.length).toBeGreaterThan(0);
  });

  it("E3: with 0x40002-3 free it becomes (0x40000, order 2); with the order-2 buddy 0x40004 free it goes to the tail", () => {
    const a = make({ mib: 1100, initOnAlloc: false });
    exhaustUpTo(a, 0x40007);
    for (const p of [0x40004, 0x40005, 0x40006, 0x40007]) a.free(p, 0, abi.FPI_SKIP_REPORT_NOTIFY);
    expect(a.porder(0x40004) & 0x0f).toBe(2);
    // 0x40000 + 0x40001 → order 1; its order-2 buddy 0x40004 is free but 0x40002 is not: tail.
    a.free(0x40000, 0, abi.FPI_SKIP_REPORT_NOTIFY);
    a.free(0x40001, 0, abi.FPI_SKIP_REPORT_NOTIFY);
    expect(a.freeListLast(Z0, 1, abi.MT_MOVABLE)).toBe(0x40000);
    ok(a);
    a.free(0x40002, 0, abi.FPI_SKIP_REPORT_NOTIFY);
    a.free(0x40003, 0, abi.FPI_SKIP_REPORT_NOTIFY);
    expect(a.pflags(0x40000)).toBe(abi.PT_FREE | abi.PG_BUDDY);
    expect(a.porder(0x40000) & 0x0f).toBe(3); // (0x40000, 2) merged with 0x40004 too
    expect(a.pflags(0x40004)).toBe(abi.PT_FREE); // no longer a head
    ok(a);
  });

  it("E4: 4 GiB lowmem → min_free_kbytes 8192; a 1 GiB NORMAL zone gets 512/774/1036, an 8 GiB MOVABLE zone 128/2225/4322", () => {
    // DMA32 holds 3 GiB of managed memory at boot; 1 GiB NORMAL and 8 GiB MOVABLE are onlined.
    const bootEnd = 786432 + 512;
    const a = make({ mib: 13 * 1024, bootEndPfn: bootEnd, initOnAlloc: false });
    expect(a.zoneInfo(Z0, abi.ZI_MANAGED)).toBe(786432);
    expect(a.online(1 << 20, 262144, abi.ZONE_NORMAL)).toBe(abi.OK);
    expect(a.online(5 << 18, 2097152, abi.ZONE_MOVABLE)).toBe(abi.OK);
    expect(a.zoneInfo(Z0, abi.ZI_MIN_FREE_KBYTES)).toBe(8192);
    const n = abi.ZONE_NORMAL, m = abi.ZONE_MOVABLE;
    expect([abi.ZI_WMARK_MIN, abi.ZI_WMARK_LOW, abi.ZI_WMARK_HIGH].map((f) => a.zoneInfo(n, f))).toEqual([512, 774, 1036]);
    expect([abi.ZI_WMARK_MIN, abi.ZI_WMARK_LOW, abi.ZI_WMARK_HIGH].map((f) => a.zoneInfo(m, f))).toEqual([128, 2225, 4322]);
    expect(a.zoneInfo(n, abi.ZI_PCP_BATCH)).toBe(63); // zone_batchsize for a zone >= 1 GiB
    expect(a.zoneInfo(n, abi.ZI_PCP_HIGH)).toBe(774); // max(low / ncpu, 4 × batch)
    expect(a.buddyinfo()[m][10]).toBe(2048); // onlined in max-order chunks
    expect(a.online(1 << 20, 512, abi.ZONE_NORMAL)).toBe(abi.E_BUSY); // already online
    ok(a);
  });

  it("E5: 1000 free order-0 pages → fragmentation index 998 for order 9", () => {
    const a = zoneWithOnly(make, (free) => { for (let i = 0; i < 1000; i++) free(2048 + 2 * i, 0); });
    expect(a.fragIndex(Z0, 9)).toBe(998);
    ok(a);
  });

  it("E5: ten free order-3 blocks → 885; one free order-9 block → -1000; nothing free → 0", () => {
    const a = zoneWithOnly(make, (free) => { for (let i = 0; i < 10; i++) for (let j = 0; j < 8; j++) free(2048 + 16 * i + j, 0); });
    expect(a.buddyinfo()[Z0][3]).toBe(10);
    expect(a.fragIndex(Z0, 9)).toBe(885);
    const b = zoneWithOnly(make, (free) => { for (let j = 0; j < 512; j++) free(2048 + j, 0); });
    expect(b.fragIndex(Z0, 9)).toBe(-1000);
    const c = zoneWithOnly(make, () => {});
    expect(c.fragIndex(Z0, 9)).toBe(0);
  });

  it("watermarks: movable requests stop at LOW+MIN reserve; atomic requests dig below MIN", () => {
    const a = make({ mib: 16 });
    const got = exhaust(a);
    const min = a.zoneInfo(Z0, abi.ZI_WMARK_MIN);
    const free = a.zoneInfo(Z0, abi.ZI_FREE);
    expect(free).toBeGreaterThanOrEqual(min);
    expect(free).toBeLessThanOrEqual(min + 1);
    const atomic = exhaust(a, abi.GFP_ATOMIC);
    expect(atomic.length).toBeGreaterThan(0);
    expect(a.zoneInfo(Z0, abi.ZI_FREE)).toBeLessThan(min);
    expect(a.alloc(0, abi.GFP_ATOMIC | abi.GFP_NOMEMALLOC)).toBe(NIL);
    expect(got.length).toBeGreaterThan(3000);
    ok(a);
  });

  /**
   * Exhausts zone 0 with movable pages, then frees the highest-pfn ones until free memory sits
   * just below LOW: the next high-order atomic request takes the slow path (ALLOC_HIGHATOMIC),
   * and stays above the MIN reserve even after its fallback boosts the watermarks.
   */
  function belowLow(a: AllocatorAdapter): number[] {
    const held = exhaust(a).sort((x, y) => x - y);
    const target = a.zoneInfo(Z0, abi.ZI_WMARK_LOW) - 4;
    while (a.zoneInfo(Z0, abi.ZI_FREE) < target) { a.free(held.pop()!, 0); a.drain(); }
    return held;
  }

  it("highatomic: a high-order atomic allocation reserves its pageblock; the reserve serves the next ones first; capped at managed/100 + a pageblock", () => {
    // A large MIN reserve (vm.min_free_kbytes) keeps the boost of the first fallback from
    // pushing the later atomic requests under MIN: each step is then decided by the reserve alone.
    const a = make({ mib: 64, minFreeKbytes: 8192 });
    const held = belowLow(a);
    const managed = a.zoneInfo(Z0, abi.ZI_MANAGED);
    const cap = Math.floor(managed / 100) + 512; // reserve_highatomic_pageblock (v6.13+ cap)
    expect(a.zoneInfo(Z0, abi.ZI_RESERVED_HIGHATOMIC)).toBe(0);
    // Order 4 is above the pcp orders, so the request goes straight to the buddy (rmqueue_buddy).
    const p = a.alloc(4, abi.GFP_ATOMIC);
    expect(p).not.toBe(NIL);
    expect(a.pageblockMt(p)).toBe(abi.MT_HIGHATOMIC);
    expect(a.zoneInfo(Z0, abi.ZI_RESERVED_HIGHATOMIC)).toBe(512);
    const freeHa = a.zoneInfo(Z0, abi.ZI_FREE_HIGHATOMIC);
    expect(freeHa).toBeGreaterThanOrEqual(16); // the pageblock's other free pages moved to the HIGHATOMIC lists
    let onLists = 0;
    for (let o = 0; o <= abi.MAX_ORDER; o++) onLists += a.nrFree(Z0, o, abi.MT_HIGHATOMIC) << o;
    expect(onLists).toBe(freeHa);
    ok(a);
    const q = a.alloc(4, abi.GFP_ATOMIC);
    expect(q >> 9).toBe(p >> 9); // __rmqueue_smallest(MIGRATE_HIGHATOMIC) first
    expect(a.zoneInfo(Z0, abi.ZI_FREE_HIGHATOMIC)).toBe(freeHa - 16);
    // Keep feeding other pageblocks with free pages and atomic requests: the reserve grows by
    // pageblocks until the cap, never further.
    const byBlock = new Map<number, number[]>();
    for (const pfn of held) if (pfn >> 9 !== p >> 9) byBlock.set(pfn >> 9, [...(byBlock.get(pfn >> 9) ?? []), pfn]);
    let maxReserved = 0;
    for (const pfns of [...byBlock.values()].filter((x) => x.length === 512).slice(0, 6)) {
      for (const pfn of pfns.slice(0, 64)) a.free(pfn, 0);
      a.drain();
      while (a.alloc(4, abi.GFP_ATOMIC) !== NIL);
      maxReserved = Math.max(maxReserved, a.zoneInfo(Z0, abi.ZI_RESERVED_HIGHATOMIC));
    }
    expect(maxReserved).toBeGreaterThan(512); // a second pageblock joined the reserve...
    expect(maxReserved).toBeLessThan(cap + 512); // ...but none once the cap was reached
    ok(a);
  });

  it("highatomic: the free reserve does not count for ordinary requests' watermark; it is released before an allocation fails", () => {
    const a = make({ mib: 64, minFreeKbytes: 8192 });
    const held = belowLow(a);
    const p = a.alloc(4, abi.GFP_ATOMIC);
    expect(a.pageblockMt(p)).toBe(abi.MT_HIGHATOMIC);
    const low = a.zoneInfo(Z0, abi.ZI_WMARK_LOW);
    const freeHa = a.zoneInfo(Z0, abi.ZI_FREE_HIGHATOMIC);
    expect(freeHa).toBeGreaterThan(128);
    // Free ordinary pages elsewhere until free memory is well above LOW while free memory
    // outside the reserve is still at LOW.
    for (const pfn of held.filter((x) => x >> 9 !== p >> 9)) {
      if (a.zoneInfo(Z0, abi.ZI_FREE) - freeHa >= low - 8) break;
      a.free(pfn, 0);
      a.drain();
    }
    const free = a.zoneInfo(Z0, abi.ZI_FREE);
    expect(free).toBeGreaterThan(low + 64);
    expect(free - a.zoneInfo(Z0, abi.ZI_FREE_HIGHATOMIC)).toBeLessThanOrEqual(low);
    expect(a.watermarkOk(Z0, 0, abi.WMARK_LOW)).toBe(false); // __zone_watermark_unusable_free
    ok(a);
    // Movable requests then fail at LOW and MIN; before giving up the reserve is returned and used.
    const before = a.zoneInfo(Z0, abi.ZI_RESERVED_HIGHATOMIC);
    let n = 0;
    while (a.alloc(0, abi.GFP_MOVABLE) !== NIL && n < 100000) n++;
    expect(a.zoneInfo(Z0, abi.ZI_RESERVED_HIGHATOMIC)).toBeLessThan(before);
    expect(a.pageblockMt(p)).not.toBe(abi.MT_HIGHATOMIC);
    ok(a);
  });

  it("watermark boost: a fragmenting fallback boosts the marks; atomic order-0 requests ignore the boost at MIN", () => {
    const a = make({ mib: 64 });
    const held = exhaust(a).sort((x, y) => x - y);
    // free every other held page from the top: free memory above LOW again, but only in order-0
    // blocks inside movable pageblocks (nothing to claim whole)
    const low = a.zoneInfo(Z0, abi.ZI_WMARK_LOW);
    for (let i = held.length - 1; i > 0 && a.zoneInfo(Z0, abi.ZI_FREE) < low + 600; i -= 2) { a.free(held[i], 0); a.drain(); }
    expect(a.zoneInfo(Z0, abi.ZI_WMARK_BOOST)).toBe(0);
    // an unmovable request finds no unmovable block: it steals from a movable pageblock and boosts
    expect(a.alloc(0, abi.GFP_KERNEL)).not.toBe(NIL);
    const boost = a.zoneInfo(Z0, abi.ZI_WMARK_BOOST);
    expect(boost).toBeGreaterThan(0);
    const min = a.zoneInfo(Z0, abi.ZI_WMARK_MIN);
    const atomicFloor = min - Math.floor(min / 2) - Math.floor((min - Math.floor(min / 2)) / 4); // ALLOC_MIN_RESERVE + NON_BLOCK
    exhaust(a, abi.GFP_ATOMIC);
    expect(a.zoneInfo(Z0, abi.ZI_WMARK_BOOST)).toBeGreaterThanOrEqual(boost); // only kswapd clears it
    // with the boost counted the atomic requests would have stopped about 3/8 of it higher
    expect(a.zoneInfo(Z0, abi.ZI_FREE)).toBeLessThanOrEqual(atomicFloor + 1);
    ok(a);
  });

  it("pcp: each cpu has its own lists", () => {
    const a = make({ mib: 256, nrCpus: 2 });
    const p0 = a.alloc(0, abi.GFP_MOVABLE);
    expect(a.setCpu(1)).toBe(true);
    const p1 = a.alloc(0, abi.GFP_MOVABLE);
    expect(p1).not.toBe(p0 + 1); // cpu 1 refilled its own batch
    a.free(p1, 0);
    expect(a.setCpu(0)).toBe(true);
    expect(a.alloc(0, abi.GFP_MOVABLE)).toBe(p0 + 1);
    expect(a.setCpu(2)).toBe(false);
    ok(a);
  });
});

/**
 * Allocates everything below `last & ~1023` in big blocks (order 9 at 512, then order 10), then
 * ascending order-0 pages until `last` is held.
 */
function exhaustUpTo(a: AllocatorAdapter, last: number): number[] {
  const held: number[] = [a.alloc(9, abi.GFP_MOVABLE)];
  expect(held[0]).toBe(512);
  for (let p = 1024; p < (last & ~1023); p += 1024) expect(a.alloc(10, abi.GFP_MOVABLE)).toBe(p);
  for (;;) {
    const p = a.alloc(0, abi.GFP_MOVABLE);
    expect(p).not.toBe(NIL);
    held.push(p);
    if (p === last) return held;
  }
}

/**
 * A 16 MiB zone where every page is allocated (no watermarks), then `setup` frees the pages it
 * wants straight to the buddy: the zone then holds exactly those free blocks.
 */
function zoneWithOnly(make: (c: { mib: number; minFreeKbytes: number; watermarkScaleFactor: number; initOnAlloc: boolean }) => AllocatorAdapter,
  setup: (free: (pfn: number, order: number) => void) => void): AllocatorAdapter {
  const a = make({ mib: 16, minFreeKbytes: 0, watermarkScaleFactor: 0, initOnAlloc: false });
  exhaust(a);
  expect(a.zoneInfo(Z0, abi.ZI_FREE)).toBe(0);
  setup((pfn, order) => expect(a.free(pfn, order, abi.FPI_SKIP_REPORT_NOTIFY)).toBe(abi.OK));
  ok(a);
  return a;
}
