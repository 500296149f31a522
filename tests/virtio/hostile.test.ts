// The device side against a hostile guest: 100,000 random and adversarial descriptor chains
// written straight into the RAM window. Replay with VIRTIO_FUZZ_SEED=<printed seed>.
import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { newVirtioHarness, testRng } from "../helpers/virtio-harness.js";
import { MockDriver, type MockQueue } from "../helpers/virtio-mock-driver.js";
import { SUM_F_MODE, SumDevice } from "../helpers/virtio-sum-device.js";

const SEED = Number(process.env.VIRTIO_FUZZ_SEED ?? 0x5eed2026) >>> 0;
const CHAINS = 100_000;
const QSIZE = 256;
const MAX_BATCH = 32;
const OUT_BYTES = 16 << 10;
const GARB_BYTES = 8 << 10;
const IND_SLOT_BYTES = 16 * (QSIZE + 8);
const NEXT = abi.VIRTQ_DESC_F_NEXT, WRITE = abi.VIRTQ_DESC_F_WRITE, INDIRECT = abi.VIRTQ_DESC_F_INDIRECT;
const V1_HI = 1 << (abi.VIRTIO_F_VERSION_1 - 32);
const FEATURES = (1 << SUM_F_MODE) | (1 << abi.VIRTIO_RING_F_INDIRECT_DESC);

interface Seg { gpa: number; len: number; write?: boolean; hi?: number }
type Expect =
  | { kind: "served"; sum: number; total: number; resp: number }
  | { kind: "desc" } // malformed, head given back with len 0
  | { kind: "desc-lost" } // malformed head index: nothing to give back
  | { kind: "request" } // well-formed but unusable: len 0
  | { kind: "garbage" };

describe("virtio device side: hostile guest", () => {
  it(`survives ${CHAINS} random and adversarial chains: counted, skipped, never out of bounds (seed printed)`, () => {
    console.log(`virtio hostile: seed=0x${SEED.toString(16)} (replay: VIRTIO_FUZZ_SEED=${SEED})`);
    const rng = testRng(SEED);
    const r = (n: number) => Math.floor(rng() * n);
    const h = newVirtioHarness(64);
    const dev = new SumDevice({ maxSize: QSIZE });
    h.bus.plug(0, dev);
    const drv = new MockDriver(h.guest, h.bus, 0);
    const ramBytes = h.guest.frames * 4096;
    const winGpa = h.guest.ramwinGpa;
    const winEnd = winGpa + h.guest.views.ramwin.length;

    // ---- window regions
    const ring = { desc: drv.alloc(16 * QSIZE, 16), avail: drv.alloc(6 + 2 * QSIZE, 2), used: drv.alloc(6 + 8 * QSIZE, 4) };
    const ind = drv.alloc(IND_SLOT_BYTES * MAX_BATCH, 16);
    const out = drv.alloc(OUT_BYTES, 16);
    const resp = drv.alloc(16 * MAX_BATCH, 16);
    const garb = drv.alloc(GARB_BYTES, 16);
    const outBytes = drv.bytes(out, OUT_BYTES);
    for (let i = 0; i < OUT_BYTES; i++) outBytes[i] = r(256);
    const garbBytes = drv.bytes(garb, GARB_BYTES);
    for (let i = 0; i < GARB_BYTES; i++) garbBytes[i] = r(256);
    const inside = (gpa: number, len: number, a: number, n: number) => gpa >= a && gpa + len <= a + n;
    const readOk = (g: number, n: number) => inside(g, n, ring.desc, 16 * QSIZE) || inside(g, n, ring.avail, 6 + 2 * QSIZE)
      || inside(g, n, ring.used, 6 + 8 * QSIZE) || inside(g, n, ind, IND_SLOT_BYTES * MAX_BATCH) || inside(g, n, out, OUT_BYTES)
      || inside(g, n, resp, 16 * MAX_BATCH) || inside(g, n, garb, GARB_BYTES);
    // [winEnd - 4, winEnd) too: the "response partly outside the window" builder leaves a
    // writable descriptor there, and a garbage chain may reach it later through a stale `next`
    // (the device then writes the part inside the window, as the guest asked)
    const writeOk = (g: number, n: number) => inside(g, n, ring.used, 6 + 8 * QSIZE) || inside(g, n, resp, 16 * MAX_BATCH) || inside(g, n, garb, GARB_BYTES)
      || inside(g, n, winEnd - 4, 4);
    const violations: string[] = [];
    let accesses = 0;
    h.bus.memory.trace = (gpa, len, write) => {
      accesses++;
      if (!(write ? writeOk(gpa, len) : readOk(gpa, len)) && violations.length < 10) violations.push(`${write ? "write" : "read"} 0x${gpa.toString(16)}+${len}`);
    };
    // everything outside the window must stay byte-identical (no guest code runs in this test)
    const winPtr = h.guest.views.ramwin.byteOffset;
    const before = new Uint8Array(h.guest.memory.buffer).slice();

    const probe = (): MockQueue => {
      expect(drv.negotiate(FEATURES, V1_HI)).toBe(true);
      const q = drv.setupQueueAt(0, QSIZE, ring.desc, ring.avail, ring.used);
      drv.driverOk();
      return q;
    };
    let q = probe();

    // ---- chain builders. Each writes descriptors and returns [head, expectation].
    let nextDesc = 0;
    let slot = 0;
    const take = (n: number): number[] => { const ids = []; for (let i = 0; i < n; i++) ids.push(nextDesc++); return ids; };
    const writeChain = (ids: number[], segs: Seg[], lastNext = 0, lastFlags = 0) => segs.forEach((s, k) => {
      const last = k === segs.length - 1;
      q.writeDesc(ids[k], s.gpa, s.len, (last ? lastFlags : NEXT) | (s.write ? WRITE : 0), last ? lastNext : ids[k + 1], s.hi);
    });
    const writeTable = (table: number, segs: Seg[]) => segs.forEach((s, k) => {
      const last = k === segs.length - 1;
      q.writeTableDesc(table, k, s.gpa, s.len, (last ? 0 : NEXT) | (s.write ? WRITE : 0), last ? 0 : k + 1);
    });
    const outSegs = (n: number, zero = false) => {
      const segs: Seg[] = [];
      let sum = 0, total = 0;
      for (let i = 0; i < n; i++) {
        const off = r(OUT_BYTES);
        const len = zero || r(8) === 0 ? 0 : r(Math.min(512, OUT_BYTES - off) + 1);
        for (let b = 0; b < len; b++) sum += outBytes[off + b];
        total += len;
        segs.push({ gpa: out + off, len });
      }
      return { segs, sum, total };
    };
    const respSegs = (): { segs: Seg[]; at: number } => {
      const at = resp + 16 * slot;
      const k = r(10);
      if (k >= 1 && k <= 7) return { segs: [{ gpa: at, len: k, write: true }, { gpa: at + k, len: 8 - k, write: true }], at };
      return { segs: [{ gpa: at, len: k === 9 ? 16 : 8, write: true }], at };
    };
    const served = (o: { sum: number; total: number }, at: number): Expect => ({ kind: "served", sum: o.sum >>> 0, total: o.total, resp: at });
    const tableSlot = () => ind + IND_SLOT_BYTES * slot;

    type Builder = { need: number; weight: number; build: () => [number, Expect] };
    const badAddr = (): Seg => {
      switch (r(6)) {
        case 0: return { gpa: ramBytes, len: 1 };
        case 1: return { gpa: ramBytes - 10, len: 4096 };
        case 2: return { gpa: 0, len: 0xffffffff };
        case 3: return { gpa: 0xfffff000, hi: 0xffffffff, len: 0x2000 }; // wraps 2^64
        case 4: return { gpa: 0, hi: 0x00200000, len: 8 }; // 2^53
        default: return { gpa: 2 ** 40 + r(1 << 20), len: r(4096) };
      }
    };
    const builders: Builder[] = [
      { need: 6, weight: 25, build: () => {
        const o = outSegs(1 + r(4)); const rs = respSegs(); const ids = take(o.segs.length + rs.segs.length);
        writeChain(ids, [...o.segs, ...rs.segs]); return [ids[0], served(o, rs.at)];
      } },
      { need: 1, weight: 10, build: () => {
        const o = outSegs(1 + r(6)); const rs = respSegs(); const [head] = take(1); const t = tableSlot();
        const segs = [...o.segs, ...rs.segs]; writeTable(t, segs); q.writeDesc(head, t, 16 * segs.length, INDIRECT, r(QSIZE));
        return [head, served(o, rs.at)];
      } },
      { need: 5, weight: 5, build: () => { // a readable range outside the window only counts in the length
        const o = outSegs(1 + r(2)); const g = r(winGpa - 4096); const range: Seg = { gpa: g, len: r(winGpa - g) };
        const rs = respSegs(); const ids = take(o.segs.length + 1 + rs.segs.length);
        writeChain(ids, [range, ...o.segs, ...rs.segs]); return [ids[0], served({ sum: o.sum, total: o.total + range.len }, rs.at)];
      } },
      { need: 42, weight: 3, build: () => { // long chain of zero-length buffers
        const o = outSegs(10 + r(30), r(2) === 0); const rs = respSegs(); const ids = take(o.segs.length + rs.segs.length);
        writeChain(ids, [...o.segs, ...rs.segs]); return [ids[0], served(o, rs.at)];
      } },
      { need: 5, weight: 2, build: () => { // direct descriptors continuing into an indirect table
        const o = outSegs(2); const rs = respSegs(); const ids = take(2); const t = tableSlot();
        writeTable(t, [o.segs[1], ...rs.segs]);
        q.writeDesc(ids[0], o.segs[0].gpa, o.segs[0].len, NEXT, ids[1]);
        q.writeDesc(ids[1], t, 16 * (1 + rs.segs.length), INDIRECT, 0);
        return [ids[0], served(o, rs.at)];
      } },
      { need: 8, weight: 6, build: () => { // buffer outside guest RAM, at a random position
        const o = outSegs(1 + r(3)); const rs = respSegs(); const segs = [...o.segs, ...rs.segs];
        const bad = badAddr(); const pos = r(segs.length + 1);
        segs.splice(pos, 0, { ...bad, write: pos >= o.segs.length && r(2) === 0 });
        const ids = take(segs.length); writeChain(ids, segs); return [ids[0], { kind: "desc" }];
      } },
      { need: 66, weight: 2, build: () => { // readable bytes past 2^32 - 1 (64 x 64 MiB), plus a 1- or 2-part response
        const segs: Seg[] = []; for (let i = 0; i < 64; i++) segs.push({ gpa: 0, len: ramBytes });
        const rs = respSegs(); segs.push(...rs.segs); const ids = take(segs.length); writeChain(ids, segs); return [ids[0], { kind: "desc" }];
      } },
      { need: 6, weight: 4, build: () => { // loop back to an earlier descriptor (or itself)
        const o = outSegs(1 + r(5)); const ids = take(o.segs.length);
        writeChain(ids, o.segs, ids[r(ids.length)], NEXT); return [ids[0], { kind: "desc" }];
      } },
      { need: 4, weight: 3, build: () => { // next beyond the table
        const o = outSegs(1 + r(3)); const ids = take(o.segs.length);
        writeChain(ids, o.segs, QSIZE + r(65536 - QSIZE), NEXT); return [ids[0], { kind: "desc" }];
      } },
      { need: 6, weight: 4, build: () => { // a readable buffer after a writable one
        const o = outSegs(1 + r(2)); const rs = respSegs(); const segs = [...rs.segs, ...o.segs];
        const ids = take(segs.length); writeChain(ids, segs); return [ids[0], { kind: "desc" }];
      } },
      { need: 4, weight: 3, build: () => { // no response buffer: write-only part missing
        const o = outSegs(1 + r(4)); const ids = take(o.segs.length); writeChain(ids, o.segs); return [ids[0], { kind: "request" }];
      } },
      { need: 5, weight: 3, build: () => { // response too small
        const o = outSegs(1 + r(3)); const segs = [...o.segs, { gpa: resp + 16 * slot, len: r(8), write: true }];
        const ids = take(segs.length); writeChain(ids, segs); return [ids[0], { kind: "request" }];
      } },
      { need: 5, weight: 3, build: () => { // response in guest RAM but (partly) outside the window
        const o = outSegs(1 + r(3)); const at = r(2) === 0 ? r(winGpa - 8) : winEnd - 4;
        const segs = [...o.segs, { gpa: at, len: 8, write: true }]; const ids = take(segs.length);
        writeChain(ids, segs); return [ids[0], { kind: "request" }];
      } },
      { need: 2, weight: 10, build: () => { // indirect abuse
        const [head] = take(1); const t = tableSlot(); const o = outSegs(2); const rs = respSegs();
        const good = [...o.segs, ...rs.segs];
        switch (r(8)) {
          case 0: writeTable(t, good); q.writeTableDesc(t, 1, t, 32, INDIRECT, 0); q.writeDesc(head, t, 16 * good.length, INDIRECT, 0); break; // nested
          case 1: { const [n] = take(1); writeTable(t, good); q.writeDesc(n, out, 4, 0, 0); q.writeDesc(head, t, 16 * good.length, INDIRECT | NEXT, n); break; }
          case 2: q.writeDesc(head, t, 0, INDIRECT, 0); break; // empty table
          case 3: writeTable(t, good); q.writeDesc(head, t, 16 * good.length + 1 + r(15), INDIRECT, 0); break; // len % 16
          case 4: q.writeDesc(head, r(2) === 0 ? r(winGpa - 64) : winEnd - 32, 64, INDIRECT, 0); break; // table outside the window
          case 5: writeTable(t, good); q.writeDesc(head, t, 16 * (QSIZE + 1), INDIRECT, 0); break; // longer than the queue
          case 6: writeTable(t, o.segs); q.writeTableDesc(t, 1, o.segs[1].gpa, o.segs[1].len, NEXT, 0); q.writeDesc(head, t, 32, INDIRECT, 0); break; // loop in table
          default: writeTable(t, o.segs); q.writeTableDesc(t, 1, o.segs[1].gpa, o.segs[1].len, NEXT, 2 + r(100)); q.writeDesc(head, t, 32, INDIRECT, 0); break; // next past table
        }
        return [head, { kind: "desc" }];
      } },
      { need: 0, weight: 3, build: () => [QSIZE + r(65536 - QSIZE), { kind: "desc-lost" }] },
    ];
    const totalWeight = builders.reduce((s, b) => s + b.weight, 0);
    const pick = (): Builder => { let x = r(totalWeight); for (const b of builders) { x -= b.weight; if (x < 0) return b; } return builders[0]; };
    const garbage = (): [number, Expect] => {
      const n = 1 + r(8); const ids = take(n);
      for (const i of ids) {
        const pool = r(5);
        let addr = pool === 0 ? garb + r(GARB_BYTES) : pool === 1 ? r(ramBytes) : pool === 2 ? r(2 ** 32) : pool === 3 ? ramBytes - r(64) : resp + 16 * slot + r(8);
        if ((pool === 1 || pool === 2) && addr >= winGpa && addr < winEnd) addr -= winGpa; // keep the window's other regions out of reach
        const lenPick = r(4);
        const len = lenPick === 0 ? 0 : lenPick === 1 ? r(64) : lenPick === 2 ? r(2 ** 32) : 0xffffffff;
        // in-window buffers only in the garbage area or this chain's response slot: nothing else may be written
        const inWin = pool === 0 ? Math.min(len, garb + GARB_BYTES - addr) : Math.min(len, 8);
        q.writeDesc(i, addr, pool === 0 || pool === 4 ? inWin : len, r(8), r(2) === 0 ? ids[r(n)] : r(QSIZE + 16));
      }
      return [ids[0], { kind: "garbage" }];
    };

    // ---- the run
    let chains = 0, batches = 0, injected = 0;
    const want = { desc: 0, request: 0, served: 0 };
    while (chains < CHAINS) {
      const garbageBatch = batches % 4 === 3;
      nextDesc = 0;
      const batch: [number, Expect][] = [];
      const n = 1 + r(MAX_BATCH);
      for (slot = 0; slot < n && chains < CHAINS; slot++) {
        if (garbageBatch) { if (nextDesc + 8 > QSIZE) break; batch.push(garbage()); }
        else {
          const b = pick(); if (nextDesc + b.need > QSIZE) break; batch.push(b.build());
          // a builder that takes more than its `need` would write past the table into the avail ring
          if (nextDesc > QSIZE) expect.fail(`a chain builder took ${nextDesc} descriptors of ${QSIZE} (its need is too small)`);
        }
        q.publish(batch[batch.length - 1][0]);
        chains++;
      }
      for (let i = 0; i < batch.length; i++) if (batch[i][1].kind === "served") drv.bytes(resp + 16 * i, 16).fill(0xee);
      const d0 = dev.metric("desc_fails"), r0 = dev.metric("request_fails"), s0 = dev.config.get("requests");
      q.kick();
      const used = q.takeUsed();
      const returned = batch.filter(([, e]) => e.kind !== "desc-lost");
      // plain comparisons (100k expect() calls would dominate the run); first mismatch is reported
      let bad = used.length === returned.length ? "" : `batch ${batches}: ${used.length} used for ${returned.length} chains`;
      for (let i = 0; i < used.length && !bad; i++) {
        const u = used[i], [head, e] = returned[i];
        const ok = u.id === head && (e.kind === "served" ? u.len === 8 && drv.r32(e.resp) === e.sum && drv.r32(e.resp + 4) === e.total
          : e.kind === "garbage" ? u.len === 0 || u.len === 8 : u.len === 0);
        if (!ok) bad = `batch ${batches} chain ${i} (${e.kind}): used ${JSON.stringify(u)} head ${head}`;
      }
      if (bad) expect.fail(bad);
      const dd = dev.metric("desc_fails") - d0, dr = dev.metric("request_fails") - r0, ds = dev.config.get("requests") - s0;
      if (garbageBatch) {
        if (dd + dr + ds !== batch.length) expect.fail(`garbage batch ${batches}: ${dd}+${dr}+${ds} outcomes for ${batch.length} chains`);
      } else {
        const c = (k: Expect["kind"]) => batch.filter(([, e]) => e.kind === k).length;
        const exp = [c("desc") + c("desc-lost"), c("request"), c("served")];
        if (dd !== exp[0] || dr !== exp[1] || ds !== exp[2]) expect([dd, dr, ds]).toEqual(exp);
      }
      want.desc += dd; want.request += dr; want.served += ds;
      batches++;
      if (batches % 300 === 0) { // bogus avail idx: unrecoverable, the device must fail and wait for a reset
        const bogus = (q.availIdx + QSIZE + 1 + r(60000)) & 0xffff;
        q.setAvailIdx(bogus);
        expect(q.kick()).toBe(0);
        injected++;
        expect(dev.failedReason).toBeDefined();
        expect(drv.status() & abi.VIRTIO_STATUS_NEEDS_RESET).toBe(abi.VIRTIO_STATUS_NEEDS_RESET);
        const ignored = dev.metric("notify_ignored");
        q.kick();
        expect(dev.metric("notify_ignored")).toBe(ignored + 1);
        q = probe();
        expect(dev.failedReason).toBeUndefined();
      }
    }

    // still serving well-formed requests afterwards
    nextDesc = 0;
    const finals: [number, Expect][] = [];
    for (slot = 0; slot < 8; slot++) { const b = builders[0].build(); finals.push(b); q.publish(b[0]); }
    q.kick();
    const fu = q.takeUsed();
    expect(fu.map((u) => u.len)).toEqual(new Array(8).fill(8));
    for (const [, e] of finals) if (e.kind === "served") expect(drv.r32(e.resp)).toBe(e.sum);

    expect(chains).toBe(CHAINS);
    expect(dev.metric("desc_fails")).toBe(want.desc);
    expect(dev.metric("request_fails")).toBe(want.request);
    expect(dev.metric("event_fails")).toBe(injected);
    expect(injected).toBeGreaterThan(0);
    expect(want.desc).toBeGreaterThan(CHAINS / 5);
    expect(want.request).toBeGreaterThan(CHAINS / 50);
    expect(violations).toEqual([]);
    expect(accesses).toBeGreaterThan(CHAINS);
    const after = new Uint8Array(h.guest.memory.buffer);
    const win = h.guest.views.ramwin.length;
    expect(Buffer.compare(before.subarray(0, winPtr), after.subarray(0, winPtr))).toBe(0);
    expect(Buffer.compare(before.subarray(winPtr + win), after.subarray(winPtr + win))).toBe(0);
  });
});

describe("virtio device side: a guest that makes the device feed its own ring", () => {
  it("a response buffer over avail.idx cannot keep the device spinning: one pass serves at most queue-size chains", () => {
    const h = newVirtioHarness(16);
    const dev = new SumDevice();
    h.bus.plug(0, dev);
    const drv = new MockDriver(h.guest, h.bus, 0);
    expect(drv.negotiate(1 << SUM_F_MODE, V1_HI)).toBe(true);
    const q = drv.setupQueue(0, 8);
    drv.driverOk();
    let accesses = 0;
    h.bus.memory.trace = () => { if (++accesses > 1_000_000) throw new Error("device is spinning"); };
    // chain 0: readable {byte 2, used.idx}, writable {avail.idx (2 bytes), 6 scratch bytes}:
    // the sum the device writes into avail.idx is always last_avail + 1, so the ring never drains
    const two = drv.alloc(1, 1);
    drv.w8(two, 2);
    const scratch = drv.alloc(8, 8);
    q.writeDesc(0, two, 1, NEXT, 1);
    q.writeDesc(1, q.used + 2, 2, NEXT, 2);
    q.writeDesc(2, q.avail + 2, 2, NEXT | WRITE, 3);
    q.writeDesc(3, scratch, 6, WRITE, 0);
    q.publish(0);
    q.kick();
    expect(dev.metric("used_count")).toBe(8);
    expect(dev.config.get("requests")).toBe(8);
    expect(accesses).toBeLessThan(1000);
  });
});
