import { describe, expect, it } from "vitest";
import { MIB, newHost } from "../helpers/host.js";
import type { Vm } from "../../host/vm.js";

/** The VM's timer exits, as the guest would call them through timer_arm / timer_cancel. */
function timerImports(vm: Vm): { arm(id: number, atNs: number): void; cancel(id: number): void } {
  const v = vm as unknown as { armTimer(id: number, atNs: number): void; cancelTimer(id: number): void };
  return { arm: (id, at) => v.armTimer(id, at), cancel: (id) => v.cancelTimer(id) };
}

describe("vm: guest entries, vCPU time, timers and interrupts", () => {
  it("an entry accounts its simulated time to the vCPU; a later event waits until it is free", () => {
    const host = newHost();
    const vm = host.createVm({ name: "v", memBytes: 16 * MIB });
    const ns = vm.enter("fill", (g) => { g.hw_access_range(1024, 100, true); });
    expect(ns).toBe(100 * host.costs.eptFault4kNs);
    expect(vm.busyUntilNs).toBe(ns);
    expect(host.sim.now).toBe(0);
    let startedAt = -1;
    vm.deliver("probe", () => { startedAt = vm.guestNowNs(); });
    host.runFor(1e6);
    expect(startedAt).toBe(ns);
    expect(vm.stats.deferredEvents).toBe(1);
    expect(vm.cpuNsByLabel.get("fill")).toBe(ns);
  });

  it("a deferred event can still be cancelled through its handle", () => {
    const host = newHost();
    const vm = host.createVm({ name: "c", memBytes: 16 * MIB });
    vm.enter("fill", (g) => { g.hw_access_range(1024, 100, true); });
    let ran = false;
    const h = vm.deliver("late", () => { ran = true; });
    host.runFor(0); // runs once, finds the vCPU busy, re-queues at busyUntil
    expect(vm.stats.deferredEvents).toBe(1);
    expect(h.pending).toBe(true);
    expect(h.atNs).toBe(vm.busyUntilNs);
    expect(h.cancel()).toBe(true);
    host.runFor(1e9);
    expect(ran).toBe(false);
  });

  it("nested guest entries are an invariant violation", () => {
    const vm = newHost().createVm({ name: "n", memBytes: 8 * MIB });
    expect(() => vm.enter("outer", () => { vm.enter("inner", () => {}); })).toThrowError(/while the guest is running/);
    expect(vm.inGuestEntry).toBe(false);
  });

  it("a guest timer fires at its time inside a guest entry; re-arming replaces, cancel removes", () => {
    const host = newHost();
    const vm = host.createVm({ name: "t", memBytes: 8 * MIB });
    const t = timerImports(vm);
    t.arm(1, 5000);
    t.arm(1, 7000); // replaces
    t.arm(2, 6000);
    t.cancel(2);
    expect([...vm.armedTimers()]).toEqual([[1, 7000]]);
    host.runFor(6999);
    expect(vm.stats.entries).toBe(0);
    host.runFor(1);
    expect(vm.stats.entries).toBe(1);
    expect(vm.cpuNsByLabel.has("timer:1")).toBe(true);
    // no guest module registered timer 1 yet: the guest rejects it and the VM counts it
    expect(vm.stats.timerFails).toBe(1);
    expect(vm.armedTimers().size).toBe(0);
  });

  it("interrupts become guest entries at the current time; a guest without a driver rejects them", () => {
    const host = newHost();
    const vm = host.createVm({ name: "i", memBytes: 8 * MIB });
    host.runFor(100);
    vm.interrupt(0, 0);
    vm.configChanged(1);
    expect(vm.stats.entries).toBe(0);
    host.runFor(0);
    expect(vm.stats.entries).toBe(2);
    expect(vm.stats.irqFails).toBe(2);
  });
});
