// Bad input at the balloon's API boundary: typed ConfigErrors naming the field.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../host/guest/errors.js";
import { addBalloon, resolveBalloonOptions, type BalloonOptions } from "../../host/virtio/balloon/index.js";
import { balloonVm, MIB } from "./helpers.js";
import { newHost } from "../helpers/host.js";

function configError(fn: () => unknown): ConfigError {
  try { fn(); } catch (e) { if (e instanceof ConfigError) return e; throw e; }
  throw new Error("no ConfigError thrown");
}

describe("balloon bad input", () => {
  it("setTargetBytes: larger than the guest, negative or non-numeric sizes name balloon.targetBytes", () => {
    const t = balloonVm(64, { pagePoison: false });
    for (const bad of [65 * MIB, -1, Number.NaN, 1.5, "64M" as unknown as number, Infinity]) {
      const e = configError(() => t.balloon.control.setTargetBytes(bad));
      expect(e.field).toBe("balloon.targetBytes");
    }
    expect(t.balloon.device.metric("config_change_count")).toBe(0);
    t.balloon.control.setTargetBytes(0); // ignored, as QEMU
    expect(t.balloon.device.targetPages).toBe(0);
  });

  it("setBalloonBytes: larger than the guest is refused", () => {
    const t = balloonVm(64, { pagePoison: false });
    expect(configError(() => t.balloon.control.setBalloonBytes(64 * MIB + 4096)).field).toBe("balloon.balloonBytes");
  });

  it("options: unknown option, unknown vmm, bad stats interval, bad initial size", () => {
    const ram = 64 * MIB;
    const cases: [BalloonOptions, string][] = [
      [{ deflateOnOOM: true } as unknown as BalloonOptions, "balloon.deflateOnOOM"],
      [{ vmm: "xen" } as unknown as BalloonOptions, "balloon.vmm"],
      [{ statsPollingIntervalS: -1 }, "balloon.statsPollingIntervalS"],
      [{ statsPollingIntervalS: 2 ** 32 }, "balloon.statsPollingIntervalS"],
      [{ statsVq: false, statsPollingIntervalS: 1 }, "balloon.statsPollingIntervalS"],
      [{ deflateOnOom: "yes" } as unknown as BalloonOptions, "balloon.deflateOnOom"],
      [{ discard: "madvise" } as unknown as BalloonOptions, "balloon.discard"],
      [{ initialBalloonBytes: ram + 1 }, "balloon.initialBalloonBytes"],
      [{ initialBalloonBytes: -4096 }, "balloon.initialBalloonBytes"],
    ];
    for (const [o, field] of cases) expect(configError(() => resolveBalloonOptions(o, ram)).field).toBe(field);
  });

  it("addBalloon: one balloon per VM", () => {
    const host = newHost({ ramMib: 512 });
    const vm = host.createVm({ name: "vm", memBytes: 64 * MIB });
    addBalloon(vm, { pagePoison: false });
    expect(configError(() => addBalloon(vm, {})).field).toBe("balloon");
  });
});
