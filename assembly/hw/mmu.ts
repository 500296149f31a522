// SPDX-License-Identifier: MIT
// The "CPU + MMU": every guest access to a frame passes here. The EPT check is inline: a write to
// a backed, writable frame only bumps its content version; anything else is a VM exit into the
// host (hw_fault), exactly where real hardware would trap (design §2). Model: one access stands
// for the whole 4 KiB page; its time cost is charged by the caller's cost parameters.

import { HS_READ_OK, HS_TRAP, HS_SWAPPED, HS_WRITE_MASK, HS_BACKED, VM_PGFAULT, VM_FAULT_REFUSED } from "../abi";
import { HSTATE, VERSIONS, getVersion, setVersion } from "../mm/pfn";
import { hw_fault } from "../host";
import { charge } from "../lib/clock";
import { vmstatInc } from "../lib/scb";

/** Exit to the host for `pfn`; returns true if the host made the access possible. */
function exitFault(pfn: u32, write: bool): bool {
  vmstatInc(VM_PGFAULT);
  const c = hw_fault(pfn, write);
  if (c < 0) { vmstatInc(VM_FAULT_REFUSED); return false; }
  charge(c);
  return true;
}

/**
 * Guest write to `pfn`: bumps the content version. Version 0 means "zero contents" (never
 * written or discarded by the host), so the counter skips 0 when it wraps.
 * Returns false if the host refused the access (the write did not happen).
 */
// @ts-ignore: decorator
@inline export function writeFrame(pfn: u32): bool {
  const hs = load<u8>(HSTATE + <usize>pfn);
  if ((hs & HS_WRITE_MASK) != HS_BACKED) {
    if (!exitFault(pfn, true)) return false;
  }
  const p = VERSIONS + (<usize>pfn << 2);
  let v = load<u32>(p) + 1;
  store<u32>(p, v == 0 ? 1 : v);
  return true;
}

// i8x16 / i32x4 constants of writeFrames: one v128 holds 16 host-state bytes or 4 versions.
const WRITE_MASK16: v128 = i8x16.splat(HS_WRITE_MASK);
const BACKED16: v128 = i8x16.splat(HS_BACKED);
const ONE4: v128 = i32x4.splat(1);
const ZERO4: v128 = i32x4.splat(0);

/**
 * Guest writes to frames [pfn, pfn + n) in ascending order, as n writeFrame calls would do them
 * (clear_highpage over a compound page, a workload's sweep): aligned runs of 16 frames that are
 * all backed and writable bump their versions four at a time (skipping 0 on wrap, as
 * writeFrame does); any other run goes frame by frame, so exits happen at the same frames, in
 * the same order, seeing the same versions. Returns the writes the host refused.
 */
export function writeFrames(pfn: u32, n: u32): u32 {
  let refused: u32 = 0;
  let p = pfn;
  const end = pfn + n;
  while (p < end && (p & 15) != 0) { if (!writeFrame(p)) refused++; p++; }
  while (end - p >= 16) {
    const hs = v128.load(HSTATE + <usize>p);
    if (i8x16.all_true(i8x16.eq(v128.and(hs, WRITE_MASK16), BACKED16))) {
      const a = VERSIONS + (<usize>p << 2);
      for (let k: usize = 0; k < 64; k += 16) {
        const v = i32x4.add(v128.load(a + k), ONE4);
        v128.store(a + k, i32x4.sub(v, i32x4.eq(v, ZERO4))); // eq is -1 where v wrapped to 0
      }
    } else {
      for (let i: u32 = 0; i < 16; i++) if (!writeFrame(p + i)) refused++;
    }
    p += 16;
  }
  while (p < end) { if (!writeFrame(p)) refused++; p++; }
  return refused;
}

/** Guest read of `pfn`. Returns false if the host refused the access. */
// @ts-ignore: decorator
@inline export function readFrame(pfn: u32): bool {
  const hs = load<u8>(HSTATE + <usize>pfn);
  if ((hs & HS_READ_OK) == 0 || (hs & (HS_TRAP | HS_SWAPPED)) != 0) {
    return exitFault(pfn, false);
  }
  return true;
}

/**
 * Copies frame `src` into frame `dst` (page migration): reads src, writes dst, and the
 * destination takes the source's content version, so migrated data keeps its identity.
 */
export function copyFrame(dst: u32, src: u32): bool {
  if (!readFrame(src)) return false;
  if (!writeFrame(dst)) return false;
  setVersion(dst, getVersion(src));
  return true;
}
