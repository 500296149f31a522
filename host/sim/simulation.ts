// SPDX-License-Identifier: MIT
// Simulated time and the one event queue of a run (design §3). Time is a number of ns; nothing
// here reads the wall clock. Model: events are instantaneous; work that takes time (a guest
// entry) is accounted by its owner (Vm keeps a vCPU busy-until time), not by the queue.

import { ConfigError } from "../guest/errors.js";
import { EventHeap, SimEvent } from "./event_heap.js";

/** A scheduled event; `cancel()` removes it (returns false if it already ran or was cancelled). */
export interface EventHandle {
  readonly atNs: number;
  readonly label: string;
  /** True until the event ran or was cancelled. */
  readonly pending: boolean;
  cancel(): boolean;
}

class Handle implements EventHandle {
  constructor(private readonly ev: SimEvent, private readonly sim: Simulation) {}
  get atNs(): number { return this.ev.atNs; }
  get label(): string { return this.ev.label; }
  get pending(): boolean { return !this.ev.cancelled && !this.ev.fired; }
  cancel(): boolean {
    if (!this.pending) return false;
    this.ev.cancelled = true;
    this.sim.noteCancelled();
    return true;
  }
}

export class Simulation {
  private nowNs = 0;
  private seq = 0;
  private live = 0;
  private executed = 0;
  private readonly heap = new EventHeap();

  /** Current simulated time in ns. */
  get now(): number { return this.nowNs; }

  /** Events scheduled and neither run nor cancelled. */
  get pendingEvents(): number { return this.live; }

  /** Events run since the start (engine statistics). */
  get eventsRun(): number { return this.executed; }

  /** Time of the next pending event, or undefined if the queue is empty. */
  nextEventAt(): number | undefined {
    this.dropCancelled();
    return this.heap.peek()?.atNs;
  }

  /** Runs `fn` at absolute time `atNs` (>= now). Same-time events run in scheduling order. */
  schedule(atNs: number, fn: () => void, label = ""): EventHandle {
    if (typeof atNs !== "number" || Number.isNaN(atNs) || atNs < this.nowNs) {
      throw new ConfigError("atNs", atNs, `a time >= now (${this.nowNs} ns)`);
    }
    if (!Number.isFinite(atNs)) throw new ConfigError("atNs", atNs, "a finite time in ns");
    const ev = new SimEvent(atNs, this.seq++, fn, label);
    this.heap.push(ev);
    this.live++;
    return new Handle(ev, this);
  }

  /** Runs `fn` `delayNs` (>= 0) from now. */
  after(delayNs: number, fn: () => void, label = ""): EventHandle {
    if (typeof delayNs !== "number" || Number.isNaN(delayNs) || delayNs < 0 || !Number.isFinite(delayNs)) {
      throw new ConfigError("delayNs", delayNs, "a finite delay >= 0 ns");
    }
    return this.schedule(this.nowNs + delayNs, fn, label);
  }

  /** Runs the next pending event (time jumps to it). Returns false if there was none. */
  step(): boolean {
    this.dropCancelled();
    const ev = this.heap.pop();
    if (!ev) return false;
    this.nowNs = ev.atNs;
    ev.fired = true;
    this.live--;
    this.executed++;
    ev.fn();
    return true;
  }

  /** Runs every event up to and including time `tNs`, then sets now = tNs. Returns events run. */
  runUntil(tNs: number): number {
    if (typeof tNs !== "number" || Number.isNaN(tNs) || tNs < this.nowNs || !Number.isFinite(tNs)) {
      throw new ConfigError("untilNs", tNs, `a finite time >= now (${this.nowNs} ns)`);
    }
    let n = 0;
    for (;;) {
      const next = this.nextEventAt();
      if (next === undefined || next > tNs) break;
      this.step();
      n++;
    }
    this.nowNs = tNs;
    return n;
  }

  /** Runs for `ns` of simulated time from now. Returns events run. */
  runFor(ns: number): number {
    if (typeof ns !== "number" || Number.isNaN(ns) || ns < 0 || !Number.isFinite(ns)) {
      throw new ConfigError("durationNs", ns, "a finite duration >= 0 ns");
    }
    return this.runUntil(this.nowNs + ns);
  }

  /** @internal called by a handle when it is cancelled. */
  noteCancelled(): void { this.live--; }

  private dropCancelled(): void {
    for (let top = this.heap.peek(); top && top.cancelled; top = this.heap.peek()) this.heap.pop();
  }
}
