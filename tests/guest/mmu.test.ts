import { describe, expect, it } from "vitest";
import { newGuest } from "../helpers/guest.js";
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
