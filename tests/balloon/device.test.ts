// Device-side tests of virtio-balloon against a TypeScript mock driver: config space, features,
// queue numbering, inflate/deflate handling and a hostile guest.
import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { HOST_PAGE_2M } from "../../host/memory/guest_memory.js";
import { compactPfns } from "../../host/virtio/balloon/index.js";
import { mockBalloonVm, mockProbe, pfnBuffer, MIB } from "./helpers.js";

const F = {
  MUST_TELL_HOST: abi.VIRTIO_BALLOON_F_MUST_TELL_HOST,
  STATS: abi.VIRTIO_BALLOON_F_STATS_VQ,
  OOM: abi.VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  HINT: abi.VIRTIO_BALLOON_F_FREE_PAGE_HINT,
  POISON: abi.VIRTIO_BALLOON_F_PAGE_POISON,
  REPORTING: abi.VIRTIO_BALLOON_F_REPORTING,
};

describe("balloon config space", () => {
  it("config: num_pages, actual, free_page_hint_cmd_id, poison_val are le32 at 0, 4, 8, 12", () => {
    const { balloon, drv } = mockBalloonVm(64, { freePageHint: true });
    const dev = balloon.device;
    dev.config.set("num_pages", 0x01020304);
    dev.config.set("free_page_hint_cmd_id", 0x80000000);
    expect([...dev.config.bytes.subarray(0, 4)]).toEqual([4, 3, 2, 1]);
    expect([...dev.config.bytes.subarray(8, 12)]).toEqual([0, 0, 0, 0x80]);
    expect(drv.bus.transport(drv.slot, abi.VT_CONFIG_READ, 0, 4, 0)).toBe(0x01020304);
    expect(drv.bus.transport(drv.slot, abi.VT_CONFIG_READ, 0, 1, 0)).toBe(4); // low byte first
    mockProbe(drv, [F.HINT, F.POISON]);
    drv.bus.transport(drv.slot, abi.VT_CONFIG_WRITE, 4, 4, 0x11223344);
    expect([...dev.config.bytes.subarray(4, 8)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(dev.actualPages).toBe(0x11223344);
  });

  it("config: driver writes to num_pages and free_page_hint_cmd_id are ignored and counted", () => {
    const { balloon, drv } = mockBalloonVm(64, { freePageHint: true });
    const dev = balloon.device;
    dev.config.set("num_pages", 7);
    drv.bus.transport(drv.slot, abi.VT_CONFIG_WRITE, 0, 4, 99);
    drv.bus.transport(drv.slot, abi.VT_CONFIG_WRITE, 8, 4, 99);
    expect(dev.targetPages).toBe(7);
    expect(dev.getConfig("free_page_hint_cmd_id")).toBe(0);
    expect(dev.metric("config_fails")).toBe(2);
  });

  it("config: size is 8/12/16 bytes in QEMU mode by features, 12 in Firecracker mode", () => {
    expect(mockBalloonVm(64, { pagePoison: false }).balloon.device.config.size).toBe(8);
    expect(mockBalloonVm(64, { pagePoison: false, freePageHint: true }).balloon.device.config.size).toBe(12);
    expect(mockBalloonVm(64, {}).balloon.device.config.size).toBe(16);
    expect(mockBalloonVm(64, { vmm: "firecracker" }).balloon.device.config.size).toBe(12);
  });

  it("features: bits 0-5 are offered exactly as the options ask", () => {
    const bits = (o: Parameters<typeof mockBalloonVm>[1]): number => mockBalloonVm(64, o).drv.deviceFeatures().lo;
    expect(bits({ pagePoison: false, statsVq: false })).toBe(0);
    expect(bits({ pagePoison: false })).toBe(1 << F.STATS);
    expect(bits({ mustTellHost: true, deflateOnOom: true, freePageHint: true, freePageReporting: true }))
      .toBe((1 << F.MUST_TELL_HOST) | (1 << F.STATS) | (1 << F.OOM) | (1 << F.HINT) | (1 << F.POISON) | (1 << F.REPORTING));
    expect(bits({ vmm: "firecracker" })).toBe(0); // FC: stats only with an interval, no poison
    expect(bits({ vmm: "firecracker", statsPollingIntervalS: 1 })).toBe(1 << F.STATS);
  });

  it("queues: indices are compacted over the negotiated features (all 8 combinations)", () => {
    for (let m = 0; m < 8; m++) {
      const stats = (m & 1) !== 0, hint = (m & 2) !== 0, rep = (m & 4) !== 0;
      const { balloon, drv } = mockBalloonVm(64, { freePageHint: true, freePageReporting: true });
      const bits = [F.POISON];
      if (stats) bits.push(F.STATS);
      if (hint) bits.push(F.HINT);
      if (rep) bits.push(F.REPORTING);
      mockProbe(drv, bits);
      const dev = balloon.device;
      const expected = ["inflateq", "deflateq", ...(stats ? ["statsq"] : []), ...(hint ? ["free_page_vq"] : []), ...(rep ? ["reporting_vq"] : [])];
      expect(dev.numQueues()).toBe(expected.length);
      expected.forEach((name, i) => expect(dev.queue(name)?.index).toBe(i));
      for (const absent of ["statsq", "free_page_vq", "reporting_vq"].filter((n) => !expected.includes(n))) expect(dev.queue(absent)).toBeUndefined();
    }
  });

  it("queues: QEMU sizes 128/128/128/1024/32, Firecracker 256 each", () => {
    const q = mockBalloonVm(64, { freePageHint: true, freePageReporting: true });
    mockProbe(q.drv, [F.STATS, F.HINT, F.POISON, F.REPORTING]);
    expect([0, 1, 2, 3, 4].map((i) => q.balloon.device.queueSizeMax(i))).toEqual([128, 128, 128, 1024, 32]);
    const f = mockBalloonVm(64, { vmm: "firecracker", statsPollingIntervalS: 1, freePageHint: true, freePageReporting: true });
    mockProbe(f.drv, [F.STATS, F.HINT, F.REPORTING]);
    expect([0, 1, 2, 3, 4].map((i) => f.balloon.device.queueSizeMax(i))).toEqual([256, 256, 256, 256, 256]);
  });
});

describe("balloon inflate/deflate (device side)", () => {
  it("inflate: discards the PFNs (RSS falls) and traps them; deflate untraps", () => {
    const { vm, balloon, drv } = mockBalloonVm(64, { pagePoison: false, statsVq: false });
    const [inflq, deflq] = mockProbe(drv, []);
    vm.touch(4096, 1024, true);
    const rss = vm.rssBytes;
    const pfns = Array.from({ length: 256 }, (_, i) => 4096 + i);
    const b = pfnBuffer(drv, pfns);
    inflq.add([b]);
    inflq.kick();
    expect(inflq.complete()).toEqual([{ id: expect.any(Number), len: 0 }]);
    expect(vm.rssBytes).toBe(rss - 256 * 4096);
    expect(balloon.device.metric("freed_bytes")).toBe(MIB);
    expect(pfns.every((p) => vm.memory.isTrapped(p))).toBe(true);
    deflq.add([b]);
    deflq.kick();
    deflq.complete();
    expect(pfns.some((p) => vm.memory.isTrapped(p))).toBe(false);
    expect(balloon.device.inflate.inflatedPages).toBe(0);
    expect(balloon.device.metric("deflate_pfns")).toBe(256);
  });

  it("hostile: PFNs outside guest memory are counted and skipped, the rest is served", () => {
    const { vm, balloon, drv } = mockBalloonVm(64, { pagePoison: false, statsVq: false });
    const [inflq] = mockProbe(drv, []);
    vm.touch(5000, 2, true);
    inflq.add([pfnBuffer(drv, [5000, vm.frames, 0xffffffff, 5001])]);
    inflq.kick();
    expect(inflq.complete().length).toBe(1);
    expect(balloon.device.metric("pfn_fails")).toBe(2);
    expect(balloon.device.inflate.inflatedPfns()).toEqual([5000, 5001]);
    expect(balloon.device.metric("freed_bytes")).toBe(2 * 4096);
  });

  it("hostile: inflating the same PFN twice is counted", () => {
    const { balloon, drv } = mockBalloonVm(64, { pagePoison: false, statsVq: false });
    const [inflq] = mockProbe(drv, []);
    inflq.add([pfnBuffer(drv, [6000, 6000])]);
    inflq.add([pfnBuffer(drv, [6000])]);
    inflq.kick();
    expect(balloon.device.metric("inflate_twice_pfns")).toBe(2);
    expect(balloon.device.inflate.inflatedPages).toBe(1);
  });

  it("hostile: write-only, non-multiple-of-4 and > 256-PFN descriptors are skipped, counted and returned", () => {
    const { vm, balloon, drv } = mockBalloonVm(64, { pagePoison: false, statsVq: false });
    const [inflq] = mockProbe(drv, []);
    vm.touch(7000, 300, true);
    const rss = vm.rssBytes;
    const ok = pfnBuffer(drv, Array.from({ length: 257 }, (_, i) => 7000 + i));
    inflq.add([{ gpa: ok.gpa, len: 16, write: true }]);
    inflq.add([{ gpa: ok.gpa, len: 6 }]);
    inflq.add([ok]); // 257 PFNs
    inflq.kick();
    expect(inflq.complete().length).toBe(3);
    expect(balloon.device.metric("inflate_fails")).toBe(3);
    expect(balloon.device.metric("inflate_count")).toBe(0);
    expect(vm.rssBytes).toBe(rss);
    expect(balloon.device.live).toBe(true);
  });

  it("hostile: a guest touching an inflated page without deflating is counted and gets a zero page", () => {
    const { host, vm, balloon, drv } = mockBalloonVm(64, { pagePoison: false, statsVq: false });
    const [inflq] = mockProbe(drv, []);
    vm.touch(8000, 4, true);
    expect(vm.guest.views.versions[8000]).not.toBe(abi.VERSION_ZERO);
    inflq.add([pfnBuffer(drv, [8000, 8001, 8002, 8003])]);
    inflq.kick();
    expect(vm.touch(8000, 2, false)).toBe(0); // allowed, like KVM refaulting a discarded page
    expect(vm.touch(8001, 1, true)).toBe(0);
    expect(balloon.device.metric("inflated_touch_count")).toBe(2);
    expect(host.metrics.get("vm.balloon.inflated_touch_count")).toBe(2);
    expect(vm.guest.views.versions[8000]).toBe(abi.VERSION_ZERO);
    expect(vm.memory.isTrapped(8002)).toBe(true);
  });

  it("QEMU mode, 2 MiB host pages: two 256-PFN requests covering a huge page free nothing", () => {
    const { vm, balloon, drv } = mockBalloonVm(64, { pagePoison: false, statsVq: false }, { hostPageBytes: HOST_PAGE_2M });
    const [inflq] = mockProbe(drv, []);
    vm.touch(2048, 512, true);
    const rss = vm.rssBytes;
    inflq.add([pfnBuffer(drv, Array.from({ length: 256 }, (_, i) => 2048 + i))]);
    inflq.add([pfnBuffer(drv, Array.from({ length: 256 }, (_, i) => 2304 + i))]);
    inflq.kick();
    expect(balloon.device.metric("inflate_pfns")).toBe(512);
    expect(vm.rssBytes).toBe(rss);
    expect(balloon.device.metric("freed_bytes")).toBe(0);
  });

  it("Firecracker coalescing, 2 MiB host pages: descriptors of one kick covering a huge page free it", () => {
    const { vm, balloon, drv } = mockBalloonVm(64, { vmm: "firecracker" }, { hostPageBytes: HOST_PAGE_2M });
    const [inflq] = mockProbe(drv, []);
    vm.touch(2048, 1024, true);
    const rss = vm.rssBytes;
    // second half first and one duplicate: sorting and dedup still find the whole range
    inflq.add([pfnBuffer(drv, Array.from({ length: 256 }, (_, i) => 2304 + i))]);
    inflq.add([pfnBuffer(drv, [...Array.from({ length: 255 }, (_, i) => 2048 + i), 2048])]);
    inflq.add([pfnBuffer(drv, [2303])]);
    inflq.kick();
    expect(vm.rssBytes).toBe(rss - 2 * MIB);
    expect(balloon.device.metric("freed_bytes")).toBe(2 * MIB);
    expect(balloon.device.metric("discard_calls")).toBe(1);
  });

  it("Firecracker coalescing, 2 MiB host pages: one 256-PFN request per kick frees nothing", () => {
    const { vm, balloon, drv } = mockBalloonVm(64, { vmm: "firecracker" }, { hostPageBytes: HOST_PAGE_2M });
    const [inflq] = mockProbe(drv, []);
    vm.touch(2048, 512, true);
    const rss = vm.rssBytes;
    for (const base of [2048, 2304]) {
      inflq.add([pfnBuffer(drv, Array.from({ length: 256 }, (_, i) => base + i))]);
      inflq.kick();
    }
    expect(vm.rssBytes).toBe(rss);
  });

  it("compactPfns sorts, deduplicates and merges runs", () => {
    expect(compactPfns([5, 3, 4, 4, 10, 0, 1, 11])).toEqual([{ pfn: 0, count: 2 }, { pfn: 3, count: 3 }, { pfn: 10, count: 2 }]);
    expect(compactPfns([])).toEqual([]);
  });
});
