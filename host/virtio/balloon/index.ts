// SPDX-License-Identifier: MIT
// virtio-balloon, host side: plug a balloon into a VM (device + bus slot + metrics + driver
// probe) and get its control surface. Re-exports the pieces other modules build on
// (BalloonQueueHandler for free page reporting / hinting handlers).

import { ConfigError } from "../../guest/errors.js";
import type { MetricsRegistry } from "../../metrics/registry.js";
import type { Vm } from "../../vm.js";
import { VirtioBus } from "../bus.js";
import { NULL_BUS } from "../port.js";
import { BalloonControl } from "./control.js";
import { VirtioBalloon, type BalloonQueueHandler } from "./device.js";
import { registerBalloonMetrics } from "./metrics.js";
import { resolveBalloonOptions, type BalloonOptions } from "./options.js";
import { FreePageReportingHandler } from "./reporting.js";
import { FreePageHinting } from "./hinting.js";

export { VirtioBalloon, ACK_HANDLER, BALLOON_CONFIG, balloonFeatures, balloonQueueSpecs, INFLATEQ, DEFLATEQ, STATSQ, FREE_PAGE_VQ, REPORTING_VQ } from "./device.js";
export type { BalloonDeviceContext, BalloonQueueHandler, BalloonChangeEvent, BalloonEnv, BalloonConfigField } from "./device.js";
export { BalloonControl } from "./control.js";
export type { BalloonInfo } from "./control.js";
export { resolveBalloonOptions, checkBytes, STATS_INTERVAL_MAX_S } from "./options.js";
export type { BalloonOptions, ResolvedBalloonOptions, BalloonVmm } from "./options.js";
export { InflateEngine, compactPfns, MAX_PAGES_IN_DESC, MAX_PAGE_COMPACT_BUFFER } from "./inflate.js";
export { StatsQueue, STAT_NAMES } from "./stats.js";
export type { GuestStats, StatName } from "./stats.js";
export { registerBalloonMetrics, BALLOON_METRICS, BALLOON_METRIC_HELP } from "./metrics.js";
export { FreePageReportingHandler, REPORTING_METRICS, REPORTING_METRIC_HELP, reportingBootParams, setReportingTunables, reportingStatus } from "./reporting.js";
export type { ReportingTunables } from "./reporting.js";
export { FreePageHinting, HINTING_METRICS, HINTING_METRIC_HELP, CMD_ID_MIN_QEMU, CMD_ID_MIN_FIRECRACKER, WP_HINT } from "./hinting.js";
export type { HintConsumer, HintingOptions, HintingStatus, HintStatusName } from "./hinting.js";

export interface AddBalloonExtras {
  /** Registry to publish `<vm>.balloon.*` metrics in (e.g. host.metrics). */
  readonly metrics?: MetricsRegistry;
  /** Handler of free_page_vq (free page hinting). */
  readonly freePageHandler?: BalloonQueueHandler;
  /** Handler of reporting_vq (free page reporting). */
  readonly reportingHandler?: BalloonQueueHandler;
  /** Bus slot (default: the first free one). */
  readonly slot?: number;
  /** Load the guest driver right away (default true); false leaves the device unbound (mock drivers). */
  readonly probe?: boolean;
}

export interface Balloon {
  readonly device: VirtioBalloon;
  readonly control: BalloonControl;
  readonly slot: number;
  readonly bus: VirtioBus;
  /** Free page hinting control (start/stop/done/status) when the balloon offers freePageHint. */
  readonly hinting?: FreePageHinting;
}

/** The VM's virtio bus, created (with the VM's virtqueue round-trip cost) on first use. */
export function virtioBusOf(vm: Vm): VirtioBus {
  if (vm.bus instanceof VirtioBus) return vm.bus;
  if (vm.bus !== NULL_BUS) throw new ConfigError("vm.bus", "custom", "a VirtioBus (or none yet) to plug the balloon into");
  const bus = new VirtioBus(() => vm.guest, vm, { notifyExitNs: vm.memory.costs.virtqueueRoundTripNs });
  vm.bus = bus;
  return bus;
}

/**
 * Adds a virtio-balloon to `vm`: validates `options` (ConfigError naming the field), plugs the
 * device, publishes its metrics and (unless `probe: false`) loads the guest driver, which starts
 * moving towards `initialBalloonBytes` at once. One balloon per VM, as QEMU.
 */
export function addBalloon(vm: Vm, options: BalloonOptions = {}, extras: AddBalloonExtras = {}): Balloon {
  const resolved = resolveBalloonOptions(options, vm.memBytes);
  const bus = virtioBusOf(vm);
  for (let s = 0; s < 64; s++) {
    if (bus.device(s) instanceof VirtioBalloon) throw new ConfigError("balloon", vm.name, "at most one balloon per VM");
  }
  // free page reporting / hinting handlers by default when the options offer the features
  const reportingHandler = extras.reportingHandler ?? (resolved.freePageReporting ? new FreePageReportingHandler() : undefined);
  const freePageHandler = extras.freePageHandler ?? (resolved.freePageHint ? new FreePageHinting({ mode: resolved.vmm }) : undefined);
  const device = new VirtioBalloon(resolved, {
    memory: vm.memory, sim: vm.sim, nowNs: () => vm.guestNowNs(),
    freePageHandler, reportingHandler,
  });
  const slot = extras.slot ?? bus.freeSlot();
  if (slot < 0) throw new ConfigError("balloon.slot", slot, "a free virtio slot");
  bus.plug(slot, device);
  if (extras.metrics) registerBalloonMetrics(extras.metrics, vm.name, device, () => vm.guest.views.vmstat);
  if (extras.probe ?? true) {
    let rc = 0;
    vm.enter("balloon-probe", (g) => { rc = g.balloon_probe(slot); });
    if (rc !== 0) throw new ConfigError("balloon.probe", rc, "the guest driver to bind (0)");
  }
  const hinting = freePageHandler instanceof FreePageHinting ? freePageHandler : undefined;
  return { device, control: new BalloonControl(device), slot, bus, hinting };
}
