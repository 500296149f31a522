// SPDX-License-Identifier: MIT
// Test fixture, not a kernel driver: the guest half of the "sum" test device
// (tests/helpers/virtio-sum-device.ts). Each request is N device-readable buffers of random
// bytes plus one 8-byte device-writable buffer where the device puts {le32 byte sum, le32 bytes}.
// Runs whole request loops inside wasm on the real driver API (virtqueue.ts, virtio.ts).

import { NIL, OK, E_INVAL, E_IO, E_NOMEM, NR_VIRTIO_SLOTS } from "../abi";
import { ramwinAlloc, gpaToPtr } from "../hw/ram_window";
import { Virtqueue, vqAddSgs, vqKick, vqGetBuf, vqSgScratch, vqSgSet, SG_SCRATCH_ENTRIES } from "./virtqueue";

/** Request buffers of the sum driver: 64 KiB of the RAM window, taken at first use. */
const AREA_BYTES: u32 = 64 << 10;
/** Sum response: le32 byte sum, le32 readable bytes. */
export const SUM_RESP_BYTES: u32 = 8;

let areaGpa: u64 = 0;
let areaPtr: usize = 0;
let rng: u32 = 1;
let seq: u32 = 0;
const irqs = new StaticArray<u32>(<i32>NR_VIRTIO_SLOTS);
const configChanges = new StaticArray<u32>(<i32>NR_VIRTIO_SLOTS);

/** Interrupt handler: counts (the request loop polls the used ring itself). */
export function vtestOnInterrupt(slot: u32, queue: u32): void { unchecked(irqs[<i32>slot]++); }
export function vtestOnConfig(slot: u32): void { unchecked(configChanges[<i32>slot]++); }
export function vtestIrqs(slot: u32): u32 { return slot < NR_VIRTIO_SLOTS ? unchecked(irqs[<i32>slot]) : 0; }
export function vtestConfigChanges(slot: u32): u32 { return slot < NR_VIRTIO_SLOTS ? unchecked(configChanges[<i32>slot]) : 0; }

// @ts-ignore: decorator
@inline function nextByte(): u32 {
  let x = rng;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  rng = x;
  return x >> 24;
}

/**
 * Runs `count` sum requests on `vq`, `batch` at a time (added, one kick, then all popped), each
 * with `segs` readable buffers of `segLen` bytes. Checks every response against the sum computed
 * here. Returns the number of wrong responses, or E_INVAL / E_NOMEM / E_IO (add failed, a request
 * never came back, unknown token).
 */
export function vtestSumRun(vq: Virtqueue, count: u32, batch: u32, segs: u32, segLen: u32, seed: u32): i32 {
  if (batch == 0 || segs == 0 || segs + 1 > SG_SCRATCH_ENTRIES) return E_INVAL;
  const reqBytes = <u64>segs * <u64>segLen + <u64>SUM_RESP_BYTES;
  if (reqBytes * <u64>batch > <u64>AREA_BYTES) return E_INVAL;
  if (areaGpa == 0) {
    areaGpa = ramwinAlloc(AREA_BYTES, 64);
    if (areaGpa == 0) return E_NOMEM;
    areaPtr = gpaToPtr(areaGpa, AREA_BYTES);
  }
  rng = seed == 0 ? 1 : seed;
  const expSum = new StaticArray<u32>(<i32>batch);
  const expTok = new StaticArray<u32>(<i32>batch);
  const sg = vqSgScratch();
  let wrong: i32 = 0;
  let done: u32 = 0;
  while (done < count) {
    const n = min(batch, count - done);
    for (let r: u32 = 0; r < n; r++) {
      const base = <u32>(<u64>r * reqBytes);
      let sum: u32 = 0;
      for (let s: u32 = 0; s < segs; s++) {
        const off = base + s * segLen;
        for (let b: u32 = 0; b < segLen; b++) {
          const v = nextByte();
          store<u8>(areaPtr + <usize>(off + b), <u8>v);
          sum += v;
        }
        vqSgSet(sg, s, areaGpa + <u64>off, segLen);
      }
      const respOff = base + segs * segLen;
      store<u64>(areaPtr + <usize>respOff, 0xdeadbeefdeadbeef);
      vqSgSet(sg, segs, areaGpa + <u64>respOff, SUM_RESP_BYTES);
      seq = (seq + 1) & 0x7fffffff; // never NIL
      const rc = vqAddSgs(vq, sg, segs, 1, seq);
      if (rc != OK) return rc;
      unchecked(expSum[<i32>r] = sum);
      unchecked(expTok[<i32>r] = seq);
    }
    vqKick(vq);
    // the device served everything during the kick; responses come back in order
    for (let r: u32 = 0; r < n; r++) {
      const tok = vqGetBuf(vq);
      if (tok == NIL) return E_IO;
      if (tok != unchecked(expTok[<i32>r])) return E_IO;
      const respOff = <u32>(<u64>r * reqBytes) + segs * segLen;
      const gotSum = load<u32>(areaPtr + <usize>respOff);
      const gotLen = load<u32>(areaPtr + <usize>respOff, 4);
      if (vq.lastLen != SUM_RESP_BYTES || gotSum != unchecked(expSum[<i32>r]) || gotLen != segs * segLen) wrong++;
    }
    done += n;
  }
  return wrong;
}
