// SPDX-License-Identifier: MIT
// The VM exits: the only functions the guest calls on the host (design §2). Each is a place where
// a real VM leaves guest mode; ordinary page accesses never come here (see hw/mmu.ts).

/**
 * EPT violation: the guest touched `pfn` and the host state did not allow it. The host
 * populates (zero page / fresh page), un-protects and logs dirty, swaps in, or refuses.
 * Returns the host-side cost in ns (>= 0), or a negative value if the access was refused
 * (the guest counts it in VM_FAULT_REFUSED and carries on without the access).
 */
// @ts-ignore: decorator
@external("guestmem", "hw_fault")
export declare function hw_fault(pfn: u32, write: bool): f64;

/**
 * Queue notification (kick) of virtqueue `queue` of device `dev`. The host device processes the
 * available ring synchronously, as a vCPU exit handled in the VMM would, and returns the time
 * the guest waited in ns (device work + round trip).
 */
// @ts-ignore: decorator
@external("guestmem", "virtio_notify")
export declare function virtio_notify(dev: u32, queue: u32): f64;

/** Arms guest timer `id` to fire at simulated time `atNs` (absolute); re-arming replaces it. */
// @ts-ignore: decorator
@external("guestmem", "timer_arm")
export declare function timer_arm(id: u32, atNs: f64): void;

/** Cancels guest timer `id` if armed. */
// @ts-ignore: decorator
@external("guestmem", "timer_cancel")
export declare function timer_cancel(id: u32): void;

/**
 * Virtio transport access (PCI/MMIO config exits): feature words, status, config space, queue
 * sizes, for device slot `dev`. `op` is one of abi.ts VT_*; the meaning of a, b, c depends on it.
 * Returns the value read (or 0 for writes); 0xffffffff if there is no device in that slot.
 */
// @ts-ignore: decorator
@external("guestmem", "virtio_transport")
export declare function virtio_transport(dev: u32, op: u32, a: u32, b: u32, c: u32): u32;

/**
 * Tells device `dev` where queue `queue` lives (guest-physical addresses as f64, exact up to
 * 2^53) and its size; the device validates them. Returns 0 or a negative abi.ts E_* code.
 */
// @ts-ignore: decorator
@external("guestmem", "virtio_queue_setup")
export declare function virtio_queue_setup(dev: u32, queue: u32, size: u32, descGpa: f64, availGpa: f64, usedGpa: f64): i32;
