// SPDX-License-Identifier: MIT
// The VM's virtio transport: up to NR_VIRTIO_SLOTS device slots behind the guest's transport exits
// (assembly/host.ts virtio_transport / virtio_queue_setup / virtio_notify). Model: one flat
// transport (no PCI capabilities or MMIO registers); each exit is one call into the device.

import {
  E_INVAL, NR_VIRTIO_SLOTS, VT_CONFIG_GENERATION, VT_CONFIG_READ, VT_CONFIG_WRITE, VT_DEVICE_ID, VT_GET_FEATURES,
  VT_GET_STATUS, VT_NUM_QUEUES, VT_QUEUE_SIZE_MAX, VT_SET_FEATURES, VT_SET_STATUS,
} from "../guest/abi.generated.js";
import { ConfigError } from "../guest/errors.js";
import type { VirtioDevice } from "./device.js";
import { DeviceMemory, type GuestRamLike } from "./guest_ram.js";
import type { InterruptSink, VirtioBusLike } from "./port.js";

/** Transport read of an empty slot (as an unpopulated PCI slot reads all ones). */
export const EMPTY_SLOT = 0xffff_ffff;

export interface VirtioBusOptions {
  /**
   * Exit + re-entry cost of one kick in ns, added to the device's work (the VM passes its cost
   * model's virtqueue round trip). Default 0: the caller owns the cost model.
   */
  readonly notifyExitNs?: number;
}

export class VirtioBus implements VirtioBusLike {
  readonly memory: DeviceMemory;
  private readonly slots: (VirtioDevice | undefined)[] = new Array(NR_VIRTIO_SLOTS).fill(undefined);
  private readonly notifyExitNs: number;
  /** Transport exits with an op the bus does not know (a guest bug), counted not thrown. */
  unknownOps = 0;

  constructor(guest: () => GuestRamLike, private readonly sink: InterruptSink, opts: VirtioBusOptions = {}) {
    this.memory = new DeviceMemory(guest);
    this.notifyExitNs = opts.notifyExitNs ?? 0;
    if (!(this.notifyExitNs >= 0)) throw new ConfigError("notifyExitNs", opts.notifyExitNs, "a number of ns >= 0");
  }

  /** Plugs `device` into `slot` (0 <= slot < NR_VIRTIO_SLOTS, slot free). */
  plug(slot: number, device: VirtioDevice): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= NR_VIRTIO_SLOTS) throw new ConfigError("slot", slot, `an integer in [0, ${NR_VIRTIO_SLOTS})`);
    if (this.slots[slot]) throw new ConfigError("slot", slot, "a free slot");
    device.attach(slot, this.memory, this.sink);
    this.slots[slot] = device;
  }

  /** Removes the device of `slot` (reset first, like hot-unplug). */
  unplug(slot: number): VirtioDevice | undefined {
    const d = this.slots[slot];
    if (d) d.detach();
    this.slots[slot] = undefined;
    return d;
  }

  device(slot: number): VirtioDevice | undefined { return this.slots[slot]; }

  /** First free slot, or -1. */
  freeSlot(): number { return this.slots.findIndex((d) => d === undefined); }

  notify(dev: number, queue: number): number {
    const d = this.slots[dev];
    if (!d) return 0;
    return this.notifyExitNs + d.notify(queue);
  }

  transport(dev: number, op: number, a: number, b: number, c: number): number {
    const d = this.slots[dev];
    if (!d) return EMPTY_SLOT;
    switch (op) {
      case VT_DEVICE_ID: return d.deviceId;
      case VT_GET_FEATURES: return d.deviceFeatures(a);
      case VT_SET_FEATURES: d.writeDriverFeatures(a, b); return 0;
      case VT_GET_STATUS: return d.readStatus();
      case VT_SET_STATUS: d.writeStatus(a); return 0;
      case VT_CONFIG_READ: return d.configRead(a, b) >>> 0;
      case VT_CONFIG_WRITE: d.configWrite(a, b, c); return 0;
      case VT_QUEUE_SIZE_MAX: return d.queueSizeMax(a);
      case VT_NUM_QUEUES: return d.numQueues();
      case VT_CONFIG_GENERATION: return d.config.generation;
      default:
        this.unknownOps++;
        return 0;
    }
  }

  queueSetup(dev: number, queue: number, size: number, descGpa: number, availGpa: number, usedGpa: number): number {
    const d = this.slots[dev];
    if (!d) return E_INVAL;
    return d.setupQueue(queue, size, descGpa, availGpa, usedGpa);
  }
}

/**
 * Wires a bus to anything that owns a guest (the VM): the guest is looked up at each access,
 * so the bus may be created before the guest is instantiated. Usage: `vm.bus = attachVirtioBus(vm, vm)`.
 */
export function attachVirtioBus(owner: { readonly guest: GuestRamLike | undefined }, sink: InterruptSink, opts?: VirtioBusOptions): VirtioBus {
  return new VirtioBus(() => {
    const g = owner.guest;
    if (!g) throw new ConfigError("guest", g, "a guest instance before the first virtio exit");
    return g;
  }, sink, opts);
}
