// SPDX-License-Identifier: MIT
// The scenario file format, defined once: zod validates YAML/JSON input and converts unit strings
// (sizes to bytes, times to ns, rates to bytes/s); z.toJSONSchema publishes scenarios/schema.json.
// Model: fields carry no zod defaults (they would leak into mode overrides); defaults are filled in
// by resolve.ts from the constants in defaults.ts and are documented here with `.meta({ default })`.

import { z } from "zod";
import { parseRate, parseSize, parseTime, RATE_EXPECTED, SIZE_EXPECTED, TIME_EXPECTED, UnitResult } from "./units.js";
import { DEFAULTS } from "./defaults.js";
import { CostModel, defaultCostModel } from "../cost-model.js";

const SIZE_PATTERN = "^\\d+(\\.\\d+)?\\s*(B|KiB|MiB|GiB|TiB)?$";
const TIME_PATTERN = "^\\d+(\\.\\d+)?\\s*(ns|us|ms|s|min|h)$";
const RATE_PATTERN = "^(unlimited|\\d+(\\.\\d+)?\\s*(B|KiB|MiB|GiB|TiB)/s)$";

function unit(parse: (v: unknown) => UnitResult) {
  return (v: unknown, ctx: z.RefinementCtx) => {
    const r = parse(v);
    if (r.ok) return r.value;
    ctx.addIssue({ code: "custom", message: r.expected, input: v, params: { expected: r.expected } });
    return z.NEVER;
  };
}

/** A size: integer bytes or "512MiB"; parsed to bytes. */
// The number branch carries its own int/min(0) checks (not only the transform) so the published
// JSON Schema says "integer, minimum 0" and rejects what zod rejects.
export const size = () =>
  z.union([
    z.string().meta({ pattern: SIZE_PATTERN }),
    z.number().int({ error: SIZE_EXPECTED }).min(0, { error: `a non-negative size (${SIZE_EXPECTED})` }),
  ], { error: SIZE_EXPECTED }).transform(unit(parseSize))
    .meta({ description: SIZE_EXPECTED, examples: ["512MiB", "1GiB", 4096] });
/** A time: "5s", "200ms", "2min"; parsed to nanoseconds. */
export const time = () =>
  z.string().meta({ pattern: TIME_PATTERN }).transform(unit(parseTime))
    .meta({ description: TIME_EXPECTED, examples: ["5s", "200ms", "2min"] });
/** A rate: "32MiB/s" or "unlimited"; parsed to bytes per second (Infinity when unlimited). */
export const rate = () =>
  z.string().meta({ pattern: RATE_PATTERN }).transform(unit(parseRate))
    .meta({ description: RATE_EXPECTED, examples: ["32MiB/s", "unlimited"] });

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const name = () => z.string().regex(NAME, { message: "a name: a letter, then letters, digits, '_' or '-'" });
const fraction = () => z.number().min(0).max(1);

// ---- host ----------------------------------------------------------------------------------

export const HostSchema = z.strictObject({
  ram: size().meta({ description: "Host RAM available to VMs" }),
  hostPageSize: z.enum(["4KiB", "2MiB"]).optional()
    .meta({ description: "Backing page size of guest RAM (2MiB: THP/hugetlbfs)", default: DEFAULTS.hostPageSize }),
  swap: size().optional().meta({ description: "Host swap", default: "0B" }),
});

// ---- devices -------------------------------------------------------------------------------

export const FreePageReportingSchema = z.strictObject({
  order: z.number().int().min(0).max(10).optional()
    .meta({ description: "page_reporting_order: smallest reported block is 2^order pages", default: DEFAULTS.reporting.order }),
  delay: time().optional().meta({ description: "PAGE_REPORTING_DELAY between passes", default: "2s" }),
  capacity: z.number().int().min(1).max(256).optional()
    .meta({ description: "Scatterlist entries per report request (PAGE_REPORTING_CAPACITY)", default: DEFAULTS.reporting.capacity }),
}).meta({ description: "VIRTIO_BALLOON_F_REPORTING (mm/page_reporting.c); present = on" });

export const BalloonSchema = z.strictObject({
  deflateOnOom: z.boolean().optional().meta({ description: "VIRTIO_BALLOON_F_DEFLATE_ON_OOM", default: false }),
  statsInterval: time().optional()
    .meta({ description: "Stats queue polling interval (QEMU guest-stats-polling-interval); absent = off" }),
  freePageReporting: FreePageReportingSchema.optional(),
  freePageHinting: z.boolean().optional().meta({ description: "VIRTIO_BALLOON_F_FREE_PAGE_HINT", default: false }),
  // Defaults are QEMU's (reference/virtio-balloon.md §7.3: page-poison on; §1.2: no MUST_TELL_HOST).
  pagePoison: z.boolean().optional()
    .meta({ description: "Offer VIRTIO_BALLOON_F_PAGE_POISON (QEMU page-poison); a guest with page poisoning takes it, and a non-zero poison_val makes QEMU keep reported pages", default: DEFAULTS.balloon.pagePoison }),
  mustTellHost: z.boolean().optional().meta({ description: "Offer VIRTIO_BALLOON_F_MUST_TELL_HOST (QEMU, Firecracker and Cloud Hypervisor do not)", default: DEFAULTS.balloon.mustTellHost }),
}).meta({ description: "virtio-balloon device" });

export const VirtioMemSchema = z.strictObject({
  region: size().meta({ description: "Device region size: the most that can be plugged" }),
  blockSize: size().optional().meta({ description: "Device block size", default: "2MiB" }),
  requested: size().optional().meta({ description: "Initial requested-size", default: "0B" }),
  mode: z.enum(["sbm", "bbm"]).optional()
    .meta({ description: "Linux driver mode: sub-block (sbm) or big-block (bbm)", default: "sbm" }),
}).meta({ description: "virtio-mem device (engine support: later)" });

export const PmemSchema = z.strictObject({
  size: size().meta({ description: "Backing file size" }),
  dax: z.boolean().optional().meta({ description: "Guest maps the file with DAX (no guest page cache)", default: true }),
}).meta({ description: "virtio-pmem device (engine support: later)" });

export const DevicesSchema = z.strictObject({
  balloon: BalloonSchema.optional(),
  virtioMem: VirtioMemSchema.optional(),
  pmem: PmemSchema.optional(),
});

// ---- host-side automatic policies ----------------------------------------------------------

export const AutoBalloonSchema = z.strictObject({
  interval: time().optional().meta({ description: "Decision interval (uses the stats queue)", default: "1s" }),
  keepFree: size().optional().meta({ description: "Guest free memory to leave when inflating", default: "512MiB" }),
  maxStep: size().optional().meta({ description: "Largest target change per decision", default: "1GiB" }),
  minSize: size().optional().meta({ description: "Never set the target below this guest size", default: "1GiB" }),
});

export const VirtioMemAutoSchema = z.strictObject({
  interval: time().optional().meta({ default: "1s" }),
  freeHugeFraction: fraction().optional()
    .meta({ description: "Fraction of free huge pages to unplug (HyperAlloc artifact: 0.9)", default: 0.9 }),
  stepFraction: fraction().optional().meta({ description: "Resize step as a fraction of memory (1/16)", default: 0.0625 }),
});

export const PoliciesSchema = z.strictObject({
  autoBalloon: AutoBalloonSchema.optional(),
  virtioMemAuto: VirtioMemAutoSchema.optional(),
});

// ---- VMs -----------------------------------------------------------------------------------

export const VmSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]*$/, { message: "a VM name: a lower-case letter, then lower-case letters, digits, '_' or '-'" })
    .refine((v) => v !== "host", { message: "a VM name other than 'host' (the host's metric scope)" }),
  memory: size().meta({ description: "Guest RAM at boot" }),
  vcpus: z.number().int().min(1).max(1024).optional().meta({ default: 1 }),
  movable: size().optional()
    .meta({ description: "Boot memory placed in ZONE_MOVABLE (like movablecore=)", default: "0B" }),
  onlining: z.enum(["online", "online_kernel", "online_movable"]).optional()
    .meta({ description: "How hot-plugged memory blocks are onlined (memory_hotplug online policy)", default: "online" }),
  devices: DevicesSchema.optional(),
  policies: PoliciesSchema.optional(),
});

// ---- modes ---------------------------------------------------------------------------------

/** Built-in modes (design §4). Those in LATER_MODES validate but the engine does not run them yet. */
export const BUILTIN_MODES = ["none", "balloon", "balloon-oom", "reporting", "hinting", "auto-balloon",
  "virtio-mem", "virtio-mem-auto", "pmem", "hyperalloc"] as const;
export type BuiltinMode = (typeof BUILTIN_MODES)[number];
export const LATER_MODES: readonly BuiltinMode[] = ["virtio-mem", "virtio-mem-auto", "pmem", "hyperalloc"];

export const CustomModeSchema = z.strictObject({
  name: name(),
  from: z.enum(BUILTIN_MODES).meta({ description: "Built-in mode this one starts from" }),
  balloon: BalloonSchema.optional().meta({ description: "Balloon options merged into every VM's balloon" }),
  policies: PoliciesSchema.optional(),
}).meta({ description: "A named variant of a built-in mode (e.g. reporting with order 0)" });

export const ModeRefSchema = z.union([z.enum(BUILTIN_MODES), CustomModeSchema]);

// ---- timeline ------------------------------------------------------------------------------

const common = {
  at: time().optional().meta({ description: "Do not start before this simulated time" }),
  vm: name().optional().meta({ description: "Target VM; absent = every VM" }),
  label: z.string().optional().meta({ description: "Phase label (used by --align and reports)" }),
};
const act = <K extends string, S extends z.ZodRawShape>(kind: K, shape: S, description: string) =>
  z.strictObject({ do: z.literal(kind), ...common, ...shape }).meta({ description });

export const BuildSchema = z.strictObject({
  jobs: z.number().int().min(1).max(1024).meta({ description: "Parallel compile jobs (make -jN)" }),
  units: z.number().int().min(1).meta({ description: "Compile units" }),
  unitTime: time().meta({ description: "Mean time one unit takes" }),
  unitAnon: size().meta({ description: "Mean peak anonymous memory of one unit" }),
  unitRead: size().optional().meta({ description: "Sources/headers read per unit (page cache)", default: "0B" }),
  unitWrite: size().optional().meta({ description: "Object file written per unit (page cache)", default: "0B" }),
  jitter: fraction().optional().meta({ description: "Relative spread of unit time and memory (seeded)", default: 0.5 }),
  linkTime: time().optional().meta({ description: "Final link step duration", default: "0s" }),
  linkAnon: size().optional().meta({ description: "Anonymous memory of the link step", default: "0B" }),
});

export const ACTION_KINDS = ["anon.touch", "anon.alloc", "anon.free", "file.read", "file.write", "kernel.alloc",
  "kernel.free", "fragment", "hold", "build", "replay", "balloon", "virtio-mem", "migrate", "stats-interval",
  "drop-caches", "crash", "wait"] as const;

export const ActionSchema = z.discriminatedUnion("do", [
  act("anon.touch", { size: size() }, "Allocate anonymous memory and write every page"),
  act("anon.alloc", { size: size() }, "Allocate anonymous memory without writing it"),
  act("anon.free", { size: size().optional().meta({ description: "absent = all anonymous memory" }) }, "Free anonymous memory (most recent first)"),
  act("file.read", { size: size(), file: z.string().optional() }, "Read a file into the page cache"),
  act("file.write", { size: size(), file: z.string().optional() }, "Write a file through the page cache"),
  act("kernel.alloc", { size: size(), order: z.number().int().min(0).max(10).optional().meta({ default: 0 }) }, "Unmovable kernel allocations"),
  act("kernel.free", { size: size().optional() }, "Free kernel allocations"),
  act("fragment", { size: size(), keep: fraction().optional().meta({ default: 0.5 }) },
    "Allocate, then free all but `keep` of it spread evenly (pins pageblocks)"),
  act("hold", { for: time() }, "Keep what is allocated for a while (the workload is busy)"),
  act("build", { build: BuildSchema }, "Build-like workload: parallel jobs with rising and falling anon memory and page cache"),
  act("replay", {
    file: z.string().meta({ description: "CSV file, relative to the scenario file" }),
    timeColumn: z.string().optional().meta({ default: "t_s" }),
    bytesColumn: z.string().optional().meta({ default: "bytes" }),
    scale: z.number().positive().optional().meta({ default: 1 }),
  }, "Replay a recorded memory-demand trace (time in s, anonymous bytes wanted)"),
  act("balloon", { target: size() }, "Set the balloon target guest size (QMP balloon)"),
  act("virtio-mem", { requested: size() }, "Set virtio-mem requested-size"),
  act("migrate", {
    bandwidth: rate().optional().meta({ default: "unlimited" }),
    downtime: time().optional().meta({ description: "downtime-limit", default: "300ms" }),
    hinting: z.boolean().optional().meta({ description: "Use free page hinting (absent: as the balloon device says)" }),
  }, "Pre-copy live migration"),
  act("stats-interval", { every: time() }, "Set the balloon stats polling interval"),
  act("drop-caches", {}, "echo 3 > /proc/sys/vm/drop_caches in the guest"),
  act("crash", {
    kind: z.enum(["guest-panic", "balloon-bad-pfn", "balloon-double-inflate", "touch-inflated", "descriptor-corrupt"]),
  }, "Inject guest misbehaviour or a crash"),
  act("wait", { for: time() }, "Let simulated time pass"),
]);

// ---- cost model ----------------------------------------------------------------------------

// Exactly the engine's keys (withCostOverrides throws on any other), so a misspelt key is a
// scenario error naming the field rather than an engine ConfigError after the run started.
export const CostModelSchema = z.strictObject(Object.fromEntries(Object.keys(defaultCostModel).map((k) => [k,
  k === "migrationBandwidthBytesPerS"
    ? z.number().positive({ error: "a bandwidth > 0 bytes/s" }).optional().meta({ description: "bytes/s (> 0)" })
    : z.number().min(0, { error: "a cost >= 0 ns" }).optional().meta({ description: "ns (>= 0)" })])) as Record<keyof CostModel, z.ZodOptional<z.ZodNumber>>)
  .meta({ description: "Cost model overrides" });

// ---- the scenario --------------------------------------------------------------------------

export const ScenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().optional(),
  description: z.string().min(1).meta({ description: "What it covers and the scenario (Covers: … Scenario: …)" }),
  seed: z.number().int().min(0).max(0xffffffff),
  sample: time().optional().meta({ description: "Sampling interval of series.csv", default: "1s" }),
  duration: time().optional().meta({ description: "Stop at this simulated time (absent: when the timeline ends)" }),
  host: HostSchema,
  vms: z.array(VmSchema).min(1),
  costModel: CostModelSchema.optional()
    .meta({ description: "Cost model overrides (names and units as in the engine's cost model, host/cost-model.ts)" }),
  modes: z.array(ModeRefSchema).optional().meta({ description: "Modes that `compare` runs by default" }),
  timeline: z.array(ActionSchema).optional(),
}).meta({ title: "guestmem scenario" });

export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Scenario = z.output<typeof ScenarioSchema>;
export type Vm = z.output<typeof VmSchema>;
export type Action = z.output<typeof ActionSchema>;
export type ActionKind = Action["do"];
export type CustomMode = z.output<typeof CustomModeSchema>;
export type ModeRef = z.output<typeof ModeRefSchema>;
export type Balloon = z.output<typeof BalloonSchema>;
export type Policies = z.output<typeof PoliciesSchema>;

/** The published JSON Schema (input side: unit strings, not parsed numbers). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ScenarioSchema, { io: "input" }) as Record<string, unknown>;
}
