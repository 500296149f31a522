import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { MetricsRegistry, unitOf } from "../../host/metrics/registry.js";
import { Sampler } from "../../host/metrics/sampler.js";
import { Simulation } from "../../host/sim/simulation.js";
import { MIB, newHost } from "../helpers/host.js";

describe("metrics: registry and sampler", () => {
  it("ids carry their unit; duplicate or malformed ids are refused", () => {
    const r = new MetricsRegistry();
    const c = r.counter("vm0.balloon.inflate_pages", "pages inflated");
    c.inc(3);
    r.computed("host.rss_bytes", "gauge", "rss", () => 42);
    expect(r.get("vm0.balloon.inflate_pages")).toBe(3);
    expect(r.get("host.rss_bytes")).toBe(42);
    expect(r.list("host.")).toEqual([{ id: "host.rss_bytes", kind: "gauge", unit: "bytes", help: "rss" }]);
    expect(unitOf("x.migration_bandwidth_bytes_per_s")).toBe("bytes/s");
    expect(unitOf("x.cpu_busy_ns")).toBe("ns");
    expect(unitOf("x.faults_read")).toBe("count");
    expect(() => r.counter("host.rss_bytes", "")).toThrowError(/an id not registered yet/);
    expect(() => r.counter("RSS", "")).toThrowError(/metric: got "RSS"/);
    expect(() => r.get("nope.x")).toThrowError(/metric: got "nope.x"/);
    expect(r.unregister("vm0.")).toBe(1);
    expect(r.has("vm0.balloon.inflate_pages")).toBe(false);
  });

  it("the sampler records every interval of simulated time; CSV starts with t_s in seconds", () => {
    const sim = new Simulation();
    const r = new MetricsRegistry();
    const g = r.gauge("host.x_bytes", "x");
    const s = new Sampler(sim, r, { sampleIntervalNs: 5e8 });
    sim.schedule(7e8, () => g.set(10));
    sim.runFor(2e9);
    s.stop();
    expect(s.series.toCSV()).toBe("t_s,host.x_bytes\n0,0\n0.5,0\n1,10\n1.5,10\n2,10\n");
    expect(s.series.toJSON()).toEqual({ columns: ["t_s", "host.x_bytes"], units: ["s", "bytes"], rows: [[0, 0], [0.5, 0], [1, 10], [1.5, 10], [2, 10]] });
    sim.runFor(2e9);
    expect(s.series.rows.length).toBe(5);
    expect(() => new Sampler(sim, r, { sampleIntervalNs: 0 })).toThrowError(/sampleIntervalNs: got 0/);
  });

  it("VM and host metrics follow the memory and the guest's vmstat", () => {
    const host = newHost({ ramMib: 256 });
    const vm = host.createVm({ name: "web1", memBytes: 16 * MIB });
    const rss0 = host.metrics.get("web1.rss_bytes");
    vm.touch(2048, 10, true);
    expect(host.metrics.get("web1.rss_bytes")).toBe(rss0 + 10 * 4096);
    expect(host.metrics.get("host.rss_bytes")).toBe(rss0 + 10 * 4096);
    expect(host.metrics.get("host.free_bytes")).toBe(256 * MIB - rss0 - 10 * 4096);
    expect(host.metrics.get("web1.faults_write")).toBe(10);
    expect(host.metrics.get("web1.vmstat.pgfault")).toBe(vm.guest.views.vmstat[abi.VM_PGFAULT]);
    expect(host.metrics.get("web1.vmstat.pgfault")).toBe(10);
    expect(host.metrics.get("web1.cpu_busy_ns")).toBe(10 * host.costs.eptFault4kNs);
    expect(host.metrics.list("web1.").every((m) => m.id.startsWith("web1."))).toBe(true);
  });
});
