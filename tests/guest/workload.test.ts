import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { timerGuest } from "./mm2-harness.js";

function anonPfns(t: ReturnType<typeof timerGuest>, pid: number): Set<number> {
  const v = t.guest.views;
  const s = new Set<number>();
  for (let p = 0; p < t.guest.frames; p++) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_ANON && v.porder[p] >> 4 === pid) s.add(p);
  return s;
}

describe("in-guest workloads", () => {
  it("report simulated time that grows with their size", () => {
    const t = timerGuest(64);
    const small = t.run((g) => g.wl_anon_alloc(0, 1000, true));
    const large = t.run((g) => g.wl_anon_alloc(1, 4000, true));
    expect(small).toBeGreaterThan(0);
    expect(large / small).toBeGreaterThan(3);
    expect(large / small).toBeLessThan(5);
    const r1 = t.run((g) => g.wl_file_read(0, 100));
    const r4 = t.run((g) => g.wl_file_read(1, 400));
    expect(r4 / r1).toBeGreaterThan(3);
    const k1 = t.run((g) => g.wl_kernel_alloc(100, false));
    const k4 = t.run((g) => g.wl_kernel_alloc(400, false));
    expect(k4).toBeGreaterThan(k1);
  });

  it("anon alloc / touch / free: touch bumps versions, free takes the newest pages (LIFO)", () => {
    const t = timerGuest(32);
    expect(t.g.wl_anon_alloc(2, 50, false)).toBe(50);
    const first = anonPfns(t, 2);
    expect(t.g.wl_anon_alloc(2, 30, true)).toBe(30);
    expect(t.g.wl_proc_anon_pages(2)).toBe(80);
    expect(t.guest.views.vmstat[abi.VM_NR_ANON]).toBe(80);
    const v0 = [...first].map((p) => t.guest.views.versions[p]);
    expect(t.g.wl_anon_touch(2, 80)).toBe(80);
    expect([...first].map((p) => t.guest.views.versions[p])).toEqual(v0.map((x) => x + 1));
    expect(t.g.wl_anon_free(2, 30)).toBe(30);
    expect(anonPfns(t, 2)).toEqual(first);
    expect(t.g.wl_anon_free(2, 1000)).toBe(50);
    expect(t.g.wl_anon_touch(2, 5)).toBe(0);
    t.g.mm_drain_pcp();
    t.validate();
  });

  it("process exit frees everything; kernel alloc/free keep NR_KERNEL and NR_SLAB_RECLAIMABLE exact", () => {
    const t = timerGuest(32);
    t.g.wl_anon_alloc(9, 300, false);
    expect(t.g.wl_process_exit(9)).toBe(300);
    expect(t.g.wl_proc_anon_pages(9)).toBe(0);
    expect(t.g.wl_kernel_alloc(70, false)).toBe(70);
    expect(t.g.wl_kernel_alloc(30, true)).toBe(30);
    expect(t.guest.views.vmstat[abi.VM_NR_KERNEL]).toBe(70);
    expect(t.guest.views.vmstat[abi.VM_NR_SLAB_RECLAIMABLE]).toBe(30);
    expect(t.g.wl_kernel_free(80)).toBe(80);
    expect(t.g.wl_kernel_pages(false)).toBe(0);
    expect(t.g.wl_kernel_pages(true)).toBe(20);
    t.g.mm_drain_pcp();
    t.validate();
  });

  it("the fragmenter keeps one page in every keepEvery, spread over every pageblock it touched", () => {
    const t = timerGuest(32);
    const free = t.g.mm_zone_info(abi.ZONE_DMA32, abi.ZI_FREE);
    const kept = t.g.wl_fragment(4, free, 32, 77, false);
    const pfns = [...anonPfns(t, 4)];
    expect(pfns.length).toBe(kept);
    const phase = pfns[0] % 32;
    expect(pfns.every((p) => p % 32 === phase)).toBe(true);
    t.g.mm_drain_pcp();
    expect(t.g.mm_nr_free(abi.ZONE_DMA32, 9, abi.NR_MIGRATETYPES)).toBe(0);
    t.validate();
    // same seed, same result
    const u = timerGuest(32);
    expect(u.g.wl_fragment(4, free, 32, 77, false)).toBe(kept);
    expect([...anonPfns(u, 4)].sort()).toEqual(pfns.sort());
  });

  it("bad arguments return E_INVAL", () => {
    const t = timerGuest(16);
    expect(t.g.wl_anon_alloc(abi.NR_PROCS, 1, false)).toBe(abi.E_INVAL);
    expect(t.g.wl_fragment(0, 10, 0, 1, false)).toBe(abi.E_INVAL);
    expect(t.g.wl_process_exit(100)).toBe(abi.E_INVAL);
    expect(t.g.mm_compact_zone(abi.NR_ZONES, -1, 1)).toBe(abi.E_INVAL);
  });
});
