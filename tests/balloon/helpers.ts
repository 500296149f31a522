// Test helpers for the balloon: a host with one VM and a balloon plugged and probed.
import { addBalloon, type Balloon, type BalloonOptions } from "../../host/virtio/balloon/index.js";
import type { Host } from "../../host/host.js";
import type { Vm, VmConfig } from "../../host/vm.js";
import { newHost, MIB } from "../helpers/host.js";

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
