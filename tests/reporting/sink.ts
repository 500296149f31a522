// SPDX-License-Identifier: MIT
// Test harness for free page reporting without virtio: a guest with the in-guest report sink
// (assembly/mm/page_reporting_exports.ts), a recorded timer queue driven by simulated time,
// and free-list walkers over the zero-copy views.

import * as abi from "../../host/guest/abi.generated.js";
import { Guest } from "../../host/guest/guest.js";
import { backingImports, debugGuestModule } from "../helpers/guest.js";

export const NIL = 0xffffffff;
export const Z0 = abi.ZONE_DMA32;
export const MT_MOV = abi.MT_MOVABLE;
export const SEC = 1e9;

export interface SinkEntry { pfn: number; order: number; call: number; isolated: boolean }

/** A guest whose timers are recorded (id -> absolute ns) and fired by `runUntil`. */
export class ReportingGuest {
  readonly guest: Guest;
  nowNs = 0;
  /** Every timer_arm the guest made: [id, atNs]. */
  readonly arms: [number, number][] = [];
  private readonly pending = new Map<number, number>();

  constructor(mib: number, params: Record<string, number> = {}) {
    let g: Guest | undefined;
    const imp = backingImports(() => g);
    imp.timerArm = (id: number, at: number) => { this.arms.push([id, at]); this.pending.set(id, at); };
    imp.timerCancel = (id: number) => { this.pending.delete(id); };
    const boot: [number, number][] = Object.entries(params).map(([k, v]) => [(abi as unknown as Record<string, number>)[`PARAM_${k}`], v]);
    g = new Guest(debugGuestModule(), (mib * 1024 * 1024) / 4096, 1, imp, boot);
    this.guest = g;
  }

  get x() { return this.guest.exports; }

  /** Runs `fn` as a guest entry at the current time; the guest's elapsed time advances the clock. */
  enter<T>(fn: () => T): T {
    this.x.guest_enter(this.nowNs);
    const r = fn();
    this.nowNs += this.x.guest_elapsed();
    return r;
  }

  /** Fires due timers in time order until `untilNs`; returns the number fired. */
  runUntil(untilNs: number): number {
    let fired = 0;
    for (;;) {
      let best: [number, number] | undefined;
      for (const [id, at] of this.pending) if (at <= untilNs && (!best || at < best[1])) best = [id, at];
      if (!best) break;
      this.pending.delete(best[0]);
      this.nowNs = Math.max(this.nowNs, best[1]);
      this.enter(() => this.x.guest_timer_fire(best[0]));
      fired++;
    }
    this.nowNs = Math.max(this.nowNs, untilNs);
    return fired;
  }

  pendingAt(id: number): number | undefined { return this.pending.get(id); }

  /** Fire times of the reporting timer recorded so far. */
  reportingArms(): number[] { return this.arms.filter(([id]) => id === abi.TIMER_PAGE_REPORTING).map(([, at]) => at); }

  sinkLog(): SinkEntry[] {
    const n = this.x.page_reporting_test_log_len();
    if (n === 0) return [];
    const v = new Uint32Array(this.guest.memory.buffer, this.x.page_reporting_test_log(), n * 4);
    const out: SinkEntry[] = [];
    for (let i = 0; i < n; i++) out.push({ pfn: v[4 * i], order: v[4 * i + 1], call: v[4 * i + 2], isolated: v[4 * i + 3] === 1 });
    return out;
  }

  flags(pfn: number): number { return this.guest.views.pflags[pfn]; }
  reported(pfn: number): boolean { return (this.flags(pfn) & abi.PG_REPORTED) !== 0; }

  /** Free-list (zone, order, mt) from head to tail. */
  freeList(order: number, mt = MT_MOV, zone = Z0): number[] {
    const next = this.guest.views.next;
    const out: number[] = [];
    for (let p = this.x.mm_free_list_first(zone, order, mt); p !== NIL; p = next[p]) out.push(p);
    return out;
  }

  vmstat(i: number): number { return this.guest.views.vmstat[i]; }
}
