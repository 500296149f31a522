// SPDX-License-Identifier: MIT
// Host -> guest virtio events: used-buffer interrupts and config-change interrupts, delivered by
// the host at simulated times. Dispatched to the driver bound to the device slot.

import { E_INVAL, E_STATE, NR_VIRTIO_SLOTS } from "../abi";

/** Per-slot handlers, set by a driver's probe (drivers/virtio.ts). */
export const interruptHandlers = new StaticArray<((slot: u32, queue: u32) => void) | null>(NR_VIRTIO_SLOTS);
export const configHandlers = new StaticArray<((slot: u32) => void) | null>(NR_VIRTIO_SLOTS);

/** Used-buffer interrupt for queue `queue` of device slot `dev`. */
export function virtio_interrupt(dev: u32, queue: u32): i32 {
  if (dev >= NR_VIRTIO_SLOTS) return E_INVAL;
  const h = interruptHandlers[dev];
  if (h === null) return E_STATE;
  h(dev, queue);
  return 0;
}

/** Config-change interrupt of device slot `dev`. */
export function virtio_config_changed(dev: u32): i32 {
  if (dev >= NR_VIRTIO_SLOTS) return E_INVAL;
  const h = configHandlers[dev];
  if (h === null) return E_STATE;
  h(dev);
  return 0;
}
