import { describe, expect, it } from "vitest";
import { runFragmentationDemo } from "../../host/demo/fragmentation.js";
import { debugGuestModule } from "../helpers/guest.js";

describe("fragmentation demo", () => {
  it("prints buddyinfo/pagetypeinfo before and after compact_memory and more order-9 blocks after", () => {
    const text = runFragmentationDemo({ memMiB: 64, guestModule: debugGuestModule() });
    expect(text).toContain("/proc/buddyinfo:");
    expect(text).toContain("Node 0, zone    DMA32");
    expect(text).toContain("type Unmovable");
    expect(text).not.toContain("INVARIANT BROKEN");
    const got = [...text.matchAll(/allocation attempt \(no reclaim\/compaction\) gets (\d+) blocks/g)].map((m) => Number(m[1]));
    expect(got.length).toBe(2);
    expect(got[0]).toBe(0);
    expect(got[1]).toBeGreaterThan(5);
    const fi = [...text.matchAll(/fragmentation index, order 9 \(zone DMA32\): (-?[\d.]+)/g)].map((m) => Number(m[1]));
    expect(fi[0]).toBeGreaterThan(0.5);
    expect(fi[1]).toBe(-1);
    expect(runFragmentationDemo({ memMiB: 64, guestModule: debugGuestModule() })).toBe(text); // deterministic
  });
});
