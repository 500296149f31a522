// SPDX-License-Identifier: MIT
// Test harness: a guest (tests/helpers/guest.ts) whose virtio exits go to a real VirtioBus, and an
// InterruptSink that queues interrupts until deliver() enters the guest with them (as the VM
// schedules guest entries). Stands in for host/vm.ts, which the virtio tests do not depend on.

import type { Guest } from "../../host/guest/guest.js";
import { VirtioBus } from "../../host/virtio/bus.js";
import type { InterruptSink, VirtioBusLike } from "../../host/virtio/port.js";
import { newGuest } from "./guest.js";

export interface PendingIrq {
  readonly dev: number;
  /** Queue index, or -1 for a config change. */
  readonly queue: number;
}

export class QueuedSink implements InterruptSink {
  readonly pending: PendingIrq[] = [];
  interrupts = 0;
  configChanges = 0;
  interrupt(dev: number, queue: number): void { this.interrupts++; this.pending.push({ dev, queue }); }
  configChanged(dev: number): void { this.configChanges++; this.pending.push({ dev, queue: -1 }); }
}

export interface VirtioHarness {
  readonly guest: Guest;
  readonly bus: VirtioBus;
  readonly sink: QueuedSink;
  /** Enters the guest once per queued interrupt; returns how many were delivered. */
  deliver(): number;
}

/** Routes the guest's virtio imports to `bus` (any VirtioBusLike: the real bus or a mock device). */
export function routeVirtio(imports: ReturnType<typeof newGuest>["imports"], bus: () => VirtioBusLike): void {
  imports.virtioNotify = (d, q) => bus().notify(d, q);
  imports.virtioTransport = (d, op, a, b, c) => bus().transport(d, op, a, b, c);
  imports.virtioQueueSetup = (d, q, s, de, av, us) => bus().queueSetup(d, q, s, de, av, us);
}

/** A fresh guest of `mib` MiB with a real VirtioBus behind its transport exits. */
export function newVirtioHarness(mib = 16, opts: { notifyExitNs?: number } = {}): VirtioHarness {
  const { guest, imports } = newGuest(mib);
  const sink = new QueuedSink();
  const bus = new VirtioBus(() => guest, sink, opts);
  routeVirtio(imports, () => bus);
  return {
    guest, bus, sink,
    deliver() {
      let n = 0;
      while (sink.pending.length > 0) {
        const p = sink.pending.shift()!;
        if (p.queue < 0) guest.exports.virtio_config_changed(p.dev);
        else guest.exports.virtio_interrupt(p.dev, p.queue);
        n++;
      }
      return n;
    },
  };
}

/** Deterministic PRNG for tests (mulberry32): same seed, same sequence; printed by tests. */
export function testRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
