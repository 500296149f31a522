// SPDX-License-Identifier: MIT
// Free page reporting: free buddy blocks of order >= page_reporting_order are isolated in
// batches, handed to the one registered reporting device, and returned to the free-list tail
// marked PageReported. Model: one reporting device, delayed work as a guest timer, the zone lock
// is implicit (one vCPU). Follows mm/page_reporting.c (budget + page_reporting_order era).

import {
  OK, E_BUSY, E_INVAL, NIL, NR_ZONES, NR_ORDERS, MAX_ORDER, NR_MIGRATETYPES, MT_ISOLATE,
  PAGEBLOCK_ORDER, PG_BUDDY, PG_REPORTED, TIMER_PAGE_REPORTING, WMARK_LOW,
  PARAM_PAGE_REPORTING_ORDER, PARAM_PAGE_REPORTING_DELAY_MS, PARAM_PAGE_REPORTING_CAPACITY,
  VM_REPORTED_PAGES, VM_REPORT_CALLS, VM_REPORT_FAILS, COST_ALLOC_SLOW_NS, PAGE_REPORTING_IDLE,
  PAGE_REPORTING_REQUESTED, PAGE_REPORTING_ACTIVE,
} from "../abi";
import { PFLAGS, PORDER, getPageblockMt, getNext } from "./pfn";
import { freeList, zoneNrFree, zonePopulated } from "./zone";
import { listHead, listMoveHead } from "../lib/list";
import { setFreeNotifyHook, isolateFreePage, putbackIsolatedPage } from "./buddy";
import { wmarkPages, zoneWatermarkOkFlags } from "./watermark";
import { param, paramIsSet } from "../lib/params";
import { registerTimer, armTimer, cancelTimer } from "../lib/timers";
import { vmstatAdd, vmstatInc, cost } from "../lib/scb";
import { charge } from "../lib/clock";

/** report(sgl, nents) of the registered device: 0 or a negative E_* code (prdev->report). */
export type ReportFn = (sgl: usize, nents: u32) => i32;

/** PAGE_REPORTING_CAPACITY: 32 scatterlist entries per report call (include/linux/page_reporting.h). */
export const PAGE_REPORTING_CAPACITY_DEFAULT: u32 = 32;
/** Largest capacity the model accepts (the sgl is allocated per pass). */
export const PAGE_REPORTING_CAPACITY_MAX: u32 = 1024;
/** 2 s: PAGE_REPORTING_DELAY = 2 * HZ, mm/page_reporting.c. */
export const PAGE_REPORTING_DELAY_MS_DEFAULT: f64 = 2000;
/** One sgl entry: u32 pfn, u32 order (a buddy block of PAGE_SIZE << order bytes). */
export const SGL_ENTRY_BYTES: usize = 8;

function noReport(sgl: usize, nents: u32): i32 { return E_INVAL; }

let reportFn: ReportFn = noReport;
let registered = false;
let state: u32 = PAGE_REPORTING_IDLE;
/** page_reporting_order in effect; NR_ORDERS while no device is registered. */
let reportingOrder: u32 = NR_ORDERS;
/** PAGE_REPORTING_CAPACITY of the current pass (fixed while a pass runs). */
let capacity: u32 = PAGE_REPORTING_CAPACITY_DEFAULT;
/** Device capacity given at registration (0 = default), like prdev->capacity. */
let devCapacity: u32 = 0;
let timerRegistered = false;

// @ts-ignore: decorator
@inline function sglPfn(sgl: usize, i: u32): u32 { return load<u32>(sgl + <usize>i * SGL_ENTRY_BYTES); }
// @ts-ignore: decorator
@inline function sglOrder(sgl: usize, i: u32): u32 { return load<u32>(sgl + <usize>i * SGL_ENTRY_BYTES, 4); }
// @ts-ignore: decorator
@inline function sglSet(sgl: usize, i: u32, pfn: u32, order: u32): void {
  const e = sgl + <usize>i * SGL_ENTRY_BYTES;
  store<u32>(e, pfn);
  store<u32>(e, order, 4);
}

/** Delay between a request and the pass, in ns (PARAM_PAGE_REPORTING_DELAY_MS, default 2 s). */
function delayNs(): f64 {
  const ms = param(PARAM_PAGE_REPORTING_DELAY_MS, PAGE_REPORTING_DELAY_MS_DEFAULT);
  return (ms < 0 ? 0 : ms) * 1e6;
}

/** Capacity for the next pass: the parameter if set, else the device's, else 32. */
function effectiveCapacity(): u32 {
  let c: f64 = devCapacity > 0 ? <f64>devCapacity : <f64>PAGE_REPORTING_CAPACITY_DEFAULT;
  if (paramIsSet(PARAM_PAGE_REPORTING_CAPACITY)) c = param(PARAM_PAGE_REPORTING_CAPACITY, c);
  if (c < 1) c = 1;
  if (c > <f64>PAGE_REPORTING_CAPACITY_MAX) c = <f64>PAGE_REPORTING_CAPACITY_MAX;
  return <u32>c;
}

/** Capacity the registered device must be able to take in one report call. */
export function pageReportingCapacity(): u32 { return effectiveCapacity(); }

// ---- request / notify -----------------------------------------------------------------------

/**
 * __page_reporting_request: REQUESTED stays; otherwise switch to REQUESTED and, only when the
 * old state was IDLE, schedule the pass after the delay (an ACTIVE pass will notice the request).
 */
function pageReportingRequest(): void {
  if (state == PAGE_REPORTING_REQUESTED) return;
  const old = state;
  state = PAGE_REPORTING_REQUESTED;
  if (old != PAGE_REPORTING_IDLE) return;
  armTimer(TIMER_PAGE_REPORTING, delayNs());
}

/** page_reporting_notify_free: the buddy calls this for merged frees of order >= page_reporting_order. */
function pageReportingNotifyFree(order: u32): void {
  if (!registered || order < reportingOrder) return;
  pageReportingRequest();
}

// ---- one pass ---------------------------------------------------------------------------------

/**
 * page_reporting_drain: every block of sgl[first, first + n) goes back to the TAIL of its free
 * list without a new notification; on success a block that did not merge is marked Reported.
 */
function pageReportingDrain(sgl: usize, first: u32, n: u32, reported: bool): void {
  for (let i = first; i < first + n; i++) {
    const pfn = sglPfn(sgl, i);
    const order = sglOrder(sgl, i);
    putbackIsolatedPage(pfn, order, getPageblockMt(pfn));
    charge(cost(COST_ALLOC_SLOW_NS));
    if (!reported) continue;
    // A block that merged is a new, larger unreported block: reported again at its own order.
    const f = load<u8>(PFLAGS + <usize>pfn);
    if ((f & PG_BUDDY) != 0 && (<u32>load<u8>(PORDER + <usize>pfn) & 0x0f) == order) {
      store<u8>(PFLAGS + <usize>pfn, f | PG_REPORTED);
    }
  }
}

/** Calls the device for sgl[first, first + n) and drains; returns the device's result. */
function reportAndDrain(sgl: usize, first: u32, n: u32): i32 {
  vmstatInc(VM_REPORT_CALLS);
  const err = reportFn(sgl + <usize>first * SGL_ENTRY_BYTES, n);
  if (err == OK) {
    let pages: u64 = 0;
    for (let i = first; i < first + n; i++) pages += <u64>1 << sglOrder(sgl, i);
    vmstatAdd(VM_REPORTED_PAGES, <f64>pages);
  } else vmstatInc(VM_REPORT_FAILS);
  pageReportingDrain(sgl, first, n, err == OK);
  return err;
}

/** True if `pfn` is still a free head of `order` on the (order, mt) list (not moved by isolation). */
// @ts-ignore: decorator
@inline function onList(pfn: u32, order: u32, mt: u32): bool {
  const f = load<u8>(PFLAGS + <usize>pfn);
  const o = <u32>load<u8>(PORDER + <usize>pfn);
  return (f & PG_BUDDY) != 0 && (o & 0x0f) == order && (o >> 4) == mt;
}

// offset into the sgl, carried across the lists of one zone (fills from the end: capacity -> 0)
let sglOffset: u32 = 0;

/**
 * page_reporting_cycle: walks the (zone, order, mt) free list head to tail, skipping Reported
 * blocks, isolating unreported ones into the sgl; a full sgl is reported once another unreported
 * block is seen (which is first rotated to the list head). At most budget + 1 report calls.
 */
function pageReportingCycle(z: u32, order: u32, mt: u32, sgl: usize): i32 {
  const l = freeList(z, order, mt);
  if (listHead(l) == NIL) return OK;
  // DIV_ROUND_UP(nr_free, PAGE_REPORTING_CAPACITY * 16): a sixteenth of the list per pass.
  const per = <u32>capacity * 16;
  let budget = <i64>((zoneNrFree(z, order) + per - 1) / per);
  let err: i32 = OK;
  let page = listHead(l);
  let next: u32 = NIL;
  while (page != NIL) {
    next = getNext(page);
    if ((load<u8>(PFLAGS + <usize>page) & PG_REPORTED) != 0) { page = next; continue; }
    if (budget < 0) {
      // out of budget for this pass: ask for another one
      state = PAGE_REPORTING_REQUESTED;
      next = page;
      break;
    }
    if (sglOffset > 0) {
      if (!isolateFreePage(page, order)) { next = page; break; }
      charge(cost(COST_ALLOC_SLOW_NS));
      sglOffset--;
      sglSet(sgl, sglOffset, page, order);
      // Isolating half a pageblock or more can retag it and move its other free blocks to
      // another list; Linux would walk on into that list, the model restarts at this list's head.
      if (next != NIL && !onList(next, order, mt)) next = listHead(l);
      page = next;
      continue;
    }
    // sgl full and one more unreported block: it becomes the head the next walk starts from
    listMoveHead(l, page);
    err = reportAndDrain(sgl, 0, capacity);
    sglOffset = capacity;
    budget--;
    next = listHead(l);
    if (err != OK) break;
    page = next;
  }
  // leave the next unprocessed block at the head so the next pass starts there
  if (next != NIL && onList(next, order, mt) && listHead(l) != next) listMoveHead(l, next);
  return err;
}

/**
 * page_reporting_process_zone: the watermark gate (free >= low + capacity << order, so that
 * isolating a full sgl cannot push the zone below low), then every (order, mt) list from
 * page_reporting_order up, ISOLATE excluded, then the leftover partial sgl.
 */
function pageReportingProcessZone(z: u32, sgl: usize): i32 {
  sglOffset = capacity;
  const mark = <u64>wmarkPages(z, WMARK_LOW) + (<u64>capacity << reportingOrder);
  if (mark >= <u64>0xffffffff || !zoneWatermarkOkFlags(z, 0, <u32>mark, 0)) return OK;
  for (let order = reportingOrder; order < NR_ORDERS; order++) {
    for (let mt: u32 = 0; mt < NR_MIGRATETYPES; mt++) {
      if (mt == MT_ISOLATE) continue; // never pull from isolated pageblocks
      const err = pageReportingCycle(z, order, mt, sgl);
      if (err != OK) return err;
    }
  }
  const leftover = capacity - sglOffset;
  if (leftover > 0) return reportAndDrain(sgl, sglOffset, leftover);
  return OK;
}

/**
 * page_reporting_process (the delayed work): ACTIVE for the pass; at the end back to IDLE
 * unless a request came in meanwhile (new frees or an exhausted budget), then again after the delay.
 */
function pageReportingProcess(id: u32): void {
  if (!registered) return;
  state = PAGE_REPORTING_ACTIVE;
  capacity = effectiveCapacity();
  const sgl = heap.alloc(<usize>capacity * SGL_ENTRY_BYTES);
  for (let z: u32 = 0; z < NR_ZONES; z++) {
    if (!zonePopulated(z)) continue;
    if (pageReportingProcessZone(z, sgl) != OK) break;
  }
  heap.free(sgl);
  if (state == PAGE_REPORTING_ACTIVE) state = PAGE_REPORTING_IDLE;
  else if (state == PAGE_REPORTING_REQUESTED) armTimer(TIMER_PAGE_REPORTING, delayNs());
}

// ---- registration -------------------------------------------------------------------------------

/** page_reporting_order at registration: the parameter if set, else the device's (0, MAX], else pageblock_order. */
function chooseOrder(devOrder: u32): u32 {
  if (paramIsSet(PARAM_PAGE_REPORTING_ORDER)) {
    const p = param(PARAM_PAGE_REPORTING_ORDER, <f64>PAGEBLOCK_ORDER);
    if (p >= 0 && p <= <f64>MAX_ORDER) return <u32>p;
  }
  if (devOrder > 0 && devOrder <= MAX_ORDER) return devOrder;
  return PAGEBLOCK_ORDER;
}

/**
 * page_reporting_register: installs the reporting device (`order` 0 = default, `devCap` 0 = 32)
 * and issues the initial request, so a first pass runs one delay later. E_BUSY if one is
 * registered already (one reporter system-wide).
 */
export function pageReportingRegister(fn: ReportFn, order: u32, devCap: u32): i32 {
  if (registered) return E_BUSY;
  if (!timerRegistered) {
    registerTimer(TIMER_PAGE_REPORTING, pageReportingProcess);
    timerRegistered = true;
  }
  reportFn = fn;
  devCapacity = devCap;
  reportingOrder = chooseOrder(order);
  state = PAGE_REPORTING_IDLE;
  registered = true;
  pageReportingRequest();
  setFreeNotifyHook(pageReportingNotifyFree, reportingOrder);
  return OK;
}

/** page_reporting_unregister: no more notifications; a pending pass is cancelled. */
export function pageReportingUnregister(): void {
  if (!registered) return;
  registered = false;
  cancelTimer(TIMER_PAGE_REPORTING);
  state = PAGE_REPORTING_IDLE;
  reportFn = noReport;
  reportingOrder = NR_ORDERS;
  setFreeNotifyHook(pageReportingNotifyFree, NR_ORDERS);
}

/**
 * Changes page_reporting_order at run time (the module parameter is 0644): later notifications
 * and passes use it. E_INVAL above MAX_ORDER.
 */
export function pageReportingSetOrder(order: u32): i32 {
  if (order > MAX_ORDER) return E_INVAL;
  if (registered) {
    reportingOrder = order;
    setFreeNotifyHook(pageReportingNotifyFree, order);
  }
  return OK;
}

export function pageReportingRegistered(): bool { return registered; }
/** IDLE / REQUESTED / ACTIVE. */
export function pageReportingState(): u32 { return state; }
/** page_reporting_order in effect, NR_ORDERS when no device is registered. */
export function pageReportingOrder(): u32 { return reportingOrder; }
