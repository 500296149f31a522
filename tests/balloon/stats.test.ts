// Stats queue: one held buffer, device-driven polling in simulated seconds, tag values and units.
import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { ConfigError } from "../../host/guest/errors.js";
import { balloonVm, mockBalloonVm, mockProbe, MIB, PAGE } from "./helpers.js";

const S = 1e9;

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
