// Driver side (assembly/drivers/virtqueue.ts, virtio.ts) against the TypeScript mock device.
import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { newGuest } from "../helpers/guest.js";
import { routeVirtio } from "../helpers/virtio-harness.js";
import { MockDevice } from "../helpers/virtio-mock-device.js";

const NIL = 0xffffffff;
const V1_HI = 1 << (abi.VIRTIO_F_VERSION_1 - 32);
const INDIRECT = 1 << abi.VIRTIO_RING_F_INDIRECT_DESC;
const EVENT_IDX = 1 << abi.VIRTIO_RING_F_EVENT_IDX;

function setup(opts: { devLo?: number; drvLo?: number; queueMax?: number[]; size?: number; indirectMax?: number } = {}) {
  const { guest, imports } = newGuest(16);
  const dev = new MockDevice(guest, 0);
  dev.features.lo = opts.devLo ?? 0;
  dev.queueMax = opts.queueMax ?? [8];
  routeVirtio(imports, () => dev);
  const g = guest.exports;
  expect(g.vtest_probe(0, abi.VIRTIO_ID_TEST_SUM, opts.drvLo ?? 0xffffffff, 0)).toBe(0);
  const vq = g.vtest_find_vq(0, 0, opts.size ?? 8, opts.indirectMax ?? 0);
  expect(vq).not.toBe(0);
  expect(g.vtest_driver_ok(0)).toBe(0);
  const buf = (len: number) => g.vtest_ramwin_alloc(len, 16);
  return { guest, dev, g, vq, buf };
}

describe("virtio driver side: the AS driver under the mock device", () => {
  it("probe writes status in §3.1.1 order and negotiates the intersection plus VERSION_1", () => {
    const { dev, g } = setup({ devLo: 0b1011, drvLo: 0b0110 });
    const A = abi.VIRTIO_STATUS_ACKNOWLEDGE, D = abi.VIRTIO_STATUS_DRIVER, F = abi.VIRTIO_STATUS_FEATURES_OK, OK = abi.VIRTIO_STATUS_DRIVER_OK;
    expect(dev.statusWrites).toEqual([0, A, A | D, A | D | F, A | D | F | OK]);
    expect(dev.acked).toEqual({ lo: 0b0010, hi: V1_HI });
    expect(g.vtest_features(0, 0)).toBe(0b0010);
    expect(g.vtest_features(0, 1)).toBe(V1_HI);
  });

  it("probe fails with E_IO and sets FAILED when the device lacks VERSION_1 or refuses FEATURES_OK", () => {
    const { guest, imports } = newGuest(16);
    const dev = new MockDevice(guest, 0);
    routeVirtio(imports, () => dev);
    dev.features.hi = 0;
    expect(guest.exports.vtest_probe(0, 0, 0, 0)).toBe(abi.E_IO);
    expect(dev.status & abi.VIRTIO_STATUS_FAILED).toBeTruthy();
    dev.features.hi = V1_HI;
    dev.refuseFeatures = true;
    expect(guest.exports.vtest_probe(0, 0, 0, 0)).toBe(abi.E_IO);
    expect(dev.status & abi.VIRTIO_STATUS_FAILED).toBeTruthy();
    expect(guest.exports.vtest_probe(0, abi.VIRTIO_ID_BALLOON, 0, 0)).toBe(abi.E_INVAL); // wrong device
    expect(guest.exports.vtest_probe(3, 0, 0, 0)).toBe(abi.E_INVAL); // empty slot
  });

  it("rings are laid out in the RAM window with the spec's alignment; size clamps to the device maximum", () => {
    const { guest, dev, g } = setup({ queueMax: [8, 64] });
    expect(g.vtest_status(0) & abi.VIRTIO_STATUS_DRIVER_OK).toBeTruthy();
    // queue 1 after DRIVER_OK would be refused by a real device; the mock accepts: check layout only
    const vq1 = g.vtest_find_vq(0, 1, 100, 0);
    expect(g.vtest_vq_size(vq1)).toBe(64);
    for (const q of dev.queues.values()) {
      const win = guest.ramwinGpa, end = win + guest.views.ramwin.length;
      expect(q.desc % 16).toBe(0);
      expect(q.avail % 2).toBe(0);
      expect(q.used % 4).toBe(0);
      expect(q.avail).toBe(q.desc + 16 * q.size);
      expect(q.desc >= win && q.used + 6 + 8 * q.size <= end).toBe(true);
    }
    expect(dev.queues.get(0)!.size).toBe(8);
    expect(g.vtest_find_vq(0, 2, 8, 0)).toBe(0); // no such queue
  });

  it("chains are out buffers then in buffers with NEXT/WRITE; get_buf returns tokens and used lens, freeing descriptors", () => {
    const { dev, g, vq, buf } = setup({ drvLo: 0 });
    dev.onChain = () => null; // hold everything; the test completes out of order
    const a = buf(64), b = buf(64), c = buf(8);
    g.vtest_sg(0, a, 64); g.vtest_sg(1, b, 32); g.vtest_sg(2, c, 8);
    expect(g.vtest_add_sgs(vq, 2, 1, 111)).toBe(0);
    g.vtest_sg(0, c, 8);
    expect(g.vtest_add_sgs(vq, 0, 1, 222)).toBe(0);
    expect(g.vtest_num_free(vq)).toBe(4);
    expect(g.vtest_kick(vq)).toBe(1);
    expect(dev.chains.map((ch) => ch.segs)).toEqual([
      [{ gpa: a, len: 64, write: false }, { gpa: b, len: 32, write: false }, { gpa: c, len: 8, write: true }],
      [{ gpa: c, len: 8, write: true }],
    ]);
    expect(g.vtest_get_buf(vq)).toBe(NIL);
    dev.pushUsed(0, dev.chains[1].head, 5);
    dev.pushUsed(0, dev.chains[0].head, 8);
    expect(g.vtest_get_buf(vq)).toBe(222);
    expect(g.vtest_last_len(vq)).toBe(5);
    expect(g.vtest_get_buf(vq)).toBe(111);
    expect(g.vtest_last_len(vq)).toBe(8);
    expect(g.vtest_num_free(vq)).toBe(8);
    expect(g.vtest_add_sgs(vq, 0, 0, 1)).toBe(abi.E_INVAL); // empty chain
    expect(g.vtest_add_sgs(vq, 1, 0, NIL)).toBe(abi.E_INVAL); // NIL is not a token
  });

  it("a full ring returns E_BUSY; after a reset every unused buffer is detached with its token", () => {
    const { dev, g, vq, buf } = setup({ drvLo: 0 });
    dev.onChain = () => null;
    const x = buf(16);
    const tokens: number[] = [];
    for (let t = 1; ; t++) {
      g.vtest_sg(0, x, 16); g.vtest_sg(1, x, 16);
      const rc = g.vtest_add_sgs(vq, 1, 1, t);
      if (rc !== 0) { expect(rc).toBe(abi.E_BUSY); break; }
      tokens.push(t);
    }
    expect(tokens).toHaveLength(4); // 8 descriptors, 2 per chain
    g.vtest_remove(0);
    expect(dev.status).toBe(0);
    const back: number[] = [];
    for (let t = g.vtest_detach_unused(vq); t !== NIL; t = g.vtest_detach_unused(vq)) back.push(t);
    expect(back.sort()).toEqual(tokens);
    expect(g.vtest_num_free(vq)).toBe(8);
  });

  it("with INDIRECT_DESC a multi-buffer chain takes one ring descriptor and an indirect table", () => {
    const { dev, g, vq, buf } = setup({ devLo: INDIRECT, drvLo: INDIRECT, indirectMax: 4 });
    const a = buf(8), r = buf(8);
    g.vtest_sg(0, a, 8); g.vtest_sg(1, a, 8); g.vtest_sg(2, r, 8);
    expect(g.vtest_add_sgs(vq, 2, 1, 7)).toBe(0);
    expect(g.vtest_num_free(vq)).toBe(7);
    g.vtest_kick(vq);
    expect(dev.chains[0].indirect).toBe(true);
    expect(dev.chains[0].segs.map((s) => s.write)).toEqual([false, false, true]);
    expect(g.vtest_get_buf(vq)).toBe(7);
    expect(g.vtest_num_free(vq)).toBe(8);
    // more buffers than a table holds fall back to direct descriptors
    for (let i = 0; i < 5; i++) g.vtest_sg(i, a, 8);
    g.vtest_sg(5, r, 8);
    expect(g.vtest_add_sgs(vq, 5, 1, 8)).toBe(0);
    expect(g.vtest_num_free(vq)).toBe(2);
  });

  it("ring indices wrap past 65535 on the driver side: 70,000 sum requests, every answer checked inside wasm", () => {
    const { guest, dev, g, vq } = setup({ drvLo: 0 });
    const ns = guest.enter(0, (x) => expect(x.vtest_sum_run(vq, 70_000, 4, 1, 32, 12345)).toBe(0));
    expect(dev.chains).toHaveLength(70_000);
    expect(dev.notifies).toBe(17_500);
    expect(g.vtest_kicks(vq)).toBe(17_500);
    expect(ns).toBe(17_500 * dev.notifyNs); // each kick charges the device's wait to the guest clock
    const q = dev.queues.get(0)!;
    expect(q.lastAvail).toBe(70_000 - 65_536);
    expect(g.vtest_num_free(vq)).toBe(8);
  });

  it("VIRTQ_USED_F_NO_NOTIFY and EVENT_IDX avail_event suppress kicks", () => {
    const a = setup({ drvLo: 0 });
    const q = a.dev.queues.get(0)!;
    a.dev.w16(q.used, abi.VIRTQ_USED_F_NO_NOTIFY);
    const x = a.buf(8);
    a.g.vtest_sg(0, x, 8);
    expect(a.g.vtest_add_sgs(a.vq, 1, 0, 1)).toBe(0);
    expect(a.g.vtest_kick(a.vq)).toBe(0);
    expect(a.dev.notifies).toBe(0);

    const b = setup({ devLo: EVENT_IDX, drvLo: EVENT_IDX });
    const qb = b.dev.queues.get(0)!;
    const y = b.buf(8);
    b.dev.w16(qb.used + 4 + 8 * qb.size, 2); // avail_event: kick me when entry 2 is published
    const add = () => { b.g.vtest_sg(0, y, 8); expect(b.g.vtest_add_sgs(b.vq, 1, 0, 9)).toBe(0); };
    b.dev.onChain = () => 0;
    add(); expect(b.g.vtest_kick(b.vq)).toBe(0); // idx 0 -> 1
    add(); expect(b.g.vtest_kick(b.vq)).toBe(0); // 1 -> 2
    add(); expect(b.g.vtest_kick(b.vq)).toBe(1); // 2 -> 3 publishes entry 2
    expect(b.dev.notifies).toBe(1);
    expect(b.dev.chains).toHaveLength(3);
    // get_buf asks for an interrupt at the next used entry through used_event
    while (b.g.vtest_get_buf(b.vq) !== NIL);
    expect(b.dev.r16(qb.avail + 4 + 2 * qb.size)).toBe(3);
  });

  it("callbacks: disable sets VIRTQ_AVAIL_F_NO_INTERRUPT, enable clears it and reports pending used entries", () => {
    const { dev, g, vq, buf } = setup({ drvLo: 0 });
    const q = dev.queues.get(0)!;
    g.vtest_disable_cb(vq);
    expect(dev.r16(q.avail) & abi.VIRTQ_AVAIL_F_NO_INTERRUPT).toBe(1);
    g.vtest_sg(0, buf(8), 8);
    g.vtest_add_sgs(vq, 0, 1, 5);
    g.vtest_kick(vq);
    expect(g.vtest_enable_cb(vq)).toBe(0); // a used entry is already waiting
    expect(dev.r16(q.avail)).toBe(0);
    expect(g.vtest_get_buf(vq)).toBe(5);
    expect(g.vtest_enable_cb(vq)).toBe(1);
  });

  it("a used id the driver never handed out marks the queue broken (BAD_RING), never crashes", () => {
    const { dev, g, vq, buf } = setup({ drvLo: 0 });
    dev.onChain = () => null;
    g.vtest_sg(0, buf(8), 8);
    g.vtest_add_sgs(vq, 1, 0, 42);
    g.vtest_kick(vq);
    dev.pushUsed(0, 6, 0); // descriptor 6 is free
    expect(g.vtest_get_buf(vq)).toBe(NIL);
    expect(g.vtest_broken(vq)).toBe(1);
    g.vtest_sg(0, buf(8), 8);
    expect(g.vtest_add_sgs(vq, 1, 0, 43)).toBe(abi.E_IO);
    // a fresh probe re-initialises the queue
    expect(g.vtest_probe(0, 0, 0, 0)).toBe(0);
    const again = g.vtest_find_vq(0, 0, 8, 0);
    expect(again).toBe(vq); // same ring memory, reused
    expect(g.vtest_broken(again)).toBe(0);
    expect(g.vtest_num_free(again)).toBe(8);
  });

  it("config access: 8/16/32-bit little-endian reads and writes, 64-bit reads retried until the generation is stable", () => {
    const { dev, g } = setup();
    new DataView(dev.config.buffer).setUint32(0, 0x11223344, true);
    new DataView(dev.config.buffer).setUint32(8, 0x89abcdef, true);
    new DataView(dev.config.buffer).setUint32(12, 0x00012345, true);
    expect(g.vtest_cread(0, 0, 1)).toBe(0x44);
    expect(g.vtest_cread(0, 2, 2)).toBe(0x1122);
    expect(g.vtest_cread(0, 0, 4)).toBe(0x11223344);
    dev.bumpOnRead = 1; // generation changes during the first attempt
    const before = dev.generation;
    expect(g.vtest_cread64(0, 8)).toBe(0x00012345 * 2 ** 32 + 0x89abcdef);
    expect(dev.generation).toBe(before + 1);
    g.vtest_cwrite(0, 4, 4, 0xdeadbeef);
    g.vtest_cwrite(0, 16, 2, 0xabcd);
    g.vtest_cwrite(0, 18, 1, 0x7f);
    expect(Array.from(dev.config.subarray(4, 8))).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect(Array.from(dev.config.subarray(16, 19))).toEqual([0xcd, 0xab, 0x7f]);
  });

  it("queue indices compact over present queues like find_vqs (balloon: inflate, deflate, stats, free_page, reporting)", () => {
    const { guest } = setup();
    const idx = (mask: number, q: number) => guest.exports.vtest_queue_index(mask, q);
    expect([0, 1, 2, 3, 4].map((q) => idx(0b00011, q))).toEqual([0, 1, -1, -1, -1]);
    expect([0, 1, 2, 3, 4].map((q) => idx(0b10011, q))).toEqual([0, 1, -1, -1, 2]); // reporting only: index 2 (CH)
    expect([0, 1, 2, 3, 4].map((q) => idx(0b11011, q))).toEqual([0, 1, -1, 2, 3]); // hinting + reporting (FC)
    expect([0, 1, 2, 3, 4].map((q) => idx(0b11111, q))).toEqual([0, 1, 2, 3, 4]); // QEMU with everything
  });

  it("interrupts and config changes reach the handlers registered at probe; an unbound slot answers E_STATE", () => {
    const { guest } = setup();
    const g = guest.exports;
    expect(g.virtio_interrupt(0, 0)).toBe(0);
    expect(g.virtio_interrupt(0, 0)).toBe(0);
    expect(g.virtio_config_changed(0)).toBe(0);
    expect(g.vtest_irqs(0)).toBe(2);
    expect(g.vtest_config_changes(0)).toBe(1);
    expect(g.virtio_interrupt(1, 0)).toBe(abi.E_STATE);
    g.vtest_remove(0);
    expect(g.virtio_interrupt(0, 0)).toBe(abi.E_STATE);
  });
});

describe("virtio driver side: random operation sequences", () => {
  for (const indirect of [false, true]) {
    it(`add / kick / out-of-order completion keep tokens, lens and the free list exact (indirect=${indirect}, seed printed)`, () => {
      const seed = Number(process.env.VIRTIO_DRIVER_SEED ?? (indirect ? 0xd21e : 0xd21d));
      console.log(`virtio driver sequence: seed=${seed} (replay: VIRTIO_DRIVER_SEED=${seed})`);
      let s = seed >>> 0;
      const r = (n: number) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return Math.floor((s / 2 ** 32) * n); };
      const { dev, g, vq, buf } = setup({ devLo: indirect ? INDIRECT : 0, drvLo: indirect ? INDIRECT : 0, queueMax: [16], size: 16, indirectMax: indirect ? 4 : 0 });
      dev.onChain = () => null; // the device holds everything; the test completes in random order
      const area = buf(4096);
      let free = 16;
      let token = 1;
      const inflight = new Map<number, { token: number; need: number; head?: number; segs: { gpa: number; len: number; write: boolean }[] }>();
      let seen = 0;
      for (let step = 0; step < 4000; step++) {
        const op = r(3);
        if (op === 0) {
          const outN = r(4), inN = r(3) + (outN === 0 ? 1 : 0);
          const segs = [];
          for (let i = 0; i < outN + inN; i++) {
            const seg = { gpa: area + 8 * r(500), len: r(4096), write: i >= outN };
            segs.push(seg);
            g.vtest_sg(i, seg.gpa, seg.len);
          }
          const n = outN + inN;
          const need = indirect && n > 1 && n <= 4 ? 1 : n;
          const rc = g.vtest_add_sgs(vq, outN, inN, token);
          if (need > free) { expect(rc).toBe(abi.E_BUSY); continue; }
          expect(rc).toBe(0);
          free -= need;
          inflight.set(token, { token, need, segs });
          token++;
        } else if (op === 1) {
          g.vtest_kick(vq);
          for (; seen < dev.chains.length; seen++) {
            const c = dev.chains[seen];
            // chains reach the device in avail order, which is insertion order here
            const t = [...inflight.values()].find((f) => f.head === undefined);
            expect(t?.segs).toEqual(c.segs);
            t!.head = c.head;
          }
        } else {
          const kicked = [...inflight.values()].filter((f) => f.head !== undefined);
          if (kicked.length === 0) continue;
          const f = kicked[r(kicked.length)];
          const len = r(5000);
          dev.pushUsed(0, f.head!, len);
          expect(g.vtest_get_buf(vq)).toBe(f.token);
          expect(g.vtest_last_len(vq)).toBe(len);
          inflight.delete(f.token);
          free += f.need;
        }
        expect(g.vtest_num_free(vq)).toBe(free);
      }
      expect(g.vtest_broken(vq)).toBe(0);
      expect(token).toBeGreaterThan(500);
    });
  }
});
