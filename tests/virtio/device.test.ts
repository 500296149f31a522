// Device side (host/virtio) driven by the TypeScript mock driver writing rings into the RAM window.
import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { VirtioDevice } from "../../host/virtio/device.js";
import { compactQueues, featureWords, queueIndex, type QueueSpec } from "../../host/virtio/features.js";
import type { VirtQueue } from "../../host/virtio/queue.js";
import { newVirtioHarness } from "../helpers/virtio-harness.js";
import { MockDriver, type MockQueue } from "../helpers/virtio-mock-driver.js";
import { SUM_F_EVENTQ, SUM_F_MODE, SumDevice, type SumDeviceOptions } from "../helpers/virtio-sum-device.js";

const V1_HI = 1 << (abi.VIRTIO_F_VERSION_1 - 32);
const INDIRECT = 1 << abi.VIRTIO_RING_F_INDIRECT_DESC;
const EVENT_IDX = 1 << abi.VIRTIO_RING_F_EVENT_IDX;

function setup(opts: SumDeviceOptions & { lo?: number; size?: number } = {}) {
  const h = newVirtioHarness(16);
  const dev = new SumDevice(opts);
  h.bus.plug(0, dev);
  const drv = new MockDriver(h.guest, h.bus, 0);
  expect(drv.negotiate(opts.lo ?? 1 << SUM_F_MODE, V1_HI)).toBe(true);
  const q = drv.setupQueue(0, opts.size ?? 8);
  drv.driverOk();
  return { h, dev, drv, q };
}

/** Fills `len` bytes at a fresh buffer with 1..len (mod 256); returns gpa and byte sum. */
function pattern(drv: MockDriver, len: number): { gpa: number; sum: number } {
  const gpa = drv.alloc(len, 8);
  const b = drv.bytes(gpa, len);
  let sum = 0;
  for (let i = 0; i < len; i++) { b[i] = (i + 1) & 0xff; sum += b[i]; }
  return { gpa, sum };
}

function sumRequest(drv: MockDriver, q: MockQueue, outs: number[]): { head: number; resp: number; sum: number; total: number } {
  let sum = 0, total = 0;
  const segs = outs.map((len) => { const p = pattern(drv, len); sum += p.sum; total += len; return { gpa: p.gpa, len }; });
  const resp = drv.alloc(8, 8);
  const head = q.add([...segs, { gpa: resp, len: 8, write: true }]);
  return { head, resp, sum, total };
}

describe("virtio device side: the sum device under the mock driver", () => {
  it("a well-formed chain is served: result written, used len 8, one interrupt, cost returned", () => {
    const { h, dev, drv, q } = setup();
    const r = sumRequest(drv, q, [100, 28]);
    const ns = q.kick();
    expect(ns).toBe(100);
    expect(q.complete()).toEqual([{ id: r.head, len: 8 }]);
    expect(drv.r32(r.resp)).toBe(r.sum);
    expect(drv.r32(r.resp + 4)).toBe(128);
    expect(h.sink.interrupts).toBe(1);
    expect(h.sink.pending).toEqual([{ dev: 0, queue: 0 }]);
    expect(dev.metric("used_count")).toBe(1);
    expect(dev.config.get("requests")).toBe(1);
    expect(dev.config.get("bytes_summed")).toBe(128);
  });

  it("queue setup: size must be a power of two within the maximum, rings aligned and inside the RAM window", () => {
    const h = newVirtioHarness(16);
    const dev = new SumDevice({ maxSize: 64 });
    h.bus.plug(0, dev);
    const drv = new MockDriver(h.guest, h.bus, 0);
    expect(drv.negotiate(0, V1_HI)).toBe(true);
    const base = drv.alloc(8192, 4096);
    const ok = (size: number, d: number, a: number, u: number) => h.bus.queueSetup(0, 0, size, d, a, u);
    expect(ok(3, base, base + 2048, base + 4096)).toBe(abi.E_INVAL);
    expect(ok(128, base, base + 2048, base + 4096)).toBe(abi.E_INVAL);
    expect(ok(8, base + 8, base + 2048, base + 4096)).toBe(abi.E_INVAL); // desc needs 16
    expect(ok(8, base, base + 2049, base + 4096)).toBe(abi.E_INVAL); // avail needs 2
    expect(ok(8, base, base + 2048, base + 4098)).toBe(abi.E_INVAL); // used needs 4
    expect(ok(8, 4096, base + 2048, base + 4096)).toBe(abi.E_RANGE); // guest RAM, but not the window
    expect(ok(8, base, base + 2048, 2 ** 40)).toBe(abi.E_RANGE);
    const winEnd = h.guest.ramwinGpa + h.guest.views.ramwin.length;
    expect(ok(8, base, base + 2048, winEnd - 8)).toBe(abi.E_RANGE); // used ring straddles the end
    expect(h.bus.queueSetup(0, 1, 8, base, base + 2048, base + 4096)).toBe(abi.E_INVAL); // eventq not negotiated
    expect(ok(8, base, base + 2048, base + 4096)).toBe(0);
    expect(dev.metric("status_fails")).toBe(9);
  });

  it("feature negotiation: acking an unoffered bit or leaving out VERSION_1 leaves FEATURES_OK clear", () => {
    const h = newVirtioHarness(16);
    const dev = new SumDevice({ eventIdx: false });
    h.bus.plug(0, dev);
    const drv = new MockDriver(h.guest, h.bus, 0);
    const offered = drv.deviceFeatures();
    expect(offered.hi).toBe(V1_HI);
    expect(offered.lo).toBe((1 << SUM_F_MODE) | (1 << SUM_F_EVENTQ) | INDIRECT);
    expect(drv.negotiate(EVENT_IDX, V1_HI)).toBe(false); // not offered
    expect(drv.negotiate(1 << SUM_F_MODE, 0)).toBe(false); // no VERSION_1
    expect(drv.negotiate(1 << SUM_F_MODE, V1_HI | 2)).toBe(false); // bit 33
    expect(dev.metric("status_fails")).toBe(3);
    expect(drv.negotiate(offered.lo, offered.hi)).toBe(true);
    expect(dev.hasFeature(SUM_F_EVENTQ)).toBe(true);
    // features are frozen after FEATURES_OK
    h.bus.transport(0, abi.VT_SET_FEATURES, 0, 0, 0);
    expect(dev.hasFeature(SUM_F_EVENTQ)).toBe(true);
    expect(dev.metric("status_fails")).toBe(4);
  });

  it("status follows §3.1.1: no DRIVER_OK before FEATURES_OK, no clearing bits without reset", () => {
    const h = newVirtioHarness(16);
    const dev = new SumDevice();
    h.bus.plug(0, dev);
    const drv = new MockDriver(h.guest, h.bus, 0);
    drv.setStatus(abi.VIRTIO_STATUS_ACKNOWLEDGE | abi.VIRTIO_STATUS_DRIVER | abi.VIRTIO_STATUS_DRIVER_OK);
    expect(drv.status()).toBe(0);
    drv.setStatus(abi.VIRTIO_STATUS_DRIVER); // DRIVER without ACKNOWLEDGE
    expect(drv.status()).toBe(0);
    expect(drv.negotiate(0, V1_HI)).toBe(true);
    drv.setStatus(abi.VIRTIO_STATUS_ACKNOWLEDGE);
    expect(drv.status() & abi.VIRTIO_STATUS_FEATURES_OK).toBeTruthy();
    expect(dev.metric("status_fails")).toBe(3);
    expect(h.bus.notify(0, 0)).toBe(0); // not DRIVER_OK: ignored
    expect(dev.metric("notify_ignored")).toBe(1);
  });

  it("queue indices are compacted over negotiated features (balloon-like list, reference §1.3)", () => {
    const balloonLike: QueueSpec[] = [
      { name: "inflateq", maxSize: 128 }, { name: "deflateq", maxSize: 128 },
      { name: "statsq", maxSize: 128, feature: 1 }, { name: "free_page_vq", maxSize: 1024, feature: 3 },
      { name: "reporting_vq", maxSize: 32, feature: 5 },
    ];
    const names = (bits: number[]) => compactQueues(balloonLike, featureWords(bits)).map((s) => s.name);
    expect(names([])).toEqual(["inflateq", "deflateq"]);
    expect(names([5])).toEqual(["inflateq", "deflateq", "reporting_vq"]);
    expect(names([1, 5])).toEqual(["inflateq", "deflateq", "statsq", "reporting_vq"]);
    expect(queueIndex(balloonLike, featureWords([3, 5]), "reporting_vq")).toBe(3); // FC: 2 + hinting
    expect(queueIndex(balloonLike, featureWords([1, 3, 5]), "reporting_vq")).toBe(4);
    expect(queueIndex(balloonLike, featureWords([1]), "free_page_vq")).toBe(-1);

    class BalloonLike extends VirtioDevice {
      served: string[] = [];
      constructor() { super({ name: "bl", deviceId: abi.VIRTIO_ID_BALLOON, features: [1, 3, 5], queues: balloonLike, config: [] }); }
      protected override processQueue(q: VirtQueue, name: string): number {
        this.serviceQueue(q, () => { this.served.push(name); return 0; });
        return 0;
      }
    }
    const h = newVirtioHarness(16);
    const dev = new BalloonLike();
    h.bus.plug(2, dev);
    const drv = new MockDriver(h.guest, h.bus, 2);
    drv.setStatus(0);
    drv.setStatus(abi.VIRTIO_STATUS_ACKNOWLEDGE | abi.VIRTIO_STATUS_DRIVER);
    h.bus.transport(2, abi.VT_SET_FEATURES, 0, 1 << 5, 0);
    expect(h.bus.transport(2, abi.VT_NUM_QUEUES, 0, 0, 0)).toBe(3);
    expect(h.bus.transport(2, abi.VT_QUEUE_SIZE_MAX, 2, 0, 0)).toBe(32); // reporting_vq at index 2
    expect(h.bus.transport(2, abi.VT_QUEUE_SIZE_MAX, 3, 0, 0)).toBe(0);
    h.bus.transport(2, abi.VT_SET_FEATURES, 1, V1_HI, 0);
    drv.setStatus(drv.status() | abi.VIRTIO_STATUS_FEATURES_OK);
    const rq = drv.setupQueue(2, 32);
    drv.driverOk();
    rq.add([{ gpa: drv.alloc(8), len: 8 }]);
    rq.kick();
    expect(dev.served).toEqual(["reporting_vq"]);
    expect(dev.queue("reporting_vq")?.index).toBe(2);
    expect(dev.queue("statsq")).toBeUndefined();
  });

  it("ring indices wrap past 65535: 70,000 requests on an 8-entry queue, every one answered", () => {
    const { h, dev, drv, q } = setup({ size: 8 });
    const out = pattern(drv, 16);
    const resp = drv.alloc(8, 8);
    let heads = 0, len8 = 0;
    for (let i = 0; i < 70_000; i++) {
      q.add([{ gpa: out.gpa, len: 16 }, { gpa: resp, len: 8, write: true }]);
      if (i % 4 === 3) {
        q.kick();
        for (const u of q.complete()) { heads++; if (u.len === 8) len8++; }
      }
    }
    expect(heads).toBe(70_000);
    expect(len8).toBe(70_000);
    expect(q.availIdx).toBe(70_000 & 0xffff);
    expect(q.usedIdx()).toBe(70_000 & 0xffff);
    expect(dev.queue("requestq")!.lastAvailIdx).toBe(70_000 - 65_536);
    expect(dev.metric("used_count")).toBe(70_000);
    expect(dev.metric("notify_count")).toBe(17_500);
    expect(h.sink.interrupts).toBe(17_500);
    expect(dev.metric("desc_fails") + dev.metric("request_fails")).toBe(0);
    expect(drv.r32(resp)).toBe(out.sum);
  });

  it("VIRTQ_AVAIL_F_NO_INTERRUPT suppresses interrupts; used entries are still written", () => {
    const { h, drv, q } = setup();
    q.setAvailFlags(abi.VIRTQ_AVAIL_F_NO_INTERRUPT);
    sumRequest(drv, q, [4]);
    q.kick();
    expect(q.complete()).toHaveLength(1);
    expect(h.sink.interrupts).toBe(0);
    q.setAvailFlags(0);
    sumRequest(drv, q, [4]);
    q.kick();
    expect(h.sink.interrupts).toBe(1);
  });

  it("EVENT_IDX: the device interrupts only when used_event is crossed and publishes avail_event", () => {
    const { h, drv, q } = setup({ eventIdx: true, lo: EVENT_IDX, size: 16 });
    expect(q.availEvent()).toBe(0);
    sumRequest(drv, q, [4]);
    q.kick();
    expect(h.sink.interrupts).toBe(1); // first interrupt after setup is always sent
    expect(q.availEvent()).toBe(1); // "kick me when you publish entry 1"
    q.complete();
    q.setUsedEvent(5); // driver: interrupt me once entry 5 is used
    for (let i = 0; i < 3; i++) { sumRequest(drv, q, [4]); q.kick(); }
    expect(h.sink.interrupts).toBe(1); // used idx went 1 -> 4: entry 5 not reached
    sumRequest(drv, q, [4]);
    sumRequest(drv, q, [4]);
    q.kick();
    expect(h.sink.interrupts).toBe(2); // 4 -> 6 crosses 5
    expect(q.takeUsed()).toHaveLength(5);
  });

  it("indirect descriptors are served when negotiated and rejected (desc_fails) when not", () => {
    const a = setup({ lo: INDIRECT | (1 << SUM_F_MODE) });
    const p = pattern(a.drv, 40);
    const resp = a.drv.alloc(8, 8);
    const table = a.drv.alloc(16 * 3, 16);
    const head = a.q.addIndirect([{ gpa: p.gpa, len: 20 }, { gpa: p.gpa + 20, len: 20 }, { gpa: resp, len: 8, write: true }], table);
    a.q.kick();
    expect(a.q.complete()).toEqual([{ id: head, len: 8 }]);
    expect(a.drv.r32(resp)).toBe(p.sum);

    const b = setup({ lo: 1 << SUM_F_MODE });
    const table2 = b.drv.alloc(32, 16);
    const h2 = b.q.addIndirect([{ gpa: p.gpa, len: 20 }, { gpa: resp, len: 8, write: true }], table2);
    b.q.kick();
    expect(b.q.complete()).toEqual([{ id: h2, len: 0 }]); // returned: the driver gets its descriptor back
    expect(b.dev.metric("desc_fails")).toBe(1);
  });

  it("readable buffers outside the RAM window are exposed as ranges, never read", () => {
    const { dev, drv, q } = setup();
    const resp = drv.alloc(8, 8);
    const block = 64 * 4096; // 2 MiB block far from the window, like a reported block
    q.add([{ gpa: block, len: 2 << 20 }, { gpa: resp, len: 8, write: true }]);
    q.kick();
    expect(q.complete()[0].len).toBe(8);
    expect(dev.ranges).toEqual([{ gpa: block, len: 2 << 20 }]);
    expect(drv.r32(resp)).toBe(0);
    expect(drv.r32(resp + 4)).toBe(2 << 20);
  });

  it("a writable response outside the window is a request failure, answered with used len 0", () => {
    const { dev, drv, q } = setup();
    const p = pattern(drv, 8);
    q.add([{ gpa: p.gpa, len: 8 }, { gpa: 8 * 4096, len: 8, write: true }]);
    q.kick();
    expect(q.complete()[0].len).toBe(0);
    expect(dev.metric("request_fails")).toBe(1);
  });

  it("bogus avail idx: device fails with NEEDS_RESET, raises a config change, ignores notifies until reset", () => {
    const { h, dev, drv, q } = setup({ size: 8 });
    q.setAvailIdx(9); // 9 entries ahead of 0 on an 8-entry ring
    expect(q.kick()).toBe(0);
    expect(dev.failedReason).toMatch(/avail idx 9/);
    expect(drv.status() & abi.VIRTIO_STATUS_NEEDS_RESET).toBeTruthy();
    expect(h.sink.configChanges).toBe(1);
    expect(dev.metric("event_fails")).toBe(1);
    q.setAvailIdx(1);
    q.kick();
    expect(dev.metric("notify_ignored")).toBe(1);
    expect(q.usedIdx()).toBe(0);
    // reset and a fresh probe bring it back
    const resets = dev.metric("reset_count");
    drv.setStatus(0);
    expect(drv.status()).toBe(0);
    expect(dev.queues).toHaveLength(0);
    expect(drv.negotiate(1 << SUM_F_MODE, V1_HI)).toBe(true);
    const q2 = drv.setupQueue(0, 8);
    drv.driverOk();
    sumRequest(drv, q2, [3]);
    q2.kick();
    expect(q2.complete()).toHaveLength(1);
    expect(dev.metric("reset_count")).toBe(resets + 2); // ours + negotiate()'s own reset
    expect(dev.failedReason).toBeUndefined();
  });

  it("reset clears queues, negotiated features and held buffers", () => {
    const h = newVirtioHarness(16);
    const dev = new SumDevice();
    h.bus.plug(0, dev);
    const drv = new MockDriver(h.guest, h.bus, 0);
    expect(drv.negotiate((1 << SUM_F_EVENTQ) | (1 << SUM_F_MODE), V1_HI)).toBe(true);
    drv.setupQueue(0, 8);
    const eq = drv.setupQueue(1, 4);
    drv.driverOk();
    eq.add([{ gpa: drv.alloc(4, 4), len: 4, write: true }]);
    eq.kick();
    expect(dev.heldEvents).toBe(1);
    expect(dev.queues.every((q) => q.ready)).toBe(true);
    drv.setStatus(0);
    expect(dev.hasFeature(SUM_F_EVENTQ)).toBe(false);
    expect(dev.queues).toHaveLength(0);
    expect(dev.heldEvents).toBe(0);
    expect(dev.readStatus()).toBe(0);
    expect(dev.postEvent(1)).toBe(false);
    expect(h.bus.notify(0, 0)).toBe(0);
    expect(dev.metric("notify_ignored")).toBe(1);
  });

  it("eventq: the device holds buffers (HOLD) and returns one per postEvent with an interrupt", () => {
    const h = newVirtioHarness(16);
    const dev = new SumDevice();
    h.bus.plug(1, dev);
    const drv = new MockDriver(h.guest, h.bus, 1);
    expect(drv.negotiate((1 << SUM_F_EVENTQ) | (1 << SUM_F_MODE), V1_HI)).toBe(true);
    drv.setupQueue(0, 8);
    const eq = drv.setupQueue(1, 4);
    drv.driverOk();
    const bufs = [drv.alloc(4, 4), drv.alloc(4, 4)];
    const heads = bufs.map((b) => eq.add([{ gpa: b, len: 4, write: true }]));
    eq.kick();
    expect(eq.takeUsed()).toEqual([]);
    expect(dev.heldEvents).toBe(2);
    expect(h.sink.interrupts).toBe(0);
    expect(dev.postEvent(0xabcd1234)).toBe(true);
    expect(eq.takeUsed()).toEqual([{ id: heads[0], len: 4 }]);
    expect(drv.r32(bufs[0])).toBe(0xabcd1234);
    expect(h.sink.pending).toEqual([{ dev: 1, queue: 1 }]);
  });

  it("config space: little-endian fields, read-only bytes ignored and counted, out-of-range reads 0", () => {
    const h = newVirtioHarness(16);
    const dev = new SumDevice();
    h.bus.plug(0, dev);
    const t = (op: number, a: number, b = 0, c = 0) => h.bus.transport(0, op, a, b, c);
    dev.config.set("requests", 0x11223344);
    dev.config.set("bytes_summed", 0x0102_0304_0506);
    expect(Array.from(dev.config.bytes.subarray(0, 4))).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(t(abi.VT_CONFIG_READ, 0, 1)).toBe(0x44);
    expect(t(abi.VT_CONFIG_READ, 2, 2)).toBe(0x1122);
    expect(t(abi.VT_CONFIG_READ, 4, 2)).toBe(64); // max_segs
    expect(t(abi.VT_CONFIG_READ, 8, 4)).toBe(0x0304_0506);
    expect(t(abi.VT_CONFIG_READ, 12, 4)).toBe(0x0102);
    const gen = t(abi.VT_CONFIG_GENERATION, 0);
    t(abi.VT_CONFIG_WRITE, 0, 4, 0); // requests: device-owned
    t(abi.VT_CONFIG_WRITE, 5, 2, 0xffff); // straddles max_segs and mode
    t(abi.VT_CONFIG_WRITE, 7, 1, 1); // padding byte
    expect(dev.config.get("requests")).toBe(0x11223344);
    expect(dev.config.get("max_segs")).toBe(64);
    expect(dev.metric("config_fails")).toBe(3);
    t(abi.VT_CONFIG_WRITE, 6, 1, 0x5a); // mode: driver-writable
    t(abi.VT_CONFIG_WRITE, 0x10, 4, 0xcafef00d); // scratch
    expect(dev.config.get("mode")).toBe(0x5a);
    expect(dev.config.get("scratch")).toBe(0xcafef00d);
    expect(dev.lastConfigWrite).toBe("scratch");
    expect(t(abi.VT_CONFIG_GENERATION, 0)).toBe(gen); // driver writes do not bump it
    expect(t(abi.VT_CONFIG_READ, 0x12, 4)).toBe(0); // past the end
    expect(t(abi.VT_CONFIG_READ, 0, 8)).toBe(0); // the transport has no 8-byte access
    expect(dev.metric("config_fails")).toBe(5);
    expect(t(abi.VT_DEVICE_ID, 0)).toBe(abi.VIRTIO_ID_TEST_SUM);
    expect(h.bus.transport(5, abi.VT_DEVICE_ID, 0, 0, 0)).toBe(0xffffffff);
  });
});
