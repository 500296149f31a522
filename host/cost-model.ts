// SPDX-License-Identifier: MIT
// The cost model: simulated ns charged for each hypervisor and guest operation (design §3).
// Plain data; every default names its source (reference/performance.md, "perf §n"). Values
// marked "assumption" have no published or measured number yet: calibrate before citing them.

import { ConfigError } from "./guest/errors.js";
import * as abi from "./guest/abi.generated.js";

const GIB = 1024 * 1024 * 1024;
/** 9.2 GiB/s: memset / wasm memory.fill, warm, this project's machine kind (perf §4: 9.1–9.4 GiB/s). */
const MEMSET_BYTES_PER_NS = (9.2 * GIB) / 1e9;

export interface CostModel {
  /** One VM exit round trip (exit + KVM dispatch + re-entry) with no real work. */
  readonly vmExitNs: number;
  /** EPT fault on an unbacked 4 KiB page: exit, host page allocation, zeroing, mapping. */
  readonly eptFault4kNs: number;
  /** EPT fault populating a 2 MiB host page (THP/hugetlb): zeroing 2 MiB dominates. */
  readonly eptFault2mNs: number;
  /** Read fault mapping the shared zero page (no allocation, no zeroing), on top of vmExitNs. */
  readonly zeroPageMapNs: number;
  /** Write fault on a write-protected, backed page (dirty logging / WP tracking), on top of vmExitNs. */
  readonly wpFaultNs: number;
  /** Re-write-protecting one page (KVM_CLEAR_DIRTY_LOG, start of dirty logging), per page. */
  readonly wpProtectPageNs: number;
  /** One madvise(MADV_DONTNEED) system call, fixed part. */
  readonly madviseCallNs: number;
  /** MADV_DONTNEED per touched 4 KiB page inside one call. */
  readonly madvisePerPageNs: number;
  /** MADV_DONTNEED of one touched 2 MiB THP, per huge page. */
  readonly madvise2mNs: number;
  /** One virtqueue round trip: kick exit, device wake-up, used-buffer interrupt, guest wake-up. */
  readonly virtqueueRoundTripNs: number;
  /** Copying one 4 KiB page (page migration, compaction, balloon page migration). */
  readonly pageCopyNs: number;
  /** Guest writes one 4 KiB page (slot abi COST_PAGE_WRITE_NS). */
  readonly guestPageWriteNs: number;
  /** Guest reads one 4 KiB page (slot abi COST_PAGE_READ_NS). */
  readonly guestPageReadNs: number;
  /** Guest allocator fast path, per page (per-cpu list hit; slot abi COST_ALLOC_FAST_NS). */
  readonly guestAllocFastNs: number;
  /** Guest allocator slow path, per call (zone lock, split; slot abi COST_ALLOC_SLOW_NS). */
  readonly guestAllocSlowNs: number;
  /** Guest reclaims one clean file page (slot abi COST_RECLAIM_PAGE_NS). */
  readonly reclaimPageNs: number;
  /** Guest reads one 4 KiB page from its virtual disk (slot abi COST_FILE_READ_PAGE_NS). */
  readonly fileReadPageNs: number;
  /** Guest writes back one dirty 4 KiB file page (slot abi COST_WRITEBACK_PAGE_NS). */
  readonly writebackPageNs: number;
  /** Host swaps out one 4 KiB page (direct reclaim charged to the faulting VM). */
  readonly swapOutPageNs: number;
  /** Host swaps in one 4 KiB page (major fault on a swapped guest frame). */
  readonly swapInPageNs: number;
  /** Live-migration link bandwidth. */
  readonly migrationBandwidthBytesPerS: number;
}

export const defaultCostModel: CostModel = Object.freeze({
  // assumption: ~1,500 cycles exit+entry on recent x86 at ~2.5 GHz; no number in perf §4
  vmExitNs: 600,
  // perf §4: first touch of a 4 KiB page (fault + zero) 1.3–1.7 µs here, 1.67 µs bare metal
  eptFault4kNs: 1500,
  // perf §4: clearing 2 MiB at 9.2 GB/s (= 9.2 B/ns; Arora, clear_huge_page, Icelake-X low
  // end) ≈ 228 µs, plus one 4 KiB fault's fixed part
  eptFault2mNs: Math.round((2 * 1024 * 1024) / 9.2) + 1500,
  // derived, perf §4: 4 KiB fault (1.5 µs) minus zeroing 4 KiB at 9.2 GiB/s (0.41 µs) minus the exit
  zeroPageMapNs: Math.round(1500 - 4096 / MEMSET_BYTES_PER_NS - 600),
  // assumption: KVM fast_page_fault fixes the spte without the mmu lock; exit dominates
  wpFaultNs: 200,
  // assumption: one spte update + bitmap bit per page in kvm_arch_mmu_enable_log_dirty_pt_masked
  wpProtectPageNs: 10,
  // derived, perf §4: one call per 4 KiB page ≈ 1.1 µs/page minus ≈ 110 ns/page in bulk
  madviseCallNs: 1000,
  // perf §4: MADV_DONTNEED over touched 4 KiB pages, 109–115 ns/page (208 ns bare metal)
  madvisePerPageNs: 110,
  // perf §4: MADV_DONTNEED, one call per 2 MiB THP, 5.4–6.6 µs
  madvise2mNs: 6000,
  // assumption: kick exit + iothread wake-up + irq injection + guest wake-up, a few µs each;
  // calibrate against perf §1.1 (≈ 2.5 µs per untouched page for the 4 KiB balloon)
  virtqueueRoundTripNs: 10_000,
  // perf §4: memcpy of 4 KiB at ≈ 9 GiB/s (memset speed, warm)
  pageCopyNs: Math.round(4096 / ((9 * GIB) / 1e9)),
  // perf §4: memset 4 KiB at 9.2 GiB/s ≈ 415 ns
  guestPageWriteNs: Math.round(4096 / MEMSET_BYTES_PER_NS),
  // assumption: streaming reads about twice as fast as memset
  guestPageReadNs: Math.round(4096 / MEMSET_BYTES_PER_NS / 2),
  // perf §2.1: Linux buddy, bulk alloc order 0, 1 core: 94 ns
  guestAllocFastNs: 94,
  // perf §2.1: Linux buddy, repeat alloc+free order 9, 1 core: 362 ns
  guestAllocSlowNs: 362,
  // assumption: shrink_folio_list on a clean, unmapped file folio ≈ 1 µs
  reclaimPageNs: 1000,
  // assumption: one 4 KiB random read through virtio-blk on NVMe ≈ 20 µs
  fileReadPageNs: 20_000,
  // assumption: writeback batches at ≈ 1 GB/s → ≈ 4 µs per 4 KiB
  writebackPageNs: 4000,
  // assumption: host swap to NVMe, batched writes ≈ 10 µs per 4 KiB
  swapOutPageNs: 10_000,
  // assumption: major fault from NVMe swap ≈ 25 µs per 4 KiB
  swapInPageNs: 25_000,
  // assumption: 10 GbE link (QEMU's default max-bandwidth, MAX_THROTTLE = 128 MiB/s, is
  // raised in every published hinting run, perf §3)
  migrationBandwidthBytesPerS: 1.25e9,
});

const KEYS = Object.keys(defaultCostModel) as (keyof CostModel)[];

/** The default model with `overrides` applied; unknown keys and negative or non-finite values throw. */
export function withCostOverrides(overrides: Partial<Record<string, number>>, base: CostModel = defaultCostModel): CostModel {
  const out: Record<string, number> = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(KEYS as string[]).includes(k)) {
      throw new ConfigError(`costs.${k}`, v, `a known cost key (${KEYS.join(", ")})`);
    }
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new ConfigError(`costs.${k}`, v, "a finite number >= 0");
    }
    out[k] = v;
  }
  if (out.migrationBandwidthBytesPerS === 0) {
    throw new ConfigError("costs.migrationBandwidthBytesPerS", 0, "a bandwidth > 0");
  }
  return Object.freeze(out as unknown as CostModel);
}

/** Writes the guest-side costs into the guest's COST_* slots (abi.ts SCB_COST). */
export function writeGuestCosts(costs: CostModel, slots: Float64Array): void {
  slots[abi.COST_PAGE_WRITE_NS] = costs.guestPageWriteNs;
  slots[abi.COST_PAGE_READ_NS] = costs.guestPageReadNs;
  slots[abi.COST_ALLOC_FAST_NS] = costs.guestAllocFastNs;
  slots[abi.COST_ALLOC_SLOW_NS] = costs.guestAllocSlowNs;
  slots[abi.COST_PAGE_COPY_NS] = costs.pageCopyNs;
  slots[abi.COST_RECLAIM_PAGE_NS] = costs.reclaimPageNs;
  slots[abi.COST_FILE_READ_PAGE_NS] = costs.fileReadPageNs;
  slots[abi.COST_WRITEBACK_PAGE_NS] = costs.writebackPageNs;
}
