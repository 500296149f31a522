// SPDX-License-Identifier: MIT
// Free page reporting over virtio-balloon: the driver glue puts the blocks on reporting_vq, the
// device discards them (QEMU virtio_balloon_handle_report rules), the guest keeps its data.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { ConfigError, GuestCallError } from "../../host/guest/errors.js";
import { setReportingTunables, reportingStatus } from "../../host/virtio/balloon/reporting.js";
import { HOST_PAGE_2M } from "../../host/memory/guest_memory.js";
import { reportingVm, step, anonAlloc, anonFree, metric, MIB, SEC, PAGE } from "./helpers.js";

describe("free page reporting over virtio-balloon", () => {
  it("probe registers the balloon as the reporting device; the first pass runs 2 s later and discards nothing resident", () => {
    const f = reportingVm(256);
    expect(f.vm.guest.exports.balloon_reporting_bound()).toBe(1);
    expect(f.vm.armedTimers().get(abi.TIMER_PAGE_REPORTING)).toBe(2 * SEC);
    f.host.runUntil(3 * SEC);
    expect(metric(f, "free_page_report_count")).toBe(2); // 64 blocks: one full call + the leftover
    expect(metric(f, "free_page_report_ranges")).toBe(64);
    expect(metric(f, "free_page_report_freed_bytes")).toBe(0); // never touched: nothing resident
    expect(reportingStatus(f.vm).reportedPages).toBe(512 + 63 * 1024);
  });

  it("touched memory that is freed goes back to the host at the next pass; in-use pages keep their contents", () => {
    const f = reportingVm(256);
    f.host.runUntil(3 * SEC);
    const keep = anonAlloc(f, 1, 8192); // 32 MiB stays in use
    const used = anonAlloc(f, 2, 32768); // 128 MiB, freed below
    expect(keep + used).toBe(8192 + 32768);
    const rssBefore = f.vm.rssBytes;
    anonFree(f, 2, 32768);
    const tFree = f.host.sim.now;
    // the pages still in use (process 1) and their content versions before any pass
    const v = f.vm.guest.views;
    const kept: [number, number][] = [];
    for (let p = 0; p < f.vm.frames; p++) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_ANON) kept.push([p, v.versions[p]]);
    expect(f.vm.rssBytes).toBe(rssBefore); // a free alone returns nothing
    f.host.runUntil(tFree + 1.9 * SEC);
    expect(f.vm.rssBytes).toBe(rssBefore);
    f.host.runUntil(tFree + 2.5 * SEC);
    const back = rssBefore - f.vm.rssBytes;
    expect(back).toBeGreaterThan(100 * MIB);
    expect(metric(f, "free_page_report_freed_bytes")).toBe(back);
    // every page still in use kept its version (nothing of it was discarded)
    const u = f.vm.guest.views;
    let lost = 0;
    for (const [p, ver] of kept) if (u.versions[p] !== ver || (u.hstate[p] & abi.HS_BACKED) === 0) lost++;
    expect(kept.length).toBeGreaterThanOrEqual(8192);
    expect(lost).toBe(0);
    f.vm.memory.validate();
  });

  it("reuse: allocating reported memory refaults zero pages; the data written then is kept", () => {
    const f = reportingVm(256);
    f.host.runUntil(3 * SEC);
    anonAlloc(f, 1, 16384);
    anonFree(f, 1, 16384);
    f.host.runUntil(f.host.sim.now + 3 * SEC);
    const refaults0 = f.vm.memory.stats.refaults;
    const rss0 = f.vm.rssBytes;
    // frames the host discarded after the first use (a reported block never touched before was
    // not populated, so touching it is a first touch, not a refault)
    const d = f.vm.guest.views.hostDiscarded;
    const wasDiscarded = (p: number): boolean => (d[p >>> 5] & (1 << (p & 31))) !== 0;
    const discarded = new Set<number>();
    for (let p = 0; p < f.vm.frames; p++) if (wasDiscarded(p)) discarded.add(p);
    anonAlloc(f, 1, 16384);
    const v = f.vm.guest.views;
    let reused = 0;
    for (const p of discarded) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_ANON) reused++;
    expect(reused).toBeGreaterThanOrEqual(512); // at least one reported block is reused
    expect(f.vm.memory.stats.refaults - refaults0).toBe(reused);
    expect(f.vm.rssBytes - rss0).toBeGreaterThanOrEqual(60 * MIB);
    let zero = 0;
    for (let p = 0; p < f.vm.frames; p++) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_ANON && v.versions[p] === 0) zero++;
    expect(zero).toBe(0); // init_on_alloc wrote every new page after its refault
  });

  it("poison_val != 0: the device only acks (a discard would lose the poison pattern)", () => {
    const f = reportingVm(256, { vm: { params: { PAGE_POISONING: 1 } } });
    expect(f.vm.guest.exports.balloon_poison_val()).toBe(0xaaaaaaaa);
    f.host.runUntil(3 * SEC);
    anonAlloc(f, 1, 16384);
    anonFree(f, 1, 16384);
    const rss = f.vm.rssBytes;
    f.host.runUntil(f.host.sim.now + 5 * SEC);
    expect(metric(f, "free_page_report_count")).toBeGreaterThan(2);
    expect(metric(f, "free_page_report_skipped")).toBe(metric(f, "free_page_report_ranges"));
    expect(metric(f, "free_page_report_freed_bytes")).toBe(0);
    expect(f.vm.rssBytes).toBe(rss);
  });

  it("init_on_free: poison_val 0, so reported pages are discarded", () => {
    const f = reportingVm(256, { vm: { params: { INIT_ON_FREE: 1 } } });
    expect(f.vm.guest.exports.balloon_poison_val()).toBe(0);
    f.host.runUntil(3 * SEC);
    anonAlloc(f, 1, 16384);
    anonFree(f, 1, 16384);
    f.host.runUntil(f.host.sim.now + 3 * SEC);
    expect(metric(f, "free_page_report_freed_bytes")).toBeGreaterThan(32 * MIB);
  });

  it("2 MiB host pages: order-9 blocks are discarded, order-8 blocks (1 MiB) are skipped as misaligned", () => {
    const f = reportingVm(256, { vm: { hostPageBytes: HOST_PAGE_2M, params: { PAGE_REPORTING_ORDER: 8 } } });
    expect(f.vm.guest.exports.page_reporting_order()).toBe(8);
    f.host.runUntil(3 * SEC);
    const skipped0 = metric(f, "free_page_report_skipped");
    // order-8 blocks whose buddies stay allocated: free every other one
    const blocks: number[] = [];
    step(f, "alloc-o8", (g) => { for (let i = 0; i < 40; i++) blocks.push(g.mm_alloc(8, abi.GFP_MOVABLE)); });
    const rss = f.vm.rssBytes;
    step(f, "free-o8", (g) => { for (const b of blocks) if (b !== 0xffffffff && (b & 256) === 0) expect(g.mm_free(b, 8)).toBe(0); });
    f.host.runUntil(f.host.sim.now + 3 * SEC);
    expect(metric(f, "free_page_report_skipped") - skipped0).toBeGreaterThanOrEqual(15);
    expect(f.vm.rssBytes).toBe(rss);
    // order-9 frees on 2 MiB host pages do go back
    const big: number[] = [];
    step(f, "alloc-o9", (g) => { for (let i = 0; i < 16; i++) big.push(g.mm_alloc(9, abi.GFP_MOVABLE)); });
    const rss2 = f.vm.rssBytes;
    step(f, "free-o9", (g) => { for (const b of big) g.mm_free(b, 9); });
    f.host.runUntil(f.host.sim.now + 3 * SEC);
    expect(rss2 - f.vm.rssBytes).toBeGreaterThanOrEqual(16 * 2 * MIB);
    f.vm.memory.validate();
  });

  it("the reporting queue must hold `capacity` entries: a capacity above the queue size fails the probe", () => {
    expect(() => reportingVm(256, { vm: { params: { PAGE_REPORTING_CAPACITY: 64 } } })).toThrow(ConfigError);
  });

  it("tunables at run time: a 100 ms delay makes the next pass follow a free by 100 ms", () => {
    const f = reportingVm(256);
    f.host.runUntil(3 * SEC);
    setReportingTunables(f.vm, { delayMs: 100 });
    anonAlloc(f, 1, 16384);
    const rss = f.vm.rssBytes;
    anonFree(f, 1, 16384);
    const t = f.host.sim.now;
    f.host.runUntil(t + 200e6);
    expect(rss - f.vm.rssBytes).toBeGreaterThan(32 * MIB);
    expect(() => setReportingTunables(f.vm, { order: 11 })).toThrow(ConfigError);
    expect(() => setReportingTunables(f.vm, { capacity: 0 })).toThrow(ConfigError);
    void GuestCallError;
    void PAGE;
  });
});
