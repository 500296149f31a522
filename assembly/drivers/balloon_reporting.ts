// SPDX-License-Identifier: MIT
// virtio-balloon free page reporting glue: the reporting device's report() puts one chain of
// device-writable buffers on reporting_vq, one per buddy block (GPA-contiguous, PAGE_SIZE << order;
// they name guest RAM ranges, not RAM-window bytes), kicks and waits for the buffer to come back.
// Follows Linux drivers/virtio/virtio_balloon.c (virtballoon_free_page_report). Model: the kick
// is synchronous, so "wait_event until used" is one vqGetBuf after vqKick.

import { OK, E_IO, E_NOMEM, NIL, PAGE_SHIFT, PAGE_SIZE } from "../abi";
import { Virtqueue, vqAddSgs, vqKick, vqGetBuf, vqSgSet } from "./virtqueue";
import { balloonSetReportingHooks } from "./virtio_balloon";
import { pageReportingRegister, pageReportingUnregister, pageReportingCapacity, SGL_ENTRY_BYTES } from "../mm/page_reporting";

/** Token of the report chain (any non-NIL value; Linux passes vb). */
const TOKEN_REPORT: u32 = 0x5245504f;
/** Bytes of one scatter-gather entry of virtqueue.ts (u64 gpa, u32 len, u32 pad). */
const SG_ENTRY_BYTES: usize = 16;

let rvq: Virtqueue | null = null;
let sg: usize = 0;
let sgCap: u32 = 0;

/**
 * virtballoon_free_page_report: sgl = (pfn, order)[nents] from mm/page_reporting. Returns OK, or
 * the add error (ring full), or E_IO if the device did not return the buffer (failed device).
 */
function virtballoonFreePageReport(sgl: usize, nents: u32): i32 {
  if (rvq === null) return E_IO;
  const vq = changetype<Virtqueue>(rvq);
  if (nents > sgCap) return E_NOMEM;
  for (let i: u32 = 0; i < nents; i++) {
    const pfn = load<u32>(sgl + <usize>i * SGL_ENTRY_BYTES);
    const order = load<u32>(sgl + <usize>i * SGL_ENTRY_BYTES, 4);
    vqSgSet(sg, i, <u64>pfn << PAGE_SHIFT, PAGE_SIZE << order);
  }
  // virtqueue_add_inbuf(GFP_NOWAIT): only a failed add is an error
  const rc = vqAddSgs(vq, sg, 0, nents, TOKEN_REPORT);
  if (rc != OK) return rc;
  vqKick(vq);
  // wait_event(vb->acked, virtqueue_get_buf(vq)): the device used the chain during the kick
  if (vqGetBuf(vq) == NIL) return E_IO;
  return OK;
}

/**
 * Probe hook (F_REPORTING): the reporting vring must hold PAGE_REPORTING_CAPACITY entries
 * (Linux -ENOSPC otherwise), then page_reporting_register issues the initial request.
 */
function balloonReportingInit(slot: u32, vq: Virtqueue): i32 {
  const cap = pageReportingCapacity();
  if (vq.num < cap) return E_IO;
  if (sgCap < vq.num) {
    if (sg != 0) heap.free(sg);
    sg = heap.alloc(<usize>vq.num * SG_ENTRY_BYTES);
    sgCap = vq.num;
  }
  rvq = vq;
  return pageReportingRegister(virtballoonFreePageReport, 0, 0);
}

/** Remove hook: page_reporting_unregister. */
function balloonReportingRemove(slot: u32): void {
  pageReportingUnregister();
  rvq = null;
}

balloonSetReportingHooks(balloonReportingInit, balloonReportingRemove);

/** True while the balloon is the registered reporting device. */
export function balloonReportingBound(): bool { return rvq !== null; }
