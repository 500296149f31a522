// Test harness for the guest's reclaim/compaction/OOM/workload tests: a guest whose imports back
// pages on first touch (like tests/helpers/guest.ts) and record timer_arm/timer_cancel, with a
// tiny event loop that fires armed timers through guest_timer_fire in simulated-time order.
import { debugGuestModule, releaseGuestModule } from "../helpers/guest.js";
import { Guest, GuestImports } from "../../host/guest/guest.js";
import { GuestExports } from "../../host/guest/exports.generated.js";
import { defaultCostModel, writeGuestCosts } from "../../host/cost-model.js";
import * as abi from "../../host/guest/abi.generated.js";

export interface TimerGuest {
  guest: Guest;
  g: GuestExports;
  /** Armed timers: id -> absolute fire time (ns). */
  armed: Map<number, number>;
  /** Every timer_arm call: [id, atNs, now when armed]. */
  armLog: Array<[number, number, number]>;
  /** Every fire: [id, atNs]. */
  fireLog: Array<[number, number]>;
  /** Simulated time (ns). */
  now(): number;
  /** Runs `fn` as a guest entry at the current time; the clock advances by its cost. Returns the cost. */
  run(fn: (g: GuestExports) => void): number;
  /** Fires due timers up to `untilNs` (each as its own entry); returns fires. */
  runUntil(untilNs: number): number;
  /** Fires the next armed timer (if any) and returns its id, or -1. */
  fireNext(): number;
  /** Fragmentation-free check of the allocator and of page ownership. */
  validate(): void;
}

export function timerGuest(mib: number, opts: { seed?: number; release?: boolean; params?: Array<[number, number]> } = {}): TimerGuest {
  let g: Guest | undefined;
  let now = 0;
  let entryStart = 0;
  const armed = new Map<number, number>();
  const armLog: Array<[number, number, number]> = [];
  const fireLog: Array<[number, number]> = [];
  const imports: GuestImports = {
    hwFault(pfn: number) {
      if (!g) return -1;
      g.views.hstate[pfn] = abi.HS_BACKED;
      return defaultCostModel.eptFault4kNs;
    },
    virtioNotify: () => 0,
    timerArm: (id, atNs) => { armed.set(id, atNs); armLog.push([id, atNs, entryStart]); },
    timerCancel: (id) => { armed.delete(id); },
    virtioTransport: () => 0xffffffff,
    virtioQueueSetup: () => -2,
  };
  const mod = opts.release ? releaseGuestModule() : debugGuestModule();
  g = new Guest(mod, (mib * 1024 * 1024) / 4096, opts.seed ?? 1, imports, opts.params ?? []);
  const guest = g;
  writeGuestCosts(defaultCostModel, guest.views.costs);
  const run = (fn: (x: GuestExports) => void): number => {
    entryStart = now;
    const ns = guest.enter(now, fn);
    now += ns;
    return ns;
  };
  const fireNext = (): number => {
    let best = -1, at = Infinity;
    for (const [id, t] of armed) if (t < at) { at = t; best = id; }
    if (best < 0) return -1;
    armed.delete(best);
    now = Math.max(now, at);
    fireLog.push([best, now]);
    run((x) => x.guest_timer_fire(best));
    return best;
  };
  return {
    guest, g: guest.exports, armed, armLog, fireLog,
    now: () => now,
    run,
    runUntil(untilNs: number) {
      let n = 0;
      for (;;) {
        let at = Infinity;
        for (const t of armed.values()) at = Math.min(at, t);
        if (at > untilNs) break;
        fireNext();
        n++;
      }
      now = Math.max(now, untilNs);
      return n;
    },
    fireNext,
    validate() {
      const v = guest.exports.mm_validate();
      if (v !== 0) throw new Error(`mm_validate: ${v}`);
      const o = guest.exports.mm_validate_owners();
      if (o !== 0) throw new Error(`mm_validate_owners: ${o}`);
    },
  };
}

/** Free blocks of `order` in `zone`, all migratetypes (/proc/buddyinfo). */
export function nrFree(g: GuestExports, zone: number, order: number): number {
  return g.mm_nr_free(zone, order, abi.NR_MIGRATETYPES);
}

/** Free pages of zone `zone` on the buddy lists. */
export function zoneFree(g: GuestExports, zone: number): number { return g.mm_zone_info(zone, abi.ZI_FREE); }
