// Both real sides together: the AS driver (virtqueue.ts, virtio.ts, sum test driver) through the
// real VirtioBus to the SumDevice built on VirtioDevice.
import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { newVirtioHarness } from "../helpers/virtio-harness.js";
import { SUM_CHAIN_COST_NS, SUM_F_EVENTQ, SUM_F_MODE, SumDevice } from "../helpers/virtio-sum-device.js";

const INDIRECT = 1 << abi.VIRTIO_RING_F_INDIRECT_DESC;
const EVENT_IDX = 1 << abi.VIRTIO_RING_F_EVENT_IDX;
const EXIT_NS = 1000;

function boot(drvLo: number, opts: { eventIdx?: boolean; indirectMax?: number; size?: number } = {}) {
  const h = newVirtioHarness(16, { notifyExitNs: EXIT_NS });
  const dev = new SumDevice({ eventIdx: opts.eventIdx ?? false, maxSize: 64 });
  h.bus.plug(3, dev);
  const g = h.guest.exports;
  expect(g.vtest_probe(3, abi.VIRTIO_ID_TEST_SUM, drvLo, 0)).toBe(0);
  const vq = g.vtest_find_vq(3, 0, opts.size ?? 8, opts.indirectMax ?? 0);
  expect(vq).not.toBe(0);
  expect(g.vtest_driver_ok(3)).toBe(0);
  return { h, dev, g, vq };
}

describe("virtio end to end: AS driver + VirtioBus + SumDevice", () => {
  it("70,000 requests through indirect tables across the 65535 wrap: every sum right, time charged per kick", () => {
    const { h, dev, g, vq } = boot(INDIRECT, { indirectMax: 4 });
    expect(dev.hasFeature(abi.VIRTIO_RING_F_INDIRECT_DESC)).toBe(true);
    const ns = h.guest.enter(0, (x) => expect(x.vtest_sum_run(vq, 70_000, 8, 2, 24, 99)).toBe(0));
    expect(dev.metric("used_count")).toBe(70_000);
    expect(dev.metric("notify_count")).toBe(70_000 / 8);
    expect(dev.metric("desc_fails") + dev.metric("request_fails")).toBe(0);
    expect(dev.config.get("requests")).toBe(70_000);
    expect(dev.queue("requestq")!.nextUsedIdx).toBe(70_000 - 65_536);
    expect(ns).toBe((70_000 / 8) * EXIT_NS + 70_000 * SUM_CHAIN_COST_NS);
    expect(h.sink.interrupts).toBe(70_000 / 8);
    expect(h.deliver()).toBe(70_000 / 8);
    expect(g.vtest_irqs(3)).toBe(70_000 / 8);
  });

  it("EVENT_IDX on both sides: the device asks for every kick, the driver's used_event limits interrupts", () => {
    const { h, dev, g, vq } = boot(EVENT_IDX | (1 << SUM_F_MODE), { eventIdx: true });
    expect(dev.hasFeature(abi.VIRTIO_RING_F_EVENT_IDX)).toBe(true);
    h.guest.enter(0, (x) => expect(x.vtest_sum_run(vq, 1000, 2, 1, 8, 5)).toBe(0));
    expect(g.vtest_kicks(vq)).toBe(500);
    expect(dev.metric("notify_count")).toBe(500);
    // the driver consumed every entry before the next kick, so each batch crossed used_event once
    expect(h.sink.interrupts).toBe(500);
    // with callbacks disabled the device stops interrupting
    g.vtest_disable_cb(vq);
    h.guest.enter(0, (x) => expect(x.vtest_sum_run(vq, 10, 2, 1, 8, 6)).toBe(0));
    expect(h.sink.interrupts).toBe(501); // used_event was last set at entry 1000: only the first batch crosses it
  });

  it("negotiation end to end: bits the driver does not support are dropped and their queues do not exist", () => {
    const { dev, g } = boot(1 << SUM_F_MODE);
    expect(dev.hasFeature(SUM_F_EVENTQ)).toBe(false);
    expect(dev.numQueues()).toBe(1);
    expect(g.vtest_features(3, 0)).toBe(1 << SUM_F_MODE);
    expect(g.vtest_features(3, 1)).toBe(1 << (abi.VIRTIO_F_VERSION_1 - 32));
    expect(g.vtest_find_vq(3, 1, 8, 0)).toBe(0);
  });

  it("config end to end: le64 bytes_summed read by the driver; writes to device fields ignored and counted", () => {
    const { h, dev, g, vq } = boot(0);
    h.guest.enter(0, (x) => expect(x.vtest_sum_run(vq, 100, 1, 3, 100, 7)).toBe(0));
    dev.config.set("bytes_summed", 2 ** 40 + 30_000); // past 32 bits: both words matter
    expect(g.vtest_cread64(3, 8)).toBe(2 ** 40 + 30_000);
    expect(g.vtest_cread(3, 0, 4)).toBe(100);
    g.vtest_cwrite(3, 0, 4, 0);
    g.vtest_cwrite(3, 6, 1, 3);
    expect(dev.config.get("requests")).toBe(100);
    expect(dev.config.get("mode")).toBe(3);
    expect(dev.metric("config_fails")).toBe(1);
  });

  it("a corrupted avail idx fails the device: NEEDS_RESET, config change to the guest, and a re-probe recovers", () => {
    const { h, dev, g, vq } = boot(0);
    const q = dev.queue("requestq")!;
    h.guest.views.ramwinView.setUint16(q.availGpa + 2 - h.guest.ramwinGpa, 200, true); // guest bug
    expect(g.vtest_kick(vq)).toBe(1);
    expect(dev.failedReason).toMatch(/avail idx 200/);
    expect(g.vtest_status(3) & abi.VIRTIO_STATUS_NEEDS_RESET).toBeTruthy();
    expect(h.deliver()).toBe(1);
    expect(g.vtest_config_changes(3)).toBe(1);
    h.guest.enter(0, (x) => expect(x.vtest_sum_run(vq, 1, 1, 1, 8, 1)).toBe(abi.E_IO)); // nothing comes back
    expect(dev.metric("notify_ignored")).toBe(1);
    // driver recovers: reset, reclaim, probe again
    g.vtest_remove(3);
    while (g.vtest_detach_unused(vq) !== 0xffffffff);
    expect(g.vtest_probe(3, 0, 0, 0)).toBe(0);
    const vq2 = g.vtest_find_vq(3, 0, 8, 0);
    expect(g.vtest_driver_ok(3)).toBe(0);
    h.guest.enter(0, (x) => expect(x.vtest_sum_run(vq2, 50, 2, 1, 8, 2)).toBe(0));
    expect(dev.failedReason).toBeUndefined();
  });

  it("eventq: buffers the device holds come back on postEvent with an interrupt to the guest handler", () => {
    const { h, dev, g } = boot((1 << SUM_F_EVENTQ) | (1 << SUM_F_MODE));
    // eventq must be set up before DRIVER_OK: probe again with both queues
    expect(g.vtest_probe(3, 0, 1 << SUM_F_EVENTQ, 0)).toBe(0);
    g.vtest_find_vq(3, 0, 8, 0);
    const eq = g.vtest_find_vq(3, 1, 4, 0);
    expect(eq).not.toBe(0);
    expect(g.vtest_driver_ok(3)).toBe(0);
    const b = g.vtest_ramwin_alloc(4, 4);
    g.vtest_sg(0, b, 4);
    expect(g.vtest_add_sgs(eq, 0, 1, 77)).toBe(0);
    g.vtest_kick(eq);
    expect(dev.heldEvents).toBe(1);
    expect(g.vtest_get_buf(eq)).toBe(0xffffffff);
    expect(dev.postEvent(0x1234)).toBe(true);
    expect(h.deliver()).toBe(1);
    expect(g.vtest_irqs(3)).toBe(1);
    expect(g.vtest_get_buf(eq)).toBe(77);
    expect(g.vtest_last_len(eq)).toBe(4);
    expect(h.guest.views.ramwinView.getUint32(b - h.guest.ramwinGpa, true)).toBe(0x1234);
  });
});
