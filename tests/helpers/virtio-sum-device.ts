// SPDX-License-Identifier: MIT
// Test fixture: the "sum" device, the smallest useful device on VirtioDevice. requestq: a chain
// of device-readable buffers then >= 8 device-writable bytes; the device writes {le32 byte sum of
// the readable bytes inside the RAM window, le32 readable bytes}. Readable buffers outside the
// window only name a range (like reported blocks): they count in the length, and are recorded.
// eventq (feature SUM_F_EVENTQ): device-driven, the device holds buffers until postEvent().

import { VIRTIO_ID_TEST_SUM, VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC } from "../../host/guest/abi.generated.js";
import type { DescChain, Segment } from "../../host/virtio/chain.js";
import type { ConfigField } from "../../host/virtio/config.js";
import { HOLD, REQUEST_FAILED, VirtioDevice } from "../../host/virtio/device.js";
import type { VirtQueue } from "../../host/virtio/queue.js";

export const SUM_F_EVENTQ = 0;
export const SUM_F_MODE = 1; // makes the `mode` config field meaningful (no queue)
export const SUM_RESP_BYTES = 8;
/** Work per chain, ns (arbitrary: the fixture only needs a nonzero, checkable cost). */
export const SUM_CHAIN_COST_NS = 100;

/** Config layout: offsets chosen to exercise every width and a driver-writable hole. */
export const SUM_CONFIG: readonly ConfigField[] = [
  { name: "requests", offset: 0x00, size: 4 }, // chains served (device)
  { name: "max_segs", offset: 0x04, size: 2 }, // device
  { name: "mode", offset: 0x06, size: 1, driverWritable: true },
  { name: "bytes_summed", offset: 0x08, size: 8 }, // le64, device
  { name: "scratch", offset: 0x10, size: 4, driverWritable: true },
];

export interface SumDeviceOptions {
  readonly maxSize?: number;
  readonly indirect?: boolean;
  readonly eventIdx?: boolean;
  readonly eventq?: boolean;
}

export class SumDevice extends VirtioDevice {
  /** Readable segments outside the RAM window the device saw (named ranges). */
  readonly ranges: Segment[] = [];
  /** eventq chains the device holds (like the balloon stats buffer). */
  private readonly held: DescChain[] = [];
  lastConfigWrite: string | undefined;

  constructor(opts: SumDeviceOptions = {}) {
    const features = [SUM_F_MODE];
    if (opts.eventq ?? true) features.push(SUM_F_EVENTQ);
    if (opts.indirect ?? true) features.push(VIRTIO_RING_F_INDIRECT_DESC);
    if (opts.eventIdx ?? false) features.push(VIRTIO_RING_F_EVENT_IDX);
    super({
      name: "vtsum",
      deviceId: VIRTIO_ID_TEST_SUM,
      features,
      queues: [
        { name: "requestq", maxSize: opts.maxSize ?? 256 },
        { name: "eventq", maxSize: 16, feature: SUM_F_EVENTQ },
      ],
      config: SUM_CONFIG,
      configSize: 0x14,
    });
    this.config.set("max_segs", 64);
  }

  protected override processQueue(q: VirtQueue, name: string): number {
    let chains = 0;
    if (name === "requestq") {
      this.serviceQueue(q, (c) => { chains++; return this.sum(c); });
    } else {
      this.serviceQueue(q, (c) => {
        chains++;
        if (c.readable.length > 0 || c.writableBytes < 4 || !c.writableInWindow(this.mem)) return REQUEST_FAILED;
        this.held.push(c);
        return HOLD;
      });
    }
    return chains * SUM_CHAIN_COST_NS;
  }

  private sum(c: DescChain): number {
    if (c.writableBytes < SUM_RESP_BYTES) return REQUEST_FAILED;
    let sum = 0;
    for (const s of c.readable) {
      if (!this.mem.inWindow(s.gpa, s.len)) {
        this.ranges.push(s);
        continue;
      }
      const b = this.mem.bytes(s.gpa, s.len, false);
      for (let i = 0; i < b.length; i++) sum += b[i];
    }
    const resp = new Uint8Array(SUM_RESP_BYTES);
    const v = new DataView(resp.buffer);
    v.setUint32(0, sum >>> 0, true);
    v.setUint32(4, c.readableBytes >>> 0, true);
    const n = c.writeAll(this.mem, resp);
    if (n < 0) return REQUEST_FAILED;
    this.config.set("requests", (this.config.get("requests") + 1) >>> 0);
    this.config.set("bytes_summed", this.config.get("bytes_summed") + c.readableBytes);
    return n;
  }

  /** Device-driven event: returns one held eventq buffer carrying le32 `value`. */
  postEvent(value: number): boolean {
    const q = this.queue("eventq");
    const c = this.held.shift();
    if (!q || c === undefined || !this.live) return false;
    // write through the segments validated at pop, never re-read the (guest-owned) table
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, value >>> 0, true);
    q.pushUsed(c.head, Math.max(0, c.writeAll(this.mem, v)));
    this.interrupt(q);
    return true;
  }

  get heldEvents(): number { return this.held.length; }

  protected override onConfigWrite(field: ConfigField): void { this.lastConfigWrite = field.name; }
  protected override onReset(): void { this.held.length = 0; }
}
