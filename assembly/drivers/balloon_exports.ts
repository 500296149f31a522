// SPDX-License-Identifier: MIT
// virtio-balloon driver exports (drivers/virtio_balloon.ts): probe/remove, driver state for
// tests and probes. The size work, stats work and OOM notifier run inside the guest on their own.

import { OK, E_BUSY, E_STATE } from "../abi";
import { isolateMovablePage, migratePage, putbackMovablePage } from "../mm/migrate";
import { balloonMovableOpsRegistered } from "./balloon_compaction";
import {
  balloonProbe, balloonRemove, balloonNumPages, balloonListHead, balloonListCount, balloonQueueIndex,
  balloonPoisonVal, balloonOomNotify, fillBalloon, leakBalloon, balloonSlot,
  balloonInjectBadPfns, balloonInjectDoubleInflate, balloonInjectCorruptDescriptor,
} from "./virtio_balloon";

/** Binds the balloon driver to the device in `slot`. Called by the host once after plugging it. */
export function balloon_probe(slot: u32): i32 { return balloonProbe(slot); }

/** Unbinds the driver: leaks the whole balloon (telling the host) and resets. Returns pages freed. */
export function balloon_remove(): u32 { return balloonRemove(); }

/** Pages in the balloon (vb->num_pages, 4 KiB units). */
export function balloon_num_pages(): u32 { return balloonNumPages(); }

/** Head of the balloon page list (most recently inflated); NIL when empty. Walk with the `next` view. */
export function balloon_list_head(): u32 { return balloonListHead(); }

/** Pages on the balloon list. */
export function balloon_list_count(): u32 { return balloonListCount(); }

/** Transport index of balloon queue `name` (abi BALLOON_VQ_*) under the negotiated features, -1 if absent. */
export function balloon_queue_index(name: u32): i32 { return balloonQueueIndex(name); }

/** poison_val the driver wrote at probe (0 if not negotiated). */
export function balloon_poison_val(): u32 { return balloonPoisonVal(); }

/** Test hook: one deflate-on-OOM notifier call as out_of_memory() makes it; returns pages freed. */
export function balloon_oom_notify(): u32 { return balloonOomNotify(0, 0); }

/** Test hook: one fill_balloon / leak_balloon batch outside the size work; returns pages moved. */
export function balloon_fill(num: u32): u32 { return fillBalloon(num); }
export function balloon_leak(num: u32): u32 { return leakBalloon(num); }

/**
 * Migrates balloon page `oldPfn` to `newPfn` (an allocated order-0 page) through the migration
 * core, as compaction does: isolate, migrate (the old page is freed), putback on failure.
 */
export function balloon_migrate_page(oldPfn: u32, newPfn: u32): i32 {
  if (!balloonMovableOpsRegistered) return E_STATE;
  if (!isolateMovablePage(oldPfn)) return E_BUSY;
  const rc = migratePage(oldPfn, newPfn);
  if (rc != OK) putbackMovablePage(oldPfn);
  return rc;
}

/** Slot the balloon driver is bound to, -1 if none. */
export function balloon_slot(): i32 { return balloonSlot(); }


/**
 * Misbehaviour injection (scenario `crash` actions, hostile-guest tests): one malformed inflate
 * request through the real inflate queue. Each returns what it sent (0: nothing to send) or E_STATE.
 */
export function balloon_inject_bad_pfns(): i32 { return balloonInjectBadPfns(); }
/** Re-inflates the `num` (<= 256) most recently inflated pages. */
export function balloon_inject_double_inflate(num: u32): i32 { return balloonInjectDoubleInflate(num); }
/** An inflate descriptor of 6 bytes (not a multiple of 4). */
export function balloon_inject_corrupt_descriptor(): i32 { return balloonInjectCorruptDescriptor(); }
