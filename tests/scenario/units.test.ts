import { describe, expect, it } from "vitest";
import { formatBytes, parseRate, parseSize, parseTime } from "../../host/scenario/units.js";

describe("units", () => {
  it.each([
    ["4KiB", 4096], ["512MiB", 512 * 2 ** 20], ["1GiB", 2 ** 30], ["1.5GiB", 1.5 * 2 ** 30], ["2 TiB", 2 * 2 ** 40],
    ["100", 100], ["0B", 0], [4096, 4096], [0, 0],
  ])("sizes: %j parses to %d bytes", (input, bytes) => {
    expect(parseSize(input)).toEqual({ ok: true, value: bytes });
  });

  it.each([["512MB", "write \"MiB\""], ["1G", "write \"GiB\""], ["-5MiB", "non-negative"], [-1, "non-negative integer"],
    [1.5, "integer"], ["5 parsecs", "binary unit"], ["", "binary unit"], [true, "binary unit"]])(
    "sizes: %j is rejected with a hint containing %j", (input, hint) => {
      const r = parseSize(input);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.expected).toContain(hint);
    });

  it.each([["5s", 5e9], ["200ms", 200e6], ["2min", 120e9], ["1h", 3600e9], ["10us", 10e3], ["7ns", 7], ["0s", 0], ["1.5s", 1.5e9]])(
    "times: %j parses to %d ns", (input, ns) => {
      expect(parseTime(input)).toEqual({ ok: true, value: ns });
    });

  it.each([["-1s"], ["5"], [5], ["5 sec"], ["5m"], ["5MiB"]])("times: %j is rejected", (input) => {
    expect(parseTime(input).ok).toBe(false);
  });

  it("times: a negative time says it must be non-negative", () => {
    const r = parseTime("-1s");
    expect(!r.ok && r.expected).toContain("non-negative");
  });

  it("rates: unlimited is Infinity, 32MiB/s is bytes per second, a size without /s is rejected", () => {
    expect(parseRate("unlimited")).toEqual({ ok: true, value: Infinity });
    expect(parseRate("32MiB/s")).toEqual({ ok: true, value: 32 * 2 ** 20 });
    expect(parseRate("32MiB").ok).toBe(false);
    expect(parseRate("0MiB/s").ok).toBe(false);
  });

  it("formatBytes picks the largest binary unit", () => {
    expect(formatBytes(512 * 2 ** 20)).toBe("512MiB");
    expect(formatBytes(1.5 * 2 ** 30)).toBe("1.50GiB");
    expect(formatBytes(100)).toBe("100B");
  });
});
