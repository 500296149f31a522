// SPDX-License-Identifier: MIT
// The public API (re-exports only). Works in Node and the browser: nothing on this path imports
// a Node built-in (host/node.ts loads the wasm from disk; host/browser.ts inlines it).

export { Host } from "./host.js";
export type { HostConfig } from "./host.js";
export { SWAP_CLUSTER_MAX } from "./host.js";
export { Vm, VmStats, resolveVmConfig, paramId, MAX_VM_FRAMES } from "./vm.js";
export type { VmConfig, ResolvedVmConfig } from "./vm.js";

export { Simulation } from "./sim/simulation.js";
export type { EventHandle } from "./sim/simulation.js";
export { Rng } from "./sim/rng.js";

export { defaultCostModel, withCostOverrides, writeGuestCosts } from "./cost-model.js";
export type { CostModel } from "./cost-model.js";

export { GuestMemory, MemoryStats, HOST_PAGE_4K, HOST_PAGE_2M } from "./memory/guest_memory.js";
export type {
  HostPageBytes, FrameSource, FrameViews, HostBacking, TrapHandler, GuestMemoryOptions, DiscardResult, DirtyClearResult,
} from "./memory/guest_memory.js";
export { DirtyLog, CLEAR_BITMAP_SHIFT_DEFAULT, CLEAR_BITMAP_SHIFT_MIN, CLEAR_BITMAP_SHIFT_MAX } from "./memory/dirty_log.js";
export { WP_DIRTY_LOG, MAX_WP_REASONS } from "./memory/write_protect.js";
export type { WpWriteListener } from "./memory/write_protect.js";

export { MetricsRegistry, Counter, Gauge, unitOf } from "./metrics/registry.js";
export type { MetricInfo, MetricKind } from "./metrics/registry.js";
export { Sampler, TimeSeries } from "./metrics/sampler.js";
export type { SamplerOptions } from "./metrics/sampler.js";

export {
  SimError, ConfigError, GuestCallError, InvariantError, errorCodeName, PfnRangeError, BlockArgumentError, DoubleFreeError,
  NotAllocatedError, BlockBusyError,
} from "./guest/errors.js";
export { GuestAllocator } from "./guest/mm.js";
export { Guest, guestLinearBytes, MAX_GUEST_FRAMES } from "./guest/guest.js";
export type { GuestImports, GuestViews } from "./guest/guest.js";
export type { GuestExports } from "./guest/exports.generated.js";
export { compileGuest, setDefaultGuestModule, defaultGuestModule } from "./guest/module.js";
export * as abi from "./guest/abi.generated.js";

export { NULL_BUS } from "./virtio/port.js";
export type { VirtioBusLike, InterruptSink } from "./virtio/port.js";

export {
  addBalloon, virtioBusOf, VirtioBalloon, BalloonControl, resolveBalloonOptions, registerBalloonMetrics, STAT_NAMES,
} from "./virtio/balloon/index.js";
export type {
  Balloon, AddBalloonExtras, BalloonOptions, ResolvedBalloonOptions, BalloonInfo, BalloonChangeEvent, GuestStats,
  BalloonQueueHandler, BalloonDeviceContext,
} from "./virtio/balloon/index.js";

// free page reporting and hinting (docs/features/free-page-reporting.md, free-page-hinting.md)
export {
  FreePageReportingHandler, reportingBootParams, setReportingTunables, reportingStatus, FreePageHinting,
  CMD_ID_MIN_QEMU, CMD_ID_MIN_FIRECRACKER,
} from "./virtio/balloon/index.js";
export type { ReportingTunables, HintConsumer, HintingOptions, HintingStatus } from "./virtio/balloon/index.js";
export { MigrationHintConsumer } from "./migration/hint_consumer.js";
export type { HintedRange } from "./migration/hint_consumer.js";

// Scenarios, modes, the model engine runner; comparison, report and trace overlay.
export * from "./scenario/index.js";
export * from "./report/index.js";
