// SPDX-License-Identifier: MIT
// Host-facing exports of free page reporting (mm/page_reporting.ts), plus a test report sink:
// an in-guest fake reporting device that logs every block it is handed and checks that the
// block is isolated (off every free list) while "the host" holds it. Tests use the sink before
// (and independently of) virtio-balloon.

import { OK, E_INVAL, NIL, PT_MASK, PT_ISOLATED, PG_BUDDY, MAX_ORDER } from "../abi";
import { PFLAGS, nrFrames } from "./pfn";
import {
  pageReportingRegister, pageReportingUnregister, pageReportingSetOrder, pageReportingState,
  pageReportingOrder, pageReportingCapacity, SGL_ENTRY_BYTES,
} from "./page_reporting";

/** page_reporting_state: PAGE_REPORTING_IDLE / REQUESTED / ACTIVE (abi.ts). */
export function page_reporting_state(): u32 { return pageReportingState(); }

/** page_reporting_order in effect; 11 (NR_ORDERS) when no reporting device is registered. */
export function page_reporting_order(): u32 { return pageReportingOrder(); }

/** Capacity the next pass will use (PARAM_PAGE_REPORTING_CAPACITY, else 32). */
export function page_reporting_capacity(): u32 { return pageReportingCapacity(); }

/** Sets page_reporting_order at run time (sysfs write); E_INVAL above MAX_ORDER. */
export function page_reporting_set_order(order: u32): i32 { return pageReportingSetOrder(order); }

// ---- test report sink ---------------------------------------------------------------------------

/** Log entry: u32 pfn, u32 order, u32 report call index, u32 1 if the block was isolated. */
const LOG_ENTRY_BYTES: usize = 16;
const LOG_MAX_ENTRIES: u32 = 1 << 16;
let logBuf: usize = 0;
let logLen: u32 = 0;
let logDropped: u32 = 0;
let sinkCalls: u32 = 0;
let sinkResult: i32 = OK;

/** True if the 2^order block at `pfn` is wholly PT_ISOLATED and not a free-list head. */
function isolatedBlock(pfn: u32, order: u32): bool {
  if (order > MAX_ORDER || pfn >= nrFrames || pfn + (<u32>1 << order) > nrFrames) return false;
  for (let i: u32 = 0; i < (<u32>1 << order); i++) {
    const f = load<u8>(PFLAGS + <usize>(pfn + i));
    if ((f & PT_MASK) != PT_ISOLATED || (f & PG_BUDDY) != 0) return false;
  }
  return true;
}

function sinkReport(sgl: usize, nents: u32): i32 {
  if (logBuf == 0) logBuf = heap.alloc(<usize>LOG_MAX_ENTRIES * LOG_ENTRY_BYTES);
  for (let i: u32 = 0; i < nents; i++) {
    const pfn = load<u32>(sgl + <usize>i * SGL_ENTRY_BYTES);
    const order = load<u32>(sgl + <usize>i * SGL_ENTRY_BYTES, 4);
    if (logLen >= LOG_MAX_ENTRIES) { logDropped++; continue; }
    const e = logBuf + <usize>logLen * LOG_ENTRY_BYTES;
    store<u32>(e, pfn);
    store<u32>(e, order, 4);
    store<u32>(e, sinkCalls, 8);
    store<u32>(e, isolatedBlock(pfn, order) ? 1 : 0, 12);
    logLen++;
  }
  sinkCalls++;
  return sinkResult;
}

/**
 * Registers the test sink as the reporting device (`order` 0 = default). Its report() returns
 * `result` (0 = success; a negative E_* code = the device failed). E_BUSY if a device is registered.
 */
export function page_reporting_test_register(order: u32, result: i32): i32 {
  sinkResult = result;
  logLen = 0;
  logDropped = 0;
  sinkCalls = 0;
  return pageReportingRegister(sinkReport, order, 0);
}

/** What the sink's report() returns from now on. */
export function page_reporting_test_set_result(result: i32): void { sinkResult = result; }

/** Unregisters the reporting device (test sink or balloon). */
export function page_reporting_unregister(): void { pageReportingUnregister(); }

/** Report calls the sink received. */
export function page_reporting_test_calls(): u32 { return sinkCalls; }

/** Entries in the sink's log (LOG_ENTRY_BYTES each at page_reporting_test_log()). */
export function page_reporting_test_log_len(): u32 { return logLen; }

/** Address of the sink's log: {u32 pfn, u32 order, u32 call, u32 isolated}[len]; 0 if empty. */
export function page_reporting_test_log(): usize { return logBuf; }

/** Clears the sink's log (keeps the registration). */
export function page_reporting_test_clear(): void { logLen = 0; logDropped = 0; sinkCalls = 0; }

export { E_INVAL, NIL };
