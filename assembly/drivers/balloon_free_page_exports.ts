// SPDX-License-Identifier: MIT
// Host-facing exports of virtio-balloon free page hinting/reporting glue
// (drivers/balloon_hinting.ts, drivers/balloon_reporting.ts): shrinker entry and driver state.

import { hintShrinkScan, hintShrinkCount, hintHeldBlocks, hintCmdIdActive, hintRunning, hintHeldHead } from "./balloon_hinting";
import { balloonReportingBound } from "./balloon_reporting";

/**
 * The hint shrinker's scan_objects: frees held hint blocks covering `pages` 4 KiB pages (rounded
 * up to 4 MiB blocks), as reclaim would under memory pressure. Returns the pages freed.
 */
export function hinting_shrink(pages: u32): u32 { return hintShrinkScan(pages); }

/** The hint shrinker's count_objects: held pages. */
export function hinting_shrink_count(): u32 { return hintShrinkCount(); }

/** Order-10 blocks the driver holds (num_free_page_blocks). */
export function hinting_held_blocks(): u32 { return hintHeldBlocks(); }

/** Most recently held block (head of free_page_list), NIL if none; walk with the `next` view. */
export function hinting_held_head(): u32 { return hintHeldHead(); }

/** cmd_id_active: the id of the last run the driver started (0 before any). */
export function hinting_cmd_id_active(): u32 { return hintCmdIdActive(); }

/** 1 while a run's send loop is in progress (between START and STOP). */
export function hinting_running(): i32 { return hintRunning() ? 1 : 0; }

/** 1 if free page reporting is bound to the balloon's reporting_vq. */
export function balloon_reporting_bound(): i32 { return balloonReportingBound() ? 1 : 0; }
