// Stats queue: one held buffer, device-driven polling in simulated seconds, tag values and units.
import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { ConfigError } from "../../host/guest/errors.js";
import { balloonVm, mockBalloonVm, mockProbe, MIB, PAGE } from "./helpers.js";

const S = 1e9;
const MS = 1e6;

describe("balloon stats queue", () => {
  it("stats: polling every 2 s returns the held buffer; each refill re-arms the timer", () => {
    const t = balloonVm(64, { pagePoison: false, statsPollingIntervalS: 2 });
    t.host.runFor(9 * S);
    const polls = t.balloon.device.stats.pollTimesNs;
    expect(polls.length).toBe(4);
    // the buffer arrives at probe (t=0), so the first poll is 2 s after it
    expect(polls[0]).toBeGreaterThanOrEqual(2 * S);
    for (let i = 1; i < polls.length; i++) {
      const gap = polls[i] - polls[i - 1];
      expect(gap).toBeGreaterThanOrEqual(2 * S); // + interrupt and stats work latency
      expect(gap).toBeLessThan(2 * S + 1e6);
    }
    expect(t.host.metrics.get("vm.balloon.stats_polls")).toBe(4);
    expect(t.host.metrics.get("vm.balloon.stats_updates")).toBe(5); // the probe's buffer + 4 refills
    expect(t.vm.guest.views.vmstat[abi.VM_BALLOON_STATS_UPDATES]).toBe(5);
  });

  it("stats: interval 0 never polls; enabling polls at once (+0 s)", () => {
    const t = balloonVm(64, { pagePoison: false });
    t.host.runFor(10 * S);
    expect(t.balloon.device.stats.pollTimesNs).toEqual([]);
    t.balloon.control.setStatsPollingInterval(5);
    const enabledAt = t.host.sim.now;
    t.host.runFor(1 * S);
    expect(t.balloon.device.stats.pollTimesNs).toEqual([enabledAt]);
    t.balloon.control.setStatsPollingInterval(0);
    t.host.runFor(20 * S);
    expect(t.balloon.device.stats.pollTimesNs.length).toBe(1);
  });

  it("stats: tag values carry the reference units (bytes for memory, counts for faults)", () => {
    const t = balloonVm(128, { pagePoison: false, statsPollingIntervalS: 1 });
    t.balloon.control.setBalloonBytes(16 * MIB);
    t.host.runFor(1500e6);
    const { stats, lastUpdateNs } = t.balloon.control.guestStats();
    const vs = t.vm.guest.views.vmstat;
    expect(lastUpdateNs).toBeGreaterThanOrEqual(1 * S);
    expect(stats.total_memory_bytes).toBe(vs[abi.VM_MANAGED_PAGES] * PAGE);
    expect(stats.total_memory_bytes).toBe(t.host.metrics.get("vm.guest_total_bytes"));
    expect(stats.free_memory_bytes).toBe(vs[abi.VM_NR_FREE_PAGES] * PAGE);
    expect(stats.disk_caches_bytes).toBe(vs[abi.VM_NR_FILE] * PAGE);
    expect(stats.minor_faults).toBe(vs[abi.VM_PGFAULT]);
    expect(stats.available_memory_bytes).toBeGreaterThan(0);
    expect(stats.available_memory_bytes! % PAGE).toBe(0);
    expect(Object.keys(stats).length).toBe(16);
    expect(t.host.metrics.get("vm.balloon.stats_total_memory_bytes")).toBe(stats.total_memory_bytes);
  });

  it("stats: tags 0-15 after kswapd and direct reclaim and an OOM kill, each in the reference's unit", () => {
    const t = balloonVm(128, { pagePoison: false, statsPollingIntervalS: 1 });
    const g = t.vm.guest.exports;
    const vs = t.vm.guest.views.vmstat;
    // the guest's counters as the stats work saw them: snapshot right after each of its runs
    let seen: { vmstat: number[]; lowPages: number; atNs: number } | undefined;
    const enter = t.vm.enter.bind(t.vm);
    t.vm.enter = (label, fn) => {
      const ns = enter(label, fn);
      if (label === `timer:${abi.TIMER_BALLOON_STATS}`) {
        // si_mem_available's wmark_low: low watermark plus boost of every populated zone
        const zones = [abi.ZONE_DMA32, abi.ZONE_NORMAL, abi.ZONE_MOVABLE].filter((z) => g.mm_zone_info(z, abi.ZI_MANAGED) > 0);
        const lowPages = zones.reduce((a, z) => a + g.mm_zone_info(z, abi.ZI_WMARK_LOW) + g.mm_zone_info(z, abi.ZI_WMARK_BOOST), 0);
        seen = { vmstat: [...vs], lowPages, atNs: t.vm.guestNowNs() };
      }
      return ns;
    };
    // page cache (clean and dirty) and reclaimable slab, then a workload growing in 1 MiB steps
    // (kswapd runs between them, then direct reclaim), then one that wants more than exists (OOM)
    t.vm.enter("cache", (x) => { x.wl_file_read(0, 8192); x.wl_file_write(1, 2048); x.wl_kernel_alloc(2048, true); });
    for (let i = 0; i < 100; i++) {
      t.vm.enter("anon", (x) => { x.wl_anon_alloc(0, 256, true); });
      t.host.runFor(10 * MS);
    }
    t.vm.enter("anon", (x) => { x.wl_anon_alloc(1, 40000, true); });
    const workloadEndNs = t.vm.busyUntilNs;
    t.host.runFor(2 * S);
    expect(seen).toBeDefined();
    const snap = seen!;
    expect(snap.atNs).toBeGreaterThan(workloadEndNs);
    const v = snap.vmstat;
    // the workload produced every kind of event
    for (const i of [abi.VM_PGSCAN_KSWAPD, abi.VM_PGSTEAL_KSWAPD, abi.VM_PGSCAN_DIRECT, abi.VM_PGSTEAL_DIRECT, abi.VM_ALLOCSTALL, abi.VM_OOM_KILL, abi.VM_PGFAULT]) {
      expect(v[i], `vmstat ${i}`).toBeGreaterThan(0);
    }
    expect(v[abi.VM_PGSCAN_DIRECT]).not.toBe(v[abi.VM_PGSTEAL_DIRECT]); // dirty pages scanned, not reclaimed
    const stat = (tag: number): number => t.balloon.device.stats.stat(tag);
    const pagesToBytes = (p: number): number => p * PAGE;
    // reference §3.2 (UAPI): bytes for swap, memory and reclaim tags; plain counts for the rest
    const memAvailPages = Math.max(0, Math.floor(v[abi.VM_NR_FREE_PAGES] - snap.lowPages
      + v[abi.VM_NR_FILE] - Math.min(v[abi.VM_NR_FILE] / 2, snap.lowPages)
      + v[abi.VM_NR_SLAB_RECLAIMABLE] - Math.min(v[abi.VM_NR_SLAB_RECLAIMABLE] / 2, snap.lowPages)));
    const want: Record<number, number> = {
      [abi.VIRTIO_BALLOON_S_SWAP_IN]: 0, // PSWPIN x PAGE_SIZE: the model's guest has no swap
      [abi.VIRTIO_BALLOON_S_SWAP_OUT]: 0, // PSWPOUT x PAGE_SIZE
      [abi.VIRTIO_BALLOON_S_MAJFLT]: v[abi.VM_PGMAJFAULT],
      [abi.VIRTIO_BALLOON_S_MINFLT]: v[abi.VM_PGFAULT],
      [abi.VIRTIO_BALLOON_S_MEMFREE]: pagesToBytes(v[abi.VM_NR_FREE_PAGES]),
      [abi.VIRTIO_BALLOON_S_MEMTOT]: pagesToBytes(v[abi.VM_MANAGED_PAGES]),
      [abi.VIRTIO_BALLOON_S_AVAIL]: pagesToBytes(memAvailPages),
      [abi.VIRTIO_BALLOON_S_CACHES]: pagesToBytes(v[abi.VM_NR_FILE]),
      [abi.VIRTIO_BALLOON_S_HTLB_PGALLOC]: 0, // no hugetlb pool in the model
      [abi.VIRTIO_BALLOON_S_HTLB_PGFAIL]: 0,
      [abi.VIRTIO_BALLOON_S_OOM_KILL]: v[abi.VM_OOM_KILL],
      [abi.VIRTIO_BALLOON_S_ALLOC_STALL]: v[abi.VM_ALLOCSTALL],
      [abi.VIRTIO_BALLOON_S_ASYNC_SCAN]: pagesToBytes(v[abi.VM_PGSCAN_KSWAPD]),
      [abi.VIRTIO_BALLOON_S_DIRECT_SCAN]: pagesToBytes(v[abi.VM_PGSCAN_DIRECT]),
      [abi.VIRTIO_BALLOON_S_ASYNC_RECLAIM]: pagesToBytes(v[abi.VM_PGSTEAL_KSWAPD]),
      [abi.VIRTIO_BALLOON_S_DIRECT_RECLAIM]: pagesToBytes(v[abi.VM_PGSTEAL_DIRECT]),
    };
    for (let tag = 0; tag < 16; tag++) expect(stat(tag), `tag ${tag}`).toBe(want[tag]);
    expect(Object.keys(want).length).toBe(abi.VIRTIO_BALLOON_S_NR);
    // the same values under QEMU's / Firecracker's names
    const { stats } = t.balloon.control.guestStats();
    expect(stats.oom_kills).toBe(v[abi.VM_OOM_KILL]);
    expect(stats.direct_reclaim_bytes).toBe(pagesToBytes(v[abi.VM_PGSTEAL_DIRECT]));
  });

  it("stats: values are sampled when the guest's stats work runs, not at the poll", () => {
    const t = balloonVm(64, { pagePoison: false, statsPollingIntervalS: 1 });
    t.host.runFor(0.5 * S);
    const free0 = t.vm.guest.views.vmstat[abi.VM_NR_FREE_PAGES];
    // the vCPU is busy allocating 16 MiB when the poll fires: the interrupt and the work wait
    t.vm.deliver("busy", (g) => { g.mm_bench_alloc(0, abi.GFP_MOVABLE, 4096); }, 1 * S - 1);
    t.host.runFor(0.6 * S);
    const poll = t.balloon.device.stats.pollTimesNs[0];
    const { lastUpdateNs, stats } = t.balloon.control.guestStats();
    expect(poll).toBe(1 * S);
    expect(lastUpdateNs).toBeGreaterThan(poll);
    expect(stats.free_memory_bytes).toBeLessThanOrEqual((free0 - 4096) * PAGE);
  });

  it("stats: unknown tags are ignored and missing tags read as unset", () => {
    const { balloon, drv } = mockBalloonVm(64, { pagePoison: false });
    const [, , statsq] = mockProbe(drv, [abi.VIRTIO_BALLOON_F_STATS_VQ]);
    const buf = drv.alloc(30, 2);
    const put = (i: number, tag: number, lo: number): void => { drv.w16(buf + 10 * i, tag); drv.w32(buf + 10 * i + 2, lo); drv.w32(buf + 10 * i + 6, 0); };
    put(0, abi.VIRTIO_BALLOON_S_MEMFREE, 12345);
    put(1, 999, 1);
    put(2, abi.VIRTIO_BALLOON_S_MAJFLT, 7);
    statsq.add([{ gpa: buf, len: 30 }]);
    statsq.kick();
    expect(statsq.complete()).toEqual([]); // held by the device
    expect(balloon.control.guestStats().stats).toEqual({ free_memory_bytes: 12345, major_faults: 7 });
    expect(balloon.device.stats.stat(abi.VIRTIO_BALLOON_S_MEMTOT)).toBe(-1);
    // a second buffer while one is held comes straight back (QEMU: "should never happen")
    statsq.add([{ gpa: buf, len: 30 }]);
    statsq.kick();
    expect(statsq.complete().length).toBe(1);
    expect(balloon.device.metric("stats_fails")).toBe(1);
  });

  it("stats: an interval out of range is a ConfigError naming the field", () => {
    const t = balloonVm(64, { pagePoison: false });
    expect(() => t.balloon.control.setStatsPollingInterval(-1)).toThrow(ConfigError);
    expect(() => t.balloon.control.setStatsPollingInterval(2 ** 32)).toThrow(/statsPollingIntervalS/);
    expect(() => t.balloon.control.setStatsPollingInterval(Number.NaN)).toThrow(/statsPollingIntervalS/);
  });
});
