import { describe, expect, it } from "vitest";
import { balloonVm, MIB } from "./helpers.js";

describe("balloon smoke", () => {
  it("inflates a 256 MiB guest by 64 MiB", () => {
    const { host, vm, balloon } = balloonVm(256);
    // touch some memory so RSS exists
    const rss0 = vm.rssBytes;
    balloon.control.setTargetBytes(192 * MIB);
    host.runFor(5e9);
    expect(balloon.control.query().actualBytes).toBe(192 * MIB);
  });
});
