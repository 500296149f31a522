// SPDX-License-Identifier: MIT
// Intrusive doubly linked lists of frames, threaded through the per-frame next/prev arrays
// (mm/pfn.ts), like the kernel's list_head in struct page. A list head is 12 bytes of unmanaged
// memory: { head: u32, tail: u32, count: u32 }. A frame is on at most one list at a time.

import { NIL } from "../abi";
import { getNext, getPrev, setNext, setPrev } from "../mm/pfn";

export const LIST_SIZE: usize = 12;

/** Allocates `n` empty list heads in unmanaged memory; returns the address of the first. */
export function allocLists(n: u32): usize {
  const p = heap.alloc(<usize>n * LIST_SIZE);
  for (let i: u32 = 0; i < n; i++) listInit(p + <usize>i * LIST_SIZE);
  return p;
}

// @ts-ignore: decorator
@inline export function listInit(l: usize): void {
  store<u32>(l, NIL); store<u32>(l, NIL, 4); store<u32>(l, 0, 8);
}
// @ts-ignore: decorator
@inline export function listHead(l: usize): u32 { return load<u32>(l); }
// @ts-ignore: decorator
@inline export function listTail(l: usize): u32 { return load<u32>(l, 4); }
// @ts-ignore: decorator
@inline export function listCount(l: usize): u32 { return load<u32>(l, 8); }
// @ts-ignore: decorator
@inline export function listEmpty(l: usize): bool { return load<u32>(l) == NIL; }

/** Adds `pfn` at the head (the end allocations take from). */
// @ts-ignore: decorator
@inline export function listAddHead(l: usize, pfn: u32): void {
  const h = load<u32>(l);
  setPrev(pfn, NIL);
  setNext(pfn, h);
  if (h != NIL) setPrev(h, pfn); else store<u32>(l, pfn, 4);
  store<u32>(l, pfn);
  store<u32>(l, load<u32>(l, 8) + 1, 8);
}

/** Adds `pfn` at the tail. */
// @ts-ignore: decorator
@inline export function listAddTail(l: usize, pfn: u32): void {
  const t = load<u32>(l, 4);
  setNext(pfn, NIL);
  setPrev(pfn, t);
  if (t != NIL) setNext(t, pfn); else store<u32>(l, pfn);
  store<u32>(l, pfn, 4);
  store<u32>(l, load<u32>(l, 8) + 1, 8);
}

/** Unlinks `pfn`, which must be on list `l`. */
// @ts-ignore: decorator
@inline export function listDel(l: usize, pfn: u32): void {
  const n = getNext(pfn), p = getPrev(pfn);
  if (p != NIL) setNext(p, n); else store<u32>(l, n);
  if (n != NIL) setPrev(n, p); else store<u32>(l, p, 4);
  setNext(pfn, NIL); setPrev(pfn, NIL);
  store<u32>(l, load<u32>(l, 8) - 1, 8);
}

/** Removes and returns the head, or NIL. */
// @ts-ignore: decorator
@inline export function listPopHead(l: usize): u32 {
  const h = load<u32>(l);
  if (h != NIL) listDel(l, h);
  return h;
}

/** Puts `newPfn` in `oldPfn`'s place on list `l` (page migration keeps list position). */
export function listReplace(l: usize, oldPfn: u32, newPfn: u32): void {
  const n = getNext(oldPfn), p = getPrev(oldPfn);
  setNext(newPfn, n); setPrev(newPfn, p);
  if (p != NIL) setNext(p, newPfn); else store<u32>(l, newPfn);
  if (n != NIL) setPrev(n, newPfn); else store<u32>(l, newPfn, 4);
  setNext(oldPfn, NIL); setPrev(oldPfn, NIL);
}

/** Moves `pfn` (on `l`) to the head of `l` (list_move / list_rotate_to_front). */
export function listMoveHead(l: usize, pfn: u32): void {
  if (load<u32>(l) == pfn) return;
  listDel(l, pfn);
  listAddHead(l, pfn);
}
