import { describe, expect, it } from "vitest";
import { Simulation } from "../../host/sim/simulation.js";
import { Rng } from "../../host/sim/rng.js";
import { ConfigError } from "../../host/guest/errors.js";

describe("sim/simulation: the event queue", () => {
  it("runs events in time order, whatever the scheduling order", () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.schedule(30, () => log.push("c"));
    sim.schedule(10, () => log.push("a"));
    sim.schedule(20, () => log.push("b"));
    sim.runUntil(100);
    expect(log).toEqual(["a", "b", "c"]);
    expect(sim.now).toBe(100);
  });

  it("breaks ties by insertion order, also for events scheduled while running", () => {
    const sim = new Simulation();
    const log: number[] = [];
    for (let i = 0; i < 50; i++) sim.schedule(5, () => log.push(i));
    sim.schedule(5, () => sim.after(0, () => log.push(99)));
    sim.schedule(5, () => log.push(100));
    sim.runFor(5);
    expect(log).toEqual([...Array.from({ length: 50 }, (_, i) => i), 100, 99]);
  });

  it("runFor/runUntil stop at the boundary, include events at it, and step() jumps to the next event", () => {
    const sim = new Simulation();
    const log: number[] = [];
    for (const t of [10, 20, 30]) sim.schedule(t, () => log.push(sim.now));
    expect(sim.runFor(20)).toBe(2);
    expect(log).toEqual([10, 20]);
    expect(sim.now).toBe(20);
    expect(sim.nextEventAt()).toBe(30);
    expect(sim.step()).toBe(true);
    expect(sim.now).toBe(30);
    expect(sim.step()).toBe(false);
    sim.runUntil(1000);
    expect(sim.now).toBe(1000);
  });

  it("a cancelled event never runs and leaves the pending count", () => {
    const sim = new Simulation();
    let ran = false;
    const h = sim.after(10, () => { ran = true; });
    expect(sim.pendingEvents).toBe(1);
    expect(h.cancel()).toBe(true);
    expect(h.cancel()).toBe(false);
    expect(h.pending).toBe(false);
    expect(sim.pendingEvents).toBe(0);
    sim.runFor(100);
    expect(ran).toBe(false);
    expect(sim.nextEventAt()).toBeUndefined();
  });

  it("scheduling in the past, NaN or negative delays throw ConfigError naming field and value", () => {
    const sim = new Simulation();
    sim.runUntil(100);
    expect(() => sim.schedule(50, () => {})).toThrowError(ConfigError);
    try { sim.schedule(50, () => {}); } catch (e) {
      expect((e as ConfigError).field).toBe("atNs");
      expect((e as ConfigError).value).toBe(50);
      expect((e as ConfigError).message).toMatch(/atNs: got 50, expected a time >= now \(100 ns\)/);
    }
    expect(() => sim.after(-1, () => {})).toThrowError(/delayNs: got -1/);
    expect(() => sim.after(NaN, () => {})).toThrowError(/delayNs: got NaN/);
    expect(() => sim.runUntil(10)).toThrowError(/untilNs: got 10/);
  });
});

describe("sim/rng: seeded streams", () => {
  it("the same seed gives the same sequence; forks are independent of the parent's draws", () => {
    const a = new Rng(42), b = new Rng(42);
    const xs = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(xs);
    const f1 = new Rng(42).fork("balloon");
    const p = new Rng(42);
    for (let i = 0; i < 100; i++) p.nextU32();
    const f2 = p.fork("balloon");
    expect(f1.nextU32()).toBe(f2.nextU32());
    expect(new Rng(42).fork("a").nextU32()).not.toBe(new Rng(42).fork("b").nextU32());
    expect(new Rng(43).nextU32()).not.toBe(new Rng(42).nextU32());
  });

  it("int() stays in range and covers it", () => {
    const r = new Rng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const v = r.int(3, 9);
      expect(v >= 3 && v < 9).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(6);
  });
});
