// SPDX-License-Identifier: MIT
// Hostile guest against the reporting_vq and free_page_vq device handlers (a TypeScript mock
// driver instead of the Linux one): every bad buffer is counted and skipped, every chain acked.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { HOST_PAGE_2M } from "../../host/memory/guest_memory.js";
import { mockBalloonVm, mockProbe } from "../balloon/helpers.js";
import { MIB } from "./helpers.js";

const PAGE = 4096;

describe("hostile guest: reporting_vq", () => {
  it("readable buffers, vring ranges and misaligned ranges are counted; good ranges are discarded; every chain is acked", () => {
    const { vm, balloon, drv } = mockBalloonVm(64, { pagePoison: false, statsVq: false, freePageReporting: true }, { hostPageBytes: HOST_PAGE_2M });
    const [, , rq] = mockProbe(drv, [abi.VIRTIO_BALLOON_F_REPORTING]);
    vm.touch(4096, 2048, true); // 8 MiB resident at 16 MiB
    const rss = vm.rssBytes;
    const dev = balloon.device;
    const win = drv.alloc(16, 4);
    rq.add([{ gpa: win, len: 16 }, { gpa: 4096 * PAGE, len: 2 * MIB, write: true }]); // readable part: counted
    rq.add([{ gpa: vm.guest.ramwinGpa, len: PAGE, write: true }]); // vring memory: refused
    rq.add([{ gpa: 4608 * PAGE + PAGE, len: 2 * MIB - PAGE, write: true }]); // not 2 MiB aligned: skipped
    rq.add([{ gpa: 64 * MIB, len: 2 * MIB, write: true }]); // beyond guest RAM: malformed chain
    rq.kick();
    expect(rq.complete().map((u) => u.len)).toEqual([0, 0, 0, 0]);
    expect(dev.metric("free_page_report_fails")).toBe(2);
    expect(dev.metric("free_page_report_skipped")).toBe(1);
    expect(dev.metric("desc_fails")).toBe(1);
    expect(dev.metric("free_page_report_freed_bytes")).toBe(2 * MIB);
    expect(vm.rssBytes).toBe(rss - 2 * MIB);
    expect(dev.failedReason).toBeUndefined();
    vm.memory.validate();
  });
});

describe("hostile guest: free_page_vq", () => {
  it("bad id buffers, hints outside START, wrong START ids and vring ranges are counted and ignored", () => {
    const { vm, balloon, drv } = mockBalloonVm(64, { pagePoison: false, statsVq: false, freePageHint: true });
    const [, , fq] = mockProbe(drv, [abi.VIRTIO_BALLOON_F_FREE_PAGE_HINT]);
    const h = balloon.hinting!;
    const dev = balloon.device;
    const idBuf = drv.alloc(8, 4);
    const block = { gpa: 8 * MIB, len: 4 * MIB, write: true };
    fq.add([block]); // before any run: stale
    fq.kick();
    expect(dev.metric("free_page_hint_stale_count")).toBe(1);
    const id = h.startHinting();
    drv.w32(idBuf, id);
    fq.add([{ gpa: idBuf, len: 8 }]); // an id buffer must be exactly 4 bytes
    fq.kick();
    expect(dev.metric("free_page_hint_fails")).toBe(1);
    drv.w32(idBuf, id + 5);
    fq.add([{ gpa: idBuf, len: 4 }]); // wrong id: no START
    fq.add([block]);
    fq.kick();
    expect(h.hintingStatus().status).toBe("requested");
    expect(dev.metric("free_page_hint_stale_count")).toBe(2);
    drv.w32(idBuf, id);
    fq.add([{ gpa: idBuf, len: 4 }]); // START
    fq.add([{ gpa: vm.guest.ramwinGpa, len: PAGE, write: true }]); // vring memory
    fq.add([block]);
    fq.kick();
    expect(h.hintingStatus()).toMatchObject({ status: "start", guestCmd: id });
    expect(dev.metric("free_page_hint_fails")).toBe(2);
    expect(dev.metric("free_page_hint_count")).toBe(1);
    drv.w32(idBuf, 0);
    fq.add([{ gpa: idBuf, len: 4 }]); // STOP
    fq.add([block]); // after STOP: stale
    fq.kick();
    expect(h.hintingStatus().status).toBe("stop");
    expect(dev.metric("free_page_hint_stale_count")).toBe(3);
    expect(fq.complete().every((u) => u.len === 0)).toBe(true);
    expect(dev.failedReason).toBeUndefined();
  });
});
