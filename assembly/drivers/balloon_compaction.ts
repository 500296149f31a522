// SPDX-License-Identifier: MIT
// Balloon compaction glue: registers the movable operations of balloon pages (PT_BALLOON) with
// the migration core, so compaction can move ballooned frames and still build 2 MiB blocks
// around the balloon. Follows mm/balloon_compaction.c (balloon_mops). The operations live in
// drivers/virtio_balloon.ts (virtballoon_migratepage needs the driver's queues and lock).

import { PT_BALLOON } from "../abi";
import { registerMovableOps } from "../mm/migrate";
import { balloonIsolatePage, balloonMigratePage, balloonPutbackPage } from "./virtio_balloon";

/** True once PT_BALLOON's movable_operations are registered (at instantiation). */
export const balloonMovableOpsRegistered: bool = registerMovableOps(PT_BALLOON, balloonIsolatePage, balloonMigratePage, balloonPutbackPage);
