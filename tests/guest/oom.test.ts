import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { timerGuest, zoneFree } from "./mm2-harness.js";

const Z = abi.ZONE_DMA32;

describe("OOM", () => {
  it("kills the process with the most anon pages and frees all of them", () => {
    const t = timerGuest(32);
    expect(t.g.mm_oom_victim()).toBe(abi.NO_PROC);
    const big = Math.floor(zoneFree(t.g, Z) * 0.6);
    t.g.wl_anon_alloc(4, big, false);
    t.g.wl_anon_alloc(2, 500, false);
    expect(t.g.mm_oom_select()).toBe(4);
    // process 7 wants more than is left: the OOM killer must pick 4, not the allocating 7
    let got = 0;
    t.run((g) => { got = g.wl_anon_alloc(7, zoneFree(g, Z) + 1000, false); });
    expect(t.guest.views.vmstat[abi.VM_OOM_KILL]).toBe(1);
    expect(t.g.mm_oom_victim()).toBe(4);
    expect(t.g.wl_proc_killed(4)).toBe(1);
    expect(t.g.wl_proc_anon_pages(4)).toBe(0);
    expect(t.g.wl_proc_anon_pages(2)).toBe(500);
    expect(got).toBeGreaterThan(0);
    expect(t.g.wl_proc_anon_pages(7)).toBe(got);
    t.g.mm_drain_pcp();
    t.validate();
  });

  it("a process killed while it allocates stops and keeps nothing of the failed step", () => {
    const t = timerGuest(16);
    let got = 0;
    t.run((g) => { got = g.wl_anon_alloc(5, 100000, false); });
    expect(t.g.wl_proc_killed(5)).toBe(1);
    expect(t.g.wl_proc_anon_pages(5)).toBe(0);
    expect(got).toBeGreaterThan(0); // pages it had before the kill (now freed)
    t.g.mm_drain_pcp();
    t.validate();
  });

  it("runs the notifier chain first; a notifier that frees memory prevents the kill", () => {
    const t = timerGuest(32);
    expect(t.g.mm_test_oom_notifier()).toBe(abi.OK);
    t.g.wl_kernel_alloc(3072, false); // the "balloon": 12 MiB the notifier can give back, 1 MiB per call
    t.g.wl_anon_alloc(3, 2000, false);
    // the kernel allocations claimed pageblocks and boosted the watermarks: let kswapd run and clear the boost
    t.runUntil(t.now() + 1e9);
    expect(t.g.mm_zone_info(Z, abi.ZI_WMARK_BOOST)).toBe(0);
    // ask for 2 MiB more than is free: the notifier must run (at least twice), the killer never
    const want = zoneFree(t.g, Z) + 512;
    let got = 0;
    t.run((g) => { got = g.wl_anon_alloc(1, want, false); });
    expect(got).toBe(want);
    expect(t.g.mm_test_oom_notifier_stat(0)).toBeGreaterThanOrEqual(2);
    expect(t.g.mm_test_oom_notifier_stat(1)).toBe(0); // no kill before the first notifier call
    expect(t.guest.views.vmstat[abi.VM_OOM_KILL]).toBe(0);
    expect(t.g.wl_kernel_pages(false)).toBeLessThan(3072);
    expect(t.g.wl_kernel_pages(false)).toBeGreaterThan(0);
    // once the notifier has nothing left, the killer runs
    t.run((g) => g.wl_anon_alloc(1, 100000, false));
    expect(t.g.wl_kernel_pages(false)).toBe(0);
    expect(t.guest.views.vmstat[abi.VM_OOM_KILL]).toBeGreaterThan(0);
    t.g.mm_drain_pcp();
    t.validate();
  });

  it("the OOM killer leaves nothing to kill: the allocation fails and the workload returns what it got", () => {
    const t = timerGuest(16);
    t.g.wl_kernel_alloc(100000, false); // unmovable kernel memory is not killable
    expect(t.g.mm_oom_select()).toBe(abi.NO_PROC);
    expect(t.g.wl_anon_alloc(0, 10, false)).toBeLessThan(10);
    expect(t.guest.views.vmstat[abi.VM_OOM_KILL]).toBe(0);
    t.validate();
  });
});
