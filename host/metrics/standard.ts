// SPDX-License-Identifier: MIT
// The metrics every host and VM has (documented in docs/metrics.md). Devices and mechanisms
// register their own under the VM's scope: registry.counter(`${vm.name}.balloon.inflate_pages`, ...).

import * as abi from "../guest/abi.generated.js";
import type { Host } from "../host.js";
import type { Vm } from "../vm.js";
import { MetricsRegistry } from "./registry.js";

const PAGE = abi.PAGE_SIZE;

export function registerHostMetrics(r: MetricsRegistry, host: Host): void {
  r.computed("host.ram_bytes", "gauge", "host RAM capacity for guests", () => host.ramBytes);
  r.computed("host.rss_bytes", "gauge", "resident bytes of all guests (sum of <vm>.rss_bytes)", () => host.rssBytes);
  r.computed("host.peak_rss_bytes", "gauge", "highest host.rss_bytes so far", () => host.peakRssBytes);
  r.computed("host.free_bytes", "gauge", "RAM not resident (0 when over-committed)", () => host.freeBytes);
  r.computed("host.swap_capacity_bytes", "gauge", "host swap capacity", () => host.swapBytes);
  r.computed("host.swap_bytes", "gauge", "swap in use (sum of <vm>.swap_bytes)", () => host.swapUsedBytes);
  r.computed("host.swap_out_pages", "counter", "4 KiB pages swapped out by host reclaim", () => sum(host, (v) => v.memory.stats.swapOutFrames));
  r.computed("host.swap_in_pages", "counter", "4 KiB pages swapped in on guest faults", () => sum(host, (v) => v.memory.stats.swapInFrames));
  r.computed("host.vms", "gauge", "VMs on this host", () => host.vms.length);
}

function sum(host: Host, f: (v: Vm) => number): number {
  let s = 0;
  for (const v of host.vms) s += f(v);
  return s;
}

export function registerVmMetrics(r: MetricsRegistry, vm: Vm): void {
  const p = `${vm.name}.`;
  const st = vm.memory.stats;
  const vs = vm.stats;
  const gauge = (n: string, help: string, f: () => number): void => r.computed(p + n, "gauge", help, f);
  const counter = (n: string, help: string, f: () => number): void => r.computed(p + n, "counter", help, f);

  gauge("mem_bytes", "configured guest RAM", () => vm.memBytes);
  gauge("rss_bytes", "resident host memory backing this guest (HS_BACKED frames x 4 KiB)", () => st.backedFrames * PAGE);
  gauge("peak_rss_bytes", "highest rss_bytes so far", () => st.peakBackedFrames * PAGE);
  gauge("swap_bytes", "this guest's frames in host swap", () => st.swappedFrames * PAGE);
  gauge("zero_mapped_frames", "frames mapped to the shared zero page (no RSS)", () => st.zeroMappedFrames);
  gauge("dirty_pages", "frames set in the dirty bitmap", () => vm.memory.dirty.dirtyPages);
  counter("faults_read", "read faults that mapped the zero page", () => st.faultsRead);
  counter("faults_write", "write faults that populated a host page", () => st.faultsWrite);
  counter("faults_wp", "write faults on write-protected frames", () => st.faultsWp);
  counter("faults_swapin", "faults that swapped a host page in", () => st.faultsSwapIn);
  counter("faults_trap", "accesses to trapped frames (handed to the trap handler)", () => st.faultsTrap);
  counter("faults_refused", "accesses the host refused", () => st.faultsRefused);
  counter("refaults", "faults on frames the host had discarded (touched again after reporting/inflation)", () => st.refaults);
  counter("discarded_bytes", "bytes freed by discard (MADV_DONTNEED)", () => st.discardedBytes);
  counter("discard_calls", "discard calls", () => st.discardCalls);
  counter("swap_out_pages", "4 KiB pages of this guest swapped out", () => st.swapOutFrames);
  counter("swap_in_pages", "4 KiB pages of this guest swapped in", () => st.swapInFrames);
  counter("dirty_cleared_pages", "dirty bits cleared (and re-protected) by clearDirtyLog", () => st.dirtyLogClearedPages);
  counter("cpu_busy_ns", "simulated ns the vCPU spent in guest entries", () => vs.cpuBusyNs);
  counter("guest_entries", "guest entries (host->guest calls)", () => vs.entries);
  counter("timer_fails", "guest timer fires the guest rejected", () => vs.timerFails);
  counter("irq_fails", "virtio interrupts the guest rejected", () => vs.irqFails);

  // guest-side numbers, read from the guest's vmstat view on every read
  const vmstat = (): Float64Array => vm.guest.views.vmstat;
  gauge("guest_free_bytes", "guest free memory (nr_free_pages x 4 KiB, MemFree)", () => vmstat()[abi.VM_NR_FREE_PAGES] * PAGE);
  gauge("guest_total_bytes", "memory the guest's buddy manages (managed pages x 4 KiB, MemTotal)", () => vmstat()[abi.VM_MANAGED_PAGES] * PAGE);
  // in vmstat index order: a module namespace lists keys sorted, a bundler's emulation of it in
  // declaration order, and the column order of a series must not depend on how the library was built
  const vmstatKeys = Object.entries(abi as unknown as Record<string, number>)
    .filter(([key, idx]) => key.startsWith("VM_") && typeof idx === "number" && idx < abi.NR_VMSTAT)
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [key, idx] of vmstatKeys) {
    const name = key.slice(3).toLowerCase();
    const kind = name.startsWith("nr_") || name === "managed_pages" ? "gauge" : "counter";
    r.computed(`${p}vmstat.${name}`, kind, `guest /proc/vmstat ${name} (abi ${key})`, () => vmstat()[idx]);
  }
}
