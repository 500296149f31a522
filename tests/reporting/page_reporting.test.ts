// SPDX-License-Identifier: MIT
// Free page reporting, mm side (assembly/mm/page_reporting.ts), against the in-guest test sink:
// state machine and cadence, budget, Reported flag lifecycle, tail placement, watermark gate,
// isolation while reporting, tunables, merges. mm/page_reporting.c is the specification.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { ReportingGuest, MT_MOV, SEC, Z0, NIL } from "./sink.js";

const MS = 1e6;

describe("free page reporting (mm)", () => {
  it("registration issues the initial request: the first pass is armed one delay (2 s) later", () => {
    const g = new ReportingGuest(256);
    expect(g.x.page_reporting_order()).toBe(11); // nothing registered
    g.enter(() => expect(g.x.page_reporting_test_register(0, 0)).toBe(0));
    expect(g.x.page_reporting_order()).toBe(abi.PAGEBLOCK_ORDER);
    expect(g.x.page_reporting_state()).toBe(abi.PAGE_REPORTING_REQUESTED);
    expect(g.reportingArms()).toEqual([2 * SEC]);
    expect(g.enter(() => g.x.page_reporting_test_register(0, 0))).toBe(abi.E_BUSY); // one reporter
  });

  it("a pass reports every free block of order >= 9 and puts it back at the tail marked Reported", () => {
    const g = new ReportingGuest(256);
    g.enter(() => g.x.page_reporting_test_register(0, 0));
    g.runUntil(2 * SEC);
    const log = g.sinkLog();
    // 256 MiB: one order-9 block (512..1023) and 63 order-10 blocks are free after boot
    expect(log.filter((e) => e.order === 9).map((e) => e.pfn)).toEqual([512]);
    expect(log.filter((e) => e.order === 10).length).toBe(63);
    expect(log.every((e) => e.isolated)).toBe(true);
    for (const e of log) {
      expect(g.flags(e.pfn)).toBe(abi.PT_FREE | abi.PG_BUDDY | abi.PG_REPORTED);
    }
    expect(g.freeList(10).length).toBe(63);
    expect(g.x.page_reporting_state()).toBe(abi.PAGE_REPORTING_IDLE);
    expect(g.vmstat(abi.VM_REPORTED_PAGES)).toBe(512 + 63 * 1024);
    // one full call when the 33rd block is seen, then the full sgl as the leftover call
    expect(g.vmstat(abi.VM_REPORT_CALLS)).toBe(2);
    expect(g.x.mm_validate()).toBe(abi.MMV_OK);
    // nothing new was freed: no further pass is armed
    expect(g.reportingArms()).toEqual([2 * SEC]);
  });

  it("allocation clears PG_REPORTED; the freed block is reported again by the next pass", () => {
    const g = new ReportingGuest(256);
    g.enter(() => g.x.page_reporting_test_register(0, 0));
    g.runUntil(2 * SEC);
    const pfn = g.enter(() => g.x.mm_alloc(10, abi.GFP_MOVABLE));
    expect(pfn).not.toBe(NIL);
    expect(g.flags(pfn) & abi.PG_REPORTED).toBe(0);
    expect(g.flags(pfn) & abi.PT_MASK).toBe(abi.PT_ALLOC);
    g.x.page_reporting_test_clear();
    const t = 10 * SEC;
    g.runUntil(t);
    g.enter(() => expect(g.x.mm_free(pfn, 10)).toBe(0));
    expect(g.x.page_reporting_state()).toBe(abi.PAGE_REPORTING_REQUESTED);
    expect(g.reportingArms().at(-1)).toBeCloseTo(t + 2 * SEC, -3);
    expect(g.reported(pfn)).toBe(false);
    g.runUntil(t + 3 * SEC);
    expect(g.sinkLog().map((e) => [e.pfn, e.order])).toEqual([[pfn, 10]]);
    expect(g.reported(pfn)).toBe(true);
  });

  it("freed blocks are placed where allocations take first; reported blocks stay behind them at the tail", () => {
    const g = new ReportingGuest(256);
    g.enter(() => g.x.page_reporting_test_register(0, 0));
    g.runUntil(2 * SEC);
    const a = g.enter(() => g.x.mm_alloc(10, abi.GFP_MOVABLE));
    const b = g.enter(() => g.x.mm_alloc(10, abi.GFP_MOVABLE));
    g.enter(() => { g.x.mm_free(a, 10); g.x.mm_free(b, 10); });
    const list = g.freeList(10);
    const firstReported = list.findIndex((p) => g.reported(p));
    // unreported blocks first, then only reported ones
    expect(list.slice(0, firstReported).every((p) => !g.reported(p))).toBe(true);
    expect(list.slice(firstReported).every((p) => g.reported(p))).toBe(true);
    expect(firstReported).toBe(2);
    g.runUntil(5 * SEC);
    // after the pass the two come back at the TAIL
    expect(g.freeList(10).slice(-2).sort()).toEqual([a, b].sort());
    expect(g.freeList(10).every((p) => g.reported(p))).toBe(true);
  });

  it("budget: at most ceil(nr_free/512) + 1 report calls per list per pass, then another pass 2 s later", () => {
    // order 10 only, so that the order-10 movable list is the only one in play
    const g = new ReportingGuest(1024, { PAGE_REPORTING_ORDER: 10 });
    g.enter(() => g.x.page_reporting_test_register(0, 0));
    const nrFree = g.x.mm_nr_free(Z0, 10, 99);
    expect(nrFree).toBe(255);
    const budget = Math.ceil(nrFree / 512); // 1
    const perPass: number[] = [];
    for (let pass = 1; pass <= 5; pass++) {
      const before = g.sinkLog().length;
      g.runUntil(2 * SEC * pass);
      perPass.push(g.sinkLog().length - before);
    }
    // (budget + 1) full 32-block calls per pass: 64, 64, 64, then the last 63, then idle
    expect(perPass).toEqual([(budget + 1) * 32, 64, 64, 63, 0]);
    expect(g.reportingArms()).toEqual([2 * SEC, 4 * SEC, 6 * SEC, 8 * SEC]);
    expect(g.x.page_reporting_state()).toBe(abi.PAGE_REPORTING_IDLE);
    expect(g.freeList(10).every((p) => g.reported(p))).toBe(true);
    expect(g.x.mm_validate()).toBe(abi.MMV_OK);
  });

  it("budget > 1: with capacity 1 and 4 the first pass makes exactly ceil(nr_free/(capacity*16)) + 1 calls on the list", () => {
    for (const capacity of [1, 4]) {
      const g = new ReportingGuest(1024, { PAGE_REPORTING_ORDER: 10, PAGE_REPORTING_CAPACITY: capacity });
      g.enter(() => g.x.page_reporting_test_register(0, 0));
      const nrFree = g.x.mm_nr_free(Z0, 10, 99);
      expect(nrFree).toBe(255);
      // DIV_ROUND_UP(nr_free, PAGE_REPORTING_CAPACITY * 16): 16 with capacity 1, 4 with capacity 4
      const budget = Math.ceil(nrFree / (capacity * 16));
      expect(budget).toBeGreaterThan(1);
      const callsPerPass = budget + 1; // report calls until budget < 0
      g.runUntil(2 * SEC);
      expect(g.x.page_reporting_test_calls(), `capacity ${capacity}`).toBe(callsPerPass);
      expect(g.sinkLog().length).toBe(callsPerPass * capacity);
      expect(new Set(g.sinkLog().map((e) => e.call)).size).toBe(callsPerPass);
      // the rest wait: out of budget, REQUESTED, the next pass armed 2 s later
      expect(g.freeList(10).filter((p) => !g.reported(p)).length).toBe(nrFree - callsPerPass * capacity);
      expect(g.reportingArms()).toEqual([2 * SEC, 4 * SEC]);
      // the second pass sees the same nr_free (blocks went back), so the same number of calls
      g.runUntil(4 * SEC);
      expect(g.x.page_reporting_test_calls()).toBe(2 * callsPerPass);
      expect(g.freeList(10).filter((p) => !g.reported(p)).length).toBe(nrFree - 2 * callsPerPass * capacity);
      expect(g.x.mm_validate()).toBe(abi.MMV_OK);
    }
  });

  it("cadence: frees during REQUESTED do not re-arm; small frees below the reporting order never request", () => {
    const g = new ReportingGuest(256);
    g.enter(() => g.x.page_reporting_test_register(0, 0));
    g.runUntil(3 * SEC);
    const arms0 = g.reportingArms().length;
    const small = g.enter(() => g.x.mm_alloc(3, abi.GFP_MOVABLE));
    g.enter(() => g.x.mm_free_fpi(small, 3, abi.FPI_TO_TAIL)); // buddy free, order 3 < 9 (merges back only to order 8 at most here)
    expect(g.x.page_reporting_state()).toBe(abi.PAGE_REPORTING_IDLE);
    expect(g.reportingArms().length).toBe(arms0);
    const p1 = g.enter(() => g.x.mm_alloc(10, abi.GFP_MOVABLE));
    const p2 = g.enter(() => g.x.mm_alloc(10, abi.GFP_MOVABLE));
    g.nowNs = 4 * SEC;
    g.enter(() => g.x.mm_free(p1, 10));
    g.nowNs = 5 * SEC;
    g.enter(() => g.x.mm_free(p2, 10));
    const arms = g.reportingArms().slice(arms0);
    expect(arms.length).toBe(1);
    expect(arms[0]).toBeGreaterThanOrEqual(6 * SEC);
    expect(arms[0]).toBeLessThan(6 * SEC + 1 * MS);
  });

  it("watermark gate: no reports while zone free < low + (capacity << order)", () => {
    const g = new ReportingGuest(128);
    const low = g.x.mm_zone_info(Z0, abi.ZI_WMARK_LOW);
    // leave free just below the gate: low + 32 << 9 = low + 16384 pages
    const gate = low + (32 << 9);
    const free = g.x.mm_zone_info(Z0, abi.ZI_FREE);
    const toTake = Math.ceil((free - gate + 1) / 1024);
    expect(g.enter(() => g.x.mm_bench_alloc(10, abi.GFP_MOVABLE, toTake))).toBe(toTake);
    expect(g.x.mm_zone_info(Z0, abi.ZI_FREE)).toBeLessThan(gate);
    g.enter(() => g.x.page_reporting_test_register(0, 0));
    g.runUntil(3 * SEC);
    expect(g.x.page_reporting_test_calls()).toBe(0);
    // give back one block: above the gate again, the next pass reports
    g.enter(() => g.x.mm_bench_free(10, 1));
    g.runUntil(6 * SEC);
    expect(g.x.mm_zone_info(Z0, abi.ZI_FREE)).toBeGreaterThanOrEqual(gate);
    expect(g.x.page_reporting_test_calls()).toBeGreaterThan(0);
  });

  it("isolation: blocks handed to the device are off the free lists and not counted free", () => {
    const g = new ReportingGuest(256);
    g.enter(() => g.x.page_reporting_test_register(0, 0));
    const freeBefore = g.x.mm_zone_info(Z0, abi.ZI_FREE);
    g.runUntil(2 * SEC);
    const log = g.sinkLog();
    expect(log.length).toBe(64);
    expect(log.every((e) => e.isolated)).toBe(true);
    // back on the lists after the pass with the same free count
    expect(g.x.mm_zone_info(Z0, abi.ZI_FREE)).toBe(freeBefore);
    expect(g.x.mm_validate()).toBe(abi.MMV_OK);
  });

  it("device error: blocks return to the free lists unmarked and the error is counted", () => {
    const g = new ReportingGuest(256);
    g.enter(() => g.x.page_reporting_test_register(0, abi.E_IO));
    g.runUntil(2 * SEC);
    expect(g.x.page_reporting_test_calls()).toBe(1);
    expect(g.vmstat(abi.VM_REPORT_FAILS)).toBe(1);
    expect(g.vmstat(abi.VM_REPORTED_PAGES)).toBe(0);
    expect(g.freeList(10).length).toBe(63);
    expect(g.freeList(10).some((p) => g.reported(p))).toBe(false);
    expect(g.x.mm_validate()).toBe(abi.MMV_OK);
  });

  it("tunables: delay (ms), capacity and order change the arm time, the call size and the orders reported", () => {
    const g = new ReportingGuest(128, { PAGE_REPORTING_DELAY_MS: 100, PAGE_REPORTING_CAPACITY: 8, PAGE_REPORTING_ORDER: 10 });
    g.enter(() => g.x.page_reporting_test_register(0, 0));
    expect(g.x.page_reporting_order()).toBe(10);
    expect(g.x.page_reporting_capacity()).toBe(8);
    expect(g.reportingArms()).toEqual([100 * MS]);
    g.runUntil(100 * MS);
    const log = g.sinkLog();
    expect(log.every((e) => e.order === 10)).toBe(true);
    const perCall = new Map<number, number>();
    for (const e of log) perCall.set(e.call, (perCall.get(e.call) ?? 0) + 1);
    expect(Math.max(...perCall.values())).toBe(8);
    // budget ceil(31/(8*16)) = 1: two calls of 8 in the first pass, then again 100 ms later
    expect(log.length).toBe(16);
    expect(g.reportingArms()).toEqual([100 * MS, 200 * MS]);
    // order at run time (sysfs): order-9 frees now request a pass
    expect(g.x.page_reporting_set_order(9)).toBe(0);
    expect(g.x.page_reporting_set_order(11)).toBe(abi.E_INVAL);
    expect(g.x.page_reporting_order()).toBe(9);
  });

  it("merge: freeing the buddy of a reported block clears the flag; the larger block is reported again at its order", () => {
    const g = new ReportingGuest(256);
    g.enter(() => g.x.page_reporting_test_register(0, 0));
    g.runUntil(2 * SEC);
    const lo = g.enter(() => g.x.mm_alloc(9, abi.GFP_MOVABLE));
    const hi = g.enter(() => g.x.mm_alloc(9, abi.GFP_MOVABLE));
    // both halves of one order-10 block (the 512..1023 order-9 block was taken first)
    const [a, b] = lo === 512 ? [hi, g.enter(() => g.x.mm_alloc(9, abi.GFP_MOVABLE))] : [lo, hi];
    expect(a ^ b).toBe(512);
    g.x.page_reporting_test_clear();
    g.enter(() => g.x.mm_free(a, 9));
    g.runUntil(5 * SEC);
    expect(g.sinkLog().map((e) => [e.pfn, e.order])).toEqual([[a, 9]]);
    expect(g.reported(a)).toBe(true);
    g.x.page_reporting_test_clear();
    g.enter(() => g.x.mm_free(b, 9));
    const merged = Math.min(a, b);
    expect(g.flags(merged) & (abi.PG_BUDDY | abi.PG_REPORTED)).toBe(abi.PG_BUDDY);
    expect(g.x.mm_find_buddy(a)).toBe(merged);
    expect(g.flags(Math.max(a, b))).toBe(abi.PT_FREE); // the merged-away head lost PageBuddy and PageReported
    g.runUntil(8 * SEC);
    expect(g.sinkLog().map((e) => [e.pfn, e.order])).toEqual([[merged, 10]]);
    expect(g.reported(merged)).toBe(true);
  });

  it("unregister cancels the pending pass and stops notifications", () => {
    const g = new ReportingGuest(256);
    g.enter(() => g.x.page_reporting_test_register(0, 0));
    g.x.page_reporting_unregister();
    expect(g.pendingAt(abi.TIMER_PAGE_REPORTING)).toBeUndefined();
    g.runUntil(5 * SEC);
    expect(g.x.page_reporting_test_calls()).toBe(0);
    const p = g.enter(() => g.x.mm_alloc(10, abi.GFP_MOVABLE));
    g.enter(() => g.x.mm_free(p, 10));
    expect(g.x.page_reporting_state()).toBe(abi.PAGE_REPORTING_IDLE);
  });
});
