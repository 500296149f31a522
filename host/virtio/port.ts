// SPDX-License-Identifier: MIT
// The seam between a VM and its virtio devices. The VM forwards the guest's transport exits to a
// VirtioBusLike; devices raise interrupts through an InterruptSink that the VM implements by
// scheduling guest entries (virtio_interrupt / virtio_config_changed) at the current sim time.

/** What the VM's import handlers call for virtio exits (assembly/host.ts). */
export interface VirtioBusLike {
  /** Queue kick; returns the guest's wait in ns. */
  notify(dev: number, queue: number): number;
  /** Transport access (abi VT_*); 0xffffffff for an empty slot. */
  transport(dev: number, op: number, a: number, b: number, c: number): number;
  /** Queue address setup; 0 or a negative abi E_* code. */
  queueSetup(dev: number, queue: number, size: number, descGpa: number, availGpa: number, usedGpa: number): number;
}

/** How devices signal the guest. */
export interface InterruptSink {
  /** Used-buffer notification for queue `queue` of slot `dev`. */
  interrupt(dev: number, queue: number): void;
  /** Configuration-change notification of slot `dev`. */
  configChanged(dev: number): void;
}

/** A bus with no devices: every slot reads as empty. */
export const NULL_BUS: VirtioBusLike = {
  notify: () => 0,
  transport: () => 0xffffffff,
  queueSetup: () => -2,
};
