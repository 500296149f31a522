// SPDX-License-Identifier: MIT
// Page migration: moves an order-0 movable page to another frame keeping its owner, its place on
// the owner's list, its type, flags and content version (design §2). Each movable page type
// has operations (movable_operations: isolate, migrate, putback); anon and file pages register
// theirs here, virtio-balloon registers PT_BALLOON's. Model: no THP, no page tables to update,
// no writeback-before-migrate. Follows mm/migrate.c (migrate_pages, move_to_new_folio).

import {
  OK, E_RANGE, E_INVAL, E_IO, PT_ANON, PT_FILE, PT_ALLOC, PT_ISOLATED, PT_MASK, PG_HEAD,
  VM_PGMIGRATE_SUCCESS, VM_PGMIGRATE_FAIL, COST_PAGE_COPY_NS,
} from "../abi";
import { PFLAGS, PORDER, nrFrames, getType, getOrder } from "./pfn";
import { listReplace } from "../lib/list";
import { vmstatInc, cost } from "../lib/scb";
import { charge } from "../lib/clock";
import { copyFrame } from "../hw/mmu";
import { ownerOf, clearOwned } from "./owner";
import { procList } from "./process";
import { fileListOf } from "./pagecache";
import { freePages } from "./page_alloc";

/** isolate_page: take `pfn` away from its owner's other users; false = busy, skip it. */
export type IsolateFn = (pfn: u32) => bool;
/**
 * migrate_page: make `newPfn` (an allocated order-0 PT_ALLOC|PG_HEAD frame) hold what `oldPfn`
 * holds (type, flags, owner, list position, content). Return OK, or an E_* code leaving both
 * unchanged. After OK the migration core frees `oldPfn`.
 */
export type MigrateFn = (oldPfn: u32, newPfn: u32) => i32;
/** putback_page: undo isolate after a failed or skipped migration. */
export type PutbackFn = (pfn: u32) => void;

const NR_TYPES: u32 = 16;
const isolateOps = new StaticArray<IsolateFn | null>(NR_TYPES);
const migrateOps = new StaticArray<MigrateFn | null>(NR_TYPES);
const putbackOps = new StaticArray<PutbackFn | null>(NR_TYPES);

/** Registers the movable operations of page type `pageType` (abi.ts PT_*); false if taken or out of range. */
export function registerMovableOps(pageType: u8, isolate: IsolateFn, migrate: MigrateFn, putback: PutbackFn): bool {
  const t = <u32>pageType;
  if (t >= NR_TYPES || migrateOps[t] !== null) return false;
  isolateOps[t] = isolate;
  migrateOps[t] = migrate;
  putbackOps[t] = putback;
  return true;
}

/** True if `pfn` is an order-0 allocated page of a type with movable operations (__PageMovable / PageLRU). */
export function pageMovable(pfn: u32): bool {
  const f = load<u8>(PFLAGS + <usize>pfn);
  return (f & PG_HEAD) != 0 && getOrder(pfn) == 0 && migrateOps[<u32>(f & PT_MASK)] !== null;
}

/** isolate_movable_page / folio_isolate_lru. */
export function isolateMovablePage(pfn: u32): bool {
  if (!pageMovable(pfn)) return false;
  const fn = isolateOps[<u32>getType(pfn)];
  return fn === null ? true : fn(pfn);
}

/** putback_movable_pages for one page. */
export function putbackMovablePage(pfn: u32): void {
  const fn = putbackOps[<u32>getType(pfn)];
  if (fn !== null) fn(pfn);
}

/**
 * migrate_pages for one page: `oldPfn` (movable, isolated by the caller if its ops need it)
 * moves to `newPfn`, which is either an isolated free frame (compaction's free scanner) or an
 * allocated order-0 PT_ALLOC frame. On OK the old frame is freed (pcp) and pgmigrate_success
 * counted, the copy charged. On error nothing changed (pgmigrate_fail counted).
 */
export function migratePage(oldPfn: u32, newPfn: u32): i32 {
  if (oldPfn >= nrFrames || newPfn >= nrFrames) return E_RANGE;
  if (!pageMovable(oldPfn) || oldPfn == newPfn) return E_INVAL;
  const nf = load<u8>(PFLAGS + <usize>newPfn);
  const wasIsolated = (nf & PT_MASK) == PT_ISOLATED;
  if (!wasIsolated && (nf != (PT_ALLOC | PG_HEAD) || getOrder(newPfn) != 0)) return E_INVAL;
  if (wasIsolated) clearOwned(newPfn, PT_ALLOC);
  const fn = migrateOps[<u32>getType(oldPfn)];
  const r = fn === null ? E_INVAL : fn(oldPfn, newPfn);
  if (r != OK) {
    if (wasIsolated) store<u8>(PFLAGS + <usize>newPfn, PT_ISOLATED);
    vmstatInc(VM_PGMIGRATE_FAIL);
    return r;
  }
  clearOwned(oldPfn, PT_ALLOC);
  freePages(oldPfn, 0);
  vmstatInc(VM_PGMIGRATE_SUCCESS);
  charge(cost(COST_PAGE_COPY_NS));
  return OK;
}

// ---- anon and file pages (PageLRU folios): copy, take over metadata and list position --------

/** Copies content, type, flags and owner of `oldPfn` to `newPfn` and swaps it into list `l`. */
function moveOwned(oldPfn: u32, newPfn: u32, l: usize): i32 {
  if (!copyFrame(newPfn, oldPfn)) return E_IO;
  store<u8>(PFLAGS + <usize>newPfn, load<u8>(PFLAGS + <usize>oldPfn));
  store<u8>(PORDER + <usize>newPfn, load<u8>(PORDER + <usize>oldPfn));
  listReplace(l, oldPfn, newPfn);
  return OK;
}

function lruIsolate(pfn: u32): bool { return true; }
function lruPutback(pfn: u32): void {}
function anonMigrate(oldPfn: u32, newPfn: u32): i32 { return moveOwned(oldPfn, newPfn, procList(ownerOf(oldPfn))); }
function fileMigrate(oldPfn: u32, newPfn: u32): i32 { return moveOwned(oldPfn, newPfn, fileListOf(oldPfn)); }

registerMovableOps(PT_ANON, lruIsolate, anonMigrate, lruPutback);
registerMovableOps(PT_FILE, lruIsolate, fileMigrate, lruPutback);
