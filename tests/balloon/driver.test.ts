// The Linux balloon driver (AssemblyScript) against the real device on a real VM with simulated
// time: batch sizes, back-off, LIFO, tell-before-free, MemTotal, RSS, poisoning, OOM deflate.
import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { HOST_PAGE_2M } from "../../host/memory/guest_memory.js";
import type { Vm } from "../../host/vm.js";
import { balloonList, balloonVm, MIB, PAGE, type BalloonVm } from "./helpers.js";

const MS = 1e6;
const S = 1e9;

interface Kick { readonly atNs: number; readonly queue: string; readonly pfns: number }

/** Records every kick of the balloon's queues with the PFNs it carried (inflate_pfns/deflate_pfns deltas). */
function recordKicks(t: BalloonVm): Kick[] {
  const { balloon, vm } = t;
  const dev = balloon.device;
  const kicks: Kick[] = [];
  const orig = balloon.bus.notify.bind(balloon.bus);
  balloon.bus.notify = (d: number, q: number): number => {
    const name = ["inflateq", "deflateq", "statsq", "free_page_vq", "reporting_vq"].find((n) => dev.queue(n)?.index === q) ?? "?";
    const before = dev.metric("inflate_pfns") + dev.metric("deflate_pfns");
    const at = vm.guestNowNs();
    const r = orig(d, q);
    kicks.push({ atNs: at, queue: name, pfns: dev.metric("inflate_pfns") + dev.metric("deflate_pfns") - before });
    return r;
  };
  return kicks;
}

/** Versions of every frame in use by something other than the balloon and the free lists. */
function inUseVersions(vm: Vm): Map<number, number> {
  const { pflags, versions } = vm.guest.views;
  const out = new Map<number, number>();
  for (let p = 0; p < vm.frames; p++) {
    const t = pflags[p] & abi.PT_MASK;
    if (t !== abi.PT_FREE && t !== abi.PT_PCP && t !== abi.PT_BALLOON && t !== abi.PT_RESERVED) out.set(p, versions[p]);
  }
  return out;
}

function expectVersionsKept(vm: Vm, before: Map<number, number>): void {
  const v = vm.guest.views.versions;
  let checked = 0;
  for (const [p, ver] of before) {
    const t = vm.guest.views.pflags[p] & abi.PT_MASK;
    if (t === abi.PT_FREE || t === abi.PT_PCP || t === abi.PT_BALLOON) continue; // freed by the test itself
    expect(v[p], `pfn ${p}`).toBe(ver);
    checked++;
  }
  expect(checked).toBeGreaterThan(0);
}

/** Allocates and writes `n` movable pages in the guest (a workload's anonymous memory). */
function useMemory(vm: Vm, n: number): number[] {
  let got = 0;
  vm.enter("test-alloc", (g) => { got = g.mm_bench_alloc(0, abi.GFP_MOVABLE, n); });
  const buf = new Uint32Array(vm.guest.memory.buffer, vm.guest.exports.mm_bench_buf(), got);
  const pfns = [...buf];
  for (const p of pfns) vm.touch(p, 1, true);
  return pfns;
}

describe("balloon driver: size work", () => {
  it("size work: inflates in 256-PFN batches, one kick each, actual written after each ack", () => {
    const t = balloonVm(256, { pagePoison: false, statsVq: false });
    const kicks = recordKicks(t);
    t.balloon.control.setTargetBytes(192 * MIB); // balloon of 64 MiB
    t.host.runFor(1 * S);
    const infl = kicks.filter((k) => k.queue === "inflateq");
    expect(infl.length).toBe(64);
    expect(infl.every((k) => k.pfns === 256)).toBe(true);
    expect(kicks.length).toBe(64);
    // one BALLOON_CHANGE per acked batch, actual growing by 256 pages each time
    const ev = t.balloon.control.events;
    expect(ev.map((e) => e.actualPages)).toEqual(Array.from({ length: 64 }, (_, i) => 256 * (i + 1)));
    expect(ev.every((e, i) => i === 0 || e.atNs > ev[i - 1].atNs)).toBe(true);
    expect(t.balloon.control.query().actualBytes).toBe(192 * MIB);
    expect(t.vm.guest.exports.balloon_num_pages()).toBe(16384);
    expect(t.vm.guest.views.vmstat[abi.VM_BALLOON_INFLATE]).toBe(16384);
    expect(t.vm.guest.views.vmstat[abi.VM_NR_BALLOON]).toBe(16384);
  });

  it("size work: a target that is not a multiple of 256 ends with one smaller batch", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false });
    const kicks = recordKicks(t);
    t.balloon.control.setBalloonBytes(300 * PAGE);
    t.host.runFor(1 * S);
    expect(kicks.map((k) => k.pfns)).toEqual([256, 44]);
  });

  it("out of puff: an allocation failure stops the batch and the work re-runs 200 ms later", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false });
    const kicks = recordKicks(t);
    // record each run of the size work (TIMER_BALLOON_WORK) and whether it ran out of puff
    const runs: { atNs: number; puffed: boolean }[] = [];
    const enter = t.vm.enter.bind(t.vm);
    t.vm.enter = (label, fn) => {
      const puff0 = t.vm.guest.views.vmstat[abi.VM_BALLOON_OUT_OF_PUFF];
      const at = Math.max(t.host.sim.now, t.vm.busyUntilNs);
      const ns = enter(label, fn);
      if (label === `timer:${abi.TIMER_BALLOON_WORK}`) runs.push({ atNs: at, puffed: t.vm.guest.views.vmstat[abi.VM_BALLOON_OUT_OF_PUFF] > puff0 });
      return ns;
    };
    t.balloon.control.setBalloonBytes(64 * MIB); // more than the guest can ever give
    t.host.runFor(1 * S);
    const first = runs.findIndex((r) => r.puffed);
    expect(first).toBeGreaterThan(0);
    // the batch that failed was cut short; every batch before it was a full 256 PFNs
    const infl = kicks.filter((k) => k.queue === "inflateq");
    expect(infl.slice(0, first).every((k) => k.pfns === 256)).toBe(true);
    expect(infl[first].pfns).toBeLessThan(256);
    // before the failure the work re-queued itself at once; after every failure, 200 ms later
    for (let i = 1; i <= first; i++) expect(runs[i].atNs - runs[i - 1].atNs).toBeLessThan(1 * MS);
    for (let i = first + 1; i < runs.length; i++) {
      if (!runs[i - 1].puffed) continue;
      expect(runs[i].atNs - runs[i - 1].atNs).toBeGreaterThanOrEqual(200 * MS);
      expect(runs[i].atNs - runs[i - 1].atNs).toBeLessThan(201 * MS);
    }
    expect(runs.length).toBeGreaterThan(first + 2); // the retry loop goes on while the target is unreachable
    expect(t.vm.guest.exports.balloon_num_pages()).toBeLessThan(16384);
  });

  it("deflate: LIFO from the list head, the host told before any page is freed", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false });
    t.balloon.control.setBalloonBytes(2 * MIB); // 512 pages, two batches
    t.host.runFor(1 * S);
    const list = balloonList(t.vm);
    expect(list.length).toBe(512);
    const dev = t.balloon.device;
    // at every deflate kick the pages the device still holds must not be free yet
    const orig = t.balloon.bus.notify.bind(t.balloon.bus);
    let deflateKicks = 0;
    t.balloon.bus.notify = (d: number, q: number): number => {
      if (q === dev.queue("deflateq")?.index) {
        deflateKicks++;
        const pf = t.vm.guest.views.pflags;
        for (const p of dev.inflate.inflatedPfns()) expect(pf[p] & abi.PT_MASK, `pfn ${p} freed before the deflate ack`).toBe(abi.PT_BALLOON);
      }
      return orig(d, q);
    };
    t.balloon.control.setBalloonBytes(1 * MIB);
    t.host.runFor(1 * S);
    expect(deflateKicks).toBe(1);
    // the 256 most recently inflated pages left, the older half stayed in order
    expect(balloonList(t.vm)).toEqual(list.slice(256));
    for (const p of list.slice(0, 256)) {
      expect(dev.inflate.isInflated(p)).toBe(false);
      expect([abi.PT_FREE, abi.PT_PCP]).toContain(t.vm.guest.views.pflags[p] & abi.PT_MASK);
    }
    expect(t.vm.guest.views.vmstat[abi.VM_BALLOON_DEFLATE]).toBe(256);
  });

  it("deflate: 768 pages leave in three 256-PFN batches, one deflateq round trip and one actual write each", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false });
    t.balloon.control.setBalloonBytes(3 * MIB); // 768 pages
    t.host.runFor(1 * S);
    expect(t.balloon.device.actualPages).toBe(768);
    const kicks = recordKicks(t);
    const changes: number[] = [];
    t.balloon.control.onChange((e) => changes.push(e.actualPages));
    const requests0 = t.vm.guest.views.vmstat[abi.VM_BALLOON_REQUESTS];
    t.balloon.control.setBalloonBytes(0);
    t.host.runFor(1 * S);
    // VIRTIO_BALLOON_ARRAY_PFNS_MAX = 256 PFNs per leak_balloon call, each a full tell_host (DRV)
    expect(kicks.map((k) => [k.queue, k.pfns])).toEqual([["deflateq", 256], ["deflateq", 256], ["deflateq", 256]]);
    expect(t.vm.guest.views.vmstat[abi.VM_BALLOON_REQUESTS] - requests0).toBe(3);
    // `actual` is written after each acked batch, so the host sees every step
    expect(changes).toEqual([512, 256, 0]);
    expect(t.balloon.device.metric("deflate_pfns")).toBe(768);
    expect(t.vm.guest.views.vmstat[abi.VM_BALLOON_DEFLATE]).toBe(768);
  });

  it("MemTotal: without DEFLATE_ON_OOM ballooned pages leave it, with it they stay counted", () => {
    const a = balloonVm(128, { pagePoison: false, statsVq: false });
    const total = a.host.metrics.get("vm.guest_total_bytes");
    a.balloon.control.setBalloonBytes(32 * MIB);
    a.host.runFor(1 * S);
    expect(a.host.metrics.get("vm.guest_total_bytes")).toBe(total - 32 * MIB);
    a.balloon.control.setBalloonBytes(0);
    a.host.runFor(1 * S);
    expect(a.host.metrics.get("vm.guest_total_bytes")).toBe(total);
    const b = balloonVm(128, { pagePoison: false, statsVq: false, deflateOnOom: true });
    b.balloon.control.setBalloonBytes(32 * MIB);
    b.host.runFor(1 * S);
    expect(b.host.metrics.get("vm.guest_total_bytes")).toBe(total);
    expect(b.host.metrics.get("vm.balloon.actual_bytes")).toBe(32 * MIB);
  });

  it("e2e: inflating a 256 MiB guest by 64 MiB drops host RSS by 64 MiB over simulated time", () => {
    const t = balloonVm(256, { pagePoison: false, statsVq: false });
    const used = useMemory(t.vm, 16384); // 64 MiB of anonymous memory in use
    t.vm.touch(0, t.vm.frames, true); // every frame resident (a long-running guest)
    const before = inUseVersions(t.vm);
    const rss0 = t.vm.rssBytes;
    const series: [number, number, number][] = [];
    t.balloon.control.onChange((e) => series.push([e.atNs, e.actualPages, t.vm.rssBytes]));
    const sampler = t.host.sample({ sampleIntervalNs: 1 * MS, metrics: ["vm.balloon.actual_bytes", "vm.rss_bytes"] });
    t.balloon.control.setTargetBytes(192 * MIB);
    t.host.runFor(5 * S);
    // the registry's view over simulated time: actual climbs, RSS falls, both monotonically
    const act = sampler.series.column("vm.balloon.actual_bytes");
    const rss = sampler.series.column("vm.rss_bytes");
    expect(act[0]).toBe(0);
    expect(act[act.length - 1]).toBe(64 * MIB);
    expect(act.some((a) => a > 0 && a < 64 * MIB)).toBe(true); // it takes simulated time
    for (let i = 1; i < act.length; i++) { expect(act[i]).toBeGreaterThanOrEqual(act[i - 1]); expect(rss[i]).toBeLessThanOrEqual(rss[i - 1]); }
    expect(series.length).toBe(64);
    for (let i = 1; i < series.length; i++) {
      expect(series[i][1]).toBeGreaterThan(series[i - 1][1]);
      expect(series[i][2]).toBeLessThan(series[i - 1][2]); // RSS falls batch by batch
    }
    expect(t.vm.rssBytes).toBe(rss0 - 64 * MIB);
    expect(t.host.metrics.get("vm.balloon.freed_bytes")).toBe(64 * MIB);
    expect(used.every((p) => (t.vm.guest.views.pflags[p] & abi.PT_MASK) !== abi.PT_BALLOON)).toBe(true);
    expectVersionsKept(t.vm, before);
    // and deflating gives it all back to the guest without touching in-use pages
    t.balloon.control.setTargetBytes(256 * MIB - 0);
    t.host.runFor(5 * S);
    expect(t.balloon.control.query().actualPages).toBe(0);
    expectVersionsKept(t.vm, before);
  });

  it("2 MiB host pages, QEMU mode: the real driver's inflation frees nothing", () => {
    const t = balloonVm(128, { pagePoison: false, statsVq: false }, { hostPageBytes: HOST_PAGE_2M });
    t.vm.touch(0, t.vm.frames, true);
    const rss0 = t.vm.rssBytes;
    t.balloon.control.setBalloonBytes(32 * MIB);
    t.host.runFor(1 * S);
    expect(t.balloon.control.query().actualPages).toBe(8192);
    expect(t.vm.rssBytes).toBe(rss0);
    expect(t.host.metrics.get("vm.balloon.freed_bytes")).toBe(0);
  });
});

describe("balloon driver: allocation flags", () => {
  it("unreachable target: order-0 movable pages, no reclaim loop, no OOM kill, free never below MIN", () => {
    const t = balloonVm(128, { pagePoison: false, statsVq: false });
    const g = t.vm.guest.exports;
    const vs = t.vm.guest.views.vmstat;
    // 48 MiB of page cache (reclaimable) and 48 MiB of anonymous memory (no swap: not reclaimable)
    t.vm.enter("file", (x) => { expect(x.wl_file_read(0, 12288)).toBe(12288); });
    t.vm.enter("anon", (x) => { expect(x.wl_anon_alloc(0, 12288, true)).toBe(12288); });
    t.host.runFor(0.1 * S);
    const zones = [abi.ZONE_DMA32, abi.ZONE_NORMAL, abi.ZONE_MOVABLE].filter((z) => g.mm_zone_info(z, abi.ZI_MANAGED) > 0);
    t.balloon.control.setBalloonBytes(120 * MIB); // more than page cache + free memory
    for (let i = 0; i < 40; i++) {
      t.host.runFor(50 * MS);
      // __GFP_NOMEMALLOC: the balloon never takes the reserves below the MIN watermark
      for (const z of zones) expect(g.mm_zone_info(z, abi.ZI_FREE), `zone ${z} at step ${i}`).toBeGreaterThanOrEqual(g.mm_zone_info(z, abi.ZI_WMARK_MIN));
    }
    // __GFP_NORETRY: fill_balloon gives up ("out of puff") instead of looping into the OOM killer
    expect(vs[abi.VM_OOM_KILL]).toBe(0);
    expect(g.wl_proc_killed(0)).toBe(0);
    expect(g.wl_proc_anon_pages(0)).toBe(12288);
    expect(vs[abi.VM_BALLOON_OUT_OF_PUFF]).toBeGreaterThan(0);
    expect(t.balloon.device.actualPages).toBeLessThan(120 * 256);
    // it did enter direct reclaim: page cache was evicted to fill the balloon
    expect(vs[abi.VM_PGSTEAL_DIRECT]).toBeGreaterThan(0);
    expect(vs[abi.VM_NR_FILE]).toBeLessThan(12288);
    // GFP_HIGHUSER_MOVABLE, order 0: every balloon page is a single page in a MOVABLE pageblock
    const list = balloonList(t.vm);
    expect(list.length).toBe(t.balloon.device.actualPages);
    expect(list.filter((p) => g.mm_pageblock_mt(p) !== abi.MT_MOVABLE)).toEqual([]);
    expect(list.filter((p) => (t.vm.guest.views.porder[p] & 0x0f) !== 0)).toEqual([]);
  });
});

describe("balloon driver: deflate on OOM", () => {
  it("OOM notifier: releases exactly 256 pages (1 MiB) per call, the target stays", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false, deflateOnOom: true });
    t.balloon.control.setBalloonBytes(8 * MIB);
    t.host.runFor(1 * S);
    const g = t.vm.guest.exports;
    let freed = 0;
    t.vm.enter("oom", () => { freed = g.balloon_oom_notify(); });
    expect(freed).toBe(256);
    expect(t.balloon.device.actualPages).toBe(2048 - 256);
    expect(t.balloon.device.targetPages).toBe(2048);
    t.vm.enter("oom", () => { freed = g.balloon_oom_notify(); });
    expect(freed).toBe(256);
    expect(t.host.metrics.get("vm.balloon.oom_deflate_count")).toBe(2);
    expect(t.host.metrics.get("vm.balloon.oom_deflate_pages")).toBe(512);
  });

  it("OOM ping-pong: memory pressure deflates 1 MiB at a time, the size work re-inflates it later", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false, deflateOnOom: true });
    t.balloon.control.setBalloonBytes(24 * MIB);
    t.host.runFor(1 * S);
    expect(t.balloon.device.actualPages).toBe(6144);
    const before = inUseVersions(t.vm);
    // a workload takes everything it can get: the allocator reaches out_of_memory()
    const pfns = useMemory(t.vm, 16384);
    const calls = t.host.metrics.get("vm.balloon.oom_deflate_count");
    expect(calls).toBeGreaterThan(0);
    expect(t.host.metrics.get("vm.balloon.oom_deflate_pages")).toBe(256 * calls);
    expect(t.balloon.device.targetPages).toBe(6144);
    expect(t.balloon.device.actualPages).toBe(6144 - 256 * calls);
    expectVersionsKept(t.vm, before);
    // the workload exits; the next config change (same target) re-inflates: the ping-pong
    vm_free(t.vm, pfns);
    t.balloon.control.setBalloonBytes(24 * MIB);
    t.host.runFor(1 * S);
    expect(t.balloon.device.actualPages).toBe(6144);
    expect(t.host.metrics.get("vm.balloon.reinflate_pages")).toBe(256 * calls);
  });
});

describe("balloon driver: no DEFLATE_ON_OOM", () => {
  it("under OOM the balloon keeps its pages: no OOM deflate, the OOM killer runs instead", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false, deflateOnOom: false });
    t.balloon.control.setBalloonBytes(24 * MIB);
    t.host.runFor(1 * S);
    expect(t.balloon.device.hasFeature(abi.VIRTIO_BALLOON_F_DEFLATE_ON_OOM)).toBe(false);
    const list = balloonList(t.vm);
    expect(list.length).toBe(6144);
    const vs = t.vm.guest.views.vmstat;
    // a workload wants all 64 MiB: the allocator reaches out_of_memory()
    let got = 0;
    t.vm.enter("anon", (g) => { got = g.wl_anon_alloc(0, 16384, true); });
    t.host.runFor(1 * S);
    expect(vs[abi.VM_OOM_KILL]).toBeGreaterThan(0);
    expect(t.vm.guest.exports.wl_proc_killed(0)).toBeGreaterThan(0);
    expect(got).toBeLessThan(16384);
    // no notifier is registered: nothing left the balloon
    expect(t.host.metrics.get("vm.balloon.oom_deflate_count")).toBe(0);
    expect(t.host.metrics.get("vm.balloon.oom_deflate_pages")).toBe(0);
    expect(vs[abi.VM_BALLOON_DEFLATE]).toBe(0);
    expect(t.balloon.device.actualPages).toBe(6144);
    expect(t.balloon.device.metric("deflate_pfns")).toBe(0);
    expect(balloonList(t.vm)).toEqual(list);
  });
});

function vm_free(vm: Vm, pfns: readonly number[]): void {
  vm.enter("test-free", (g) => { for (const p of pfns) g.mm_free(p, 0); });
}

describe("balloon driver: page poisoning", () => {
  it("poison: poison_val 0xaaaaaaaa is written before DRIVER_OK and deflated pages are written with it", () => {
    const t = balloonVm(64, { statsVq: false }, { params: { PAGE_POISONING: 1 } });
    expect(t.balloon.device.getConfig("poison_val")).toBe(0xaaaaaaaa);
    expect(t.vm.guest.exports.balloon_poison_val() >>> 0).toBe(0xaaaaaaaa);
    t.balloon.control.setBalloonBytes(1 * MIB);
    t.host.runFor(1 * S);
    const list = balloonList(t.vm);
    expect(list.every((p) => (t.vm.guest.views.hstate[p] & abi.HS_BACKED) === 0)).toBe(true);
    t.balloon.control.setBalloonBytes(0);
    t.host.runFor(1 * S);
    // the poison write makes the host back every deflated page again
    expect(list.every((p) => (t.vm.guest.views.hstate[p] & abi.HS_BACKED) !== 0)).toBe(true);
  });

  it("poison: init_on_free gives poison_val 0; deflated pages stay discarded without poisoning", () => {
    const a = balloonVm(64, { statsVq: false }, { params: { INIT_ON_FREE: 1 } });
    expect(a.balloon.device.hasFeature(abi.VIRTIO_BALLOON_F_PAGE_POISON)).toBe(true);
    expect(a.balloon.device.getConfig("poison_val")).toBe(0);
    const b = balloonVm(64, { statsVq: false });
    expect(b.balloon.device.hasFeature(abi.VIRTIO_BALLOON_F_PAGE_POISON)).toBe(false); // validate() dropped it
    b.balloon.control.setBalloonBytes(1 * MIB);
    b.host.runFor(1 * S);
    const list = balloonList(b.vm);
    b.balloon.control.setBalloonBytes(0);
    b.host.runFor(1 * S);
    expect(list.every((p) => (b.vm.guest.views.hstate[p] & abi.HS_BACKED) === 0)).toBe(true);
  });

  it("validate: with poisoning on and a device without PAGE_POISON, REPORTING is not negotiated", () => {
    const a = balloonVm(64, { pagePoison: false, freePageReporting: true }, { params: { PAGE_POISONING: 1 } });
    expect(a.balloon.device.hasFeature(abi.VIRTIO_BALLOON_F_REPORTING)).toBe(false);
    expect(a.balloon.device.queue("reporting_vq")).toBeUndefined();
    const b = balloonVm(64, { pagePoison: false, freePageReporting: true });
    expect(b.balloon.device.hasFeature(abi.VIRTIO_BALLOON_F_REPORTING)).toBe(true);
    expect(b.vm.guest.exports.balloon_queue_index(abi.BALLOON_VQ_REPORTING)).toBe(b.balloon.device.queue("reporting_vq")?.index);
  });

  it("queues: the guest driver's compacted indices match the device's for every feature set", () => {
    for (let m = 0; m < 8; m++) {
      const t = balloonVm(64, { statsVq: (m & 1) !== 0, freePageHint: (m & 2) !== 0, freePageReporting: (m & 4) !== 0, pagePoison: false });
      const names = ["inflateq", "deflateq", "statsq", "free_page_vq", "reporting_vq"];
      names.forEach((n, i) => expect(t.vm.guest.exports.balloon_queue_index(i), `${m} ${n}`).toBe(t.balloon.device.queue(n)?.index ?? -1));
    }
  });
});

describe("balloon driver: lifecycle", () => {
  it("MUST_TELL_HOST: negotiated when offered; deflates are acked before the pages are reused", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false, mustTellHost: true });
    expect(t.balloon.device.hasFeature(abi.VIRTIO_BALLOON_F_MUST_TELL_HOST)).toBe(true);
    t.balloon.control.setBalloonBytes(1 * MIB);
    t.host.runFor(1 * S);
    const list = balloonList(t.vm);
    const dev = t.balloon.device;
    const orig = t.balloon.bus.notify.bind(t.balloon.bus);
    let checked = 0;
    t.balloon.bus.notify = (d: number, q: number): number => {
      const r = orig(d, q);
      // the kick returns only after the device used the buffer: still nothing freed here
      if (q === dev.queue("deflateq")?.index) for (const p of list) { expect(t.vm.guest.views.pflags[p] & abi.PT_MASK).toBe(abi.PT_BALLOON); checked++; }
      return r;
    };
    t.balloon.control.setBalloonBytes(0);
    t.host.runFor(1 * S);
    expect(checked).toBe(256);
    expect(dev.inflate.inflatedPages).toBe(0);
  });

  it("remove: the driver leaks the whole balloon (telling the host) and resets the device", () => {
    const t = balloonVm(64, { pagePoison: false, statsPollingIntervalS: 1 });
    const total = t.host.metrics.get("vm.guest_total_bytes");
    t.balloon.control.setBalloonBytes(3 * MIB);
    t.host.runFor(1 * S);
    let freed = 0;
    t.vm.enter("remove", (g) => { freed = g.balloon_remove(); });
    const pollsAtRemove = t.balloon.device.stats.pollTimesNs.length;
    expect(freed).toBe(768);
    expect(t.balloon.device.metric("deflate_pfns")).toBe(768);
    expect(t.balloon.device.metric("reset_count")).toBeGreaterThanOrEqual(2); // probe's reset + remove
    expect(t.balloon.device.inflate.inflatedPages).toBe(0);
    expect(t.host.metrics.get("vm.guest_total_bytes")).toBe(total);
    expect(t.vm.guest.exports.balloon_slot()).toBe(-1);
    t.host.runFor(5 * S); // no stats traffic, no size work after removal
    // (interrupts the deflates raised during removal reach no handler: counted in irq_fails, harmless)
    expect(t.vm.stats.timerFails).toBe(0);
    expect(t.balloon.device.stats.pollTimesNs.length).toBe(pollsAtRemove);
    // probing again re-inflates to the target the host still has
    let rc = -1;
    t.vm.enter("probe", (g) => { rc = g.balloon_probe(t.balloon.slot); });
    expect(rc).toBe(0);
    t.host.runFor(1 * S);
    expect(t.balloon.device.actualPages).toBe(768);
  });
});

describe("balloon driver: probe order", () => {
  it("probe: poison_val is written after FEATURES_OK and before DRIVER_OK", async () => {
    const { newHost } = await import("../helpers/host.js");
    const { addBalloon } = await import("../../host/virtio/balloon/index.js");
    const host = newHost({ ramMib: 512 });
    const vm = host.createVm({ name: "vm", memBytes: 64 * MIB, params: { PAGE_POISONING: 1 } });
    const b = addBalloon(vm, { statsVq: false }, { probe: false });
    const log: string[] = [];
    const orig = b.bus.transport.bind(b.bus);
    b.bus.transport = (d: number, op: number, a: number, sz: number, c: number): number => {
      if (op === abi.VT_SET_STATUS) log.push(`status:${a}`);
      if (op === abi.VT_CONFIG_WRITE) log.push(`cfg:${a}`);
      return orig(d, op, a, sz, c);
    };
    let rc = -1;
    vm.enter("probe", (g) => { rc = g.balloon_probe(b.slot); });
    expect(rc).toBe(0);
    const poison = log.indexOf(`cfg:${abi.VIRTIO_BALLOON_CFG_POISON_VAL}`);
    const featOk = log.findIndex((e) => e.startsWith("status:") && (Number(e.slice(7)) & abi.VIRTIO_STATUS_FEATURES_OK) !== 0);
    const drvOk = log.findIndex((e) => e.startsWith("status:") && (Number(e.slice(7)) & abi.VIRTIO_STATUS_DRIVER_OK) !== 0);
    expect(featOk).toBeGreaterThanOrEqual(0);
    expect(poison).toBeGreaterThan(featOk);
    expect(drvOk).toBeGreaterThan(poison);
    expect(b.device.poisonVal).toBe(0xaaaaaaaa);
    expect(vm.guest.views.vmstat[abi.VM_BALLOON_INFLATE]).toBe(0);
  });
});

describe("balloon driver: more behaviour", () => {
  it("initialBalloonBytes: the driver inflates to it right after probe", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false, initialBalloonBytes: 2 * MIB });
    t.host.runFor(1 * S);
    expect(t.balloon.device.actualPages).toBe(512);
  });

  it("OOM ping-pong while the size work is still moving: deflates and re-inflates alternate without host action", () => {
    const t = balloonVm(64, { pagePoison: false, statsVq: false, deflateOnOom: true });
    t.balloon.control.setBalloonBytes(62 * MIB); // unreachable: the size work keeps retrying
    // a churning workload: every 100 ms it takes 4 MiB, 50 ms later it gives them back
    for (let i = 1; i <= 25; i++) {
      t.vm.deliver("workload-alloc", (g) => { g.mm_bench_alloc(0, abi.GFP_MOVABLE, 1024); }, i * 100 * MS);
      t.vm.deliver("workload-free", (g) => { g.mm_bench_free(0, 1024); }, i * 100 * MS + 50 * MS);
    }
    const actual: number[] = [];
    t.balloon.control.onChange((e) => actual.push(e.actualPages));
    t.host.runFor(3 * S);
    const deflates = t.host.metrics.get("vm.balloon.oom_deflate_count");
    const reinflated = t.host.metrics.get("vm.balloon.reinflate_pages");
    expect(deflates).toBeGreaterThan(1);
    expect(reinflated).toBeGreaterThan(0);
    expect(t.balloon.device.targetPages).toBe(62 * 256); // the host never moved its target
    // actual went down (OOM) and up again (size work) more than once
    let downs = 0;
    for (let i = 1; i < actual.length; i++) if (actual[i] < actual[i - 1] && actual[i - 1] - actual[i] === 256) downs++;
    expect(downs).toBeGreaterThan(1);
  });

  it("hostile: an inflate buffer outside the RAM window is refused and counted", async () => {
    const { mockBalloonVm, mockProbe } = await import("./helpers.js");
    const { balloon, drv } = mockBalloonVm(64, { pagePoison: false, statsVq: false });
    const [inflq] = mockProbe(drv, []);
    inflq.add([{ gpa: 8 * MIB, len: 64 }]); // guest RAM, but no bytes the device may read
    inflq.kick();
    expect(inflq.complete().length).toBe(1);
    expect(balloon.device.metric("inflate_fails")).toBe(1);
    expect(balloon.device.inflate.inflatedPages).toBe(0);
  });
});
