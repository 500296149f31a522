// SPDX-License-Identifier: MIT
// VM-level helpers for free page reporting/hinting tests: a host with one VM and a balloon
// whose reporting_vq / free_page_vq are served by the real handlers.

import * as abi from "../../host/guest/abi.generated.js";
import type { Host } from "../../host/host.js";
import type { Vm, VmConfig } from "../../host/vm.js";
import { addBalloon, type Balloon, type BalloonOptions } from "../../host/virtio/balloon/index.js";
import { FreePageReportingHandler } from "../../host/virtio/balloon/reporting.js";
import type { FreePageHinting } from "../../host/virtio/balloon/hinting.js";
import { newHost, MIB } from "../helpers/host.js";

export { MIB };
export const SEC = 1e9;
export const PAGE = abi.PAGE_SIZE;

export interface FpVm { host: Host; vm: Vm; balloon: Balloon }

/** A host (default 2 GiB) with one `mib` MiB VM and a balloon offering reporting (unless told otherwise). */
export function reportingVm(mib: number, opts: { balloon?: BalloonOptions; vm?: Partial<VmConfig>; hinting?: FreePageHinting; hostMib?: number } = {}): FpVm {
  const host = newHost({ ramMib: opts.hostMib ?? 2048 });
  const vm = host.createVm({ name: "vm", memBytes: mib * MIB, ...opts.vm });
  const balloon = addBalloon(vm, { freePageReporting: true, ...opts.balloon }, {
    metrics: host.metrics, reportingHandler: new FreePageReportingHandler(), freePageHandler: opts.hinting,
  });
  return { host, vm, balloon };
}

/** Runs `fn` as a guest entry, then lets the simulation catch up with the vCPU (timers fire). */
export function step<T>(f: FpVm, label: string, fn: (g: Vm["guest"]["exports"]) => T): T {
  let r: T | undefined;
  f.vm.enter(label, (g) => { r = fn(g); });
  f.host.runUntil(f.vm.busyUntilNs);
  return r as T;
}

/** Allocates `pages` order-0 movable pages for process `proc` (written once more if `touch`), 16 MiB per entry. */
export function anonAlloc(f: FpVm, proc: number, pages: number, touch = false): number {
  let done = 0;
  while (done < pages) {
    const n = Math.min(4096, pages - done);
    const got = step(f, "anon-alloc", (g) => g.wl_anon_alloc(proc, n, touch));
    done += Math.max(0, got);
    if (got < n) break;
  }
  return done;
}

/** Frees the newest `pages` pages of `proc`, 16 MiB per entry. */
export function anonFree(f: FpVm, proc: number, pages: number): number {
  let done = 0;
  while (done < pages) {
    const n = Math.min(4096, pages - done);
    const got = step(f, "anon-free", (g) => g.wl_anon_free(proc, n));
    done += Math.max(0, got);
    if (got < n) break;
  }
  return done;
}

export function metric(f: FpVm, suffix: string): number { return f.balloon.device.metric(suffix); }
