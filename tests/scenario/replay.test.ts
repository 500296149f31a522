import { describe, expect, it } from "vitest";
import { replayTrace } from "../../host/scenario/replay.js";
import { ConfigError } from "../../host/guest/errors.js";

describe("replayTrace", () => {
  const csv = "t_s,bytes,kib\n0,4096,1\n2,8192,2\n";

  it("parses a file once per files record and column choice; a replaced text is parsed again", () => {
    const files: Record<string, string> = { "d.csv": csv };
    const a = replayTrace(files, { file: "d.csv" });
    expect(a).toEqual({ tS: [0, 2], bytes: [4096, 8192] });
    expect(replayTrace(files, { file: "d.csv" })).toBe(a); // the same parse, not a second one
    expect(replayTrace(files, { file: "d.csv", bytesColumn: "kib", scale: 1024 })?.bytes).toEqual([1024, 2048]);
    expect(replayTrace({ ...files }, { file: "d.csv" })).not.toBe(a); // another load parses its own
    files["d.csv"] = "t_s,bytes\n0,1\n";
    expect(replayTrace(files, { file: "d.csv" })?.bytes).toEqual([1]);
    expect(replayTrace(files, { file: "other.csv" })).toBeUndefined();
  });

  it("a malformed file throws ConfigError on every call (errors are not cached)", () => {
    const files = { "bad.csv": "t_s,bytes\n2,1\n1,1\n" };
    expect(() => replayTrace(files, { file: "bad.csv" })).toThrow(ConfigError);
    expect(() => replayTrace(files, { file: "bad.csv" })).toThrow(/line 3 t_s/);
  });
});
