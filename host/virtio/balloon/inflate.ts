// SPDX-License-Identifier: MIT
// Inflate and deflate queues, device side: PFN arrays parsed and checked, inflated frames
// discarded (host RSS falls) and trapped so that a guest touch without deflating is counted.
// Follows QEMU virtio_balloon_handle_output / balloon_inflate_page (PartiallyBalloonedPage, one
// per request) and Firecracker process_inflate_queue (buffer <= 2048 PFNs, sort, dedup, ranges).
// Model: a touch of an inflated frame is allowed (zero page refault, as on KVM) but counted.

import type { DescChain } from "../chain.js";
import type { TrapHandler } from "../../memory/guest_memory.js";
import { REQUEST_FAILED } from "../device.js";
import type { VirtioBalloon } from "./device.js";
import type { VirtQueue } from "../queue.js";

/** VIRTIO_BALLOON_ARRAY_PFNS_MAX / Firecracker MAX_PAGES_IN_DESC: PFNs in one descriptor chain. */
export const MAX_PAGES_IN_DESC = 256;
/** Firecracker MAX_PAGE_COMPACT_BUFFER: PFNs gathered before sorting and discarding. */
export const MAX_PAGE_COMPACT_BUFFER = 2048;

/** A run of consecutive PFNs [pfn, pfn + count). */
export interface PfnRange {
  readonly pfn: number;
  readonly count: number;
}

/**
 * Firecracker compact_page_frame_numbers: sorts, removes duplicates, and merges consecutive PFNs
 * into ranges. Pure; `pfns` is not modified.
 */
export function compactPfns(pfns: readonly number[]): PfnRange[] {
  const s = Uint32Array.from(pfns).sort();
  const out: PfnRange[] = [];
  let start = -1;
  let prev = -1;
  for (const p of s) {
    if (p === prev) continue;
    if (p === prev + 1 && start >= 0) { prev = p; continue; }
    if (start >= 0) out.push({ pfn: start, count: prev - start + 1 });
    start = prev = p;
  }
  if (start >= 0) out.push({ pfn: start, count: prev - start + 1 });
  return out;
}

export class InflateEngine {
  /** 1 for each frame the guest inflated and has not deflated (as the device saw it). */
  private inflated: Uint8Array;
  /** Frames currently inflated. */
  inflatedPages = 0;
  /** Firecracker PFN buffer (coalesce mode), flushed at the end of each kick or when full. */
  private buffer: number[] = [];
  /** The trap handler: counts the touch, then lets it through (refault of a zero page). */
  private readonly onTouch: TrapHandler;

  constructor(private readonly dev: VirtioBalloon) {
    this.inflated = new Uint8Array(dev.guestMemory.frames);
    this.onTouch = () => {
      this.dev.bump("inflated_touch_count");
      return 0;
    };
  }

  isInflated(pfn: number): boolean { return this.inflated[pfn] === 1; }

  /** Frames inflated now, in ascending order (tests, probes). */
  inflatedPfns(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.inflated.length; p++) if (this.inflated[p]) out.push(p);
    return out;
  }

  /** Device reset: the guest owns all its memory again; traps go, discards stay. */
  reset(): void {
    const mem = this.dev.guestMemory;
    for (let p = 0; p < this.inflated.length; p++) {
      if (this.inflated[p]) { this.inflated[p] = 0; if (mem.isTrapped(p)) mem.untrap(p, 1); }
    }
    this.inflatedPages = 0;
    this.buffer = [];
  }

  /**
   * The PFN array of one request, or undefined (counted in `<kind>_fails`) if the chain breaks
   * Firecracker's rules: device-writable buffers, a length not a multiple of 4 bytes, more
   * than 256 PFNs, or bytes outside the RAM window.
   */
  private parse(chain: DescChain, kind: "inflate" | "deflate"): Uint32Array | undefined {
    const len = chain.readableBytes;
    const bad = chain.writable.length > 0 || chain.readable.length === 0 || len % 4 !== 0 || len / 4 > MAX_PAGES_IN_DESC;
    const bytes = bad ? undefined : chain.readAll(this.dev.deviceMemory);
    if (!bytes) {
      this.dev.bump(`${kind}_fails`);
      return undefined;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Uint32Array(len / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getUint32(4 * i, true); // le32 PFNs (SPEC)
    return out;
  }

  /** True if `pfn` may be ballooned; counts PFNs outside guest RAM or in pinned vring memory. */
  private acceptable(pfn: number): boolean {
    const mem = this.dev.guestMemory;
    if (pfn >= mem.frames || mem.isPinned(pfn)) {
      this.dev.bump("pfn_fails");
      return false;
    }
    return true;
  }

  /** Serves a kick of the inflate queue; returns the device's work in ns (discards). */
  processInflate(q: VirtQueue): number {
    let work = 0;
    const coalesce = this.dev.options.discard === "coalesce";
    this.dev.serviceChains(q, (chain) => {
      const pfns = this.parse(chain, "inflate");
      if (!pfns) return REQUEST_FAILED;
      this.dev.bump("inflate_count");
      const ok: number[] = [];
      let twice = 0;
      for (const pfn of pfns) {
        if (!this.acceptable(pfn)) continue;
        if (this.inflated[pfn]) twice++;
        else { this.inflated[pfn] = 1; this.inflatedPages++; }
        ok.push(pfn);
      }
      this.dev.guestMemory.trapEach(ok, this.onTouch);
      if (twice > 0) this.dev.bump("inflate_twice_pfns", twice);
      this.dev.bump("inflate_pfns", ok.length);
      if (coalesce) {
        if (this.buffer.length + ok.length > MAX_PAGE_COMPACT_BUFFER) work += this.flush();
        this.buffer.push(...ok);
      } else {
        work += this.discardPerPfn(ok);
      }
      return 0; // used len 0, as QEMU/Firecracker/CH
    });
    if (coalesce) work += this.flush();
    return work;
  }

  /** Firecracker: sorted, deduplicated ranges, one discard (MADV_DONTNEED) each. */
  private flush(): number {
    if (this.buffer.length === 0) return 0;
    let work = 0;
    for (const r of compactPfns(this.buffer)) work += this.discard(r.pfn, r.count);
    this.buffer = [];
    return work;
  }

  /**
   * QEMU balloon_inflate_page: 4 KiB host pages are discarded one PFN at a time; larger host
   * pages through one PartiallyBalloonedPage per request, discarded only when every 4 KiB
   * subpage was named (a PFN in another host page drops it). A request holds <= 256 PFNs, so a
   * 2 MiB host page is never completed.
   */
  private discardPerPfn(pfns: readonly number[]): number {
    const hpf = this.dev.guestMemory.hostPageFrames;
    let work = 0;
    if (hpf === 1) {
      const r = this.dev.guestMemory.discardEach(pfns);
      this.dev.bump("freed_bytes", r.freedPages * 4096);
      this.dev.bump("discard_calls", pfns.length);
      return r.costNs;
    }
    let base = -1;
    let seen = new Uint8Array(hpf);
    let n = 0;
    for (const p of pfns) {
      const b = p - (p % hpf);
      if (b !== base) { base = b; seen = new Uint8Array(hpf); n = 0; } // virtio_balloon_pbp_free + alloc
      if (!seen[p - b]) { seen[p - b] = 1; n++; }
      if (n === hpf) { work += this.discard(b, hpf); base = -1; }
    }
    return work;
  }

  private discard(pfn: number, count: number): number {
    const r = this.dev.guestMemory.discard(pfn, count);
    this.dev.bump("freed_bytes", r.freedPages * 4096);
    this.dev.bump("discard_calls");
    return r.costNs;
  }

  /** Serves a kick of the deflate queue: an ack (QEMU MADV_WILLNEED is only a prefetch hint). */
  processDeflate(q: VirtQueue): number {
    this.dev.serviceChains(q, (chain) => {
      const pfns = this.parse(chain, "deflate");
      if (!pfns) return REQUEST_FAILED;
      this.dev.bump("deflate_count");
      const ok: number[] = [];
      let unknown = 0;
      for (const pfn of pfns) {
        if (!this.acceptable(pfn)) continue;
        if (this.inflated[pfn]) {
          this.inflated[pfn] = 0;
          this.inflatedPages--;
        } else unknown++;
        ok.push(pfn);
      }
      this.dev.guestMemory.untrapEach(ok);
      if (unknown > 0) this.dev.bump("deflate_unknown_pfns", unknown);
      this.dev.bump("deflate_pfns", ok.length);
      return 0;
    });
    return 0;
  }
}
