// SPDX-License-Identifier: MIT
// One small interface over the two page allocators under test: the guest's (wasm, through its
// exports and metadata views) and the TypeScript reference model (tests/reference/buddy.ts).
// The conformance suite and the differential tests run the same steps against both.

import * as abi from "../../host/guest/abi.generated.js";
import { Guest } from "../../host/guest/guest.js";
import { backingImports, debugGuestModule, releaseGuestModule } from "../helpers/guest.js";
import { RefBuddy } from "../reference/buddy.js";

export const NIL = 0xffffffff;

export interface AllocatorConfig {
  mib: number;
  nrCpus?: number;
  movableStartPfn?: number;
  bootEndPfn?: number;
  initOnAlloc?: boolean;
  minFreeKbytes?: number;
  watermarkScaleFactor?: number;
}

export interface AllocatorAdapter {
  readonly name: string;
  readonly frames: number;
  alloc(order: number, gfp: number): number;
  free(pfn: number, order: number, fpi?: number): number;
  drain(): void;
  setCpu(cpu: number): boolean;
  online(start: number, count: number, zone: number): number;
  nrFree(zone: number, order: number, mt: number): number;
  freeListFirst(zone: number, order: number, mt: number): number;
  freeListLast(zone: number, order: number, mt: number): number;
  zoneInfo(zone: number, field: number): number;
  fragIndex(zone: number, order: number): number;
  /** zone_watermark_ok(zone, order, WMARK_* + boost) for a request without reserve rights. */
  watermarkOk(zone: number, order: number, mark: number): boolean;
  validate(): number;
  pflags(pfn: number): number;
  porder(pfn: number): number;
  version(pfn: number): number;
  pageblockMt(pfn: number): number;
  extfragFails(): number;
  /** What a caller does with its block: retag its frames (PT_ANON, PT_KERNEL, ...). */
  retag(pfn: number, order: number, type: number): void;
  /** [zone][order] nr_free, like /proc/buddyinfo. */
  buddyinfo(): number[][];
}

function bootParams(cfg: AllocatorConfig): [number, number][] {
  const p: [number, number][] = [];
  if (cfg.nrCpus !== undefined) p.push([abi.PARAM_NR_CPUS, cfg.nrCpus]);
  if (cfg.movableStartPfn !== undefined) p.push([abi.PARAM_MOVABLE_START_PFN, cfg.movableStartPfn]);
  if (cfg.bootEndPfn !== undefined) p.push([abi.PARAM_BOOT_END_PFN, cfg.bootEndPfn]);
  if (cfg.initOnAlloc !== undefined) p.push([abi.PARAM_INIT_ON_ALLOC, cfg.initOnAlloc ? 1 : 0]);
  if (cfg.minFreeKbytes !== undefined) p.push([abi.PARAM_MIN_FREE_KBYTES, cfg.minFreeKbytes]);
  if (cfg.watermarkScaleFactor !== undefined) p.push([abi.PARAM_WATERMARK_SCALE_FACTOR, cfg.watermarkScaleFactor]);
  return p;
}

/**
 * The guest allocator in a fresh wasm instance with a backing host (debug build unless told).
 * By default the allocator runs alone: the kernel's kswapd/reclaim/compaction/OOM hooks are
 * replaced by inert recorders (mm_test_hooks), as in the reference model; `kernelHooks` keeps them.
 */
export function wasmAllocator(cfg: AllocatorConfig, opts: { release?: boolean; kernelHooks?: boolean } = {}): AllocatorAdapter & { guest: Guest; faults(): number } {
  let g: Guest | undefined;
  const imports = backingImports(() => g);
  const mod = opts.release ? releaseGuestModule() : debugGuestModule();
  const guest = new Guest(mod, (cfg.mib * 1024 * 1024) / 4096, 1, imports, bootParams(cfg));
  g = guest;
  const x = guest.exports;
  if (!opts.kernelHooks) x.mm_test_hooks(0, 0, 0, abi.NR_ORDERS);
  return {
    name: "wasm",
    guest,
    faults: () => imports.faults,
    frames: guest.frames,
    alloc: (order, gfp) => x.mm_alloc(order, gfp),
    free: (pfn, order, fpi = 0) => x.mm_free_fpi(pfn, order, fpi),
    drain: () => x.mm_drain_pcp(),
    setCpu: (cpu) => x.mm_set_cpu(cpu) === abi.OK,
    online: (s, c, z) => x.mm_online_pages(s, c, z),
    nrFree: (z, o, mt) => x.mm_nr_free(z, o, mt),
    freeListFirst: (z, o, mt) => x.mm_free_list_first(z, o, mt),
    freeListLast: (z, o, mt) => x.mm_free_list_last(z, o, mt),
    zoneInfo: (z, f) => x.mm_zone_info(z, f),
    fragIndex: (z, o) => x.mm_frag_index(z, o),
    watermarkOk: (z, o, m) => x.mm_watermark_ok(z, o, m) === 1,
    validate: () => x.mm_validate(),
    pflags: (pfn) => guest.views.pflags[pfn],
    porder: (pfn) => guest.views.porder[pfn],
    version: (pfn) => guest.views.versions[pfn],
    pageblockMt: (pfn) => x.mm_pageblock_mt(pfn),
    extfragFails: () => guest.views.vmstat[abi.VM_EXTFRAG_FAILS],
    retag: (pfn, order, type) => {
      const f = guest.views.pflags;
      for (let i = 0; i < 1 << order; i++) f[pfn + i] = (f[pfn + i] & ~abi.PT_MASK) | type;
    },
    buddyinfo: () => [0, 1, 2].map((z) => Array.from({ length: abi.NR_ORDERS }, (_, o) => x.mm_nr_free(z, o, abi.NR_MIGRATETYPES))),
  };
}

/** The TypeScript reference model with the same configuration. */
export function refAllocator(cfg: AllocatorConfig): AllocatorAdapter & { ref: RefBuddy } {
  const ref = new RefBuddy({
    frames: (cfg.mib * 1024 * 1024) / 4096, nrCpus: cfg.nrCpus, movableStartPfn: cfg.movableStartPfn,
    bootEndPfn: cfg.bootEndPfn, initOnAlloc: cfg.initOnAlloc, minFreeKbytes: cfg.minFreeKbytes,
    watermarkScaleFactor: cfg.watermarkScaleFactor,
  });
  return {
    name: "reference",
    ref,
    frames: ref.frames,
    alloc: (order, gfp) => ref.alloc(order, gfp),
    free: (pfn, order, fpi = 0) => ref.free(pfn, order, fpi),
    drain: () => ref.drainPcp(),
    setCpu: (cpu) => ref.setCpu(cpu),
    online: (s, c, z) => ref.online(s, c, z),
    nrFree: (z, o, mt) => ref.nrFree(z, o, mt),
    freeListFirst: (z, o, mt) => ref.freeListFirst(z, o, mt),
    freeListLast: (z, o, mt) => ref.freeListLast(z, o, mt),
    zoneInfo: (z, f) => ref.zoneInfo(z, f),
    fragIndex: (z, o) => ref.fragmentationIndex(z, o),
    watermarkOk: (z, o, m) => ref.watermarkOkFlags(z, o, ref.wmarkPages(z, m), 0),
    validate: () => ref.validate(),
    pflags: (pfn) => ref.pflags[pfn],
    porder: (pfn) => ref.porder[pfn],
    version: (pfn) => ref.versions[pfn],
    pageblockMt: (pfn) => ref.pageblockMt(pfn),
    extfragFails: () => ref.extfragFails,
    retag: (pfn, order, type) => ref.retag(pfn, order, type),
    buddyinfo: () => ref.buddyinfo(),
  };
}

export type AllocatorFactory = (cfg: AllocatorConfig) => AllocatorAdapter;
export const ALLOCATORS: [string, AllocatorFactory][] = [["wasm", (c) => wasmAllocator(c)], ["reference", refAllocator]];

/** A class's page type, as its owner would retag it. */
export function typeForGfp(gfp: number): number {
  const cls = gfp & abi.GFP_CLASS_MASK;
  return cls === abi.GFP_MOVABLE ? abi.PT_ANON : cls === abi.GFP_RECLAIMABLE ? abi.PT_SLAB_RECLAIMABLE : abi.PT_KERNEL;
}
