import { describe, expect, it } from "vitest";
import { ConfigError } from "../../host/guest/errors.js";
import { withCostOverrides } from "../../host/cost-model.js";
import { Host } from "../../host/host.js";
import { MIB, newHost } from "../helpers/host.js";

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
});
