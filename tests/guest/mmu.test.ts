import { describe, expect, it } from "vitest";
import { newGuest, debugGuestModule, releaseGuestModule } from "../helpers/guest.js";
import { Guest, GuestImports } from "../../host/guest/guest.js";
import * as abi from "../../host/guest/abi.generated.js";

describe("hw/mmu: the inline EPT check", () => {
  it("first write to an unbacked frame exits once, later writes only bump the version", () => {
    const { guest, imports } = newGuest(16);
    const pfn = 2048;
    const elapsed = guest.enter(0, (g) => g.hw_access_range(pfn, 1, true));
    expect(imports.faults).toBe(1);
    expect(elapsed).toBe(1500); // the host's fault cost is charged to the guest's clock
    guest.enter(0, (g) => g.hw_access_range(pfn, 1, true));
    guest.enter(0, (g) => g.hw_access_range(pfn, 1, true));
    expect(imports.faults).toBe(1);
    expect(guest.views.versions[pfn]).toBe(3);
    expect(guest.views.vmstat[abi.VM_PGFAULT]).toBe(1);
  });

  it("a write-protected frame exits on write but not on read", () => {
    const { guest, imports } = newGuest(16);
    const pfn = 3000;
    guest.views.hstate[pfn] = abi.HS_BACKED | abi.HS_WP;
    guest.enter(0, (g) => g.hw_access_range(pfn, 1, false));
    expect(imports.faults).toBe(0);
    guest.enter(0, (g) => g.hw_access_range(pfn, 1, true));
    expect(imports.faults).toBe(1);
  });

  it("out-of-range access is refused with E_RANGE", () => {
    const { guest } = newGuest(16);
    expect(guest.exports.hw_access_range(guest.frames - 1, 2, true)).toBe(abi.E_RANGE);
  });

  it("the RAM window is reported through the SCB", () => {
    const { guest } = newGuest(16);
    expect(guest.ramwinPfn).toBe(256);
    expect(guest.views.ramwin.length).toBe(256 * 4096);
    expect(guest.views.pflags[256] & abi.PT_MASK).toBe(abi.PT_RAMWIN);
  });
});

describe("hw/mmu: writeFrames, the 16-frame batched write", () => {
  // A host whose fault handler refuses some frames, backs others together with a run of their
  // neighbours (a THP-style populate that changes later chunks) and logs every exit.
  function rangeGuest(module: WebAssembly.Module): { guest: Guest; log: string[] } {
    const log: string[] = [];
    let g: Guest | undefined;
    const imports: GuestImports = {
      hwFault(pfn: number, write: boolean) {
        const v = g!.views;
        log.push(`${pfn}:${write}:${v.versions[pfn - 1]}:${v.versions[pfn + 1]}`);
        if (pfn % 7 === 0) return -1; // refused: the write must not happen
        const end = pfn % 3 === 0 ? pfn + 21 : pfn + 1;
        for (let p = pfn; p < end; p++) if ((v.hstate[p] & abi.HS_WRITE_MASK) !== abi.HS_BACKED) v.hstate[p] = abi.HS_BACKED;
        return 100;
      },
      virtioNotify: () => 0, timerArm: () => {}, timerCancel: () => {},
      virtioTransport: () => 0xffffffff, virtioQueueSetup: () => -2,
    };
    g = new Guest(module, (64 << 20) / 4096, 1, imports);
    return { guest: g, log };
  }

  function seedState(g: Guest, start: number, n: number): void {
    const v = g.views;
    let x = 0x2545f491;
    for (let i = 0; i < n; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      const p = start + i;
      // Mostly backed runs (the fast path), with unbacked, write-protected and trapped frames.
      const r = x % 100;
      v.hstate[p] = r < 70 ? abi.HS_BACKED : r < 80 ? 0 : r < 90 ? abi.HS_BACKED | abi.HS_WP : abi.HS_TRAP | abi.HS_BACKED;
      v.versions[p] = r % 9 === 0 ? 0xffffffff : r % 11 === 0 ? 0 : x & 0xffff;
    }
    for (let p = start + 64; p < start + 96; p++) v.hstate[p] = abi.HS_BACKED; // two whole fast chunks
    v.versions[start + 70] = 0xffffffff; // wraps inside a fast chunk: skips 0, as writeFrame does
  }

  for (const debug of [false, true]) {
    it(`a range write exits at the same frames, in the same order, as frame-by-frame writes (${debug ? "debug" : "release"})`, () => {
      const mod = debug ? debugGuestModule() : releaseGuestModule();
      const start = 4099, n = 700; // unaligned head and tail around the 16-frame chunks
      const a = rangeGuest(mod), b = rangeGuest(mod);
      seedState(a.guest, start, n);
      seedState(b.guest, start, n);
      const refusedA = a.guest.exports.hw_access_range(start, n, true);
      let refusedB = 0;
      for (let i = 0; i < n; i++) refusedB += b.guest.exports.hw_access_range(start + i, 1, true);
      expect(a.log.length).toBeGreaterThan(50);
      expect(a.log).toEqual(b.log);
      expect(refusedA).toBe(refusedB);
      expect(refusedA).toBeGreaterThan(0);
      expect(Array.from(a.guest.views.versions.subarray(start - 1, start + n + 1))).toEqual(Array.from(b.guest.views.versions.subarray(start - 1, start + n + 1)));
      expect(a.guest.views.versions[start + 70]).toBe(1);
      expect(a.guest.views.vmstat[abi.VM_FAULT_REFUSED]).toBe(refusedA);
    });
  }

});
