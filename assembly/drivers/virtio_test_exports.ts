// SPDX-License-Identifier: MIT
// Test-fixture exports (prefix vtest_): the real virtio driver API (virtio.ts, virtqueue.ts) made
// callable from host tests, plus the sum test driver (virtio_test.ts). Drivers never call these;
// queues are passed as their unmanaged address (u32).

import { NIL, E_INVAL } from "../abi";
import { ramwinAlloc } from "../hw/ram_window";
import {
  Virtqueue, vqAddSgs, vqKick, vqGetBuf, vqNumFree, vqDetachUnused, vqDisableCb, vqEnableCb, vqSgScratch, vqSgSet,
  vqLookup, SG_SCRATCH_ENTRIES,
} from "./virtqueue";
import {
  virtioProbe, virtioNegotiate, virtioFeatures, virtioFindVq, virtioDriverOk, virtioStatus, virtioRemove,
  virtioRegister, virtioQueueIndex, virtioCread8, virtioCread16, virtioCread32, virtioCread64, virtioCwrite8,
  virtioCwrite16, virtioCwrite32,
} from "./virtio";
import { vtestOnInterrupt, vtestOnConfig, vtestIrqs, vtestConfigChanges, vtestSumRun } from "./virtio_test";

// @ts-ignore: decorator
@inline function vq(p: u32): Virtqueue { return changetype<Virtqueue>(<usize>p); }

/** Allocates `bytes` of the RAM window (test buffers, mock-driver rings); gpa or 0. */
export function vtest_ramwin_alloc(bytes: u32, align: u32): f64 {
  if (align == 0 || (align & (align - 1)) != 0) return 0;
  return <f64>ramwinAlloc(bytes, align);
}

/** Probe + negotiate `slot` (device id `id`, 0 = any) with driver features lo/hi; no DRIVER_OK yet. */
export function vtest_probe(slot: u32, id: u32, featLo: u32, featHi: u32): i32 {
  const r = virtioProbe(slot, id);
  if (r < 0) return r;
  return virtioNegotiate(slot, featLo, featHi);
}

/** Negotiated feature word. */
export function vtest_features(slot: u32, word: u32): u32 { return virtioFeatures(slot, word); }

/** Sets up queue `index`; returns the queue handle or 0. */
export function vtest_find_vq(slot: u32, index: u32, size: u32, indirectMax: u32): u32 {
  const q = virtioFindVq(slot, index, size, indirectMax);
  return q === null ? 0 : <u32>changetype<usize>(q);
}

/** Handle of queue `index` of `slot` (0 if never created). */
export function vtest_vq(slot: u32, index: u32): u32 {
  const q = vqLookup(slot, index);
  return q === null ? 0 : <u32>changetype<usize>(q);
}

/** Size of queue `q`. */
export function vtest_vq_size(q: u32): u32 { return vq(q).num; }

/** Registers the counting test handlers on `slot` and sets DRIVER_OK. */
export function vtest_driver_ok(slot: u32): i32 {
  const r = virtioRegister(slot, vtestOnInterrupt, vtestOnConfig);
  if (r < 0) return r;
  return virtioDriverOk(slot);
}

export function vtest_status(slot: u32): u32 { return virtioStatus(slot); }
export function vtest_remove(slot: u32): void { virtioRemove(slot); }
export function vtest_irqs(slot: u32): u32 { return vtestIrqs(slot); }
export function vtest_config_changes(slot: u32): u32 { return vtestConfigChanges(slot); }
export function vtest_queue_index(presentMask: u32, name: u32): i32 { return virtioQueueIndex(presentMask, name); }

/** Sets entry `i` of the scratch sg list. */
export function vtest_sg(i: u32, gpa: f64, len: u32): i32 {
  if (i >= SG_SCRATCH_ENTRIES) return E_INVAL;
  vqSgSet(vqSgScratch(), i, <u64>gpa, len);
  return 0;
}

/** Adds the first outN + inN scratch sg entries as one chain with `token`. */
export function vtest_add_sgs(q: u32, outN: u32, inN: u32, token: u32): i32 {
  if (outN + inN > SG_SCRATCH_ENTRIES) return E_INVAL;
  return vqAddSgs(vq(q), vqSgScratch(), outN, inN, token);
}

/** Kicks `q`; 1 if a notification was sent, 0 if the device suppressed it. */
export function vtest_kick(q: u32): i32 { return vqKick(vq(q)) ? 1 : 0; }
/** Next used token (0xffffffff = none); its used len via vtest_last_len. */
export function vtest_get_buf(q: u32): u32 { return vqGetBuf(vq(q)); }
export function vtest_last_len(q: u32): u32 { return vq(q).lastLen; }
export function vtest_num_free(q: u32): u32 { return vqNumFree(vq(q)); }
export function vtest_broken(q: u32): i32 { return vq(q).broken ? 1 : 0; }
export function vtest_kicks(q: u32): u32 { return vq(q).kicks; }
export function vtest_detach_unused(q: u32): u32 { return vqDetachUnused(vq(q)); }
export function vtest_disable_cb(q: u32): void { vqDisableCb(vq(q)); }
export function vtest_enable_cb(q: u32): i32 { return vqEnableCb(vq(q)) ? 1 : 0; }

/** Config read of `size` (1, 2, 4) bytes. */
export function vtest_cread(slot: u32, off: u32, size: u32): u32 {
  return size == 1 ? virtioCread8(slot, off) : size == 2 ? virtioCread16(slot, off) : size == 4 ? virtioCread32(slot, off) : NIL;
}
/** le64 config field (generation-checked), as f64. */
export function vtest_cread64(slot: u32, off: u32): f64 { return <f64>virtioCread64(slot, off); }
export function vtest_cwrite(slot: u32, off: u32, size: u32, v: u32): i32 {
  if (size == 1) virtioCwrite8(slot, off, v);
  else if (size == 2) virtioCwrite16(slot, off, v);
  else if (size == 4) virtioCwrite32(slot, off, v);
  else return E_INVAL;
  return 0;
}

/** Runs the sum test driver on `q` (see virtio_test.ts vtestSumRun). */
export function vtest_sum_run(q: u32, count: u32, batch: u32, segs: u32, segLen: u32, seed: u32): i32 {
  return vtestSumRun(vq(q), count, batch, segs, segLen, seed);
}

