// SPDX-License-Identifier: MIT
// Default values of optional scenario fields, each with its unit and source. resolve.ts fills them
// in; schema.ts documents them. One place, so the schema, the docs and the engine agree.

export const DEFAULTS = {
  /** 1 s: the HyperAlloc clang experiment samples QEMU RSS about once per second (performance.md §1.2). */
  sampleNs: 1e9,
  hostPageSize: "4KiB" as const,
  reporting: {
    /** pageblock_order on x86-64 (mm/page_reporting.c: page_reporting_order defaults to it). */
    order: 9,
    /** 2 s: PAGE_REPORTING_DELAY, mm/page_reporting.c. */
    delayNs: 2e9,
    /** 32: PAGE_REPORTING_CAPACITY, mm/page_reporting.h. */
    capacity: 32,
  },
  balloon: {
    /**
     * QEMU's virtio-balloon device defaults (reference/virtio-balloon.md §1.2, §7.3): QEMU does
     * not offer MUST_TELL_HOST, and its `page-poison` property defaults on. Same as the device's
     * own defaults (host/virtio/balloon/options.ts, vmm "qemu").
     */
    mustTellHost: false,
    pagePoison: true,
  },
  /** 300 ms: QEMU's default downtime-limit (migration/options.c DEFAULT_MIGRATE_SET_DOWNTIME). */
  migrateDowntimeNs: 300e6,
  virtioMem: {
    /** 2 MiB: QEMU virtio-mem default block-size on x86-64 (THP size). */
    blockSizeBytes: 2 << 20,
  },
  autoBalloon: {
    intervalNs: 1e9,
    keepFreeBytes: 512 << 20,
    maxStepBytes: 1 << 30,
    minSizeBytes: 1 << 30,
  },
  virtioMemAuto: {
    intervalNs: 1e9,
    /** 90 % of free huge pages, in steps of 1/16 of memory: the HyperAlloc artifact's resize script. */
    freeHugeFraction: 0.9,
    stepFraction: 1 / 16,
  },
  build: { jitter: 0.5 },
  fragmentKeep: 0.5,
} as const;
