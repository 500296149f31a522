import { describe, expect, it } from "vitest";
import { ConfigError } from "../../host/guest/errors.js";
import { withCostOverrides } from "../../host/cost-model.js";
import { Host } from "../../host/host.js";
import { ConfigSpace, type ConfigField } from "../../host/virtio/config.js";
import { MIB, newHost } from "../helpers/host.js";
import { SumDevice } from "../helpers/virtio-sum-device.js";

function configError(fn: () => unknown): ConfigError {
  try { fn(); } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("bad input is a ConfigError naming the field, the value and the expectation", () => {
  it("VM size: zero, not page aligned, not a multiple of a 2 MiB host page, too large for one instance", () => {
    const host = newHost();
    let e = configError(() => host.createVm({ name: "x", memBytes: 0 }));
    expect([e.field, e.value]).toEqual(["memBytes", 0]);
    e = configError(() => host.createVm({ name: "x", memBytes: 16 * MIB + 100 }));
    expect([e.field, e.value]).toEqual(["memBytes", 16 * MIB + 100]);
    expect(e.message).toMatch(/memBytes: got 16777316, expected a multiple of the host page size \(4096 bytes\)/);
    e = configError(() => host.createVm({ name: "x", memBytes: 3 * MIB, hostPageBytes: 2097152 }));
    expect(e.expected).toMatch(/2097152/);
    e = configError(() => host.createVm({ name: "x", memBytes: 1024 * 1024 * MIB }));
    expect(e.field).toBe("memBytes");
    expect(e.expected).toMatch(/one wasm32 guest instance/);
    e = configError(() => host.createVm({ name: "x", memBytes: 1 * MIB }));
    expect(e.expected).toMatch(/4 MiB/);
    expect(host.vms.length).toBe(0);
  });

  it("VM names, movable size, boot parameters", () => {
    const host = newHost();
    host.createVm({ name: "a", memBytes: 8 * MIB });
    expect(configError(() => host.createVm({ name: "a", memBytes: 8 * MIB })).field).toBe("name");
    expect(configError(() => host.createVm({ name: "Bad Name", memBytes: 8 * MIB })).value).toBe("Bad Name");
    expect(configError(() => host.createVm({ name: "host", memBytes: 8 * MIB })).field).toBe("name");
    expect(configError(() => host.createVm({ name: "m", memBytes: 8 * MIB, movableBytes: 8 * MIB })).field).toBe("movableBytes");
    const e = configError(() => host.createVm({ name: "p", memBytes: 8 * MIB, params: { no_such_param: 1 } }));
    expect(e.field).toBe("params.no_such_param");
    expect(e.expected).toMatch(/PAGE_REPORTING_ORDER/);
  });

  it("boot parameters reach the guest before guest_init", () => {
    const host = newHost();
    // guest_set_param rejects ids >= NR_PARAMS: a known name must pass, and the VM boots
    const vm = host.createVm({ name: "p", memBytes: 8 * MIB, params: { page_reporting_order: 5, "3": 20 } });
    expect(vm.config.bootParams).toContainEqual([5, 5]);
    expect(vm.config.bootParams).toContainEqual([3, 20]);
  });

  it("time in the past", () => {
    const host = newHost();
    host.runFor(1000);
    const e = configError(() => host.sim.schedule(10, () => {}));
    expect([e.field, e.value]).toEqual(["atNs", 10]);
  });

  it("cost model: unknown key, negative value", () => {
    let e = configError(() => withCostOverrides({ eptFaultNs: 1 }));
    expect([e.field, e.value]).toEqual(["costs.eptFaultNs", 1]);
    expect(e.expected).toMatch(/eptFault4kNs/);
    e = configError(() => withCostOverrides({ madvisePerPageNs: -5 }));
    expect([e.field, e.value]).toEqual(["costs.madvisePerPageNs", -5]);
    expect(withCostOverrides({ madvisePerPageNs: 208 }).madvisePerPageNs).toBe(208);
    expect(configError(() => new Host({ ramBytes: 1024, costs: { nope: 1 } as never })).field).toBe("costs.nope");
  });

  it("host: zero RAM, negative swap", () => {
    expect(configError(() => new Host({ ramBytes: 0 })).field).toBe("ramBytes");
    expect(configError(() => new Host({ ramBytes: MIB, swapBytes: -1 })).field).toBe("swapBytes");
  });

  it("memory ranges and dirty-log shifts", () => {
    const vm = newHost().createVm({ name: "r", memBytes: 8 * MIB });
    expect(configError(() => vm.memory.discard(2000, 1000)).field).toBe("discard.range");
    expect(configError(() => vm.memory.startDirtyLog({ clearBitmapShift: 3 })).field).toBe("clearBitmapShift");
  });

  it("virtio queue maxSize: not a power of two, zero, fractional or above 32768 (split queue, virtio 1.x §2.7)", () => {
    for (const bad of [0, 3, 100, 2.5, 65536, 32769, -4]) {
      const e = configError(() => new SumDevice({ maxSize: bad }));
      expect([e.field, e.value]).toEqual(["vtsum.queues.requestq.maxSize", bad]);
      expect(e.expected).toBe("a power of two in [1, 32768] (virtio split queue size)");
      expect(e.message).toContain(`vtsum.queues.requestq.maxSize: got ${bad}, expected a power of two in [1, 32768]`);
    }
    for (const ok of [1, 2, 256, 32768]) expect(new SumDevice({ maxSize: ok }).queues.length).toBe(0);
  });

  it("virtio config space: overlapping, misaligned, negative, wrongly sized fields; size below the last field", () => {
    const f = (name: string, offset: number, size: number, driverWritable?: boolean): ConfigField =>
      ({ name, offset, size: size as ConfigField["size"], driverWritable });
    // overlap: names both fields, the offset and both byte ranges
    let e = configError(() => new ConfigSpace([f("num_pages", 0, 4), f("actual", 2, 2)]));
    expect([e.field, e.value]).toEqual(["config.actual.offset", 2]);
    expect(e.expected).toBe("no overlap with num_pages (bytes 0..3); actual spans 2..3");
    e = configError(() => new ConfigSpace([f("a", 8, 4), f("wide", 4, 8)])); // an 8-byte field reaching into the next one
    expect([e.field, e.value]).toEqual(["config.wide.offset", 4]);
    expect(e.expected).toMatch(/no overlap with a \(bytes 8\.\.11\); wide spans 4\.\.11/);
    // misaligned: 2-byte at an odd offset, 4-byte at 2, 8-byte at 6 (8-byte fields align to 4)
    e = configError(() => new ConfigSpace([f("w16", 1, 2)]));
    expect([e.field, e.value, e.expected]).toEqual(["config.w16.offset", 1, "a multiple of 2 (natural alignment of a 2-byte field)"]);
    e = configError(() => new ConfigSpace([f("w32", 2, 4)]));
    expect([e.field, e.value, e.expected]).toEqual(["config.w32.offset", 2, "a multiple of 4 (natural alignment of a 4-byte field)"]);
    e = configError(() => new ConfigSpace([f("w64", 6, 8)]));
    expect([e.field, e.value, e.expected]).toEqual(["config.w64.offset", 6, "a multiple of 4 (natural alignment of a 8-byte field)"]);
    expect(new ConfigSpace([f("w64", 4, 8)]).size).toBe(12);
    // offsets and widths the transport cannot address
    e = configError(() => new ConfigSpace([f("neg", -4, 4)]));
    expect([e.field, e.value, e.expected]).toEqual(["config.neg.offset", -4, "a non-negative integer byte offset"]);
    e = configError(() => new ConfigSpace([f("w24", 0, 3)]));
    expect([e.field, e.value, e.expected]).toEqual(["config.w24.size", 3, "1, 2, 4 or 8 bytes"]);
    // duplicate names, explicit size smaller than the layout
    e = configError(() => new ConfigSpace([f("x", 0, 4), f("x", 4, 4)]));
    expect([e.field, e.value]).toEqual(["config.name", "x"]);
    e = configError(() => new ConfigSpace([f("x", 0, 4), f("y", 4, 4)], 6));
    expect([e.field, e.value, e.expected]).toEqual(["config.size", 6, ">= 8 (end of the last field)"]);
    expect(e.message).toBe("config.size: got 6, expected >= 8 (end of the last field)");
  });
});
