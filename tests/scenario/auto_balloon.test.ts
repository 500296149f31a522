import { describe, expect, it } from "vitest";
import { autoBalloonTarget } from "../../host/scenario/auto_balloon.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const P = { intervalNs: 1e9, keepFreeBytes: 1 * GiB, maxStepBytes: 256 * MiB, minSizeBytes: 2 * GiB };

describe("auto-balloon policy", () => {
  it("shrinks the guest towards used + keepFree, at most maxStep per decision", () => {
    // 16 GiB guest, 3 GiB used: wants 4 GiB, moves 256 MiB down from 16 GiB
    expect(autoBalloonTarget(P, 16 * GiB, 16 * GiB, 16 * GiB, 13 * GiB)).toBe(16 * GiB - 256 * MiB);
  });

  it("grows the guest back when its free memory falls below keepFree", () => {
    // guest at 4 GiB with 100 MiB free: wants 4 GiB − 100 MiB + 1 GiB
    expect(autoBalloonTarget(P, 16 * GiB, 4 * GiB, 4 * GiB, 100 * MiB)).toBe(4 * GiB + 256 * MiB);
  });

  it("never goes below minSize nor above the guest's RAM", () => {
    expect(autoBalloonTarget({ ...P, maxStepBytes: 64 * GiB }, 16 * GiB, 16 * GiB, 16 * GiB, 16 * GiB)).toBe(2 * GiB);
    expect(autoBalloonTarget({ ...P, maxStepBytes: 64 * GiB }, 16 * GiB, 4 * GiB, 4 * GiB, 0)).toBe(5 * GiB);
    expect(autoBalloonTarget({ ...P, maxStepBytes: 64 * GiB }, 16 * GiB, 15 * GiB, 15 * GiB, 0)).toBe(16 * GiB);
  });

  it("leaves the target alone inside the hysteresis band (a quarter of keepFree)", () => {
    // wants 4 GiB − 200 MiB used... i.e. 100 MiB away from the current 4 GiB target: no change
    expect(autoBalloonTarget(P, 16 * GiB, 4 * GiB, 4 * GiB, 1 * GiB + 100 * MiB)).toBe(4 * GiB);
    expect(autoBalloonTarget(P, 16 * GiB, 4 * GiB, 4 * GiB, 1 * GiB + 300 * MiB)).toBe(4 * GiB - 256 * MiB);
  });
});
