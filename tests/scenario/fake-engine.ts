// A fake engine for tests of everything above the engine seam: deterministic, analytic, tiny.
// Touch raises host RSS at 2 GiB/s; a free lowers it one reporting delay later when the mode
// has reporting; a balloon target lowers it 1 s later; migration sends touched (or, with hinting,
// in-use) memory. Not a model of anything: just a synthetic series with the right columns.
import { HOST_COLUMNS, VM_COLUMNS } from "../../host/scenario/engine.js";
import type { Engine, QueryMigrate, RunEvent, RunResult, VmSummary } from "../../host/scenario/engine.js";
import type { ResolvedScenario } from "../../host/scenario/resolve.js";

const MiB = 2 ** 20;
const BOOT_BYTES = 64 * MiB;
const TOUCH_BYTES_PER_S = 2 * 2 ** 30;

interface Step { tNs: number; drss: number; dfree: number; dballoon: number }

export function fakeRun(s: ResolvedScenario): RunResult {
  const events: RunEvent[] = [];
  const steps = new Map<string, Step[]>();
  const summaries: Record<string, VmSummary> = {};
  const migration: Record<string, QueryMigrate> = {};
  let endNs = 0;
  for (const vm of s.vms) {
    const st: Step[] = [];
    let cursor = 0, anon = 0, rss = BOOT_BYTES, touchedEver = 0, workloadNs = 0, skipped = 0, balloon = 0;
    st.push({ tNs: 0, drss: BOOT_BYTES, dfree: vm.memoryBytes - BOOT_BYTES, dballoon: 0 });
    for (const { index, atNs, action: a } of s.scripts[vm.name]) {
      if (atNs !== null) cursor = Math.max(cursor, atNs);
      events.push({ t_s: cursor / 1e9, vm: vm.name, index, do: a.do, ...(a.label ? { label: a.label } : {}) });
      switch (a.do) {
        case "anon.touch": {
          const dur = (a.size / TOUCH_BYTES_PER_S) * 1e9;
          cursor += dur; workloadNs += dur; anon += a.size; touchedEver += a.size; rss += a.size;
          st.push({ tNs: cursor, drss: a.size, dfree: -a.size, dballoon: 0 });
          break;
        }
        case "anon.free": {
          const size = Math.min(a.size ?? anon, anon);
          anon -= size;
          st.push({ tNs: cursor, drss: 0, dfree: size, dballoon: 0 });
          if (vm.balloon?.reporting) { st.push({ tNs: cursor + vm.balloon.reporting.delayNs, drss: -size, dfree: 0, dballoon: 0 }); rss -= size; }
          break;
        }
        case "hold": case "wait": cursor += a.for; if (a.do === "hold") workloadNs += a.for; break;
        case "balloon": {
          if (!vm.balloon) { skipped++; break; }
          const want = vm.memoryBytes - a.target;
          const d = want - balloon;
          balloon = want;
          const drop = d > 0 ? Math.min(d, rss - anon) : 0;
          rss -= drop;
          st.push({ tNs: cursor + 1e9, drss: -drop, dfree: -d, dballoon: d });
          break;
        }
        case "migrate": {
          const hint = a.hinting ?? vm.balloon?.hinting ?? false;
          const bytes = hint ? anon + BOOT_BYTES : touchedEver + BOOT_BYTES;
          const bw = a.bandwidth ?? Infinity;
          const ms = Number.isFinite(bw) ? (bytes / bw) * 1000 : bytes / (1024 * MiB) * 1000;
          migration[vm.name] = { status: "completed", "total-time": Math.round(ms), downtime: 30, "setup-time": 1,
            ram: { transferred: bytes, remaining: 0, total: vm.memoryBytes, duplicate: 0, normal: bytes / 4096,
              "normal-bytes": bytes, "dirty-sync-count": 2, mbps: 0 } };
          break;
        }
        default: break;
      }
    }
    endNs = Math.max(endNs, cursor);
    steps.set(vm.name, st);
    summaries[vm.name] = { host_rss_bytes: rss, peak_host_rss_bytes: 0, guest_total_bytes: vm.memoryBytes - balloon,
      guest_free_bytes: 0, balloon_actual_bytes: balloon, virtio_mem_plugged_bytes: 0, refaults: 0,
      workload_s: workloadNs / 1e9, oom_kills: 0, skipped_actions: skipped };
  }
  if (s.durationNs !== null) endNs = s.durationNs;
  const columns = ["t_s", ...HOST_COLUMNS, ...s.vms.flatMap((v) => VM_COLUMNS.map((m) => `${v.name}.${m}`))];
  const rows: number[][] = [];
  for (let t = 0; t <= endNs + 1; t += s.sampleNs) {
    const row = [t / 1e9, 0];
    for (const vm of s.vms) {
      let rss = 0, free = 0, bal = 0;
      for (const st of steps.get(vm.name) ?? []) if (st.tNs <= t) { rss += st.drss; free += st.dfree; bal += st.dballoon; }
      row[1] += rss;
      row.push(rss, vm.memoryBytes - bal, free, bal, 0);
      const sum = summaries[vm.name];
      sum.peak_host_rss_bytes = Math.max(sum.peak_host_rss_bytes, rss);
      sum.guest_free_bytes = free;
      sum.host_rss_bytes = rss;
    }
    rows.push(row);
  }
  const last = rows[rows.length - 1];
  return {
    series: { columns, rows },
    summary: { scenario: s.name, mode: s.mode.name, seed: s.seed, valid: true, stopped_at_s: last[0],
      stop_reason: "timeline ended", host: { rss_bytes: last[1], peak_rss_bytes: Math.max(...rows.map((r) => r[1])) },
      vms: summaries, ...(Object.keys(migration).length ? { migration } : {}) },
    events, valid: true, stoppedAtS: last[0], stopReason: "timeline ended",
  };
}

export const fakeEngine: Engine = { name: "fake", runScenario: (s) => fakeRun(s) };
