// SPDX-License-Identifier: MIT
// Issue 2 "Bad input": every allocator error code reaches the host as a typed error naming the
// value and what was expected (host/guest/mm.ts), and the refused call left the guest unchanged
// (frame metadata, free lists, counters: compared byte for byte, and mm_validate still OK).

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { Guest } from "../../host/guest/guest.js";
import { GuestAllocator, freeErrorFor } from "../../host/guest/mm.js";
import {
  BlockArgumentError, BlockBusyError, DoubleFreeError, GuestCallError, NotAllocatedError, PfnRangeError, SimError,
} from "../../host/guest/errors.js";
import { newGuest } from "../helpers/guest.js";

/** Everything a refused call could have touched. */
function snapshot(g: Guest): Uint8Array[] {
  const v = g.views;
  const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
  const info: number[] = [];
  for (let z = 0; z < abi.NR_ZONES; z++) {
    for (let o = 0; o < abi.NR_ORDERS; o++) for (let mt = 0; mt <= abi.NR_MIGRATETYPES; mt++) info.push(g.exports.mm_nr_free(z, o, mt));
    for (const f of [abi.ZI_FREE, abi.ZI_MANAGED, abi.ZI_PCP_COUNT]) info.push(g.exports.mm_zone_info(z, f));
  }
  return [v.pflags, v.porder, v.next, v.prev, v.versions, v.pageblock, v.vmstat].map(bytes).concat([new Uint8Array(new Float64Array(info).buffer)]);
}

/** Runs `bad`, expects it to throw `cls`, and the guest to be exactly as before. */
function expectRefused<T extends GuestCallError>(g: Guest, bad: () => void, cls: new (...a: never[]) => T): T {
  const before = snapshot(g);
  let err: unknown;
  try { bad(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(cls);
  expect(err).toBeInstanceOf(SimError);
  const after = snapshot(g);
  for (let i = 0; i < before.length; i++) expect(Buffer.compare(after[i], before[i]), `state array ${i} changed`).toBe(0);
  expect(g.exports.mm_validate()).toBe(abi.MMV_OK);
  return err as T;
}

function setup(): { g: Guest; mm: GuestAllocator; held: number } {
  const { guest } = newGuest(16);
  const mm = new GuestAllocator(guest);
  const held = mm.alloc(2, abi.GFP_MOVABLE);
  if (held === null) throw new Error("setup: no order-2 block in a fresh 16 MiB guest");
  return { g: guest, mm, held };
}

describe("allocator error codes become typed host errors, state unchanged", () => {
  it("pfn outside guest memory: PfnRangeError with the pfn and the valid range", () => {
    const { g, mm } = setup();
    const e = expectRefused(g, () => mm.free(g.frames, 0), PfnRangeError);
    expect([e.result, e.field, e.value, e.code]).toEqual([abi.E_RANGE, "pfn", g.frames, "ERANGE"]);
    expect(e.expected).toBe(`a pfn in [0, ${g.frames})`);
    expect(e.message).toContain(String(g.frames));
    // the head is inside, the block is not (5.5 MiB = 1408 frames): the guest checks the whole block
    const { guest: odd } = newGuest(5.5);
    const tail = expectRefused(odd, () => new GuestAllocator(odd).free(1024, 10), PfnRangeError);
    expect(tail.value).toBe(1024);
    expect(tail.expected).toContain("<= 1408");
  });

  it("order above MAX_ORDER: BlockArgumentError on field 'order', for free and alloc", () => {
    const { g, mm, held } = setup();
    const e = expectRefused(g, () => mm.free(held, 11), BlockArgumentError);
    expect([e.result, e.field, e.value, e.code]).toEqual([abi.E_INVAL, "order", 11, "EINVAL"]);
    expect(e.expected).toContain(`[0, ${abi.MAX_ORDER}]`);
    const a = expectRefused(g, () => mm.alloc(abi.MAX_ORDER + 1, abi.GFP_MOVABLE), BlockArgumentError);
    expect([a.field, a.value]).toEqual(["order", abi.MAX_ORDER + 1]);
    const c = expectRefused(g, () => mm.alloc(0, abi.NR_GFP_CLASSES), BlockArgumentError);
    expect([c.field, c.value]).toEqual(["gfp", abi.NR_GFP_CLASSES]);
  });

  it("pfn not aligned to its order: BlockArgumentError on field 'pfn'", () => {
    const { g, mm, held } = setup();
    const e = expectRefused(g, () => mm.free(held + 1, 2), BlockArgumentError);
    expect([e.result, e.field, e.value]).toEqual([abi.E_INVAL, "pfn", held + 1]);
    expect(e.expected).toBe("a multiple of 4 (aligned to order 2)");
  });

  it("double free: DoubleFreeError, and the block stays free exactly once", () => {
    const { g, mm, held } = setup();
    mm.free(held, 2);
    const e = expectRefused(g, () => mm.free(held, 2), DoubleFreeError);
    expect([e.result, e.field, e.value, e.code]).toEqual([abi.E_DOUBLE_FREE, "pfn", held, "EDOUBLEFREE"]);
    // also through the FPI path (bypasses the pcp lists) after draining them to the buddy
    g.exports.mm_drain_pcp();
    const f = expectRefused(g, () => mm.free(held, 2, abi.FPI_TO_TAIL), DoubleFreeError);
    expect(f.call).toBe("mm_free_fpi");
  });

  it("free of a block never allocated as given: NotAllocatedError with pfn and order", () => {
    const { g, mm, held } = setup();
    // a firmware frame: reserved, never given to the buddy
    const fw = expectRefused(g, () => mm.free(0, 0), NotAllocatedError);
    expect([fw.result, fw.field, fw.value, fw.code]).toEqual([abi.E_NOT_ALLOCATED, "pfn", { pfn: 0, order: 0 }, "ENOTALLOCATED"]);
    expect(fw.expected).toBe("the head pfn of an allocated block of order 0");
    // an allocated block freed with the wrong order, and its tail page
    expect(expectRefused(g, () => mm.free(held, 1), NotAllocatedError).value).toEqual({ pfn: held, order: 1 });
    expect(expectRefused(g, () => mm.free(held + 2, 1), NotAllocatedError).value).toEqual({ pfn: held + 2, order: 1 });
    mm.free(held, 2); // the right call still works afterwards
    expect(g.exports.mm_validate()).toBe(abi.MMV_OK);
  });

  it("free of an isolated block: BlockBusyError", () => {
    const { g, mm } = setup();
    g.exports.mm_drain_pcp();
    const pfn = g.exports.mm_free_list_first(abi.ZONE_DMA32, abi.MAX_ORDER, abi.MT_MOVABLE) >>> 0;
    expect(pfn).not.toBe(0xffffffff);
    expect(g.exports.mm_isolate_free(pfn, abi.MAX_ORDER)).toBe(1);
    const e = expectRefused(g, () => mm.free(pfn, abi.MAX_ORDER), BlockBusyError);
    expect([e.result, e.field, e.value, e.code]).toEqual([abi.E_BUSY, "pfn", pfn, "EBUSY"]);
  });

  it("the host checks what the wasm boundary would silently truncate", () => {
    const { g, mm, held } = setup();
    expect(expectRefused(g, () => mm.free(held + 0.5, 0), PfnRangeError).value).toBe(held + 0.5);
    expect(expectRefused(g, () => mm.free(-1, 0), PfnRangeError).value).toBe(-1);
    expect(expectRefused(g, () => mm.free(held, 2 ** 32), BlockArgumentError).field).toBe("order");
  });

  it("out of memory is not misuse: alloc returns null", () => {
    const { guest } = newGuest(8);
    const mm = new GuestAllocator(guest);
    guest.exports.mm_test_hooks(0, 0, 0, abi.NR_ORDERS); // no reclaim or OOM killer to rescue it
    let got = 0;
    while (mm.alloc(abi.MAX_ORDER, abi.GFP_MOVABLE | abi.GFP_NORETRY) !== null) got++;
    expect(got).toBeGreaterThan(0);
    expect(mm.alloc(abi.MAX_ORDER, abi.GFP_MOVABLE | abi.GFP_NORETRY)).toBeNull();
  });

  it("an unknown code keeps the plain GuestCallError with the call's arguments", () => {
    const e = freeErrorFor("mm_free", -99, 5, 1, 4096);
    expect(e.constructor).toBe(GuestCallError);
    expect(e.message).toContain("pfn 5 order 1");
  });
});
