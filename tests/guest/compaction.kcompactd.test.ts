import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { timerGuest } from "./mm2-harness.js";

const Z = abi.ZONE_DMA32;
const INTERVAL = 500e6; // HPAGE_FRAG_CHECK_INTERVAL_MSEC

/** Fires timers in time order until TIMER_KCOMPACTD has fired (kswapd may run first). */
function fireKcompactd(t: ReturnType<typeof timerGuest>): void {
  for (let id = t.fireNext(); id !== abi.TIMER_KCOMPACTD; id = t.fireNext()) if (id < 0) throw new Error("kcompactd not armed");
}

function fragmented(unmovable = false, params: Array<[number, number]> = []) {
  const t = timerGuest(64, { params });
  t.run((g) => g.wl_fragment(1, g.mm_zone_info(Z, abi.ZI_FREE), 64, 5, unmovable));
  t.g.mm_drain_pcp();
  return t;
}

describe("kcompactd (proactive compaction)", () => {
  it("uses the 80/90 score watermarks for proactiveness 20", () => {
    const t = timerGuest(16);
    expect(t.g.mm_frag_score_wmark(true)).toBe(80);
    expect(t.g.mm_frag_score_wmark(false)).toBe(90);
    t.g.guest_set_param(abi.PARAM_COMPACTION_PROACTIVENESS, 95);
    expect(t.g.mm_frag_score_wmark(true)).toBe(5);
    expect(t.g.mm_frag_score_wmark(false)).toBe(15);
  });

  it("checks every 500 ms, compacts while the score is above 90 and stops at <= 80", () => {
    const t = fragmented();
    const score0 = t.g.mm_frag_score(abi.NR_ZONES);
    expect(score0).toBeGreaterThan(90);
    const arm = t.armLog.find(([id]) => id === abi.TIMER_KCOMPACTD)!;
    expect(arm[1] - arm[2]).toBe(INTERVAL);
    // first check: above 90 → proactive run, which stops once the zone score is <= 80
    fireKcompactd(t);
    expect(t.g.mm_kcompactd_stat(1)).toBe(1);
    const score1 = t.g.mm_frag_score(abi.NR_ZONES);
    expect(score1).toBeLessThanOrEqual(80);
    expect(t.g.mm_compact_stats(abi.CS_RESULT)).toBe(abi.COMPACT_SUCCESS); // stopped by the score, not the scanners
    expect(t.guest.views.vmstat[abi.VM_COMPACT_DAEMON_WAKE]).toBe(1);
    t.validate();
    // it stays armed at 500 ms while work may remain; the next check finds the score low: no run
    const firedAt = t.fireLog[t.fireLog.length - 1][1];
    expect(t.armed.get(abi.TIMER_KCOMPACTD)).toBeCloseTo(firedAt + INTERVAL + (t.now() - firedAt), -6);
    fireKcompactd(t);
    expect(t.g.mm_kcompactd_stat(1)).toBe(1);
    // idle guest: nothing changed since the last check → the timer lapses
    while (t.armed.has(abi.TIMER_KCOMPACTD)) t.fireNext();
    const checks = t.g.mm_kcompactd_stat(0);
    expect(checks).toBeLessThanOrEqual(4);
    t.runUntil(t.now() + 60e9);
    expect(t.g.mm_kcompactd_stat(0)).toBe(checks);
    // fragment again: the workload call re-arms it and the next check compacts again
    t.run((g) => g.wl_anon_free(1, g.wl_proc_anon_pages(1)));
    t.run((g) => g.wl_fragment(2, g.mm_zone_info(Z, abi.ZI_FREE), 64, 9, false));
    t.g.mm_drain_pcp();
    expect(t.g.mm_frag_score(abi.NR_ZONES)).toBeGreaterThan(90);
    t.runUntil(t.now() + INTERVAL);
    expect(t.g.mm_kcompactd_stat(1)).toBe(2);
    expect(t.g.mm_frag_score(abi.NR_ZONES)).toBeLessThanOrEqual(80);
  });

  it("makes no progress against unmovable pins and then waits 64 intervals", () => {
    const t = fragmented(true);
    expect(t.g.mm_frag_score(abi.NR_ZONES)).toBeGreaterThan(90);
    fireKcompactd(t);
    expect(t.g.mm_kcompactd_stat(1)).toBe(1);
    expect(t.g.mm_frag_score(abi.NR_ZONES)).toBeGreaterThan(90);
    const last = t.armLog[t.armLog.length - 1];
    expect(last[0]).toBe(abi.TIMER_KCOMPACTD);
    expect(last[1] - last[2]).toBeGreaterThanOrEqual(64 * INTERVAL);
    expect(last[1] - last[2]).toBeLessThan(65 * INTERVAL);
    fireKcompactd(t); // nothing changed since the stuck run: no new attempt, the timer lapses
    expect(t.g.mm_kcompactd_stat(1)).toBe(1);
    expect(t.armed.has(abi.TIMER_KCOMPACTD)).toBe(false);
  });

  it("proactiveness 0 disables the periodic check", () => {
    const t = fragmented(false, [[abi.PARAM_COMPACTION_PROACTIVENESS, 0]]);
    expect(t.armed.has(abi.TIMER_KCOMPACTD)).toBe(false);
    t.runUntil(10e9);
    expect(t.g.mm_kcompactd_stat(1)).toBe(0);
  });
});
