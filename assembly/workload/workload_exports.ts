// SPDX-License-Identifier: MIT
// In-guest workloads, one step per export; whole loops run inside wasm and the guest clock
// measures their simulated cost (the host reads guest_elapsed after the call). Contract: the
// host calls them in chunks (at most 16 MiB = 4096 pages per call is the convention) so guest
// timers (kswapd, kcompactd, reporting) can run between chunks; wl_fragment is the exception
// (one call, it must hold everything it allocates). Each returns pages done (short on an
// allocation failure after reclaim/OOM) or a negative abi.ts E_* code. Every call also re-arms
// kcompactd's periodic check (mm/kcompactd.ts).

import { E_INVAL, NR_PROCS, NR_FILES } from "../abi";
import { kcompactdPoke } from "../mm/kcompactd";
import { anonAlloc, anonTouch, anonFree, anonFaultThp } from "./anon";
import { fragment } from "./fragment";
import { procExit, procAnonPages, procKilled } from "../mm/process";
import { fileRead, fileWrite, fileAppend, fileSync, fileTruncate, fileCached, fileDirty, fileActive } from "../mm/pagecache";
import { kernelAlloc, kernelFreeNewest, kernelPages, slabReclaimablePages } from "../mm/slab";

// @ts-ignore: decorator
@inline function badProc(pid: u32): bool { return pid >= NR_PROCS; }
// @ts-ignore: decorator
@inline function badFile(f: u32): bool { return f >= NR_FILES; }

/** Process `proc` faults in `pages` anonymous pages (writes each again if `touch`). */
export function wl_anon_alloc(proc: u32, pages: u32, touch: bool): i32 {
  if (badProc(proc)) return E_INVAL;
  kcompactdPoke();
  return <i32>anonAlloc(proc, pages, touch);
}

/** Process `proc` rewrites `pages` of its pages, newest first, wrapping (content versions bump). */
export function wl_anon_touch(proc: u32, pages: u32): i32 {
  if (badProc(proc)) return E_INVAL;
  kcompactdPoke();
  return <i32>anonTouch(proc, pages);
}

/** Process `proc` unmaps its `pages` newest pages (LIFO, munmap of the top). */
export function wl_anon_free(proc: u32, pages: u32): i32 {
  if (badProc(proc)) return E_INVAL;
  kcompactdPoke();
  return <i32>anonFree(proc, pages);
}

/**
 * Process `proc` faults in `pages` pages as THP faults with their 4 KiB fallback (anon.ts
 * anonFaultThp), written again if `touch`: the scenario runner's anonymous memory. Returns pages
 * done (short: the guest ran out, or `proc` was OOM-killed meanwhile, as wl_proc_killed tells).
 */
export function wl_anon_fault(proc: u32, pages: u32, touch: bool): i32 {
  if (badProc(proc)) return E_INVAL;
  kcompactdPoke();
  return <i32>anonFaultThp(proc, pages, touch);
}

/** Process `proc` exits: all its pages are freed. Returns pages freed. */
export function wl_process_exit(proc: u32): i32 {
  if (badProc(proc)) return E_INVAL;
  kcompactdPoke();
  return <i32>procExit(proc);
}

/** Reads `pages` pages of file `file` through the page cache (misses cost a disk read each). */
export function wl_file_read(file: u32, pages: u32): i32 {
  if (badFile(file)) return E_INVAL;
  kcompactdPoke();
  return <i32>fileRead(file, pages);
}

/** Writes `pages` whole pages of file `file` (dirty page cache; the writer throttles at dirty_ratio). */
export function wl_file_write(file: u32, pages: u32): i32 {
  if (badFile(file)) return E_INVAL;
  kcompactdPoke();
  return <i32>fileWrite(file, pages);
}

/** Appends `pages` new pages to file `file` (dirty page cache; nothing cached is overwritten). */
export function wl_file_append(file: u32, pages: u32): i32 {
  if (badFile(file)) return E_INVAL;
  kcompactdPoke();
  return <i32>fileAppend(file, pages);
}

/** fsync(file): writes back its dirty pages. Returns pages written. */
export function wl_file_sync(file: u32): i32 {
  if (badFile(file)) return E_INVAL;
  kcompactdPoke();
  return <i32>fileSync(file);
}

/** Deletes/truncates file `file`: every cached page (dirty too) is dropped. Returns pages freed. */
export function wl_file_truncate(file: u32): i32 {
  if (badFile(file)) return E_INVAL;
  kcompactdPoke();
  return <i32>fileTruncate(file);
}

/** Allocates `pages` kernel pages: reclaimable slab if `reclaimable`, else unmovable. */
export function wl_kernel_alloc(pages: u32, reclaimable: bool): i32 {
  kcompactdPoke();
  let n: u32 = 0;
  while (n < pages && kernelAlloc(reclaimable, 0) != 0xffffffff) n++;
  return <i32>n;
}

/** Frees `pages` kernel pages, newest unmovable ones first, then reclaimable slab. */
export function wl_kernel_free(pages: u32): i32 {
  kcompactdPoke();
  let n = kernelFreeNewest(false, pages);
  if (n < pages) n += kernelFreeNewest(true, pages - n);
  return <i32>n;
}

/**
 * The fragmenter: allocates up to `pages` order-0 pages (unmovable kernel pages if `unmovable`,
 * else anon pages of `proc`) and frees all but those with pfn % keepEvery == a seeded phase.
 * Returns pages kept.
 */
export function wl_fragment(proc: u32, pages: u32, keepEvery: u32, seed: u32, unmovable: bool): i32 {
  if (badProc(proc) || keepEvery == 0) return E_INVAL;
  kcompactdPoke();
  return <i32>fragment(proc, pages, keepEvery, seed, unmovable);
}

// ---- queries --------------------------------------------------------------------------------

/** Anonymous pages of `proc` (E_INVAL for a bad pid). */
export function wl_proc_anon_pages(proc: u32): i32 { return badProc(proc) ? E_INVAL : <i32>procAnonPages(proc); }
/** Times the OOM killer killed `proc`. */
export function wl_proc_killed(proc: u32): i32 { return badProc(proc) ? E_INVAL : <i32>procKilled(proc); }
/** Cached pages of `file`. */
export function wl_file_cached(file: u32): i32 { return badFile(file) ? E_INVAL : <i32>fileCached(file); }
/** Dirty pages of `file`. */
export function wl_file_dirty(file: u32): i32 { return badFile(file) ? E_INVAL : <i32>fileDirty(file); }
/** Pages of `file` on its active LRU list. */
export function wl_file_active(file: u32): i32 { return badFile(file) ? E_INVAL : <i32>fileActive(file); }
/** Kernel pages held: reclaimable slab if `reclaimable`, else unmovable. */
export function wl_kernel_pages(reclaimable: bool): i32 { return <i32>(reclaimable ? slabReclaimablePages() : kernelPages()); }
