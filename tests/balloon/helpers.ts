// Test helpers for the balloon: a host with one VM and a balloon plugged and probed.
import { addBalloon, type Balloon, type BalloonOptions } from "../../host/virtio/balloon/index.js";
import type { Host } from "../../host/host.js";
import type { Vm, VmConfig } from "../../host/vm.js";
import { newHost, MIB } from "../helpers/host.js";
import { MockDriver, type MockQueue } from "../helpers/virtio-mock-driver.js";
import * as abi from "../../host/guest/abi.generated.js";

export { MIB };
export const PAGE = 4096;

export interface BalloonVm {
  readonly host: Host;
  readonly vm: Vm;
  readonly balloon: Balloon;
}

/** A host (2 GiB RAM) with one VM of `mib` MiB and a balloon with `options`. */
export function balloonVm(mib: number, options: BalloonOptions = {}, vmCfg: Partial<VmConfig> = {}): BalloonVm {
  const host = newHost({ ramMib: 2048 });
  const vm = host.createVm({ name: "vm", memBytes: mib * MIB, ...vmCfg });
  const balloon = addBalloon(vm, options, { metrics: host.metrics });
  return { host, vm, balloon };
}

/** Pages on the guest's balloon list, head (most recent) first. */
export function balloonList(vm: Vm): number[] {
  const out: number[] = [];
  const next = vm.guest.views.next;
  for (let p = vm.guest.exports.balloon_list_head() >>> 0; p !== 0xffffffff; p = next[p]) out.push(p);
  return out;
}

/** A VM with an unbound balloon and a TypeScript mock driver on its slot (hostile-guest tests). */
export function mockBalloonVm(mib: number, options: BalloonOptions = {}, vmCfg: Partial<VmConfig> = {}): BalloonVm & { drv: MockDriver } {
  const host = newHost({ ramMib: 2048 });
  const vm = host.createVm({ name: "vm", memBytes: mib * MIB, ...vmCfg });
  const balloon = addBalloon(vm, options, { metrics: host.metrics, probe: false });
  return { host, vm, balloon, drv: new MockDriver(vm.guest, balloon.bus, balloon.slot) };
}

/** Negotiates `features` (bits) plus VERSION_1 and sets up every queue the device exposes; DRIVER_OK. */
export function mockProbe(drv: MockDriver, bits: readonly number[], size = 64): MockQueue[] {
  let lo = 0;
  for (const b of bits) lo |= 1 << b;
  if (!drv.negotiate(lo >>> 0, 1)) throw new Error("mock balloon: FEATURES_OK refused");
  const n = drv.bus.transport(drv.slot, abi.VT_NUM_QUEUES, 0, 0, 0);
  const qs: MockQueue[] = [];
  for (let i = 0; i < n; i++) qs.push(drv.setupQueue(i, Math.min(size, drv.bus.transport(drv.slot, abi.VT_QUEUE_SIZE_MAX, i, 0, 0))));
  drv.driverOk();
  return qs;
}

/** Writes `pfns` as le32 into a fresh RAM-window buffer; returns its gpa and byte length. */
export function pfnBuffer(drv: MockDriver, pfns: readonly number[]): { gpa: number; len: number } {
  const gpa = drv.alloc(Math.max(4, 4 * pfns.length), 4);
  pfns.forEach((p, i) => drv.w32(gpa + 4 * i, p));
  return { gpa, len: 4 * pfns.length };
}
