// SPDX-License-Identifier: MIT
// Free page hinting end to end: Linux driver (drivers/balloon_hinting.ts) against the QEMU and
// Firecracker device models (host/virtio/balloon/hinting.ts) and the migration stand-in
// (host/migration/hint_consumer.ts): ids, statuses, stale ids, the STOP slot, order-10 blocks
// without reclaim, DONE/STOP/shrinker, and the hint-then-reuse race with write-protect tracking.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { ConfigError } from "../../host/guest/errors.js";
import { FreePageHinting, CMD_ID_MIN_QEMU, type HintingOptions } from "../../host/virtio/balloon/hinting.js";
import { MigrationHintConsumer } from "../../host/migration/hint_consumer.js";
import { reportingVm, step, anonAlloc, metric, MIB, SEC, type FpVm } from "../reporting/helpers.js";
import { addBalloon } from "../../host/virtio/balloon/index.js";
import { newHost } from "../helpers/host.js";

const NIL = 0xffffffff;

function hintingVm(mib: number, opts: HintingOptions = {}, hostMib = 4096, params: Record<string, number> = {}): FpVm & { h: FreePageHinting } {
  const h = new FreePageHinting(opts);
  const f = reportingVm(mib, { balloon: { freePageReporting: false, freePageHint: true, vmm: opts.mode ?? "qemu" }, hinting: h, hostMib, vm: { params } });
  return { ...f, h };
}

/** Held blocks, most recent first (walks the guest's free_page_list). */
function held(f: FpVm): number[] {
  const out: number[] = [];
  const next = f.vm.guest.views.next;
  for (let p = f.vm.guest.exports.hinting_held_head(); p !== NIL; p = next[p]) out.push(p);
  return out;
}

function vmstat(f: FpVm, i: number): number { return f.vm.guest.views.vmstat[i]; }

/** Runs the simulation `s` seconds past now. */
function runFor(f: FpVm, s: number): void { f.host.runUntil(f.host.sim.now + s * SEC); }

describe("free page hinting", () => {
  it("QEMU: ids from 0x80000000; config shows the id while REQUESTED and 0 in START; START, 4 MiB blocks, STOP", () => {
    const f = hintingVm(512);
    const c = new MigrationHintConsumer(f.vm.memory);
    let configInStart = -1;
    c.runStarted = () => { c.runsStarted++; configInStart = f.balloon.device.getConfig("free_page_hint_cmd_id"); };
    f.h.consumer = c;
    const id = f.h.startHinting();
    expect(id).toBe(CMD_ID_MIN_QEMU);
    expect(f.balloon.device.getConfig("free_page_hint_cmd_id")).toBe(id);
    expect(f.h.hintingStatus().status).toBe("requested");
    runFor(f, 1);
    expect(configInStart).toBe(0);
    expect(f.h.hintingStatus()).toMatchObject({ status: "stop", hostCmd: id, guestCmd: abi.VIRTIO_BALLOON_CMD_ID_STOP });
    const blocks = held(f);
    expect(blocks.length).toBeGreaterThan(100);
    expect(c.ranges.length).toBe(blocks.length);
    expect(c.ranges.every((r) => r.frames === 1024 && r.pfn % 1024 === 0 && r.cmdId === id)).toBe(true);
    expect(new Set(c.ranges.map((r) => r.pfn))).toEqual(new Set(blocks));
    expect(metric(f, "free_page_hint_count")).toBe(blocks.length);
    expect(vmstat(f, abi.VM_NR_HINTED)).toBe(blocks.length * 1024);
    expect(f.vm.guest.exports.hinting_cmd_id_active()).toBe(id);
    expect(c.runsStarted).toBe(1);
    expect(c.runsStopped).toBe(1);
    expect(f.vm.memory.stats.discardCalls).toBe(0); // QEMU never discards hinted pages
    for (const b of blocks) expect(f.vm.guest.views.pflags[b] & abi.PT_MASK).toBe(abi.PT_HINTED);
    expect(f.h.startHinting()).toBe(id + 1);
    expect(f.vm.guest.exports.mm_validate()).toBe(abi.MMV_OK);
  });

  it("a later run only hints blocks freed since: held blocks are not free", () => {
    const f = hintingVm(256);
    f.h.startHinting();
    runFor(f, 1);
    const first = held(f).length;
    f.h.startHinting();
    runFor(f, 1);
    expect(held(f).length).toBe(first); // nothing new was free
    expect(vmstat(f, abi.VM_HINT_RUNS)).toBe(2);
  });

  it("order-10 blocks without reclaim: no kswapd wake, page cache and stall counters untouched, kernel zones only", () => {
    const f = hintingVm(512, {}, 4096);
    expect(step(f, "file", (g) => g.wl_file_read(0, 32768))).toBe(32768); // 128 MiB of page cache
    const cached = f.vm.guest.exports.wl_file_cached(0);
    const stall = [abi.VM_ALLOCSTALL, abi.VM_PGSCAN_DIRECT, abi.VM_COMPACT_STALL, abi.VM_PGSCAN_KSWAPD, abi.VM_KSWAPD_WAKE].map((i) => vmstat(f, i));
    f.h.startHinting();
    runFor(f, 1);
    expect(f.vm.guest.exports.wl_file_cached(0)).toBe(cached);
    expect([abi.VM_ALLOCSTALL, abi.VM_PGSCAN_DIRECT, abi.VM_COMPACT_STALL, abi.VM_PGSCAN_KSWAPD, abi.VM_KSWAPD_WAKE].map((i) => vmstat(f, i))).toEqual(stall);
    const blocks = held(f);
    expect(blocks.length).toBeGreaterThan(50);
    for (const b of blocks) {
      expect(f.vm.guest.views.porder[b] & 0x0f).toBe(10);
      expect(f.vm.guest.exports.mm_pageblock_mt(b)).not.toBe(abi.MT_ISOLATE);
    }
    // the run harvested every order-10 block it could take without dipping below WMARK_MIN
    const x = f.vm.guest.exports;
    expect(x.mm_zone_info(abi.ZONE_DMA32, abi.ZI_FREE) - 1023).toBeLessThanOrEqual(x.mm_zone_info(abi.ZONE_DMA32, abi.ZI_WMARK_MIN));
  });

  it("DONE returns every held block to the buddy; STOP keeps them", () => {
    const f = hintingVm(256);
    const free0 = f.vm.guest.exports.mm_zone_info(abi.ZONE_DMA32, abi.ZI_FREE);
    f.h.startHinting();
    runFor(f, 1);
    const n = held(f).length;
    expect(n).toBeGreaterThan(0);
    f.h.stopHinting();
    runFor(f, 1);
    expect(held(f).length).toBe(n);
    // the run's allocations woke no kswapd, so no shrinker gave blocks back before DONE
    expect(vmstat(f, abi.VM_HINT_RETURNED_BLOCKS)).toBe(0);
    f.h.doneHinting();
    expect(f.balloon.device.getConfig("free_page_hint_cmd_id")).toBe(abi.VIRTIO_BALLOON_CMD_ID_DONE);
    runFor(f, 1);
    expect(held(f).length).toBe(0);
    expect(vmstat(f, abi.VM_NR_HINTED)).toBe(0);
    expect(vmstat(f, abi.VM_HINT_RETURNED_BLOCKS)).toBe(n);
    expect(f.vm.guest.exports.mm_zone_info(abi.ZONE_DMA32, abi.ZI_FREE)).toBeGreaterThanOrEqual(free0 - 4096);
    expect(f.vm.guest.exports.mm_validate()).toBe(abi.MMV_OK);
  });

  it("the hint shrinker frees whole blocks (requests rounded up to 4 MiB)", () => {
    const f = hintingVm(256);
    f.h.startHinting();
    runFor(f, 1);
    const n = held(f).length;
    expect(f.vm.guest.exports.hinting_shrink_count()).toBe(n * 1024);
    expect(step(f, "shrink", (g) => g.hinting_shrink(1))).toBe(1024);
    expect(step(f, "shrink", (g) => g.hinting_shrink(1025))).toBe(2048);
    expect(held(f).length).toBe(n - 3);
  });

  it("memory pressure: reclaim calls the hint shrinker, so held blocks come back instead of an OOM kill", () => {
    const f = hintingVm(256);
    f.h.startHinting();
    runFor(f, 1);
    const n = held(f).length;
    expect(n).toBeGreaterThan(40);
    const kills = vmstat(f, abi.VM_OOM_KILL);
    expect(anonAlloc(f, 1, 25600, true)).toBe(25600); // 100 MiB while nearly everything is held
    expect(vmstat(f, abi.VM_OOM_KILL)).toBe(kills);
    expect(vmstat(f, abi.VM_HINT_SHRINK_CALLS)).toBeGreaterThan(0);
    expect(held(f).length).toBeLessThanOrEqual(n - 25);
    expect(f.vm.guest.exports.mm_validate()).toBe(abi.MMV_OK);
  });

  it("stale id: hints of a run the host already replaced are ignored and counted", () => {
    const f = hintingVm(512, { processDelayNs: 5 * SEC });
    const c = new MigrationHintConsumer(f.vm.memory);
    f.h.consumer = c;
    const a = f.h.startHinting();
    runFor(f, 1); // the guest ran A completely; the device has not looked at it yet
    const blocksA = held(f).length;
    expect(f.h.hintingStatus().pendingChains).toBe(blocksA + 2);
    const b = f.h.startHinting(); // a new id before the device saw A's START
    f.h.processPending(); // the device catches up before the guest has seen id B
    expect(metric(f, "free_page_hint_stale_count")).toBe(blocksA);
    expect(c.ranges).toEqual([]);
    expect(f.h.hintingStatus()).toMatchObject({ status: "requested", hostCmd: b, guestCmd: abi.VIRTIO_BALLOON_CMD_ID_STOP });
    runFor(f, 10); // run B: its START matches, but every free block is still held from run A
    expect(f.vm.guest.exports.hinting_cmd_id_active()).toBe(b);
    expect(f.h.hintingStatus().status).toBe("stop");
    expect(c.ranges).toEqual([]);
  });

  it("one descriptor is always kept for STOP: a full ring ends the run with STOP in the last slot", () => {
    // Firecracker queues hold 256 entries; a slow device returns nothing during the run
    const f = hintingVm(2048, { mode: "firecracker", processDelayNs: 5 * SEC, discardOnHint: false });
    f.h.startHinting();
    runFor(f, 1);
    expect(held(f).length).toBe(254); // 256 - START - the slot kept for STOP
    expect(vmstat(f, abi.VM_HINT_VQ_FULL)).toBe(1);
    expect(f.h.hintingStatus().pendingChains).toBe(256); // START + 254 blocks + STOP
    runFor(f, 10);
    expect(metric(f, "free_page_hint_count")).toBe(254);
    // Firecracker acknowledge_on_stop: DONE right after the guest's STOP; the guest frees everything
    expect(f.h.hintingStatus().status).toBe("done");
    expect(held(f).length).toBe(0);
  });

  it("Firecracker: ids from 2, discard-on-hint returns hinted memory to the host; in-use pages keep their contents", () => {
    const f = hintingVm(512, { mode: "firecracker", acknowledgeOnStop: false });
    expect(anonAlloc(f, 1, 16384)).toBe(16384);
    const v = f.vm.guest.views;
    const inUse: [number, number][] = [];
    for (let p = 0; p < f.vm.frames; p++) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_ANON) inUse.push([p, v.versions[p]]);
    expect(f.h.startHinting()).toBe(2);
    runFor(f, 1);
    const n = held(f).length;
    expect(n).toBeGreaterThan(50);
    // the guest zeroed each block when it allocated it (init_on_alloc); the host then discarded it
    expect(metric(f, "free_page_hint_freed_bytes")).toBe(n * 4 * MIB);
    for (const b of held(f)) expect(f.vm.guest.views.hstate[b] & abi.HS_BACKED).toBe(0);
    let lost = 0;
    for (const [p, ver] of inUse) if (v.versions[p] !== ver || (v.hstate[p] & abi.HS_BACKED) === 0) lost++;
    expect(lost).toBe(0);
    expect(f.h.hintingStatus()).toMatchObject({ status: "stop", hostCmd: 2, guestCmd: 0 });
    expect(f.h.startHinting()).toBe(3);
  });

  it("reuse race, Firecracker discard mode: blocks freed by the shrinker and written before the host processes them are not discarded", () => {
    const f = hintingVm(512, { mode: "firecracker", processDelayNs: 2 * SEC, acknowledgeOnStop: false });
    f.h.startHinting();
    runFor(f, 0.5); // run done, hints received (write-protected), not processed yet
    const before = held(f);
    const n = before.length;
    expect(f.h.hintingStatus().pendingChains).toBe(n + 2);
    // memory pressure: the shrinker gives 32 blocks back, a process writes into them at once
    expect(step(f, "shrink", (g) => g.hinting_shrink(32 * 1024))).toBe(32 * 1024);
    const still = new Set(held(f));
    const shrunk = before.filter((b) => !still.has(b));
    expect(shrunk.length).toBe(32);
    expect(anonAlloc(f, 1, 32 * 1024)).toBe(32 * 1024);
    const v = f.vm.guest.views;
    const written: [number, number][] = [];
    for (let p = 0; p < f.vm.frames; p++) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_ANON) written.push([p, v.versions[p]]);
    const inShrunk = written.filter(([p]) => shrunk.some((b) => p >= b && p < b + 1024)).length;
    expect(inShrunk).toBeGreaterThan(30000);
    runFor(f, 5); // the host processes the hints now
    let lost = 0;
    for (const [p, ver] of written) if (v.versions[p] !== ver || ver === 0 || (v.hstate[p] & abi.HS_BACKED) === 0) lost++;
    expect(lost).toBe(0);
    expect(metric(f, "free_page_hint_reused_pages")).toBe(inShrunk);
    const touchedBlocks = shrunk.filter((b) => written.some(([p]) => p >= b && p < b + 1024)).length;
    expect(touchedBlocks).toBeGreaterThanOrEqual(30);
    expect(metric(f, "free_page_hint_reused_ranges")).toBe(touchedBlocks);
    // everything else that was hinted (zeroed when allocated, so resident) went back to the host
    expect(metric(f, "free_page_hint_freed_bytes")).toBe((n * 1024 - inShrunk) * 4096);
    expect(f.vm.memory.isWriteProtected(held(f)[0])).toBe(false); // protection dropped after processing
    f.vm.memory.validate();
  });

  it("reuse race, QEMU migration mode: a page written after its hint is sent again at the next bitmap sync", () => {
    // init_on_alloc=0: hint blocks are not zeroed, so untouched hinted blocks stay clean
    const f = hintingVm(512, { processDelayNs: 2 * SEC }, 4096, { INIT_ON_ALLOC: 0 });
    const c = new MigrationHintConsumer(f.vm.memory);
    f.h.consumer = c;
    c.startDirtyLog();
    c.sync();
    f.h.startHinting();
    runFor(f, 0.5);
    expect(step(f, "shrink", (g) => g.hinting_shrink(8 * 1024))).toBe(8 * 1024);
    expect(anonAlloc(f, 1, 8 * 1024, true)).toBe(8 * 1024);
    const v = f.vm.guest.views;
    const written: number[] = [];
    for (let p = 0; p < f.vm.frames; p++) if ((v.pflags[p] & abi.PT_MASK) === abi.PT_ANON) written.push(p);
    runFor(f, 5); // hints processed after the writes: their bitmap bits are cleared (the race)
    expect(written.filter((p) => !c.willSend(p)).length).toBeGreaterThan(4096);
    f.h.stopHinting(); // QEMU: STOP before the bitmap sync
    c.sync();
    expect(written.every((p) => c.willSend(p))).toBe(true); // the dirty log brings them back
    const kept = held(f);
    expect(kept.length).toBeGreaterThan(50);
    expect(kept.every((b) => !c.willSend(b))).toBe(true); // untouched hinted blocks are skipped
    expect(c.pagesToSend).toBeLessThan(f.vm.frames - kept.length * 1024 + 1);
    expect(f.vm.memory.stats.discardCalls).toBe(0);
  });

  it("addBalloon wires the handlers from the options: reporting discards, hinting is controlled through balloon.hinting", () => {
    const host = newHost({ ramMib: 2048 });
    const vm = host.createVm({ name: "vm", memBytes: 256 * MIB });
    const b = addBalloon(vm, { vmm: "firecracker", freePageReporting: true, freePageHint: true }, { metrics: host.metrics });
    expect(b.hinting?.mode).toBe("firecracker");
    expect(b.hinting?.startHinting()).toBe(2);
    host.runUntil(3 * SEC);
    expect(b.device.metric("free_page_hint_count")).toBeGreaterThan(0);
    expect(b.device.metric("free_page_report_count")).toBeGreaterThan(0);
    expect(host.metrics.has("vm.balloon.free_page_report_freed_bytes")).toBe(true);
    expect(host.metrics.has("vm.balloon.free_page_hint_stale_count")).toBe(true);
  });

  it("bad options and calls: typed errors naming the field", () => {
    expect(() => new FreePageHinting({ mode: "kvm" as "qemu" })).toThrow(ConfigError);
    expect(() => new FreePageHinting({ mode: "qemu", discardOnHint: true })).toThrow(ConfigError);
    expect(() => new FreePageHinting({ processDelayNs: -1 })).toThrow(ConfigError);
    expect(() => new FreePageHinting().startHinting()).toThrow(ConfigError);
    const h = new FreePageHinting();
    reportingVm(64, { hinting: h }); // a balloon that does not offer freePageHint
    expect(() => h.startHinting()).toThrow(/F_FREE_PAGE_HINT/);
  });
});
