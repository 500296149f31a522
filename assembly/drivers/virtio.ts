// SPDX-License-Identifier: MIT
// Driver core for virtio devices behind the flat transport (abi.ts VT_*): probe (reset,
// ACKNOWLEDGE, DRIVER), feature negotiation, FEATURES_OK check, queue setup, DRIVER_OK, config
// access, interrupt handler registration, reset/remove. Follows Linux drivers/virtio/virtio.c
// (virtio_dev_probe, virtio_features_ok) and virtio 1.x §3.1.1. One transport exit per access.

import {
  OK, E_INVAL, E_IO, NR_VIRTIO_SLOTS, VT_DEVICE_ID, VT_GET_FEATURES, VT_SET_FEATURES,
  VT_GET_STATUS, VT_SET_STATUS, VT_CONFIG_READ, VT_CONFIG_WRITE, VT_QUEUE_SIZE_MAX, VT_CONFIG_GENERATION,
  VIRTIO_STATUS_ACKNOWLEDGE, VIRTIO_STATUS_DRIVER, VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_FEATURES_OK,
  VIRTIO_STATUS_FAILED, VIRTIO_STATUS_NEEDS_RESET, VIRTIO_F_VERSION_1, VIRTIO_RING_F_INDIRECT_DESC,
  VIRTIO_RING_F_EVENT_IDX,
} from "../abi";
import { virtio_transport, virtio_queue_setup } from "../host";
import { Virtqueue, vqCreate, vqLookup, MAX_VQS_PER_SLOT } from "./virtqueue";
import { interruptHandlers, configHandlers } from "./virtio_exports";

/** Transport read of an empty slot. */
const EMPTY_SLOT: u32 = 0xffffffff;

/** Negotiated features per slot (two words), valid after virtioNegotiate. */
const featLo = new StaticArray<u32>(<i32>NR_VIRTIO_SLOTS);
const featHi = new StaticArray<u32>(<i32>NR_VIRTIO_SLOTS);

// @ts-ignore: decorator
@inline function status(slot: u32): u32 { return virtio_transport(slot, VT_GET_STATUS, 0, 0, 0); }
// @ts-ignore: decorator
@inline function addStatus(slot: u32, bits: u32): void {
  virtio_transport(slot, VT_SET_STATUS, status(slot) | bits, 0, 0);
}

/** Device id in `slot` (0 if the slot is empty). */
export function virtioDeviceId(slot: u32): u32 {
  if (slot >= NR_VIRTIO_SLOTS) return 0;
  const id = virtio_transport(slot, VT_DEVICE_ID, 0, 0, 0);
  return id == EMPTY_SLOT ? 0 : id;
}

/**
 * Starts binding a driver to `slot`: checks the device id (`deviceId` 0 = any), resets the
 * device and sets ACKNOWLEDGE then DRIVER. Returns OK or E_INVAL (empty slot / other device).
 */
export function virtioProbe(slot: u32, deviceId: u32): i32 {
  const id = virtioDeviceId(slot);
  if (id == 0 || (deviceId != 0 && id != deviceId)) return E_INVAL;
  virtioRemove(slot);
  addStatus(slot, VIRTIO_STATUS_ACKNOWLEDGE);
  addStatus(slot, VIRTIO_STATUS_DRIVER);
  return OK;
}

/** Device feature word `word` (0: bits 0-31, 1: bits 32-63). */
export function virtioDeviceFeatures(slot: u32, word: u32): u32 {
  return virtio_transport(slot, VT_GET_FEATURES, word, 0, 0);
}

/**
 * Negotiates: driver features (`driverLo`, `driverHi`; VIRTIO_F_VERSION_1 is always added) and
 * the device's, writes the intersection, sets FEATURES_OK and checks that it stuck (the device
 * may refuse a combination). On failure sets FAILED and returns E_IO. Legacy devices (without
 * VERSION_1) are refused: this model has no legacy transport.
 */
export function virtioNegotiate(slot: u32, driverLo: u32, driverHi: u32): i32 {
  if (slot >= NR_VIRTIO_SLOTS) return E_INVAL;
  const devLo = virtioDeviceFeatures(slot, 0);
  const devHi = virtioDeviceFeatures(slot, 1);
  const v1: u32 = 1 << (VIRTIO_F_VERSION_1 - 32);
  if ((devHi & v1) == 0) {
    virtioFail(slot);
    return E_IO;
  }
  const lo = devLo & driverLo;
  const hi = devHi & (driverHi | v1);
  virtio_transport(slot, VT_SET_FEATURES, 0, lo, 0);
  virtio_transport(slot, VT_SET_FEATURES, 1, hi, 0);
  addStatus(slot, VIRTIO_STATUS_FEATURES_OK);
  if ((status(slot) & VIRTIO_STATUS_FEATURES_OK) == 0) {
    virtioFail(slot);
    return E_IO;
  }
  unchecked(featLo[<i32>slot] = lo);
  unchecked(featHi[<i32>slot] = hi);
  return OK;
}

/** Negotiated feature word `word` of `slot`. */
export function virtioFeatures(slot: u32, word: u32): u32 {
  if (slot >= NR_VIRTIO_SLOTS) return 0;
  return word == 0 ? unchecked(featLo[<i32>slot]) : word == 1 ? unchecked(featHi[<i32>slot]) : 0;
}

/** True if feature `bit` (0-63) was negotiated on `slot` (virtio_has_feature). */
export function virtioHasFeature(slot: u32, bit: u32): bool {
  if (bit >= 64) return false;
  return ((virtioFeatures(slot, bit >> 5) >> (bit & 31)) & 1) != 0;
}

/**
 * Transport index of queue `name` (its position in the device type's spec list) when only the
 * queues whose bit is set in `presentMask` exist: absent queues take no index, exactly like
 * Linux's find_vqs with NULL names (reference/virtio-balloon.md §1.3). -1 if `name` is absent.
 * Example (balloon): present = inflate|deflate|(stats?)<<2|(free_page?)<<3|(reporting?)<<4.
 */
export function virtioQueueIndex(presentMask: u32, name: u32): i32 {
  if (name >= 32 || ((presentMask >> name) & 1) == 0) return -1;
  return <i32>popcnt(presentMask & ((<u32>1 << name) - 1));
}

/**
 * Sets up transport queue `index` of `slot` with up to `wantSize` entries (clamped to the
 * device maximum, rounded down to a power of two) and, if VIRTIO_RING_F_INDIRECT_DESC was
 * negotiated and `indirectMax` > 1, indirect tables of `indirectMax` entries. Between
 * FEATURES_OK and DRIVER_OK. Returns the queue or null (no such queue, window full, refused).
 */
export function virtioFindVq(slot: u32, index: u32, wantSize: u32, indirectMax: u32): Virtqueue | null {
  if (slot >= NR_VIRTIO_SLOTS || index >= MAX_VQS_PER_SLOT || wantSize == 0) return null;
  const max = virtio_transport(slot, VT_QUEUE_SIZE_MAX, index, 0, 0);
  if (max == 0 || max == EMPTY_SLOT) return null;
  let num = min(wantSize, max);
  num = <u32>1 << (31 - clz(num)); // round down to a power of two (split rings need one)
  const ind = virtioHasFeature(slot, VIRTIO_RING_F_INDIRECT_DESC) && indirectMax > 1 ? min(indirectMax, num) : 0;
  const vq = vqCreate(slot, index, num, ind == 1 ? 0 : ind, virtioHasFeature(slot, VIRTIO_RING_F_EVENT_IDX));
  if (vq === null) return null;
  const r = virtio_queue_setup(slot, index, num, <f64>vq.descGpa, <f64>vq.availGpa, <f64>vq.usedGpa);
  if (r != OK) return null;
  vq.active = true;
  return vq;
}

/** Last step of probe: DRIVER_OK; the device may now use the queues. Returns OK or E_IO. */
export function virtioDriverOk(slot: u32): i32 {
  if (slot >= NR_VIRTIO_SLOTS) return E_INVAL;
  addStatus(slot, VIRTIO_STATUS_DRIVER_OK);
  const s = status(slot);
  return (s & VIRTIO_STATUS_DRIVER_OK) != 0 && (s & VIRTIO_STATUS_NEEDS_RESET) == 0 ? OK : E_IO;
}

/** Device status byte of `slot`. */
export function virtioStatus(slot: u32): u32 { return slot < NR_VIRTIO_SLOTS ? status(slot) : 0; }

/** True if the device reported an unrecoverable error and waits for a reset. */
export function virtioNeedsReset(slot: u32): bool { return (virtioStatus(slot) & VIRTIO_STATUS_NEEDS_RESET) != 0; }

/** The driver gives up on the device (status FAILED). */
export function virtioFail(slot: u32): void {
  if (slot < NR_VIRTIO_SLOTS) addStatus(slot, VIRTIO_STATUS_FAILED);
}

/**
 * Resets the device (status 0) and forgets the driver binding: handlers unregistered, queues
 * inactive (their ring memory is kept for the next probe), features cleared. In-flight tokens
 * stay until the caller takes them back with vqDetachUnused.
 */
export function virtioRemove(slot: u32): void {
  if (slot >= NR_VIRTIO_SLOTS) return;
  virtio_transport(slot, VT_SET_STATUS, 0, 0, 0);
  unchecked(interruptHandlers[<i32>slot] = null);
  unchecked(configHandlers[<i32>slot] = null);
  unchecked(featLo[<i32>slot] = 0);
  unchecked(featHi[<i32>slot] = 0);
  for (let i: u32 = 0; i < MAX_VQS_PER_SLOT; i++) {
    const vq = vqLookup(slot, i);
    if (vq !== null) vq.active = false;
  }
}

/** Registers the used-buffer and config-change handlers of `slot` (null to clear). */
export function virtioRegister(slot: u32, onInterrupt: ((slot: u32, queue: u32) => void) | null, onConfig: ((slot: u32) => void) | null): i32 {
  if (slot >= NR_VIRTIO_SLOTS) return E_INVAL;
  unchecked(interruptHandlers[<i32>slot] = onInterrupt);
  unchecked(configHandlers[<i32>slot] = onConfig);
  return OK;
}

// ------------------------------------------------------------------------- config space (LE)

export function virtioCread8(slot: u32, off: u32): u32 { return virtio_transport(slot, VT_CONFIG_READ, off, 1, 0) & 0xff; }
export function virtioCread16(slot: u32, off: u32): u32 { return virtio_transport(slot, VT_CONFIG_READ, off, 2, 0) & 0xffff; }
export function virtioCread32(slot: u32, off: u32): u32 { return virtio_transport(slot, VT_CONFIG_READ, off, 4, 0); }

/**
 * le64 config field, read as two 32-bit accesses (low word first) under the config generation
 * counter, retried until the generation is stable (virtio_cread_many, §2.5.1).
 */
export function virtioCread64(slot: u32, off: u32): u64 {
  let lo: u32, hi: u32, gen: u32;
  do {
    gen = virtio_transport(slot, VT_CONFIG_GENERATION, 0, 0, 0);
    lo = virtioCread32(slot, off);
    hi = virtioCread32(slot, off + 4);
  } while (gen != virtio_transport(slot, VT_CONFIG_GENERATION, 0, 0, 0));
  return (<u64>hi << 32) | <u64>lo;
}

export function virtioCwrite8(slot: u32, off: u32, v: u32): void { virtio_transport(slot, VT_CONFIG_WRITE, off, 1, v & 0xff); }
export function virtioCwrite16(slot: u32, off: u32, v: u32): void { virtio_transport(slot, VT_CONFIG_WRITE, off, 2, v & 0xffff); }
/** le32 write as one access (the balloon `actual` rule: one 4-byte write). */
export function virtioCwrite32(slot: u32, off: u32, v: u32): void { virtio_transport(slot, VT_CONFIG_WRITE, off, 4, v); }

