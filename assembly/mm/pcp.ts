// SPDX-License-Identifier: MIT
// Per-CPU page lists (struct per_cpu_pages): orders 0..PAGE_ALLOC_COSTLY_ORDER, one LIFO list
// per (order, pcp migratetype); refilled from the buddy a batch at a time, drained a batch at a
// time when `high` is reached. Model: no THP (pageblock-order) list, no high auto-tuning, no
// free_count scaling of the drain size. Follows mm/page_alloc.c (rmqueue_bulk,
// free_pcppages_bulk, zone_batchsize, zone_highsize).

import {
  NIL, NR_ZONES, MT_PCPTYPES, MT_MOVABLE, MT_ISOLATE, PT_PCP, PT_FREE, PAGE_ALLOC_COSTLY_ORDER,
  PARAM_NR_CPUS, VM_NR_PCP, WMARK_LOW, FPI_NONE,
} from "../abi";
import { PFLAGS, PORDER, getPageblockMt } from "./pfn";
import { allocLists, listAddHead, listAddTail, listDel, listEmpty, listTail, listHead, LIST_SIZE } from "../lib/list";
import { param } from "../lib/params";
import { vmstatAdd } from "../lib/scb";
import { zoneManaged } from "./zone";
import { wmarkRaw } from "./watermark";
import { rmqueue, resetRmqueueMode, freeOneBlockInline } from "./buddy";

/** NR_PCP_LISTS: (PAGE_ALLOC_COSTLY_ORDER + 1) orders × MIGRATE_PCPTYPES. */
export const NR_PCP_LISTS: u32 = (PAGE_ALLOC_COSTLY_ORDER + 1) * MT_PCPTYPES;
// struct per_cpu_pages layout (bytes).
const P_COUNT: usize = 0; // pages on all lists
const P_HIGH: usize = 4;
const P_BATCH: usize = 8;
const P_LISTS: usize = 16;
const PCP_SIZE: usize = P_LISTS + <usize>NR_PCP_LISTS * LIST_SIZE;

export let nrCpus: u32 = 1;
/** The vCPU the guest code runs on (this_cpu_ptr); set with setCurrentCpu. */
export let currentCpu: u32 = 0;
let PCP: usize = 0;

/** Allocates the per-cpu pagesets for PARAM_NR_CPUS cpus. Called once by mmInit. */
export function initPcp(): void {
  let n = <u32>param(PARAM_NR_CPUS, 1);
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  nrCpus = n;
  const total = <usize>nrCpus * <usize>NR_ZONES;
  PCP = heap.alloc(total * PCP_SIZE);
  memory.fill(PCP, 0, total * PCP_SIZE);
  for (let i: usize = 0; i < total; i++) {
    const p = PCP + i * PCP_SIZE;
    const lists = allocLists(NR_PCP_LISTS); // initialised heads, copied into place
    memory.copy(p + P_LISTS, lists, <usize>NR_PCP_LISTS * LIST_SIZE);
    heap.free(lists);
  }
}

/** Selects the cpu whose pcp lists later calls use (0 <= cpu < nrCpus). */
export function setCurrentCpu(cpu: u32): bool {
  if (cpu >= nrCpus) return false;
  currentCpu = cpu;
  return true;
}

// @ts-ignore: decorator
@inline function pcpPtr(cpu: u32, z: u32): usize { return PCP + <usize>(cpu * NR_ZONES + z) * PCP_SIZE; }
// @ts-ignore: decorator
@inline function pcpList(p: usize, order: u32, mt: u32): usize { return p + P_LISTS + <usize>(order * MT_PCPTYPES + mt) * LIST_SIZE; }

/** pcp_allowed_order */
// @ts-ignore: decorator
@inline export function pcpAllowedOrder(order: u32): bool { return order <= PAGE_ALLOC_COSTLY_ORDER; }

/**
 * zone_batchsize: about 1/4096 of the zone, at most 256 pages, rounded to 2^n - 1
 * (63 for zones >= 1 GiB).
 */
export function zoneBatchsize(managed: u32): u32 {
  let b = managed >> 10;
  if (b > 256) b = 256; // SZ_1M / PAGE_SIZE
  b /= 4;
  if (b < 1) b = 1;
  const x = b + b / 2;
  const pow = <u32>1 << (31 - clz(x));
  const batch = pow - 1;
  return batch < 1 ? 1 : batch;
}

/** zone_pcp_update: batch and high (max(low_wmark / ncpu, 4 × batch)) of every cpu for zone `z`. */
export function zonePcpUpdate(z: u32): void {
  const batch = zoneBatchsize(zoneManaged(z));
  let high = wmarkRaw(z, WMARK_LOW) / nrCpus;
  if (high < batch * 4) high = batch * 4;
  for (let c: u32 = 0; c < nrCpus; c++) {
    const p = pcpPtr(c, z);
    store<u32>(p + P_BATCH, batch);
    store<u32>(p + P_HIGH, high);
  }
}

export function pcpBatch(z: u32): u32 { return load<u32>(pcpPtr(0, z) + P_BATCH); }
export function pcpHigh(z: u32): u32 { return load<u32>(pcpPtr(0, z) + P_HIGH); }
/** Pages on the pcp lists of every cpu for zone `z`. */
export function pcpCount(z: u32): u32 {
  let n: u32 = 0;
  for (let c: u32 = 0; c < nrCpus; c++) n += load<u32>(pcpPtr(c, z) + P_COUNT);
  return n;
}
/** Address of a pcp list head (validation and tests). */
export function pcpListAddr(cpu: u32, z: u32, order: u32, mt: u32): usize { return pcpList(pcpPtr(cpu, z), order, mt); }

/**
 * rmqueue_bulk: refills this cpu's empty (order, mt) list with `batch` pages (batch >> order
 * blocks for order > 0, at least 2) in one zone-lock section. Returns the blocks added.
 */
function rmqueueBulk(z: u32, p: usize, l: usize, order: u32, mt: u32): u32 {
  let batch = load<u32>(p + P_BATCH);
  if (order > 0) { batch >>= order; if (batch < 2) batch = 2; }
  // The fallback mode carries over between blocks of one section.
  resetRmqueueMode();
  let got: u32 = 0;
  for (; got < batch; got++) {
    const pfn = rmqueue(z, order, mt);
    if (pfn == NIL) break;
    if (order == 0) store<u8>(PFLAGS + <usize>pfn, PT_PCP);
    else memory.fill(PFLAGS + <usize>pfn, PT_PCP, <usize>1 << order);
    store<u8>(PORDER + <usize>pfn, <u8>((mt << 4) | order));
    listAddTail(l, pfn);
  }
  if (got != 0) {
    store<u32>(p + P_COUNT, load<u32>(p + P_COUNT) + (got << order));
    vmstatAdd(VM_NR_PCP, <f64>(got << order));
  }
  return got;
}

/**
 * __rmqueue_pcplist: head of this cpu's (order, mt) list; an empty list is refilled first
 * (rmqueueBulk, out of line like Linux's). NIL if the buddy has nothing either.
 */
// @ts-ignore: decorator
@inline export function pcpAlloc(z: u32, order: u32, mt: u32): u32 {
  const p = pcpPtr(currentCpu, z);
  const l = pcpList(p, order, mt);
  if (listEmpty(l) && rmqueueBulk(z, p, l, order, mt) == 0) return NIL;
  const pfn = listHead(l);
  listDel(l, pfn);
  store<u32>(p + P_COUNT, load<u32>(p + P_COUNT) - (<u32>1 << order));
  vmstatAdd(VM_NR_PCP, -<f64>(<u32>1 << order));
  return pfn;
}

/**
 * free_unref_page_commit: the block goes to the head of this cpu's list for its pageblock's
 * type (`pageblockMt`, read by the caller); at `high` a batch returns to the buddy. Returns
 * false if the pageblock is isolated: the caller frees straight to the buddy then.
 */
export function pcpFree(z: u32, pfn: u32, order: u32, pageblockMt: u32): bool {
  let mt = pageblockMt;
  if (mt >= MT_PCPTYPES) {
    if (mt == MT_ISOLATE) return false;
    mt = MT_MOVABLE; // HIGHATOMIC pages share the movable list
  }
  const p = pcpPtr(currentCpu, z);
  if (order == 0) store<u8>(PFLAGS + <usize>pfn, PT_PCP);
  else memory.fill(PFLAGS + <usize>pfn, PT_PCP, <usize>1 << order);
  store<u8>(PORDER + <usize>pfn, <u8>((mt << 4) | order));
  listAddHead(pcpList(p, order, mt), pfn);
  const count = load<u32>(p + P_COUNT) + (<u32>1 << order);
  store<u32>(p + P_COUNT, count);
  vmstatAdd(VM_NR_PCP, <f64>(<u32>1 << order));
  if (count >= load<u32>(p + P_HIGH)) {
    freePcppagesBulk(z, p, load<u32>(p + P_BATCH), order * MT_PCPTYPES + mt);
  }
  return true;
}

/**
 * free_pcppages_bulk: returns `count` pages to the buddy, from the TAIL (coldest) of the
 * requested list first, then round robin over the other lists.
 */
function freePcppagesBulk(z: u32, p: usize, count: u32, pindex: u32): void {
  let left = <i32>count;
  const have = <i32>load<u32>(p + P_COUNT);
  if (left > have) left = have;
  let idx = <i32>pindex - 1;
  let freed: u32 = 0;
  while (left > 0) {
    let l: usize;
    do {
      idx++;
      if (idx > <i32>NR_PCP_LISTS - 1) idx = 0;
      l = p + P_LISTS + <usize>idx * LIST_SIZE;
    } while (listEmpty(l));
    const order = <u32>idx / MT_PCPTYPES;
    do {
      const pfn = listTail(l);
      listDel(l, pfn);
      if (order == 0) store<u8>(PFLAGS + <usize>pfn, PT_FREE);
      else memory.fill(PFLAGS + <usize>pfn, PT_FREE, <usize>1 << order);
      freeOneBlockInline(z, pfn, order, getPageblockMt(pfn), FPI_NONE);
      left -= <i32>1 << order;
      freed += <u32>1 << order;
    } while (left > 0 && !listEmpty(l));
  }
  store<u32>(p + P_COUNT, load<u32>(p + P_COUNT) - freed);
  vmstatAdd(VM_NR_PCP, -<f64>freed);
}

/** drain_all_pages: every cpu's lists back to the buddy (compaction, reporting, offlining). */
export function drainPcp(): void {
  for (let c: u32 = 0; c < nrCpus; c++) {
    for (let z: u32 = 0; z < NR_ZONES; z++) {
      const p = pcpPtr(c, z);
      const n = load<u32>(p + P_COUNT);
      if (n != 0) freePcppagesBulk(z, p, n, 0);
    }
  }
}

/** drain_zone_pages for one zone, every cpu. */
export function drainZonePcp(z: u32): void {
  for (let c: u32 = 0; c < nrCpus; c++) {
    const p = pcpPtr(c, z);
    const n = load<u32>(p + P_COUNT);
    if (n != 0) freePcppagesBulk(z, p, n, 0);
  }
}

/** Pages on cpu `cpu`'s lists for zone `z` (validation). */
export function pcpCpuCount(cpu: u32, z: u32): u32 { return load<u32>(pcpPtr(cpu, z) + P_COUNT); }
