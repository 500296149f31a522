// SPDX-License-Identifier: MIT
// The guest ABI: result codes, page-frame encodings, host-state bits and the layout of the
// shared control block. scripts/build.mjs mirrors every `export const` here into
// host/guest/abi.generated.ts, so the host never restates a number.

// ---------------------------------------------------------------------------------------------
// Result codes. Exports return them (negative = error); the host maps them to typed errors in
// host/guest/errors.ts. Nothing in the ABI relies on exceptions (AssemblyScript has none).
export const OK: i32 = 0;
export const E_NOMEM: i32 = -1; // no free block of the requested order (after reclaim/compaction)
export const E_INVAL: i32 = -2; // argument out of range (order > MAX_ORDER, bad zone, bad class)
export const E_RANGE: i32 = -3; // pfn outside guest memory
export const E_DOUBLE_FREE: i32 = -4; // freeing a block that is already free
export const E_NOT_ALLOCATED: i32 = -5; // freeing a block that was never allocated as given
export const E_BUSY: i32 = -6; // resource temporarily busy (isolated, migrating, in flight)
export const E_STATE: i32 = -7; // call not allowed in the current state (e.g. before init)
export const E_IO: i32 = -8; // device answered with an error / device broken

/** Sentinel pfn: "no frame" (list ends, failed allocations). */
export const NIL: u32 = 0xffffffff;

// ---------------------------------------------------------------------------------------------
// Geometry (x86-64, 4 KiB pages; reference/virtio-mem-pmem-buddy.md §3.1).
export const PAGE_SHIFT: u32 = 12;
export const PAGE_SIZE: u32 = 4096;
/** MAX_PAGE_ORDER: largest buddy order, 10 = 4 MiB blocks (L-MAXORD). */
export const MAX_ORDER: u32 = 10;
export const NR_ORDERS: u32 = MAX_ORDER + 1;
/** pageblock_order = min(HUGETLB_PAGE_ORDER, MAX_PAGE_ORDER) = 9 → 2 MiB pageblocks (L-PBF). */
export const PAGEBLOCK_ORDER: u32 = 9;
export const PAGEBLOCK_NR_PAGES: u32 = 1 << PAGEBLOCK_ORDER;

// ---------------------------------------------------------------------------------------------
// Migratetypes, in the kernel's enum order (L-MMZONE). Only the first three have per-cpu lists
// and fallbacks.
export const MT_UNMOVABLE: u32 = 0;
export const MT_MOVABLE: u32 = 1;
export const MT_RECLAIMABLE: u32 = 2;
export const MT_PCPTYPES: u32 = 3;
export const MT_HIGHATOMIC: u32 = 3;
export const MT_ISOLATE: u32 = 4;
export const NR_MIGRATETYPES: u32 = 5;

// Zones. A zone is a pfn range; ZONE_MOVABLE only serves movable allocations.
export const ZONE_DMA32: u32 = 0;
export const ZONE_NORMAL: u32 = 1;
export const ZONE_MOVABLE: u32 = 2;
export const NR_ZONES: u32 = 3;

// Allocation classes: the GFP-like request kinds. The class decides the migratetype and the
// zones that may serve the request (GFP_HIGHUSER_MOVABLE may use ZONE_MOVABLE, kernel may not).
export const GFP_MOVABLE: u32 = 0; // user anon and page cache: GFP_HIGHUSER_MOVABLE
export const GFP_RECLAIMABLE: u32 = 1; // reclaimable slab (dentries, inodes)
export const GFP_KERNEL: u32 = 2; // unmovable kernel memory
export const GFP_ATOMIC: u32 = 3; // unmovable, may dip below MIN (HIGHATOMIC reserve)
export const NR_GFP_CLASSES: u32 = 4;
// Modifier bits, or-ed into the class argument (bits 8+).
export const GFP_NORETRY: u32 = 0x100; // one reclaim/compaction attempt, never OOM (balloon)
export const GFP_NOWARN: u32 = 0x200; // no effect on the model; kept for readability
export const GFP_NOMEMALLOC: u32 = 0x400; // never dip into reserves
export const GFP_NORECLAIM: u32 = 0x800; // no direct reclaim/compaction at all (hinting)
export const GFP_CLASS_MASK: u32 = 0xff;

// ---------------------------------------------------------------------------------------------
// Per-frame guest metadata (struct page, reduced). Structure of arrays, all in unmanaged memory
// allocated once by guest_init:
//
//   versions  u32[frames]  content version, bumped by every guest write (design §2)
//   next      u32[frames]  intrusive list link (free list, pcp, LRU, balloon, owner lists)
//   prev      u32[frames]  intrusive list link
//   pflags    u8[frames]   page type (low 4 bits) + flags (high 4 bits), below
//   porder    u8[frames]   order (low 4 bits) + migratetype of the list it is on (high 4 bits)
//   hstate    u8[frames]   host (EPT) state, written by the host only, bits HS_* below
//   pageblock u8[frames/512] pageblock migratetype (low 3 bits) + PB_* flags
//
// = 15 bytes per frame + 1/512 byte; the host-owned region (LAYOUT_HOSTMETA, appended block
// below) adds 0.75: 15.75 + 1/512 bytes/frame, within issue 2's "<= 16 bytes per frame all
// included". A 256 GiB guest (64 Mi frames) needs ~0.98 GiB of metadata and fits one wasm32 instance.
export const BYTES_PER_FRAME: u32 = 15;

// Page types (pflags & PT_MASK).
export const PT_MASK: u8 = 0x0f;
export const PT_RESERVED: u8 = 0; // never given to the buddy (firmware hole, memmap) or offline
export const PT_FREE: u8 = 1; // inside a free buddy block (head has PG_BUDDY)
export const PT_PCP: u8 = 2; // free, on a per-cpu list (not mergeable)
export const PT_ANON: u8 = 3; // anonymous user memory (movable)
export const PT_FILE: u8 = 4; // page cache (movable, PG_DIRTY when dirty)
export const PT_KERNEL: u8 = 5; // unmovable kernel allocation
export const PT_SLAB_RECLAIMABLE: u8 = 6; // reclaimable slab (dentries, inodes)
export const PT_BALLOON: u8 = 7; // inflated into virtio-balloon (PageOffline)
export const PT_HINTED: u8 = 8; // held by free page hinting
export const PT_ISOLATED: u8 = 9; // isolated free block, being reported to the host
export const PT_OFFLINE: u8 = 10; // unplugged / fake-offline (virtio-mem)
export const PT_RAMWIN: u8 = 11; // part of the RAM window (virtqueues, request buffers)
export const PT_ALLOC: u8 = 12; // allocated through the raw allocator API, no owner yet

// Page flags (pflags & ~PT_MASK).
export const PG_BUDDY: u8 = 0x10; // head of a free buddy block; porder holds its order
export const PG_REPORTED: u8 = 0x20; // free block already reported to the host (PageReported)
export const PG_DIRTY: u8 = 0x40; // file page is dirty (cannot be dropped before writeback)
export const PG_HEAD: u8 = 0x80; // head of an allocated block of order porder

// Pageblock byte.
export const PB_MT_MASK: u8 = 0x07;
export const PB_SKIP: u8 = 0x08; // compaction skip hint (PB_migrate_skip)

// ---------------------------------------------------------------------------------------------
// Host (EPT) state per frame: owned by the host (host/memory/), read by assembly/hw/mmu.ts on
// every guest access. A write is served without an exit only if (hstate & HS_WRITE_MASK) ==
// HS_BACKED; a read only if (hstate & HS_READ_OK) != 0 and (hstate & HS_TRAP) == 0.
// The top 3 bits hold the host's trap handler id (HS_TRAP_ID_*): neither mask includes them, and
// HS_TRAP is set whenever the id is non-zero, so the guest's check needs only HS_TRAP.
export const HS_BACKED: u8 = 0x01; // a private host page backs the frame (counts in RSS)
export const HS_ZERO: u8 = 0x02; // mapped read-only to the shared zero page (no RSS)
export const HS_WP: u8 = 0x04; // write-protected (dirty logging, hint/WP tracking)
export const HS_SWAPPED: u8 = 0x08; // host swapped the page out; any access faults
export const HS_TRAP: u8 = 0x10; // host wants every access to exit (unplugged, inflated, ...)
export const HS_READ_OK: u8 = HS_BACKED | HS_ZERO;
export const HS_WRITE_MASK: u8 = HS_BACKED | HS_ZERO | HS_WP | HS_SWAPPED | HS_TRAP;
export const HS_TRAP_ID_SHIFT: u8 = 5; // trap handler id, 1..7 (0 = none), host-owned (GuestMemory.trap)
export const HS_TRAP_ID_MASK: u8 = 0xe0;
export const HS_TRAP_ID_MAX: u8 = 7; // distinct trap handlers per VM

/** Content version of a frame whose contents are zero (never written, or discarded). */
export const VERSION_ZERO: u32 = 0;

// ---------------------------------------------------------------------------------------------
// Shared control block (SCB): a small region the host reads and writes through typed views.
// Offsets in bytes from scb_ptr(); f64 slots so that counters above 2^32 stay exact.
//
//   0x000  layout: frames, pointers of the per-frame arrays (u32 each), see LAYOUT_*
//   0x100  cost parameters (f64, ns), written by the host from host/cost-model.ts, COST_*
//   0x200  vmstat counters (f64), written by the guest, VM_* indices
//   0x800  end
export const SCB_SIZE: u32 = 0x800;

export const LAYOUT_FRAMES: u32 = 0x00;
export const LAYOUT_VERSIONS: u32 = 0x04;
export const LAYOUT_NEXT: u32 = 0x08;
export const LAYOUT_PREV: u32 = 0x0c;
export const LAYOUT_PFLAGS: u32 = 0x10;
export const LAYOUT_PORDER: u32 = 0x14;
export const LAYOUT_HSTATE: u32 = 0x18;
export const LAYOUT_PAGEBLOCK: u32 = 0x1c;
export const LAYOUT_RAMWIN_PTR: u32 = 0x20; // linear address of the RAM window bytes
export const LAYOUT_RAMWIN_PFN: u32 = 0x24; // first guest pfn the RAM window occupies
export const LAYOUT_RAMWIN_FRAMES: u32 = 0x28; // RAM window size in frames

// Cost parameters (ns), indices into the f64 array at SCB + 0x100.
export const SCB_COST: u32 = 0x100;
export const COST_PAGE_WRITE_NS: u32 = 0; // guest writes one 4 KiB page (memset speed)
export const COST_PAGE_READ_NS: u32 = 1; // guest reads one 4 KiB page
export const COST_ALLOC_FAST_NS: u32 = 2; // allocator fast path per page (pcp hit)
export const COST_ALLOC_SLOW_NS: u32 = 3; // buddy path per call (zone lock, split)
export const COST_PAGE_COPY_NS: u32 = 4; // migrate one 4 KiB page (compaction, balloon)
export const COST_RECLAIM_PAGE_NS: u32 = 5; // reclaim one clean file page
export const COST_FILE_READ_PAGE_NS: u32 = 6; // read one 4 KiB page from the virtual disk
export const COST_WRITEBACK_PAGE_NS: u32 = 7; // write back one dirty file page
export const NR_COSTS: u32 = 32;

// vmstat counters (f64), indices into the array at SCB + 0x200 (as /proc/vmstat names them).
export const SCB_VMSTAT: u32 = 0x200;
export const VM_NR_FREE_PAGES: u32 = 0;
export const VM_NR_ANON: u32 = 1;
export const VM_NR_FILE: u32 = 2;
export const VM_NR_FILE_DIRTY: u32 = 3;
export const VM_NR_KERNEL: u32 = 4;
export const VM_NR_SLAB_RECLAIMABLE: u32 = 5;
export const VM_NR_BALLOON: u32 = 6;
export const VM_NR_HINTED: u32 = 7;
export const VM_NR_ISOLATED: u32 = 8;
export const VM_NR_OFFLINE: u32 = 9;
export const VM_NR_PCP: u32 = 10;
export const VM_MANAGED_PAGES: u32 = 11; // pages the buddy manages (MemTotal)
export const VM_PGALLOC: u32 = 12;
export const VM_PGFREE: u32 = 13;
export const VM_PGFAULT: u32 = 14; // guest write/read exits (EPT faults seen by the guest)
export const VM_ALLOCSTALL: u32 = 15;
export const VM_PGSCAN_KSWAPD: u32 = 16;
export const VM_PGSCAN_DIRECT: u32 = 17;
export const VM_PGSTEAL_KSWAPD: u32 = 18;
export const VM_PGSTEAL_DIRECT: u32 = 19;
export const VM_COMPACT_STALL: u32 = 20;
export const VM_COMPACT_MIGRATE_SCANNED: u32 = 21;
export const VM_COMPACT_FREE_SCANNED: u32 = 22;
export const VM_COMPACT_SUCCESS: u32 = 23;
export const VM_COMPACT_FAIL: u32 = 24;
export const VM_PGMIGRATE_SUCCESS: u32 = 25;
export const VM_OOM_KILL: u32 = 26;
export const VM_BALLOON_INFLATE: u32 = 27;
export const VM_BALLOON_DEFLATE: u32 = 28;
export const VM_BALLOON_MIGRATE: u32 = 29;
export const VM_REPORTED_PAGES: u32 = 30; // pages reported to the host (cumulative)
export const VM_REPORT_CALLS: u32 = 31; // report() calls (cumulative)
export const VM_HINTED_BLOCKS: u32 = 32; // hinted blocks (cumulative)
export const VM_WORKINGSET_REFAULT: u32 = 33;
export const VM_PGMAJFAULT: u32 = 34;
export const VM_KSWAPD_WAKE: u32 = 35;
export const VM_DROP_PAGECACHE: u32 = 36;
export const VM_FAULT_REFUSED: u32 = 37; // accesses the host refused (unplugged, ...)
export const VM_EXTFRAG_FAILS: u32 = 38; // fallback allocations that mixed pageblocks
export const NR_VMSTAT: u32 = 128;

// Timer ids the guest arms through timer_arm (guest kernel delayed work, design §3).
export const TIMER_PAGE_REPORTING: u32 = 1; // mm/page_reporting.c PAGE_REPORTING_DELAY
export const TIMER_KCOMPACTD: u32 = 2; // HPAGE_FRAG_CHECK_INTERVAL_MSEC
export const TIMER_BALLOON_WORK: u32 = 3; // virtio-balloon update_balloon_size_func
export const TIMER_BALLOON_STATS: u32 = 4; // virtio-balloon stats work
export const TIMER_VIRTIO_MEM_RETRY: u32 = 5; // virtio-mem retry timer
export const TIMER_KSWAPD: u32 = 6; // kswapd wakeup
export const NR_TIMERS: u32 = 16;

// Virtio transport operations (host.ts virtio_transport). Config space is little-endian; 64-bit
// fields are read as two 32-bit accesses (low word first).
export const VT_DEVICE_ID: u32 = 0; // -> virtio device id (5 balloon, 24 mem, 27 pmem), 0 = empty slot
export const VT_GET_FEATURES: u32 = 1; // a = word (0: bits 0-31, 1: bits 32-63) -> device features
export const VT_SET_FEATURES: u32 = 2; // a = word, b = driver features
export const VT_GET_STATUS: u32 = 3; // -> device status byte
export const VT_SET_STATUS: u32 = 4; // a = status (ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK...)
export const VT_CONFIG_READ: u32 = 5; // a = offset, b = size (1, 2, 4) -> value
export const VT_CONFIG_WRITE: u32 = 6; // a = offset, b = size, c = value
export const VT_QUEUE_SIZE_MAX: u32 = 7; // a = queue index -> max size (0 = no such queue)
export const VT_NUM_QUEUES: u32 = 8; // -> queues the device exposes for the negotiated features
export const NR_VIRTIO_SLOTS: u32 = 8; // device slots per VM

// Device status bits (virtio 1.x §2.1).
export const VIRTIO_STATUS_ACKNOWLEDGE: u32 = 1;
export const VIRTIO_STATUS_DRIVER: u32 = 2;
export const VIRTIO_STATUS_DRIVER_OK: u32 = 4;
export const VIRTIO_STATUS_FEATURES_OK: u32 = 8;
export const VIRTIO_STATUS_NEEDS_RESET: u32 = 64;
export const VIRTIO_STATUS_FAILED: u32 = 128;

// Virtio device ids.
export const VIRTIO_ID_BALLOON: u32 = 5;
export const VIRTIO_ID_MEM: u32 = 24;
export const VIRTIO_ID_PMEM: u32 = 27;

// Boot parameters and tunables (lib/params.ts, set through guest_set_param). Modules add their
// ids here; each names its default and source where it is read.
export const PARAM_MOVABLE_START_PFN: u32 = 0; // first pfn of ZONE_MOVABLE (movablecore=); default: none
export const PARAM_INIT_ON_ALLOC: u32 = 1; // 1 = zero pages on allocation (Debian default init_on_alloc=1)
export const PARAM_MIN_FREE_KBYTES: u32 = 2; // vm.min_free_kbytes override; default from int_sqrt formula
export const PARAM_WATERMARK_SCALE_FACTOR: u32 = 3; // vm.watermark_scale_factor, default 10
export const PARAM_NR_CPUS: u32 = 4; // vCPUs (per-cpu page lists), default 1
export const PARAM_PAGE_REPORTING_ORDER: u32 = 5; // page_reporting.page_reporting_order, default 9
export const PARAM_PAGE_REPORTING_DELAY_MS: u32 = 6; // PAGE_REPORTING_DELAY, default 2000
export const PARAM_PAGE_REPORTING_CAPACITY: u32 = 7; // PAGE_REPORTING_CAPACITY, default 32
export const PARAM_COMPACTION_PROACTIVENESS: u32 = 8; // vm.compaction_proactiveness, default 20
export const PARAM_EXTFRAG_THRESHOLD: u32 = 9; // vm.extfrag_threshold, default 500
export const PARAM_WATERMARK_BOOST_FACTOR: u32 = 10; // vm.watermark_boost_factor, default 15000
export const NR_PARAMS: u32 = 64;

// ---------------------------------------------------------------------------------------------
// Virtio transport, appended by drivers/virtqueue.ts + host/virtio/ (docs/design/virtio.md).
// Split virtqueue wire format, virtio 1.x §2.7; feature bits §6 (reserved range 24..40).
export const VT_CONFIG_GENERATION: u32 = 9; // -> config generation (bumped on every device-side change)
export const VIRTQ_DESC_F_NEXT: u32 = 1; // buffer continues via the `next` field
export const VIRTQ_DESC_F_WRITE: u32 = 2; // device-writable (else device-readable)
export const VIRTQ_DESC_F_INDIRECT: u32 = 4; // buffer holds a table of descriptors
export const VIRTQ_AVAIL_F_NO_INTERRUPT: u32 = 1; // driver: do not interrupt me (a hint)
export const VIRTQ_USED_F_NO_NOTIFY: u32 = 1; // device: do not kick me (a hint)
export const VIRTQ_DESC_SIZE: u32 = 16; // le64 addr, le32 len, le16 flags, le16 next
export const VIRTQ_DESC_ALIGN: u32 = 16; // §2.7: descriptor table alignment
export const VIRTQ_AVAIL_ALIGN: u32 = 2; // §2.7: available ring alignment
export const VIRTQ_USED_ALIGN: u32 = 4; // §2.7: used ring alignment
export const VIRTQ_MAX_SIZE: u32 = 32768; // §2.7: split queue size is a power of 2, at most 32768
export const VIRTIO_RING_F_INDIRECT_DESC: u32 = 28; // feature bit: indirect descriptor tables
export const VIRTIO_RING_F_EVENT_IDX: u32 = 29; // feature bit: used_event / avail_event suppression
export const VIRTIO_F_VERSION_1: u32 = 32; // feature bit: modern (1.x) device, always required here
export const VIRTIO_ID_TEST_SUM: u32 = 0xfff0; // not a real virtio id: the test "sum" device (tests/)

// ---------------------------------------------------------------------------------------------
// Page allocator (mm/zone.ts, mm/buddy.ts, mm/pcp.ts, mm/page_alloc.ts): appended block.
/** Pageblock byte bits 4-5: the zone the pageblock belongs to (page_zonenum() of its pages). */
export const PB_ZONE_SHIFT: u8 = 4;
export const PB_ZONE_MASK: u8 = 0x30;
/** First pfn not present at boot (frames above are left for memory hotplug); default: all frames. */
export const PARAM_BOOT_END_PFN: u32 = 24;
// Free-path flags (FPI_*, mm/page_alloc.c).
export const FPI_NONE: u32 = 0;
export const FPI_SKIP_REPORT_NOTIFY: u32 = 1; // do not notify free page reporting
export const FPI_TO_TAIL: u32 = 2; // put the freed block at the tail of its free list
// Watermark ids (enum zone_watermarks).
export const WMARK_MIN: u32 = 0;
export const WMARK_LOW: u32 = 1;
export const WMARK_HIGH: u32 = 2;
/** PAGE_ALLOC_COSTLY_ORDER: larger requests never trigger the OOM killer; pcp lists serve <= it. */
export const PAGE_ALLOC_COSTLY_ORDER: u32 = 3;
// mm_zone_info field ids.
export const ZI_START_PFN: u32 = 0;
export const ZI_END_PFN: u32 = 1; // exclusive
export const ZI_MANAGED: u32 = 2;
export const ZI_FREE: u32 = 3; // NR_FREE_PAGES of the zone (buddy only, no pcp, no ISOLATE)
export const ZI_WMARK_MIN: u32 = 4;
export const ZI_WMARK_LOW: u32 = 5;
export const ZI_WMARK_HIGH: u32 = 6;
export const ZI_WMARK_BOOST: u32 = 7;
export const ZI_PCP_BATCH: u32 = 8;
export const ZI_PCP_HIGH: u32 = 9;
export const ZI_PCP_COUNT: u32 = 10; // pages on the pcp lists of all cpus for the zone
export const ZI_MIN_FREE_KBYTES: u32 = 11; // global min_free_kbytes (same for every zone)
export const ZI_RESERVED_HIGHATOMIC: u32 = 12; // nr_reserved_highatomic (pages)
export const ZI_FREE_HIGHATOMIC: u32 = 13; // nr_free_highatomic: free pages on HIGHATOMIC lists
// mm_validate results: 0 = ok, else the first broken invariant found.
export const MMV_OK: i32 = 0;
export const MMV_LIST_LINKS: i32 = 1; // free-list next/prev/count inconsistent
export const MMV_FREE_HEAD: i32 = 2; // list entry is not a PG_BUDDY PT_FREE head of that order/mt
export const MMV_NR_FREE: i32 = 3; // nr_free[order] != entries on the order's lists
export const MMV_FREE_BODY: i32 = 4; // frame inside a free block is not plain PT_FREE
export const MMV_STRAY_FREE: i32 = 5; // PT_FREE / PG_BUDDY frame outside every free block
export const MMV_UNMERGED: i32 = 6; // two free buddies of the same order below pageblock order, unmerged
export const MMV_PAGEBLOCK: i32 = 7; // free block on a list whose mt differs from its pageblock
export const MMV_ZONE: i32 = 8; // free block outside its zone's span or zone tag
export const MMV_PCP: i32 = 9; // pcp list entry / count inconsistent
export const MMV_COUNTERS: i32 = 10; // zone free / managed / vmstat counters disagree

// ---------------------------------------------------------------------------------------------
// virtio-balloon (drivers/virtio_balloon.ts, host/virtio/balloon/): appended block.
// Feature bits (include/uapi/linux/virtio_balloon.h; reference/virtio-balloon.md §1.2).
export const VIRTIO_BALLOON_F_MUST_TELL_HOST: u32 = 0; // tell host before reusing deflated pages
export const VIRTIO_BALLOON_F_STATS_VQ: u32 = 1; // stats queue exists
export const VIRTIO_BALLOON_F_DEFLATE_ON_OOM: u32 = 2; // deflate on OOM without a num_pages change
export const VIRTIO_BALLOON_F_FREE_PAGE_HINT: u32 = 3; // free_page_vq + free_page_hint_cmd_id
export const VIRTIO_BALLOON_F_PAGE_POISON: u32 = 4; // poison_val valid
export const VIRTIO_BALLOON_F_REPORTING: u32 = 5; // reporting_vq exists
/** Balloon page unit: always 4 KiB (VIRTIO_BALLOON_PFN_SHIFT, SPEC). */
export const VIRTIO_BALLOON_PFN_SHIFT: u32 = 12;
/** PFNs per inflate/deflate request: VIRTIO_BALLOON_ARRAY_PFNS_MAX (DRV) = 1 MiB. */
export const VIRTIO_BALLOON_ARRAY_PFNS_MAX: u32 = 256;
/** Pages released per OOM notifier call: VIRTIO_BALLOON_OOM_NR_PAGES (DRV) = 1 MiB. */
export const VIRTIO_BALLOON_OOM_NR_PAGES: u32 = 256;
/** "Out of puff" back-off after a failed balloon allocation: msleep(200) in fill_balloon (DRV). */
export const VIRTIO_BALLOON_OUT_OF_PUFF_MS: u32 = 200;
// Config space offsets (all le32, SPEC §1.1).
export const VIRTIO_BALLOON_CFG_NUM_PAGES: u32 = 0; // device: target in 4 KiB pages
export const VIRTIO_BALLOON_CFG_ACTUAL: u32 = 4; // driver: pages in the balloon
export const VIRTIO_BALLOON_CFG_FREE_PAGE_HINT_CMD_ID: u32 = 8; // device: hint command id (F_FREE_PAGE_HINT)
export const VIRTIO_BALLOON_CFG_POISON_VAL: u32 = 12; // driver, before DRIVER_OK (F_PAGE_POISON)
// Free page hint command ids (SPEC §5.1).
export const VIRTIO_BALLOON_CMD_ID_STOP: u32 = 0;
export const VIRTIO_BALLOON_CMD_ID_DONE: u32 = 1;
// Queues in spec order; the transport index is compacted over negotiated ones (virtioQueueIndex).
export const BALLOON_VQ_INFLATE: u32 = 0;
export const BALLOON_VQ_DEFLATE: u32 = 1;
export const BALLOON_VQ_STATS: u32 = 2;
export const BALLOON_VQ_FREE_PAGE: u32 = 3;
export const BALLOON_VQ_REPORTING: u32 = 4;
// Stats tags (UAPI; 10-15 since Linux 6.12). Entry = packed {le16 tag; le64 val} = 10 bytes.
export const VIRTIO_BALLOON_S_SWAP_IN: u32 = 0; // bytes swapped in
export const VIRTIO_BALLOON_S_SWAP_OUT: u32 = 1; // bytes swapped out
export const VIRTIO_BALLOON_S_MAJFLT: u32 = 2; // major faults (count)
export const VIRTIO_BALLOON_S_MINFLT: u32 = 3; // all faults (count)
export const VIRTIO_BALLOON_S_MEMFREE: u32 = 4; // MemFree, bytes
export const VIRTIO_BALLOON_S_MEMTOT: u32 = 5; // MemTotal, bytes
export const VIRTIO_BALLOON_S_AVAIL: u32 = 6; // MemAvailable, bytes
export const VIRTIO_BALLOON_S_CACHES: u32 = 7; // NR_FILE_PAGES, bytes
export const VIRTIO_BALLOON_S_HTLB_PGALLOC: u32 = 8; // hugetlb allocations (count)
export const VIRTIO_BALLOON_S_HTLB_PGFAIL: u32 = 9; // hugetlb allocation failures (count)
export const VIRTIO_BALLOON_S_OOM_KILL: u32 = 10; // OOM kills (count)
export const VIRTIO_BALLOON_S_ALLOC_STALL: u32 = 11; // allocation stalls (count)
export const VIRTIO_BALLOON_S_ASYNC_SCAN: u32 = 12; // kswapd scanned, bytes
export const VIRTIO_BALLOON_S_DIRECT_SCAN: u32 = 13; // direct reclaim scanned, bytes
export const VIRTIO_BALLOON_S_ASYNC_RECLAIM: u32 = 14; // kswapd reclaimed, bytes
export const VIRTIO_BALLOON_S_DIRECT_RECLAIM: u32 = 15; // direct reclaim reclaimed, bytes
export const VIRTIO_BALLOON_S_NR: u32 = 16;
export const VIRTIO_BALLOON_STAT_BYTES: u32 = 10;
/** PAGE_POISON (include/linux/poison.h) replicated into 4 bytes: poison_val without init_on_free. */
export const VIRTIO_BALLOON_POISON_VAL: u32 = 0xaaaaaaaa;
// Guest boot parameters of the balloon's validate() rules (Linux cmdline init_on_free=, page_poison=).
export const PARAM_INIT_ON_FREE: u32 = 40; // 1 = init_on_free: poison_val 0; default 0
export const PARAM_PAGE_POISONING: u32 = 41; // 1 = page_poison=1: poison_val 0xaaaaaaaa; default 0
// Balloon vmstat counters (indices 96-103 reserved for the balloon driver).
export const VM_BALLOON_OOM_DEFLATE: u32 = 96; // pages released by the deflate-on-OOM notifier
export const VM_BALLOON_OOM_NOTIFY: u32 = 97; // OOM notifier calls that released pages
export const VM_BALLOON_REINFLATE: u32 = 98; // pages inflated again after an OOM deflate (ping-pong)
export const VM_BALLOON_OUT_OF_PUFF: u32 = 99; // fill_balloon allocation failures (200 ms back-off)
export const VM_BALLOON_STATS_UPDATES: u32 = 100; // stats buffers the stats work filled
export const VM_BALLOON_REQUESTS: u32 = 101; // inflate + deflate requests (virtqueue round trips)

// ---------------------------------------------------------------------------------------------
// Owners, page cache, reclaim, compaction, OOM and workloads (mm/process.ts, mm/pagecache.ts,
// mm/slab.ts, mm/vmscan.ts, mm/kswapd.ts, mm/compaction.ts, mm/kcompactd.ts, mm/oom.ts,
// workload/): appended block. vmstat ids 64..95 are reserved for this block.
/** Processes with anonymous memory (a small task table; pid = index). */
export const NR_PROCS: u32 = 16;
/** Files whose pages can sit in the page cache (file id = index). */
export const NR_FILES: u32 = 16;
/**
 * PG_ACTIVE: the file page is on its file's active LRU list. Shares bit 0x20 with PG_REPORTED,
 * which only free buddy heads carry; PG_ACTIVE only allocated PT_FILE pages.
 */
export const PG_ACTIVE: u8 = 0x20;
/** SWAP_CLUSTER_MAX (include/linux/swap.h): reclaim batch, pages. */
export const SWAP_CLUSTER_MAX: u32 = 32;
/** COMPACT_CLUSTER_MAX (= SWAP_CLUSTER_MAX): pages isolated per migrate batch. */
export const COMPACT_CLUSTER_MAX: u32 = 32;
/** mm_drop_caches modes (/proc/sys/vm/drop_caches). */
export const DROP_PAGECACHE: u32 = 1;
export const DROP_SLAB: u32 = 2;
// More vmstat counters (names as /proc/vmstat).
export const VM_DROP_SLAB: u32 = 64; // drop_slab: times slab was dropped
export const VM_PGMIGRATE_FAIL: u32 = 65;
export const VM_COMPACT_ISOLATED: u32 = 66;
export const VM_KCOMPACTD_WAKE: u32 = 67; // kcompactd checks (timer fires) that did work
export const VM_NR_WRITTEN: u32 = 68; // file pages written back
export const VM_SLABS_SCANNED: u32 = 69;
export const VM_PGACTIVATE: u32 = 70;
export const VM_PGDEACTIVATE: u32 = 71;
export const VM_PAGEOUTRUN: u32 = 72; // kswapd balance runs
export const VM_PGINODESTEAL: u32 = 73; // pages freed by drop_caches (model: all invalidated pages)
export const VM_COMPACT_DAEMON_WAKE: u32 = 74; // proactive compaction runs of kcompactd
export const VM_PGREFILL: u32 = 75; // active-list pages scanned
/** mm_compact_stats ids: last compaction run. */
export const CS_MIGRATED: u32 = 0;
export const CS_MIGRATE_SCANNED: u32 = 1;
export const CS_FREE_SCANNED: u32 = 2;
export const CS_RESULT: u32 = 3; // COMPACT_* below
// compact_result (include/linux/compaction.h, reduced).
export const COMPACT_SKIPPED: i32 = 1; // not suitable (watermark, fragmentation index)
export const COMPACT_DEFERRED: i32 = 2;
export const COMPACT_COMPLETE: i32 = 3; // scanners met
export const COMPACT_PARTIAL_SKIPPED: i32 = 4; // no free target pages left
export const COMPACT_SUCCESS: i32 = 5; // a suitable block exists / proactive score reached
/** Proc id "none" (mm_oom_victim before any kill). */
export const NO_PROC: i32 = -1;

// ---------------------------------------------------------------------------------------------
// Free page reporting and hinting (mm/page_reporting.ts, drivers/balloon_reporting.ts,
// drivers/balloon_hinting.ts): appended block. vmstat ids 104..111 are reserved for it.
// enum page_reporting_state (mm/page_reporting.c).
export const PAGE_REPORTING_IDLE: u32 = 0;
export const PAGE_REPORTING_REQUESTED: u32 = 1; // a pass is scheduled (or wanted after the current one)
export const PAGE_REPORTING_ACTIVE: u32 = 2; // a pass is running
/** Delayed work report_free_page_work of virtio-balloon (queued on a config change, 0 delay). */
export const TIMER_FREE_PAGE_HINT: u32 = 7;
export const VM_REPORT_FAILS: u32 = 104; // report() calls the device failed (pages returned unmarked)
export const VM_HINT_RUNS: u32 = 105; // hinting runs started (START id sent)
export const VM_HINT_RETURNED_BLOCKS: u32 = 106; // held hint blocks given back (DONE, shrinker, remove)
export const VM_HINT_VQ_FULL: u32 = 107; // blocks freed at once because only the STOP slot was left
export const VM_HINT_SHRINK_CALLS: u32 = 108; // hint shrinker scans that freed something
/** GFP modifier: no kswapd wake either (no __GFP_KSWAPD_RECLAIM: free page hinting's flags have no GFP base). */
export const GFP_NOKSWAPD: u32 = 0x1000;

// ---------------------------------------------------------------------------------------------
// Host-owned per-frame region (host/memory/, docs/design/host-memory.md): appended block.
// guest_init reserves and zeroes it once, next to the per-frame arrays, so that the host's state
// per frame lives in the sized-once linear memory and is read through typed views; the guest
// never touches it afterwards. Layout from LAYOUT_HOSTMETA on (u32 arrays first, for alignment):
//
//   dirty      u32[ceil(frames/32)]  KVM-style dirty log bitmap, bit (pfn & 31) of word pfn >> 5
//   discarded  u32[ceil(frames/32)]  discarded by the host and not touched since (refaults)
//   wp         u8[ceil(frames/2)]    write-protect reason bits, a nibble per frame: pfn's are
//                                    bits 4*(pfn & 1).. of byte pfn >> 1 (host/memory/write_protect.ts)
//
// = 0.75 bytes per frame. The trap handler id lives in hstate's top bits (HS_TRAP_ID_*).
export const LAYOUT_HOSTMETA: u32 = 0x2c; // linear address of the host region
export const LAYOUT_HOSTMETA_BYTES: u32 = 0x30; // its size in bytes, as reserved by the guest
export const HOSTMETA_BITMAPS: u32 = 2; // dirty, discarded: one bit per frame each
export const HOSTMETA_NIBBLE_ARRAYS: u32 = 1; // wp: four bits per frame, two frames per byte
export const WP_REASON_BITS: u32 = 4; // write-protect reasons per VM: one bit each in the nibble
