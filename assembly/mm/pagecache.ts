// SPDX-License-Identifier: MIT
// The page cache: files (address_space, reduced to counters), their cached pages on per-file
// inactive/active LRU lists, PG_DIRTY with writeback, shadow entries and the read/write paths.
// Model: a file's pages have no index; a read of N pages hits min(N, cached) cached pages and
// reads the rest from the virtual disk. Per-file LRU pairs stand for the node's file LRU
// (reclaim visits files round robin, like lruvecs). Shadow entries are a per-file count, so a
// refault is "a miss while the file has evicted pages". Follows mm/filemap.c, mm/swap.c
// (mark_page_accessed), mm/workingset.c and mm/page-writeback.c (balance_dirty_pages).

import {
  NIL, NR_FILES, PT_FILE, PT_ALLOC, PG_DIRTY, PG_ACTIVE, GFP_MOVABLE, VM_NR_FILE, VM_NR_FILE_DIRTY,
  VM_NR_FREE_PAGES, VM_NR_WRITTEN, VM_PGACTIVATE, VM_PGDEACTIVATE, VM_WORKINGSET_REFAULT,
  COST_PAGE_READ_NS, COST_PAGE_WRITE_NS, COST_FILE_READ_PAGE_NS, COST_WRITEBACK_PAGE_NS,
} from "../abi";
import { allocLists, listAddHead, listDel, listTail, listCount, listHead, LIST_SIZE } from "../lib/list";
import { vmstat, vmstatAdd, vmstatInc, cost } from "../lib/scb";
import { charge } from "../lib/clock";
import { getNext, getPrev, testFlag, setFlag, clearFlag } from "./pfn";
import { setOwned, clearOwned, ownerOf } from "./owner";
import { writeFrame, readFrame } from "../hw/mmu";
import { allocPages, freePages } from "./page_alloc";

let FILE_LISTS: usize = 0; // [file * 2 + active]
const dirtyPages = new StaticArray<u32>(NR_FILES);
const shadows = new StaticArray<u32>(NR_FILES);

/** vm.dirty_ratio default 20 %, vm.dirty_background_ratio 10 % (mm/page-writeback.c). */
const DIRTY_RATIO_PCT: f64 = 20;
const DIRTY_BACKGROUND_RATIO_PCT: f64 = 10;

// @ts-ignore: decorator
@inline function ensure(): void { if (FILE_LISTS == 0) FILE_LISTS = allocLists(NR_FILES * 2); }

/** LRU list of file `f`: inactive (active = false) or active. */
export function fileList(f: u32, active: bool): usize {
  ensure();
  return FILE_LISTS + <usize>(f * 2 + (active ? 1 : 0)) * LIST_SIZE;
}

/** The LRU list page `pfn` (PT_FILE) is on. */
export function fileListOf(pfn: u32): usize { return fileList(ownerOf(pfn), testFlag(pfn, PG_ACTIVE)); }

export function fileCached(f: u32): u32 { return listCount(fileList(f, false)) + listCount(fileList(f, true)); }
export function fileActive(f: u32): u32 { return listCount(fileList(f, true)); }
export function fileDirty(f: u32): u32 { return dirtyPages[f]; }
export function fileShadows(f: u32): u32 { return shadows[f]; }

/** Adds allocated order-0 `pfn` to file `f`'s LRU (head of inactive or active). */
export function pageCacheAdd(f: u32, pfn: u32, dirty: bool, active: bool): void {
  setOwned(pfn, PT_FILE, f);
  if (active) setFlag(pfn, PG_ACTIVE);
  if (dirty) { setFlag(pfn, PG_DIRTY); dirtyPages[f]++; vmstatInc(VM_NR_FILE_DIRTY); }
  listAddHead(fileList(f, active), pfn);
  vmstatInc(VM_NR_FILE);
}

/**
 * __filemap_remove_folio + free: unlinks `pfn` from its LRU and frees it. `shadow` leaves a
 * shadow entry (reclaim does; invalidation and truncation do not).
 */
export function pageCacheEvict(pfn: u32, shadow: bool): void {
  const f = ownerOf(pfn);
  listDel(fileListOf(pfn), pfn);
  if (testFlag(pfn, PG_DIRTY)) { dirtyPages[f]--; vmstatAdd(VM_NR_FILE_DIRTY, -1); }
  vmstatAdd(VM_NR_FILE, -1);
  if (shadow) shadows[f]++;
  clearOwned(pfn, PT_ALLOC);
  freePages(pfn, 0);
}

/** Writes back dirty page `pfn` (the disk reads the frame); it stays cached, now clean. */
export function writebackPage(pfn: u32): void {
  readFrame(pfn);
  clearFlag(pfn, PG_DIRTY);
  dirtyPages[ownerOf(pfn)]--;
  vmstatAdd(VM_NR_FILE_DIRTY, -1);
  vmstatInc(VM_NR_WRITTEN);
  charge(cost(COST_WRITEBACK_PAGE_NS));
}

/** mark_page_accessed on a cached page: inactive → head of active (PGACTIVATE). */
export function activatePage(pfn: u32): void {
  if (testFlag(pfn, PG_ACTIVE)) return;
  const f = ownerOf(pfn);
  listDel(fileList(f, false), pfn);
  setFlag(pfn, PG_ACTIVE);
  listAddHead(fileList(f, true), pfn);
  vmstatInc(VM_PGACTIVATE);
}

/** Active → head of inactive (shrink_active_list). */
export function deactivatePage(pfn: u32): void {
  const f = ownerOf(pfn);
  listDel(fileList(f, true), pfn);
  clearFlag(pfn, PG_ACTIVE);
  listAddHead(fileList(f, false), pfn);
  vmstatInc(VM_PGDEACTIVATE);
}

/**
 * filemap_read of `n` pages of file `f`: min(n, cached) hits (oldest inactive pages first get
 * activated, then active pages are read in place), the rest are misses read from the disk into
 * new inactive pages (active if a shadow entry says they were recently evicted: a refault).
 * Stops at the first allocation failure. Returns pages read.
 */
export function fileRead(f: u32, n: u32): u32 {
  const inact = fileList(f, false), act = fileList(f, true);
  let hits = fileCached(f);
  if (hits > n) hits = n;
  let done: u32 = 0;
  while (done < hits && listCount(inact) > 0) {
    const pfn = listTail(inact);
    readFrame(pfn);
    activatePage(pfn);
    done++;
  }
  let p = listHead(act);
  while (done < hits && p != NIL) {
    readFrame(p);
    p = getNext(p);
    done++;
  }
  charge(<f64>done * cost(COST_PAGE_READ_NS));
  while (done < n) {
    const pfn = allocPages(0, GFP_MOVABLE);
    if (pfn == NIL) break;
    writeFrame(pfn); // the virtual disk DMAs the data into the page
    charge(cost(COST_FILE_READ_PAGE_NS));
    let refault = false;
    if (shadows[f] > 0) { shadows[f]--; refault = true; vmstatInc(VM_WORKINGSET_REFAULT); }
    pageCacheAdd(f, pfn, false, refault);
    done++;
  }
  return done;
}

/**
 * generic_perform_write of `n` whole pages of file `f`: cached pages are rewritten and dirtied
 * first, then new dirty pages are added (no disk read: whole-page writes). The writer throttles
 * itself in balance_dirty_pages. Returns pages written.
 */
export function fileWrite(f: u32, n: u32): u32 {
  let done: u32 = 0;
  for (let a: i32 = 0; a < 2 && done < n; a++) {
    let p = listHead(fileList(f, a == 1));
    while (done < n && p != NIL) {
      writeFrame(p);
      if (!testFlag(p, PG_DIRTY)) { setFlag(p, PG_DIRTY); dirtyPages[f]++; vmstatInc(VM_NR_FILE_DIRTY); }
      p = getNext(p);
      done++;
    }
  }
  charge(<f64>done * cost(COST_PAGE_WRITE_NS));
  if (done == n) { balanceDirtyPages(f); return done; }
  return done + addDirtyPages(f, n - done);
}

/**
 * Writes `n` new pages at the end of file `f` (an object file written by a compiler, a log): no
 * cached page is overwritten, so the file's cache grows by what it writes. Returns pages written.
 */
export function fileAppend(f: u32, n: u32): u32 {
  if (n == 0) { balanceDirtyPages(f); return 0; }
  return addDirtyPages(f, n);
}

/** `n` fresh dirty pages for file `f`, throttled by balance_dirty_pages before each. */
function addDirtyPages(f: u32, n: u32): u32 {
  let done: u32 = 0;
  while (done < n) {
    balanceDirtyPages(f);
    const pfn = allocPages(0, GFP_MOVABLE);
    if (pfn == NIL) break;
    writeFrame(pfn);
    charge(cost(COST_PAGE_WRITE_NS));
    pageCacheAdd(f, pfn, true, false);
    done++;
  }
  return done;
}

/**
 * balance_dirty_pages: above dirty_ratio % of dirtyable memory (free + file pages) the writer
 * writes back its own file's dirty pages, oldest first, down to dirty_background_ratio.
 * Model: synchronous writeback charged to the writer instead of throttling it.
 */
function balanceDirtyPages(f: u32): void {
  const dirtyable = vmstat(VM_NR_FREE_PAGES) + vmstat(VM_NR_FILE);
  if (vmstat(VM_NR_FILE_DIRTY) <= dirtyable * DIRTY_RATIO_PCT / 100) return;
  const target = dirtyable * DIRTY_BACKGROUND_RATIO_PCT / 100;
  for (let a: i32 = 0; a < 2; a++) {
    const l = fileList(f, a == 1);
    let p = listTail(l);
    while (p != NIL && vmstat(VM_NR_FILE_DIRTY) > target) {
      if (testFlag(p, PG_DIRTY)) writebackPage(p);
      p = getPrev(p);
    }
  }
}

/** Writes back every dirty page of file `f` (fsync); returns pages written. */
export function fileSync(f: u32): u32 {
  let n: u32 = 0;
  for (let a: i32 = 0; a < 2; a++) {
    let p = listHead(fileList(f, a == 1));
    while (p != NIL) {
      if (testFlag(p, PG_DIRTY)) { writebackPage(p); n++; }
      p = getNext(p);
    }
  }
  return n;
}

/** truncate_inode_pages: drops every cached page of `f`, dirty or not, and its shadows. */
export function fileTruncate(f: u32): u32 {
  let n: u32 = 0;
  for (let a: i32 = 0; a < 2; a++) {
    const l = fileList(f, a == 1);
    while (listCount(l) > 0) { pageCacheEvict(listHead(l), false); n++; }
  }
  shadows[f] = 0;
  return n;
}

/**
 * invalidate_mapping_pages of file `f`: frees only clean pages (mapped or locked pages do not
 * exist in the model); dirty pages survive; no shadow entries. Returns pages freed.
 */
export function fileInvalidate(f: u32): u32 {
  let n: u32 = 0;
  for (let a: i32 = 0; a < 2; a++) {
    let p = listHead(fileList(f, a == 1));
    while (p != NIL) {
      const next = getNext(p);
      if (!testFlag(p, PG_DIRTY)) { pageCacheEvict(p, false); n++; }
      p = next;
    }
  }
  return n;
}
