// SPDX-License-Identifier: MIT
// Invariant checker of page ownership (tests call it next to mm_validate): every owner list is
// well linked and holds only pages of its type and owner, and the frames of each owned type
// equal the list totals and the vmstat counters (NR_ANON, NR_FILE, NR_FILE_DIRTY, ...).
// Model: the kernel's DEBUG_VM page-state checks, one O(frames) pass.

import {
  NIL, NR_PROCS, NR_FILES, PT_ANON, PT_FILE, PT_KERNEL, PT_SLAB_RECLAIMABLE, PT_MASK, PG_HEAD,
  PG_DIRTY, PG_ACTIVE, PAGEBLOCK_ORDER, VM_NR_ANON, VM_NR_FILE, VM_NR_FILE_DIRTY, VM_NR_KERNEL, VM_NR_SLAB_RECLAIMABLE,
} from "../abi";
import { PFLAGS, nrFrames, getNext, getPrev, getOrder } from "./pfn";
import { listHead, listTail, listCount } from "../lib/list";
import { vmstat } from "../lib/scb";
import { ownerOf } from "./owner";
import { procList, procAnonPages } from "./process";
import { fileList, fileDirty } from "./pagecache";
import { kernelList } from "./slab";

export const OV_OK: i32 = 0;
export const OV_LINKS: i32 = 21; // an owner list's links or count are broken
export const OV_PAGE: i32 = 22; // a listed page has the wrong type, owner, order or LRU flag
export const OV_COUNT: i32 = 23; // frames of a type differ from the list totals
export const OV_VMSTAT: i32 = 24; // a vmstat counter differs from the lists
export const OV_DIRTY: i32 = 25; // per-file dirty counts differ from PG_DIRTY pages

let dirtySeen: u32 = 0;

/**
 * Walks `l` checking every entry; returns the frames it holds or -1 (links) / -2 (page). Only
 * anon lists (`blocks`) may hold blocks of order > 0 (THP-style), whose tails must be plain
 * frames of the same type.
 */
function walk(l: usize, type: u8, owner: u32, active: i32, blocks: bool = false): i64 {
  let prev = NIL, p = listHead(l);
  let n: i64 = 0, frames: i64 = 0;
  while (p != NIL) {
    if (p >= nrFrames || getPrev(p) != prev) return -1;
    if (++n > <i64>nrFrames) return -1;
    const f = load<u8>(PFLAGS + <usize>p);
    const order = getOrder(p);
    if ((f & PT_MASK) != type || (f & PG_HEAD) == 0 || (order != 0 && (!blocks || order > PAGEBLOCK_ORDER)) || ownerOf(p) != owner) return -2;
    if (active >= 0 && ((f & PG_ACTIVE) != 0) != (active == 1)) return -2;
    if (f & PG_DIRTY) dirtySeen++;
    const size: u32 = 1 << order;
    if ((p & (size - 1)) != 0 || p + size > nrFrames) return -2;
    for (let t = p + 1; t < p + size; t++) if (load<u8>(PFLAGS + <usize>t) != type) return -2;
    frames += size;
    prev = p;
    p = getNext(p);
  }
  if (listTail(l) != prev || <i64>listCount(l) != n) return -1;
  return frames;
}

// @ts-ignore: decorator
@inline function code(n: i64): i32 { return n == -1 ? OV_LINKS : OV_PAGE; }

export function ownersValidate(): i32 {
  let anon: i64 = 0, file: i64 = 0, dirty: u32 = 0;
  for (let pid: u32 = 0; pid < NR_PROCS; pid++) {
    const n = walk(procList(pid), PT_ANON, pid, -1, true);
    if (n < 0) return code(n);
    if (n != <i64>procAnonPages(pid)) return OV_COUNT;
    anon += n;
  }
  for (let f: u32 = 0; f < NR_FILES; f++) {
    dirtySeen = 0;
    for (let a: i32 = 0; a < 2; a++) {
      const n = walk(fileList(f, a == 1), PT_FILE, f, a);
      if (n < 0) return code(n);
      file += n;
    }
    if (dirtySeen != fileDirty(f)) return OV_DIRTY;
    dirty += dirtySeen;
  }
  const kern = walk(kernelList(false), PT_KERNEL, 0, -1);
  if (kern < 0) return code(kern);
  const slab = walk(kernelList(true), PT_SLAB_RECLAIMABLE, 0, -1);
  if (slab < 0) return code(slab);
  let fa: i64 = 0, ff: i64 = 0, fk: i64 = 0, fs: i64 = 0;
  for (let p: u32 = 0; p < nrFrames; p++) {
    const t = load<u8>(PFLAGS + <usize>p) & PT_MASK;
    if (t == PT_ANON) fa++;
    else if (t == PT_FILE) ff++;
    else if (t == PT_KERNEL) fk++;
    else if (t == PT_SLAB_RECLAIMABLE) fs++;
  }
  if (fa != anon || ff != file || fk != kern || fs != slab) return OV_COUNT;
  if (vmstat(VM_NR_ANON) != <f64>anon || vmstat(VM_NR_FILE) != <f64>file || vmstat(VM_NR_FILE_DIRTY) != <f64>dirty
      || vmstat(VM_NR_KERNEL) != <f64>kern || vmstat(VM_NR_SLAB_RECLAIMABLE) != <f64>slab) return OV_VMSTAT;
  return OV_OK;
}
