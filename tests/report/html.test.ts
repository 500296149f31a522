import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { compareRuns } from "../../host/report/compare.js";
import { renderReport, reportData, sumColumns } from "../../host/report/html.js";
import { parseScenario } from "../../host/scenario/load.js";
import { resolveScenario } from "../../host/scenario/resolve.js";
import { fakeRun } from "../scenario/fake-engine.js";

const root = join(import.meta.dirname, "../..");
const ASSETS = { uplotJs: "/* uPlot stub */", uplotCss: ".u-legend{}" };

function input() {
  const s = parseScenario(readFileSync(join(root, "scenarios/reporting-600m.yaml"), "utf8"), "r.yaml");
  const runs = ["none", "reporting"].map((mode) => ({ mode, ...fakeRun(resolveScenario(s, mode, "r.yaml")) }));
  return { title: "t <b>", runs: runs.map((r) => ({ label: r.mode, series: r.series, summary: r.summary })), metrics: compareRuns(runs) };
}

describe("HTML report", () => {
  it("sums per-VM columns by metric suffix, or takes the plain column", () => {
    const series = { columns: ["t_s", "host.rss_bytes", "a.guest_free_bytes", "b.guest_free_bytes"], rows: [[0, 5, 1, 2], [1, 6, 3, 4]] };
    expect(sumColumns(series, "guest_free_bytes")).toEqual([3, 7]);
    expect(sumColumns(series, "host.rss_bytes")).toEqual([5, 6]);
  });

  it("embeds the plot data, escapes the title and cannot be broken out of by data", () => {
    const inp = input();
    inp.runs[0].label = "</script><script>alert(1)</script>";
    const html = renderReport(inp, ASSETS);
    expect(html).toContain("<title>t &lt;b&gt;</title>");
    expect(html).not.toContain("</script><script>alert(1)");
    const data = JSON.parse(/id="report-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "{}");
    expect(data.hostRss[0].label).toBe("</script><script>alert(1)</script>");
    expect(data).toEqual(JSON.parse(JSON.stringify(reportData(inp))));
  });

  it("the page script draws every chart with uPlot (run against a stub)", () => {
    const html = renderReport(input(), ASSETS);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    const page = scripts[scripts.length - 1];
    const json = /id="report-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "{}";
    const charts: { title: string; data: unknown[][] }[] = [];
    class UPlotStub {
      static paths = { bars: () => () => null };
      constructor(opts: { title: string }, data: unknown[][]) { charts.push({ title: opts.title, data }); }
    }
    runInNewContext(page, {
      uPlot: UPlotStub,
      document: { body: { clientWidth: 1200 }, getElementById: (id: string) => (id === "report-data" ? { textContent: json } : { id }) },
    });
    expect(charts.map((c) => c.title)).toEqual(["Host RSS", "Guest free memory", "Footprint (GiB·min)", "Peak host RSS (GiB)", "Reclaimed (GiB)"]);
    // host RSS chart: a shared x axis plus one line per mode
    expect(charts[0].data).toHaveLength(3);
    expect(charts[2].data[1]).toHaveLength(2);
  });

  it("the real uPlot bundle is inlined whole by the CLI's assets", () => {
    const js = readFileSync(join(root, "node_modules/uplot/dist/uPlot.iife.min.js"), "utf8");
    expect(js).toContain("uPlot");
    const html = renderReport(input(), { uplotJs: js, uplotCss: "" });
    expect(html).toContain(js.slice(0, 200));
  });
});
