import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { defaultCostModel } from "../../host/cost-model.js";
import { HOST_PAGE_2M } from "../../host/memory/guest_memory.js";
import { MAX_WP_REASONS } from "../../host/memory/write_protect.js";
import { guestLinearBytes, hostMetaBytes } from "../../host/guest/guest.js";
import { MIB, newHost } from "../helpers/host.js";

const PAGE = 4096;
/** A pfn well away from the RAM window (pfns 256..511, pinned at boot). */
const P = 2048;

function vm16(hostPageBytes?: 4096 | 2097152) {
  const host = newHost();
  const vm = host.createVm({ name: "vm0", memBytes: 16 * MIB, hostPageBytes });
  return { host, vm, mem: vm.memory, hs: () => vm.guest.views.hstate, ver: () => vm.guest.views.versions };
}

describe("memory/guest_memory: faults", () => {
  it("boot: only the RAM window is resident (pinned vring memory)", () => {
    const { vm, mem } = vm16();
    expect(mem.rssBytes).toBe(vm.guest.ramwinFrames * PAGE);
    expect(mem.isPinned(vm.guest.ramwinPfn)).toBe(true);
    mem.validate();
  });

  it("first read maps the zero page (no RSS); first write allocates a page (RSS + 4 KiB)", () => {
    const { vm, mem, hs } = vm16();
    const base = mem.rssBytes;
    expect(vm.touch(P, 1, false)).toBe(0);
    expect(hs()[P]).toBe(abi.HS_ZERO);
    expect(mem.rssBytes).toBe(base);
    expect(mem.stats.zeroMappedFrames).toBe(1);
    expect(mem.stats.faultsRead).toBe(1);
    vm.touch(P, 1, false); // already mapped: no new exit
    expect(mem.stats.faultsRead).toBe(1);
    vm.touch(P, 1, true);
    expect(hs()[P]).toBe(abi.HS_BACKED);
    expect(mem.rssBytes).toBe(base + PAGE);
    expect(mem.stats.zeroMappedFrames).toBe(0);
    expect(mem.stats.faultsWrite).toBe(1);
    mem.validate();
  });

  it("a populating write fault costs eptFault4kNs, a zero-page read vmExit + zeroPageMap", () => {
    const { vm } = vm16();
    const c = defaultCostModel;
    const wFault = vm.enter("t", (g) => g.hw_access_range(P, 1, true));
    const wHit = vm.enter("t", (g) => g.hw_access_range(P, 1, true));
    expect(wFault - wHit).toBe(c.eptFault4kNs);
    const rFault = vm.enter("t", (g) => g.hw_access_range(P + 1, 1, false));
    const rHit = vm.enter("t", (g) => g.hw_access_range(P + 1, 1, false));
    expect(rFault - rHit).toBe(c.vmExitNs + c.zeroPageMapNs);
  });

  it("discarding never-populated frames does not make their first touch a refault", () => {
    const { vm, mem } = vm16();
    const r = mem.discard(P, 64); // e.g. free page reporting right after boot
    expect(r.freedPages).toBe(0);
    vm.touch(P, 64, true);
    expect(mem.stats.refaults).toBe(0);
    mem.discard(P, 64);
    mem.discard(P, 64); // a second discard of the now-unbacked frames keeps the first's mark
    vm.touch(P, 64, true);
    expect(mem.stats.refaults).toBe(64);
    mem.validate();
  });

  it("discard then touch: frames refault, read back as version 0, RSS falls and comes back", () => {
    const { vm, mem, ver, hs } = vm16();
    const base = mem.rssBytes;
    vm.touch(P, 64, true);
    vm.touch(P, 64, true);
    expect(ver()[P]).toBe(2);
    expect(mem.rssBytes).toBe(base + 64 * PAGE);
    const r = mem.discard(P, 64);
    expect(r.freedPages).toBe(64);
    expect(r.costNs).toBe(defaultCostModel.madviseCallNs + 64 * defaultCostModel.madvisePerPageNs);
    expect(mem.rssBytes).toBe(base);
    expect(ver()[P]).toBe(abi.VERSION_ZERO);
    expect(hs()[P]).toBe(0);
    expect(mem.stats.discardedBytes).toBe(64 * PAGE);
    const faults = mem.stats.faultsWrite;
    vm.touch(P, 64, true);
    expect(mem.stats.faultsWrite).toBe(faults + 64);
    expect(mem.stats.refaults).toBe(64);
    vm.touch(P, 64, true);
    expect(mem.stats.refaults).toBe(64); // counted once per discard
    expect(mem.peakRssBytes).toBe(base + 64 * PAGE);
    expect(ver()[P]).toBe(2);
    expect(mem.rssBytes).toBe(base + 64 * PAGE);
    mem.validate();
  });

  it("discard never frees pinned frames (the RAM window devices read)", () => {
    const { vm, mem } = vm16();
    const w = vm.guest.ramwinPfn;
    const base = mem.rssBytes;
    vm.touch(w - 10, 5, true);
    vm.touch(w + vm.guest.ramwinFrames, 5, true);
    const r = mem.discard(w - 10, vm.guest.ramwinFrames + 20);
    expect(r.freedPages).toBe(10);
    expect(mem.rssBytes).toBe(base);
    expect(vm.guest.views.hstate[w] & abi.HS_BACKED).toBe(abi.HS_BACKED);
    mem.validate();
  });

  it("discard never marks dirty, even while logging", () => {
    const { vm, mem } = vm16();
    vm.touch(P, 8, true);
    mem.startDirtyLog();
    mem.discard(P, 8);
    expect(mem.dirty.dirtyPages).toBe(0);
  });

  it("a write to a write-protected frame exits once, sets the dirty bit and un-protects", () => {
    const { vm, mem, hs } = vm16();
    vm.touch(P, 4, true);
    mem.startDirtyLog();
    expect(hs()[P] & abi.HS_WP).toBe(abi.HS_WP);
    vm.touch(P, 4, false); // reads do not exit
    expect(mem.stats.faultsWp).toBe(0);
    vm.touch(P + 1, 1, true);
    expect(mem.stats.faultsWp).toBe(1);
    expect(mem.dirty.test(P + 1)).toBe(true);
    expect(mem.dirty.test(P)).toBe(false);
    expect(hs()[P + 1] & abi.HS_WP).toBe(0);
    vm.touch(P + 1, 1, true); // now writable: no exit
    expect(mem.stats.faultsWp).toBe(1);
    mem.validate();
  });

  it("dirty-log clear re-protects: the next write faults again and re-dirties", () => {
    const { vm, mem } = vm16();
    vm.touch(P, 16, true);
    mem.startDirtyLog({ clearBitmapShift: 10 }); // 4 MiB chunks
    vm.touch(P, 16, true);
    expect(mem.dirty.dirtyPages).toBe(16);
    const chunk = mem.dirtyChunkOf(P);
    expect(chunk).toBe(2);
    const r = mem.clearDirtyLog(chunk);
    expect(r.clearedPages).toBe(16);
    expect(mem.dirty.dirtyPages).toBe(0);
    expect(mem.isWriteProtected(P, "dirty-log")).toBe(true);
    const wp = mem.stats.faultsWp;
    vm.touch(P + 3, 1, true);
    expect(mem.stats.faultsWp).toBe(wp + 1);
    expect(mem.dirty.test(P + 3)).toBe(true);
    expect(mem.dirty.dirtyPages).toBe(1);
    // a write to a never-backed frame while logging is dirty too (populate path)
    vm.touch(P + 100, 1, true);
    expect(mem.dirty.test(P + 100)).toBe(true);
    mem.stopDirtyLog();
    expect(mem.isWriteProtected(P)).toBe(false);
    mem.validate();
  });

  it("getDirtyLog bits match clearDirtyLog over chunks of 2^clear_bitmap_shift frames", () => {
    const { vm, mem } = vm16();
    mem.startDirtyLog({ clearBitmapShift: 9 });
    vm.touch(600, 1, true);
    vm.touch(1100, 1, true);
    const bm = mem.getDirtyLog();
    expect((bm[600 >>> 5] >>> (600 & 31)) & 1).toBe(1);
    expect(mem.clearDirtyLog(1).clearedPages).toBe(1); // frames 512..1023
    expect(mem.dirty.test(1100)).toBe(true);
    expect(mem.clearDirtyLog(2).clearedPages).toBe(1);
    expect(() => mem.clearDirtyLog(mem.dirty.chunks)).toThrowError(/chunk: got 8/);
  });

  it("write-protect reasons coexist: dirty logging and a hint tracker each see their write", () => {
    const { vm, mem } = vm16();
    const hinted: number[] = [];
    mem.registerWpReason("hint-wp", (pfn) => hinted.push(pfn));
    vm.touch(P, 4, true);
    mem.writeProtect(P, 4, "hint-wp");
    mem.startDirtyLog();
    mem.unprotect(P, 1, "dirty-log");
    expect(mem.isWriteProtected(P)).toBe(true); // still held by hint-wp
    mem.unprotect(P + 2, 1, "hint-wp");
    vm.touch(P, 4, true);
    expect(hinted).toEqual([P, P + 1, P + 3]);
    expect(mem.dirty.dirtyPages).toBe(4);
    expect(() => mem.writeProtect(P, 1, "nope")).toThrowError(/wpReason: got "nope"/);
    mem.validate();
  });

  it("trapped frames go to the trap handler, which may refuse or allow", () => {
    const { vm, mem, hs } = vm16();
    let calls = 0;
    let allow = false;
    mem.trap(P, 2, () => { calls++; return allow ? 100 : -1; });
    expect(vm.touch(P, 2, true)).toBe(2); // both refused
    expect(mem.stats.faultsRefused).toBe(2);
    expect(vm.guest.views.vmstat[abi.VM_FAULT_REFUSED]).toBe(2);
    expect(vm.guest.views.versions[P]).toBe(0);
    allow = true;
    expect(vm.touch(P, 1, true)).toBe(0);
    expect(calls).toBe(3);
    expect(hs()[P]).toBe(abi.HS_BACKED);
    expect(mem.isTrapped(P)).toBe(false);
    expect(mem.isTrapped(P + 1)).toBe(true);
    mem.validate();
  });
});

describe("memory/guest_memory: packed host metadata (<= 16 bytes/frame all included)", () => {
  it("write-protect reasons of the two frames sharing a byte stay independent", () => {
    const { vm, mem } = vm16();
    const hinted: number[] = [];
    mem.registerWpReason("hint-wp", (pfn) => hinted.push(pfn));
    vm.touch(P, 2, true);
    mem.writeProtect(P + 1, 1, "hint-wp"); // high nibble of byte P >> 1
    mem.startDirtyLog(); // P and P + 1: dirty-log bit in both nibbles
    expect(vm.guest.views.hostWp[P >>> 1]).toBe(0x31);
    mem.unprotect(P, 1, "dirty-log");
    expect(mem.isWriteProtected(P)).toBe(false);
    expect(mem.isWriteProtected(P + 1, "dirty-log")).toBe(true);
    vm.touch(P, 1, true); // no fault: P is writable
    expect(mem.stats.faultsWp).toBe(0);
    vm.touch(P + 1, 1, true);
    expect(mem.stats.faultsWp).toBe(1);
    expect(hinted).toEqual([P + 1]);
    expect(vm.guest.views.hostWp[P >>> 1]).toBe(0);
    mem.validate();
  });

  it("at most MAX_WP_REASONS (4) write-protect reasons per VM, dirty logging's included", () => {
    const { mem } = vm16();
    const free = MAX_WP_REASONS - mem.wp.registered.length;
    for (let i = 0; i < free; i++) mem.registerWpReason(`r${i}`);
    mem.registerWpReason("r0"); // re-registering a known reason is not a new one
    expect(mem.wp.registered.length).toBe(4);
    expect(() => mem.registerWpReason("one-too-many")).toThrowError(/wpReason: got "one-too-many", expected at most 4 write-protect reasons/);
    mem.writeProtect(P, 1, `r${free - 1}`); // the top bit of the nibble works like the others
    expect(mem.isWriteProtected(P, `r${free - 1}`)).toBe(true);
    mem.validate();
  });

  it("trap handler ids 1..7 in hstate's top bits pick the handler; the guest's fast path ignores them once untrapped", () => {
    const { vm, mem, hs } = vm16();
    const calls: number[] = [];
    const handlers = Array.from({ length: abi.HS_TRAP_ID_MAX }, (_, i) => () => { calls.push(i); return 0; });
    vm.touch(P, abi.HS_TRAP_ID_MAX, true); // backed and writable first
    handlers.forEach((h, i) => mem.trap(P + i, 1, h));
    for (let i = 0; i < abi.HS_TRAP_ID_MAX; i++) {
      expect(hs()[P + i]).toBe(abi.HS_BACKED | abi.HS_TRAP | ((i + 1) << abi.HS_TRAP_ID_SHIFT));
    }
    mem.validate();
    expect(() => mem.trap(P + 16, 1, () => 0)).toThrowError(/trapHandler: got 8, expected at most 7 distinct trap handlers/);
    expect(() => mem.trapEach([P + 16], () => 0)).toThrowError(/trapHandler: got 8/);
    mem.trap(P + 16, 1, handlers[6]); // a known handler still traps
    for (const i of [6, 0, 3]) vm.touch(P + i, 1, true);
    expect(calls).toEqual([6, 0, 3]);
    expect(hs()[P + 3]).toBe(abi.HS_BACKED); // id bits cleared with HS_TRAP
    const faults = vm.guest.views.vmstat[abi.VM_PGFAULT];
    vm.touch(P + 3, 1, true);
    expect(vm.guest.views.vmstat[abi.VM_PGFAULT]).toBe(faults); // the inline check served it
    mem.untrapEach([P + 1, P + 16]);
    expect(hs()[P + 1]).toBe(abi.HS_BACKED);
    mem.validate();
  });
});

describe("memory/guest_memory: 2 MiB host pages", () => {
  it("a write fault populates the whole aligned 2 MiB host page", () => {
    const { vm, mem, hs } = vm16(HOST_PAGE_2M);
    const base = mem.rssBytes;
    expect(base).toBe(2 * MIB); // the RAM window's host page
    vm.touch(1024 + 7, 1, true);
    expect(mem.rssBytes).toBe(base + 2 * MIB);
    for (const f of [1024, 1030, 1535]) expect(hs()[f]).toBe(abi.HS_BACKED);
    expect(hs()[1536]).toBe(0);
    expect(mem.stats.faultsWrite).toBe(1);
    vm.touch(1024, 512, true); // no further exits
    expect(mem.stats.faultsWrite).toBe(1);
    mem.validate();
  });

  it("a read fault maps the huge zero page over the host page", () => {
    const { vm, mem } = vm16(HOST_PAGE_2M);
    vm.touch(2048, 1, false);
    expect(mem.stats.zeroMappedFrames).toBe(512);
    expect(mem.stats.faultsRead).toBe(1);
    vm.touch(2049, 511, false);
    expect(mem.stats.faultsRead).toBe(1);
  });

  it("discard frees only whole aligned host pages inside the range", () => {
    const { vm, mem, ver } = vm16(HOST_PAGE_2M);
    vm.touch(1024, 1024, true); // two host pages
    const base = mem.rssBytes;
    let r = mem.discard(1100, 800); // covers neither page fully
    expect(r.freedPages).toBe(0);
    expect(mem.rssBytes).toBe(base);
    expect(ver()[1100]).toBe(1);
    r = mem.discard(1100, 1024); // covers 1536..2047 fully
    expect(r.freedPages).toBe(512);
    expect(r.costNs).toBe(defaultCostModel.madviseCallNs + defaultCostModel.madvise2mNs);
    expect(mem.rssBytes).toBe(base - 2 * MIB);
    expect(ver()[1536]).toBe(0);
    expect(ver()[1535]).toBe(1);
    mem.validate();
  });

  it("dirty logging with huge pages: a populate leaves the other 511 frames protected", () => {
    const { vm, mem } = vm16(HOST_PAGE_2M);
    mem.startDirtyLog();
    vm.touch(3000, 1, true);
    expect(mem.dirty.dirtyPages).toBe(1);
    vm.touch(3001, 1, true);
    expect(mem.dirty.dirtyPages).toBe(2);
    mem.validate();
  });
});

describe("memory/guest_memory: host state lives in the instance's linear memory", () => {
  it("dirty bitmap, discarded bits and wp reasons are views into the reserved host region; trap ids sit in hstate", () => {
    const { vm, mem } = vm16();
    const g = vm.guest;
    const buf = g.memory.buffer;
    const bytes0 = buf.byteLength;
    const v = g.views;
    const region = [g.hostMetaPtr, g.hostMetaPtr + hostMetaBytes(vm.frames)];
    for (const a of [v.hostDirty, v.hostDiscarded, v.hostWp]) {
      expect(a.buffer).toBe(buf);
      expect(a.byteOffset).toBeGreaterThanOrEqual(region[0]);
      expect(a.byteOffset + a.byteLength).toBeLessThanOrEqual(region[1]);
    }
    // the host region does not overlap any guest-owned per-frame array
    for (const a of [v.versions, v.next, v.prev, v.pflags, v.porder, v.hstate, v.pageblock]) {
      expect(a.byteOffset + a.byteLength <= region[0] || a.byteOffset >= region[1]).toBe(true);
    }
    // every host-side operation writes through those views
    mem.startDirtyLog();
    vm.touch(P, 3, true);
    expect(mem.getDirtyLog().buffer).toBe(buf);
    expect(v.hostDirty[P >>> 5] & (1 << (P & 31))).not.toBe(0);
    mem.clearDirtyLog(mem.dirtyChunkOf(P));
    expect(v.hostWp[P >>> 1]).not.toBe(0); // re-protected for the dirty log (P's nibble)
    mem.stopDirtyLog();
    expect(v.hostWp[P >>> 1]).toBe(0);
    mem.discard(P, 1);
    expect(v.hostDiscarded[P >>> 5] & (1 << (P & 31))).not.toBe(0);
    vm.touch(P, 1, false);
    expect(v.hostDiscarded[P >>> 5] & (1 << (P & 31))).toBe(0);
    expect(mem.stats.refaults).toBe(1);
    mem.trap(P + 8, 1, () => -1);
    expect(v.hstate[P + 8] & abi.HS_TRAP_ID_MASK).toBe(1 << abi.HS_TRAP_ID_SHIFT);
    mem.untrap(P + 8, 1);
    expect(v.hstate[P + 8] & (abi.HS_TRAP_ID_MASK | abi.HS_TRAP)).toBe(0);
    mem.validate();
    // sized once at start: nothing above grew the memory, so no view was detached
    expect(g.memory.buffer).toBe(buf);
    expect(buf.byteLength).toBe(bytes0);
    expect(bytes0).toBeGreaterThanOrEqual(guestLinearBytes(vm.frames));
  });

  it("views are re-created if the memory ever grows (guard; the design never grows it)", () => {
    const { vm, mem } = vm16();
    mem.startDirtyLog();
    vm.touch(P, 1, true);
    const before = vm.guest.views.hostDirty;
    vm.guest.memory.grow(1); // detaches every view over the old buffer
    const after = vm.guest.views.hostDirty;
    expect(before.length).toBe(0); // detached
    expect(after.buffer).toBe(vm.guest.memory.buffer);
    expect(mem.dirty.test(P)).toBe(true);
    vm.touch(P + 1, 1, true);
    expect(mem.dirty.dirtyPages).toBe(2);
    mem.validate();
  });
});

describe("memory/guest_memory: batched per-PFN calls (one host call per balloon request)", () => {
  /** A scattered PFN list with a repeat, an unbacked frame and a pinned (RAM window) frame. */
  function pfnsFor(vm: ReturnType<typeof vm16>["vm"]): number[] {
    return [P, P + 3, P + 1, P + 3, P + 40, vm.guest.ramwinPfn, P + 7];
  }

  for (const hostPageBytes of [4096, HOST_PAGE_2M] as const) {
    it(`discardEach equals one discard(pfn, 1) per PFN: RSS, versions, counters and cost (host page ${hostPageBytes} B)`, () => {
      const a = vm16(hostPageBytes), b = vm16(hostPageBytes);
      for (const x of [a, b]) { x.vm.touch(P, 16, true); x.vm.touch(P + 40, 1, false); }
      const pfns = pfnsFor(a.vm);
      const batched = a.mem.discardEach(pfns);
      let freed = 0, cost = 0;
      for (const p of pfns) { const r = b.mem.discard(p, 1); freed += r.freedPages; cost += r.costNs; }
      expect(batched.freedPages).toBe(freed);
      expect(batched.costNs).toBe(cost);
      expect(a.mem.rssBytes).toBe(b.mem.rssBytes);
      expect(a.mem.stats).toEqual(b.mem.stats);
      expect(Array.from(a.ver())).toEqual(Array.from(b.ver()));
      expect(Array.from(a.hs())).toEqual(Array.from(b.hs()));
      if (hostPageBytes === 4096) expect(freed).toBe(4); // P, P+1, P+3, P+7; not the zero page or the pinned window
      else expect(freed).toBe(0); // a 4 KiB discard never frees a 2 MiB host page
      a.mem.validate();
    });
  }

  it("trapEach/untrapEach equal per-PFN trap/untrap; an already trapped frame keeps its handler", () => {
    const { vm, mem, hs } = vm16();
    const seen: string[] = [];
    const first = (pfn: number) => { seen.push(`first:${pfn}`); return 0; };
    const second = (pfn: number) => { seen.push(`second:${pfn}`); return 0; };
    mem.trap(P + 1, 1, first);
    mem.trapEach([P, P + 1, P + 2], second);
    for (const p of [P, P + 1, P + 2]) expect(mem.isTrapped(p)).toBe(true);
    vm.touch(P, 3, true);
    expect(seen).toEqual([`second:${P}`, `first:${P + 1}`, `second:${P + 2}`]);
    mem.trapEach([P, P + 2], second);
    mem.untrapEach([P, P + 2]);
    expect(mem.isTrapped(P)).toBe(false);
    expect(hs()[P] & abi.HS_TRAP).toBe(0);
    expect(() => mem.trapEach([mem.frames], second)).toThrow(/trap\.range/);
    mem.validate();
  });
});
