import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { timerGuest, nrFree } from "./mm2-harness.js";

const Z = abi.ZONE_DMA32; // small guests are all DMA32

describe("compaction", () => {
  it("raises the number of free order-9 blocks after a movable fragmenter", () => {
    const t = timerGuest(64);
    const free = t.g.mm_zone_info(Z, abi.ZI_FREE);
    const kept = t.g.wl_fragment(1, free, 64, 7, false);
    expect(kept).toBeGreaterThan(100);
    t.g.mm_drain_pcp();
    t.validate();
    const before = nrFree(t.g, Z, 9) + 2 * nrFree(t.g, Z, 10);
    expect(t.g.mm_frag_index(Z, 9)).toBeGreaterThan(500);
    const moved = t.g.mm_compact_all();
    t.validate();
    const after = nrFree(t.g, Z, 9) + 2 * nrFree(t.g, Z, 10);
    expect(moved).toBeGreaterThan(0);
    expect(after).toBeGreaterThan(before + 5);
    expect(t.g.wl_proc_anon_pages(1)).toBe(kept);
    expect(t.guest.views.vmstat[abi.VM_PGMIGRATE_SUCCESS]).toBe(moved);
  });

  it("cannot create order-9 blocks after an unmovable fragmenter", () => {
    const t = timerGuest(64);
    const free = t.g.mm_zone_info(Z, abi.ZI_FREE);
    const kept = t.g.wl_fragment(0, free, 64, 7, true);
    expect(kept).toBeGreaterThan(100);
    t.g.mm_drain_pcp();
    const before = nrFree(t.g, Z, 9) + 2 * nrFree(t.g, Z, 10);
    const moved = t.g.mm_compact_all();
    t.validate();
    expect(moved).toBe(0);
    expect(nrFree(t.g, Z, 9) + 2 * nrFree(t.g, Z, 10)).toBe(before);
  });

  it("migrated pages keep their content versions and owners", () => {
    const t = timerGuest(32);
    const free = t.g.mm_zone_info(Z, abi.ZI_FREE);
    t.g.wl_fragment(3, free, 16, 3, false);
    t.g.wl_anon_touch(3, 100);
    t.g.wl_file_read(2, 300);
    t.g.wl_file_write(2, 50);
    const v = t.guest.views;
    const versionsOf = (pid: number): number[] => {
      // walk the process list from its newest page through the next links (owner order)
      const out: number[] = [];
      const pages: number[] = [];
      for (let p = 0; p < t.guest.frames; p++) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_ANON && v.porder[p] >> 4 === pid) pages.push(p);
      const heads = pages.filter((p) => v.prev[p] === abi.NIL);
      expect(heads.length).toBe(1);
      for (let p = heads[0]; p !== abi.NIL; p = v.next[p]) out.push(v.versions[p]);
      return out;
    };
    const before = versionsOf(3);
    const pfnsBefore = new Set<number>();
    for (let p = 0; p < t.guest.frames; p++) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_ANON) pfnsBefore.add(p);
    const moved = t.g.mm_compact_all();
    expect(moved).toBeGreaterThan(0);
    t.validate();
    const after = versionsOf(3);
    expect(after).toEqual(before);
    let movedAnon = 0;
    for (let p = 0; p < t.guest.frames; p++) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_ANON && !pfnsBefore.has(p)) movedAnon++;
    expect(movedAnon).toBeGreaterThan(0);
    expect(t.g.wl_file_cached(2)).toBe(300);
    expect(t.g.wl_file_dirty(2)).toBe(50);
  });

  it("mm_migrate_page moves one page to a chosen frame keeping version, type, flags and list place", () => {
    const t = timerGuest(16);
    t.g.wl_anon_alloc(0, 3, true);
    const v = t.guest.views;
    const pages: number[] = [];
    for (let p = 0; p < t.guest.frames; p++) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_ANON) pages.push(p);
    expect(pages.length).toBe(3);
    const mid = pages.find((p) => v.prev[p] !== abi.NIL && v.next[p] !== abi.NIL)!;
    const ver = v.versions[mid];
    const dst = t.g.mm_alloc(0, abi.GFP_MOVABLE);
    expect(t.g.mm_migrate_page(mid, dst)).toBe(abi.OK);
    expect(v.versions[dst]).toBe(ver);
    expect(v.pflags[dst] & abi.PT_MASK).toBe(abi.PT_ANON);
    expect(v.next[v.prev[dst]]).toBe(dst);
    expect(v.prev[v.next[dst]]).toBe(dst);
    expect(t.g.wl_proc_anon_pages(0)).toBe(3);
    expect(t.g.mm_migrate_page(dst, dst)).toBe(abi.E_INVAL);
    const kernel = t.g.mm_alloc(0, abi.GFP_KERNEL);
    expect(t.g.mm_migrate_page(kernel, t.g.mm_alloc(0, abi.GFP_MOVABLE))).toBe(abi.E_INVAL);
    t.g.mm_drain_pcp();
    t.validate();
  });

  it("the fragmentation index matches the formula of mm/vmstat.c", () => {
    const t = timerGuest(16);
    // hold everything, then free a chosen pattern: 40 isolated order-0 pages
    const pfns: number[] = [];
    for (;;) {
      const p = t.g.mm_alloc(0, abi.GFP_MOVABLE | abi.GFP_NORETRY);
      if (p === abi.NIL) break;
      pfns.push(p);
    }
    t.g.mm_drain_pcp();
    const freed = pfns.filter((p) => p % 8 === 0).slice(0, 40);
    for (const p of freed) t.g.mm_free_fpi(p, 0, abi.FPI_TO_TAIL);
    let blocks = 0, pages = 0, suitable = false;
    for (let o = 0; o <= abi.MAX_ORDER; o++) {
      const n = nrFree(t.g, Z, o);
      blocks += n; pages += n << o;
      if (o >= 9 && n > 0) suitable = true;
    }
    expect(suitable).toBe(false);
    const expected = 1000 - Math.floor((1000 + Math.floor((pages * 1000) / 512)) / blocks);
    expect(t.g.mm_frag_index(Z, 9)).toBe(expected);
    expect(t.g.mm_extfrag(Z, 9)).toBe(100);
  });

  it("compaction_suitable refuses when the index is <= extfrag_threshold or memory is short", () => {
    const t = timerGuest(64);
    expect(t.g.mm_frag_index(Z, 9)).toBe(-1000);
    expect(t.g.mm_compaction_suitable(Z, 9)).toBe(1); // suitable block exists: index -1000 is not in [0, 500]
    // fill memory so only a little above the watermarks stays free
    const free = t.g.mm_zone_info(Z, abi.ZI_FREE);
    const low = t.g.mm_zone_info(Z, abi.ZI_WMARK_LOW);
    expect(t.g.wl_anon_alloc(1, free - low - 200, false)).toBe(free - low - 200);
    t.g.mm_drain_pcp();
    expect(t.g.mm_compaction_suitable(Z, 9)).toBe(0); // below low + compact_gap(9) = 1024 pages
    expect(t.g.mm_compaction_suitable(Z, 2)).toBe(1); // min + 8 pages is there
    // plenty of memory, few blocks: the index says "lack of memory", not fragmentation
    const t2 = timerGuest(64, { params: [[abi.PARAM_EXTFRAG_THRESHOLD, 999]] });
    const f2 = t2.g.mm_zone_info(Z, abi.ZI_FREE);
    t2.g.wl_fragment(1, f2, 64, 9, false);
    t2.g.mm_drain_pcp();
    const fi = t2.g.mm_frag_index(Z, 9);
    expect(fi).toBeGreaterThan(500);
    expect(t2.g.mm_compaction_suitable(Z, 9)).toBe(0); // fi <= 999
    t2.g.guest_set_param(abi.PARAM_EXTFRAG_THRESHOLD, 500);
    expect(t2.g.mm_compaction_suitable(Z, 9)).toBe(1);
  });

  it("direct compaction serves a failed order-9 allocation and defers after failure", () => {
    const t = timerGuest(64);
    const free = t.g.mm_zone_info(Z, abi.ZI_FREE);
    t.g.wl_fragment(1, free, 128, 11, false);
    t.g.mm_drain_pcp();
    expect(nrFree(t.g, Z, 9) + nrFree(t.g, Z, 10)).toBe(0);
    let got = 0;
    t.run((g) => { got = g.mm_alloc(9, abi.GFP_MOVABLE); });
    expect(got).not.toBe(abi.NIL);
    expect(t.guest.views.vmstat[abi.VM_COMPACT_STALL]).toBeGreaterThan(0);
    expect(t.guest.views.vmstat[abi.VM_COMPACT_SUCCESS]).toBeGreaterThan(0);
    t.validate();
    // unmovable pins everywhere: compaction fails and is deferred
    const u = timerGuest(64);
    u.g.wl_fragment(0, u.g.mm_zone_info(Z, abi.ZI_FREE), 128, 11, true);
    u.g.mm_drain_pcp();
    expect(u.g.mm_alloc(9, abi.GFP_MOVABLE | abi.GFP_NORETRY)).toBe(abi.NIL);
    expect(u.g.mm_compact_defer_shift(Z)).toBeGreaterThan(0);
  });

  it("charges simulated time per migrated page", () => {
    const t = timerGuest(32);
    t.g.wl_fragment(1, t.g.mm_zone_info(Z, abi.ZI_FREE), 64, 1, false);
    let moved = 0;
    const ns = t.run((g) => { moved = g.mm_compact_all(); });
    expect(moved).toBeGreaterThan(0);
    expect(ns).toBeGreaterThanOrEqual(moved * t.guest.views.costs[abi.COST_PAGE_COPY_NS]);
  });
});

describe("compaction skip marks and cached scanner positions", () => {
  /**
   * A 64 MiB guest whose every pageblock keeps an unmovable page: no order-9 block can form.
   * Proactive compaction is off (it would scan, and mark, on its own 500 ms cadence).
   */
  function pinned() {
    const t = timerGuest(64, { release: true, params: [[abi.PARAM_COMPACTION_PROACTIVENESS, 0]] });
    const free = t.g.mm_zone_info(Z, abi.ZI_FREE);
    t.g.wl_fragment(0, free, 64, 7, true);
    t.g.mm_drain_pcp();
    t.runUntil(t.now() + 1e9); // the fragmenter's kswapd wakeup runs now, not during the test
    return t;
  }
  const scanned = (t: ReturnType<typeof timerGuest>) =>
    t.g.mm_compact_stats(abi.CS_MIGRATE_SCANNED) + t.g.mm_compact_stats(abi.CS_FREE_SCANNED);

  it("a failed run marks the pageblocks it got nothing from; the next run skips them; compact_memory ignores the marks", () => {
    const t = pinned();
    expect(t.g.mm_compact_skip_marks(Z)).toBe(0);
    expect(t.g.mm_compact_zone(Z, 9, abi.MT_MOVABLE)).toBe(abi.COMPACT_COMPLETE); // scanners met, from the zone's start
    const first = scanned(t);
    const marks = t.g.mm_compact_skip_marks(Z);
    expect(first).toBeGreaterThan(1000);
    expect(marks).toBeGreaterThan(16);
    expect(t.g.mm_compact_zone(Z, 9, abi.MT_MOVABLE)).toBe(abi.COMPACT_COMPLETE);
    expect(scanned(t)).toBeLessThan(first / 4); // the marked pageblocks are passed over
    t.g.mm_compact_all(); // /proc/sys/vm/compact_memory: whole zone, marks ignored
    expect(t.g.mm_compact_stats(abi.CS_MIGRATE_SCANNED)).toBeGreaterThan(first / 2);
    t.validate();
  });

  it("after the longest deferral (shift 6, 64 attempts) compaction restarts: the marks are cleared and the zone is scanned again", () => {
    const t = pinned();
    const runs: { scanned: number; shift: number }[] = [];
    for (let i = 0; i < 600 && runs.length < 12; i++) {
      const stall = t.guest.views.vmstat[abi.VM_COMPACT_STALL];
      t.g.mm_alloc(9, abi.GFP_KERNEL | abi.GFP_NORETRY); // one direct compaction attempt, never OOM
      expect(t.guest.views.vmstat[abi.VM_COMPACT_STALL]).toBe(stall + 1);
      if (t.g.mm_compact_stats(abi.CS_RESULT) !== abi.COMPACT_DEFERRED) runs.push({ scanned: scanned(t), shift: t.g.mm_compact_defer_shift(Z) });
    }
    const first = runs[0].scanned;
    expect(first).toBeGreaterThan(1000);
    // while deferred, the runs that do happen pass over the marked pageblocks
    expect(runs.slice(1, 6).every((r) => r.scanned < first / 4)).toBe(true);
    // the run after 64 deferred attempts at shift 6 starts afresh: a full scan again
    const restart = runs.findIndex((r, k) => k > 0 && r.scanned > first / 2);
    expect(restart).toBeGreaterThanOrEqual(6);
    expect(runs[restart - 1].shift).toBe(6);
    expect(runs[restart - 1].scanned).toBeLessThan(first / 4);
    t.validate();
  });

  it("direct compaction's marks are cleared when kswapd next goes to sleep balanced", () => {
    const t = pinned();
    const runs0 = t.guest.views.vmstat[abi.VM_PAGEOUTRUN];
    let pfn = 0;
    t.run((g) => { pfn = g.mm_alloc(9, abi.GFP_KERNEL); }); // direct compaction: the scanners meet
    expect(pfn).toBe(abi.NIL);
    expect(t.guest.views.vmstat[abi.VM_COMPACT_STALL]).toBeGreaterThan(0);
    expect(t.g.mm_compact_stats(abi.CS_RESULT)).toBe(abi.COMPACT_COMPLETE);
    const marks = t.g.mm_compact_skip_marks(Z);
    expect(marks).toBeGreaterThan(16);
    t.runUntil(t.now() + 1e9);
    expect(t.guest.views.vmstat[abi.VM_PAGEOUTRUN]).toBe(runs0); // balanced: kswapd was not woken
    expect(t.g.mm_compact_skip_marks(Z)).toBeGreaterThanOrEqual(marks); // so the marks stay
    // page cache pushes the zone below LOW: kswapd runs, balances it and goes to sleep
    t.run((g) => { g.wl_file_read(1, 15500); });
    t.runUntil(t.now() + 1e9);
    expect(t.guest.views.vmstat[abi.VM_PAGEOUTRUN]).toBeGreaterThan(runs0);
    expect(t.g.mm_kswapd_pending()).toBe(0);
    expect(t.g.mm_compact_skip_marks(Z)).toBe(0);
    t.validate();
  });
});
