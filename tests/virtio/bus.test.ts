// VirtioBus wiring: slots, unknown ops, the VM helper and metrics registration.
import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { ConfigError } from "../../host/guest/errors.js";
import { MetricsRegistry } from "../../host/metrics/registry.js";
import { attachVirtioBus, EMPTY_SLOT } from "../../host/virtio/bus.js";
import { registerVirtioMetrics } from "../../host/virtio/metrics.js";
import type { Guest } from "../../host/guest/guest.js";
import { newGuest } from "../helpers/guest.js";
import { QueuedSink, newVirtioHarness } from "../helpers/virtio-harness.js";
import { MockDriver } from "../helpers/virtio-mock-driver.js";
import { SUM_F_MODE, SumDevice } from "../helpers/virtio-sum-device.js";

describe("virtio bus", () => {
  it("plug checks the slot; an empty slot reads all ones; unplug resets the device and frees the slot", () => {
    const h = newVirtioHarness(16);
    const dev = new SumDevice();
    expect(() => h.bus.plug(abi.NR_VIRTIO_SLOTS, dev)).toThrow(ConfigError);
    h.bus.plug(4, dev);
    expect(() => h.bus.plug(4, new SumDevice())).toThrow(ConfigError);
    expect(() => h.bus.plug(5, dev)).toThrow(ConfigError); // already on a bus
    expect(h.bus.transport(0, abi.VT_DEVICE_ID, 0, 0, 0)).toBe(EMPTY_SLOT);
    expect(h.bus.queueSetup(0, 0, 8, 0, 0, 0)).toBe(abi.E_INVAL);
    expect(h.bus.notify(0, 0)).toBe(0);
    expect(h.bus.freeSlot()).toBe(0);
    const drv = new MockDriver(h.guest, h.bus, 4);
    expect(drv.negotiate(1 << SUM_F_MODE, 1 << (abi.VIRTIO_F_VERSION_1 - 32))).toBe(true);
    expect(h.bus.transport(4, 99, 0, 0, 0)).toBe(0);
    expect(h.bus.unknownOps).toBe(1);
    expect(h.bus.unplug(4)).toBe(dev);
    expect(dev.readStatus()).toBe(0);
    expect(h.bus.device(4)).toBeUndefined();
    h.bus.plug(6, dev); // detached devices can be plugged again
    expect(dev.busSlot).toBe(6);
  });

  it("attachVirtioBus looks the owner's guest up at the first exit, so a VM can create its bus before its guest", () => {
    const owner: { guest: Guest | undefined } = { guest: undefined };
    const sink = new QueuedSink();
    const bus = attachVirtioBus(owner, sink, { notifyExitNs: 10_000 });
    const dev = new SumDevice();
    bus.plug(0, dev);
    expect(() => bus.memory.windowGpa).toThrow(ConfigError);
    owner.guest = newGuest(16).guest;
    expect(bus.memory.windowGpa).toBe(owner.guest.ramwinGpa);
    const drv = new MockDriver(owner.guest, bus, 0);
    expect(drv.negotiate(0, 1 << (abi.VIRTIO_F_VERSION_1 - 32))).toBe(true);
    const q = drv.setupQueue(0, 4);
    drv.driverOk();
    const resp = drv.alloc(8);
    q.add([{ gpa: resp, len: 8, write: true }]);
    expect(q.kick()).toBe(10_000 + 100); // exit round trip + the device's work
    expect(sink.interrupts).toBe(1);
  });

  it("registerVirtioMetrics publishes <vm>.<device>.* counters read from the device, plus needs_reset", () => {
    const h = newVirtioHarness(16);
    const dev = new SumDevice();
    h.bus.plug(0, dev);
    const reg = new MetricsRegistry();
    const prefix = registerVirtioMetrics(reg, "web1", dev);
    expect(prefix).toBe("web1.vtsum.");
    h.bus.transport(0, abi.VT_CONFIG_WRITE, 0, 4, 1); // read-only field
    expect(reg.get("web1.vtsum.config_fails")).toBe(1);
    expect(reg.get("web1.vtsum.needs_reset")).toBe(0);
    dev.fail("test");
    expect(reg.get("web1.vtsum.needs_reset")).toBe(1);
    expect(reg.list("web1.vtsum.").length).toBe(12);
    expect(reg.unregister(prefix)).toBe(12);
  });
});
