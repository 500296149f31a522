import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { timerGuest, zoneFree } from "./mm2-harness.js";

const Z = abi.ZONE_DMA32;

/** Fills a guest with `filePages` of clean page cache, then anon memory down to just below LOW. */
function pressured(mib: number, filePages: number, dirtyPages = 0) {
  const t = timerGuest(mib);
  t.run((g) => { expect(g.wl_file_read(1, filePages)).toBe(filePages); });
  if (dirtyPages) t.run((g) => { expect(g.wl_file_write(2, dirtyPages)).toBe(dirtyPages); });
  t.g.mm_drain_pcp();
  return t;
}

describe("kswapd", () => {
  it("is woken below LOW and reclaims clean file pages up to HIGH only when its timer fires", () => {
    const t = pressured(64, 8000);
    const low = t.g.mm_zone_info(Z, abi.ZI_WMARK_LOW);
    const high = t.g.mm_zone_info(Z, abi.ZI_WMARK_HIGH);
    const cachedBefore = t.g.wl_file_cached(1);
    const toLow = zoneFree(t.g, Z) - low + 16; // dip below LOW, stay above MIN
    let timersArmedInCall = 0;
    t.run((g) => {
      expect(g.wl_anon_alloc(0, toLow, false)).toBe(toLow);
      timersArmedInCall = t.armed.has(abi.TIMER_KSWAPD) ? 1 : 0;
    });
    // asynchronous: nothing was reclaimed inside the allocating call
    expect(timersArmedInCall).toBe(1);
    expect(t.g.mm_kswapd_pending()).toBe(1);
    expect(t.guest.views.vmstat[abi.VM_PGSTEAL_KSWAPD]).toBe(0);
    expect(t.g.wl_file_cached(1)).toBe(cachedBefore);
    expect(zoneFree(t.g, Z)).toBeLessThan(low);
    // the timer fires: reclaim to HIGH
    while (t.armed.has(abi.TIMER_KSWAPD)) t.fireNext();
    expect(t.g.mm_kswapd_pending()).toBe(0);
    expect(zoneFree(t.g, Z)).toBeGreaterThanOrEqual(high);
    const stolen = t.guest.views.vmstat[abi.VM_PGSTEAL_KSWAPD];
    expect(stolen).toBeGreaterThan(0);
    expect(t.g.wl_file_cached(1)).toBe(cachedBefore - stolen);
    expect(t.g.wl_proc_anon_pages(0)).toBe(toLow); // anon is never reclaimed
    expect(t.guest.views.vmstat[abi.VM_WORKINGSET_REFAULT]).toBe(0);
    t.validate();
  });

  it("writes dirty file pages back before reclaiming them, and leaves anon alone", () => {
    const t = pressured(64, 0, 3000);
    const dirtyBefore = t.g.wl_file_dirty(2);
    expect(dirtyBefore).toBeGreaterThan(0);
    const toLow = zoneFree(t.g, Z) - t.g.mm_zone_info(Z, abi.ZI_WMARK_LOW) + 16;
    t.run((g) => g.wl_anon_alloc(0, toLow, false));
    while (t.armed.has(abi.TIMER_KSWAPD)) t.fireNext();
    const written = t.guest.views.vmstat[abi.VM_NR_WRITTEN];
    expect(t.guest.views.vmstat[abi.VM_PGSTEAL_KSWAPD]).toBeGreaterThan(0);
    expect(written).toBeGreaterThan(0);
    expect(zoneFree(t.g, Z)).toBeGreaterThanOrEqual(t.g.mm_zone_info(Z, abi.ZI_WMARK_HIGH));
    expect(t.g.wl_proc_anon_pages(0)).toBe(toLow);
    t.validate();
  });

  it("a re-read of reclaimed pages counts workingset refaults and activates them", () => {
    const t = pressured(64, 8000);
    const toLow = zoneFree(t.g, Z) - t.g.mm_zone_info(Z, abi.ZI_WMARK_LOW) + 16;
    t.run((g) => g.wl_anon_alloc(0, toLow, false));
    while (t.armed.has(abi.TIMER_KSWAPD)) t.fireNext();
    const stolen = t.guest.views.vmstat[abi.VM_PGSTEAL_KSWAPD];
    t.g.wl_anon_free(0, toLow);
    t.run((g) => g.wl_file_read(1, 8000));
    expect(t.guest.views.vmstat[abi.VM_WORKINGSET_REFAULT]).toBe(stolen);
    expect(t.g.wl_file_cached(1)).toBe(8000);
    t.validate();
  });
});

describe("direct reclaim", () => {
  it("on allocation failure reclaims clean page cache in SWAP_CLUSTER_MAX batches and counts allocstall", () => {
    const t = pressured(32, 4000);
    // take everything free without letting kswapd run: the allocating call must reclaim itself
    const want = zoneFree(t.g, Z) + 1000;
    let got = 0;
    t.run((g) => { got = g.wl_anon_alloc(0, want, false); });
    expect(got).toBe(want);
    const vm = t.guest.views.vmstat;
    expect(vm[abi.VM_ALLOCSTALL]).toBeGreaterThan(0);
    expect(vm[abi.VM_PGSTEAL_DIRECT]).toBeGreaterThanOrEqual(1000);
    expect(vm[abi.VM_PGSTEAL_KSWAPD]).toBe(0);
    expect(vm[abi.VM_OOM_KILL]).toBe(0);
    expect(t.g.wl_file_cached(1)).toBe(4000 - vm[abi.VM_PGSTEAL_DIRECT]);
    t.validate();
  });

  it("skips dirty pages (no writeback from direct reclaim) and shrinks reclaimable slab", () => {
    const t = pressured(32, 0, 1000);
    t.g.wl_kernel_alloc(500, true);
    const dirty = t.g.wl_file_dirty(2);
    const want = zoneFree(t.g, Z) + 300;
    t.run((g) => g.wl_anon_alloc(0, want, false));
    expect(t.g.wl_file_dirty(2)).toBe(dirty);
    expect(t.guest.views.vmstat[abi.VM_NR_WRITTEN]).toBe(0);
    expect(t.g.wl_kernel_pages(true)).toBeLessThan(500);
    expect(t.guest.views.vmstat[abi.VM_SLABS_SCANNED]).toBeGreaterThan(0);
    t.validate();
  });
});

describe("drop_caches", () => {
  function cached() {
    const t = timerGuest(32);
    t.g.wl_file_read(1, 500);
    t.g.wl_file_write(2, 300);
    t.g.wl_file_read(3, 200);
    t.g.wl_file_write(3, 50); // 50 of file 3's clean pages become dirty
    t.g.wl_kernel_alloc(100, true);
    t.g.wl_kernel_alloc(40, false);
    return t;
  }
  it("1 drops clean page cache only: dirty pages survive and slab stays", () => {
    const t = cached();
    const freed = t.g.mm_drop_caches(1);
    expect(freed).toBe(500 + 150);
    expect(t.g.wl_file_cached(1)).toBe(0);
    expect(t.g.wl_file_cached(2)).toBe(300);
    expect(t.g.wl_file_cached(3)).toBe(50);
    expect(t.g.wl_file_dirty(3)).toBe(50);
    expect(t.g.wl_kernel_pages(true)).toBe(100);
    expect(t.guest.views.vmstat[abi.VM_DROP_PAGECACHE]).toBe(1);
    t.validate();
    // sync, then dropping frees the rest; no shadow entries: a re-read is not a refault
    t.g.wl_file_sync(2);
    t.g.wl_file_sync(3);
    expect(t.g.mm_drop_caches(1)).toBe(350);
    t.g.wl_file_read(1, 100);
    expect(t.guest.views.vmstat[abi.VM_WORKINGSET_REFAULT]).toBe(0);
    t.validate();
  });
  it("2 drops reclaimable slab only, 3 both; unmovable kernel pages stay", () => {
    const t = cached();
    expect(t.g.mm_drop_caches(2)).toBe(100);
    expect(t.g.wl_kernel_pages(true)).toBe(0);
    expect(t.g.wl_kernel_pages(false)).toBe(40);
    expect(t.g.wl_file_cached(1)).toBe(500);
    const u = cached();
    expect(u.g.mm_drop_caches(3)).toBe(650 + 100);
    expect(u.g.wl_file_dirty(2)).toBe(300);
    expect(u.g.mm_drop_caches(0)).toBe(abi.E_INVAL);
    u.validate();
  });
});
