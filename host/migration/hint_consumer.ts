// SPDX-License-Identifier: MIT
// A stand-in for pre-copy live migration as the consumer of free page hints, until migration
// lands: a migration bitmap (1 = page still to send; all ones at setup, the bulk stage), hinted
// ranges clear their bits (qemu_guest_free_page_hint), and a bitmap sync pulls the VM's dirty log
// back in so that a page written after its hint is sent again (migration_bitmap_sync).
// Follows QEMU migration/ram.c. Model: no clear_bmap chunk bookkeeping; sync clears the dirty
// log of every chunk that had bits (KVM_CLEAR_DIRTY_LOG), re-protecting those frames.

import type { GuestMemory } from "../memory/guest_memory.js";
import type { HintConsumer } from "../virtio/balloon/hinting.js";

/** One hinted range as the consumer received it. */
export interface HintedRange {
  readonly pfn: number;
  readonly frames: number;
  readonly cmdId: number;
}

export class MigrationHintConsumer implements HintConsumer {
  /** 1 byte per frame: 1 = the page must (still) be sent. */
  readonly bmap: Uint8Array;
  /** Every range received, in order. */
  readonly ranges: HintedRange[] = [];
  /** Bits cleared by hints (QEMU subtracts these from migration_dirty_pages). */
  hintClearedPages = 0;
  runsStarted = 0;
  runsStopped = 0;
  private dirtyPages: number;

  constructor(private readonly memory: GuestMemory) {
    this.bmap = new Uint8Array(memory.frames).fill(1);
    this.dirtyPages = memory.frames;
  }

  /** Migration setup: dirty logging on before any hinting run (QEMU ram_init_bitmaps). */
  startDirtyLog(): number { return this.memory.startDirtyLog(); }

  runStarted(): void { this.runsStarted++; }
  runStopped(): void { this.runsStopped++; }

  hint(pfn: number, frames: number, cmdId: number): void {
    this.ranges.push({ pfn, frames, cmdId });
    const end = Math.min(pfn + frames, this.bmap.length);
    let n = 0;
    for (let f = pfn; f < end; f++) if (this.bmap[f]) { this.bmap[f] = 0; n++; }
    this.hintClearedPages += n;
    this.dirtyPages -= n;
  }

  /** migration_bitmap_sync: dirty-log bits into the bitmap, then the log cleared and re-armed. */
  sync(): number {
    const mem = this.memory;
    if (!mem.dirty.active) return 0;
    let added = 0;
    for (let c = 0; c < mem.dirty.chunks; c++) {
      const [first, end] = mem.dirty.chunkRange(c);
      let any = false;
      for (let f = first; f < end; f++) {
        if (mem.dirty.test(f)) {
          any = true;
          if (!this.bmap[f]) { this.bmap[f] = 1; added++; }
        }
      }
      if (any) mem.clearDirtyLog(c);
    }
    this.dirtyPages += added;
    return added;
  }

  /** Pages the migration would still send. */
  get pagesToSend(): number { return this.dirtyPages; }

  /** True if frame `pfn` is marked to be sent. */
  willSend(pfn: number): boolean { return this.bmap[pfn] === 1; }
}
