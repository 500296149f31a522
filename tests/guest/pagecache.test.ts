import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { timerGuest } from "./mm2-harness.js";

describe("page cache", () => {
  it("a first read misses (disk cost per page), a re-read hits and activates the pages", () => {
    const t = timerGuest(32);
    const diskNs = t.guest.views.costs[abi.COST_FILE_READ_PAGE_NS];
    const cold = t.run((g) => expect(g.wl_file_read(0, 200)).toBe(200));
    expect(cold).toBeGreaterThanOrEqual(200 * diskNs);
    expect(t.g.wl_file_cached(0)).toBe(200);
    expect(t.g.wl_file_active(0)).toBe(0);
    const warm = t.run((g) => expect(g.wl_file_read(0, 200)).toBe(200));
    expect(warm).toBeLessThan(cold / 50); // memory speed, no disk
    expect(t.g.wl_file_active(0)).toBe(200);
    expect(t.guest.views.vmstat[abi.VM_PGACTIVATE]).toBe(200);
    // a longer read: 200 hits, 100 new pages
    t.run((g) => g.wl_file_read(0, 300));
    expect(t.g.wl_file_cached(0)).toBe(300);
    expect(t.guest.views.vmstat[abi.VM_NR_FILE]).toBe(300);
    t.validate();
  });

  it("append adds new dirty pages and leaves the cached ones alone (an object file written once)", () => {
    const t = timerGuest(32);
    t.g.wl_file_read(6, 100);
    const v = t.guest.views;
    const cached: [number, number][] = [];
    for (let p = 0; p < t.guest.frames; p++) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_FILE && v.porder[p] >> 4 === 6) cached.push([p, v.versions[p]]);
    expect(cached.length).toBe(100);
    expect(t.g.wl_file_append(6, 40)).toBe(40);
    expect(t.g.wl_file_cached(6)).toBe(140);
    expect(t.g.wl_file_dirty(6)).toBe(40);
    for (const [p, ver] of cached) expect(v.versions[p]).toBe(ver); // nothing rewritten
    expect(t.g.wl_file_append(6, 40)).toBe(40);
    expect(t.g.wl_file_cached(6)).toBe(180);
    expect(t.g.wl_file_append(16, 1)).toBe(abi.E_INVAL);
    t.validate();
  });

  it("writes dirty cached pages first, then add dirty pages; sync cleans, truncate drops all", () => {
    const t = timerGuest(32);
    t.g.wl_file_read(5, 100);
    expect(t.g.wl_file_write(5, 150)).toBe(150);
    expect(t.g.wl_file_cached(5)).toBe(150);
    expect(t.g.wl_file_dirty(5)).toBe(150);
    expect(t.guest.views.vmstat[abi.VM_NR_FILE_DIRTY]).toBe(150);
    t.validate();
    expect(t.g.wl_file_sync(5)).toBe(150);
    expect(t.g.wl_file_dirty(5)).toBe(0);
    expect(t.guest.views.vmstat[abi.VM_NR_WRITTEN]).toBe(150);
    t.g.wl_file_write(5, 10);
    expect(t.g.wl_file_truncate(5)).toBe(150);
    expect(t.guest.views.vmstat[abi.VM_NR_FILE]).toBe(0);
    expect(t.guest.views.vmstat[abi.VM_NR_FILE_DIRTY]).toBe(0);
    t.validate();
  });

  it("a writer above dirty_ratio (20 %) writes its own pages back (balance_dirty_pages)", () => {
    const t = timerGuest(64);
    const free = t.g.mm_zone_info(abi.ZONE_DMA32, abi.ZI_FREE);
    t.run((g) => g.wl_file_write(1, Math.floor(free * 0.5)));
    const vm = t.guest.views.vmstat;
    expect(vm[abi.VM_NR_WRITTEN]).toBeGreaterThan(0);
    expect(vm[abi.VM_NR_FILE_DIRTY]).toBeLessThanOrEqual(0.2 * (vm[abi.VM_NR_FREE_PAGES] + vm[abi.VM_NR_FILE]) + 1);
    t.validate();
  });

  it("file ids out of range are refused", () => {
    const t = timerGuest(16);
    expect(t.g.wl_file_read(abi.NR_FILES, 1)).toBe(abi.E_INVAL);
    expect(t.g.wl_file_write(99, 1)).toBe(abi.E_INVAL);
    expect(t.g.wl_file_cached(abi.NR_FILES)).toBe(abi.E_INVAL);
  });
});
