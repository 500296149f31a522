// SPDX-License-Identifier: MIT
// Issue 2 item 2: per-frame metadata in linear memory sized once, <= 16 bytes per frame all
// included (guest arrays and the host-owned region), and a 256 GiB guest (64 Mi frames of 4 KiB)
// fits one wasm32 instance (4 GiB of linear memory).
// The 256 GiB boot takes ~1.2 s and 1.0 GiB of RAM; GUESTMEM_SKIP_BOOT_256G=1 skips it.

import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { Guest, MAX_GUEST_FRAMES, guestLinearBytes } from "../../host/guest/guest.js";
import { MAX_VM_FRAMES, resolveVmConfig } from "../../host/vm.js";
import { hostMetadataBytesPerFrame, metadataBytesPerFrame, totalMetadataBytesPerFrame } from "../../bench/alloc.js";
import { backingImports, newGuest, releaseGuestModule } from "../helpers/guest.js";

/** Issue 2: "<= 16 bytes per frame all included". */
const MAX_METADATA_BYTES_PER_FRAME = 16;
const GIB = 2 ** 30;
/** 256 GiB / 4 KiB. */
const FRAMES_256G = (256 * GIB) / abi.PAGE_SIZE;
/** wasm32: 65536 pages of 64 KiB. */
const WASM32_MAX_BYTES = 65536 * 65536;

describe("per-frame metadata", () => {
  for (const mib of [16, 1024]) {
    it(`measured layout of a ${mib} MiB guest, guest and host arrays, is <= ${MAX_METADATA_BYTES_PER_FRAME} bytes/frame (bench's totalMetadataBytesPerFrame)`, () => {
      const { guest } = newGuest(mib, { debug: false });
      const perFrame = metadataBytesPerFrame(guest);
      const hostPerFrame = hostMetadataBytesPerFrame(guest);
      const total = totalMetadataBytesPerFrame(guest);
      console.log(`${mib} MiB guest: ${perFrame.toFixed(4)} guest + ${hostPerFrame.toFixed(4)} host = ${total.toFixed(4)} bytes of metadata per frame`);
      // at least what abi.ts declares: a smaller number means the measurement missed an array
      expect(perFrame).toBeGreaterThanOrEqual(abi.BYTES_PER_FRAME + 1 / abi.PAGEBLOCK_NR_PAGES);
      // dirty + discarded bitmaps (1/8 each) and write-protect nibbles (1/2)
      expect(hostPerFrame).toBeGreaterThanOrEqual(abi.HOSTMETA_BITMAPS / 8 + abi.HOSTMETA_NIBBLE_ARRAYS / 2);
      expect(total).toBeLessThanOrEqual(MAX_METADATA_BYTES_PER_FRAME);
    });
  }

  it(`the linear memory the host sizes per frame, guest and host arrays together, is <= ${MAX_METADATA_BYTES_PER_FRAME} bytes`, () => {
    const perFrame = (guestLinearBytes(FRAMES_256G) - guestLinearBytes(0)) / FRAMES_256G;
    console.log(`linear memory per frame, all per-frame arrays included: ${perFrame.toFixed(4)} bytes`);
    expect(perFrame).toBeGreaterThanOrEqual(abi.BYTES_PER_FRAME);
    expect(perFrame).toBeLessThanOrEqual(MAX_METADATA_BYTES_PER_FRAME);
  });
});

describe("a 256 GiB guest fits one wasm32 instance", () => {
  it("its linear memory (frames x metadata + fixed overhead) is <= 4 GiB", () => {
    const bytes = guestLinearBytes(FRAMES_256G);
    console.log(`256 GiB guest: ${(bytes / GIB).toFixed(3)} GiB of linear memory`);
    expect(bytes).toBeLessThanOrEqual(WASM32_MAX_BYTES);
  });

  it("the frame limits of the guest and of a VM are >= 2^26 frames", () => {
    expect(FRAMES_256G).toBe(2 ** 26);
    expect(MAX_GUEST_FRAMES).toBeGreaterThanOrEqual(FRAMES_256G);
    expect(MAX_VM_FRAMES).toBeGreaterThanOrEqual(FRAMES_256G);
  });

  it("the VM config resolver accepts a 256 GiB VM (4 KiB and 2 MiB host pages)", () => {
    for (const hostPageBytes of [4096, 2097152] as const) {
      const r = resolveVmConfig({ name: "big", memBytes: 256 * GIB, hostPageBytes }, 1);
      expect([r.memBytes, r.frames, r.hostPageBytes]).toEqual([256 * GIB, FRAMES_256G, hostPageBytes]);
    }
  });

  it("the engine can reserve that memory as one wasm32 memory (what Guest's constructor asks for)", () => {
    const pages = Math.ceil(guestLinearBytes(FRAMES_256G) / 65536);
    const mem = new WebAssembly.Memory({ initial: pages, maximum: 65536 });
    expect(mem.buffer.byteLength).toBe(pages * 65536);
  });

  it.skipIf(process.env.GUESTMEM_SKIP_BOOT_256G === "1")("boots: every frame but firmware and RAM window is in the buddy, metadata <= 16 bytes/frame", () => {
    const t0 = performance.now();
    const g = new Guest(releaseGuestModule(), FRAMES_256G, 1, backingImports(() => undefined));
    console.log(`256 GiB guest booted in ${(performance.now() - t0).toFixed(0)} ms, linear memory ${(g.memory.buffer.byteLength / GIB).toFixed(3)} GiB`);
    expect(g.memory.buffer.byteLength).toBeLessThanOrEqual(WASM32_MAX_BYTES);
    const managed = [abi.ZONE_DMA32, abi.ZONE_NORMAL, abi.ZONE_MOVABLE].reduce((s, z) => s + g.exports.mm_zone_info(z, abi.ZI_MANAGED), 0);
    expect(managed).toBeGreaterThan(FRAMES_256G - 1024);
    expect(totalMetadataBytesPerFrame(g)).toBeLessThanOrEqual(MAX_METADATA_BYTES_PER_FRAME);
    const pfn = g.exports.mm_alloc(abi.MAX_ORDER, abi.GFP_MOVABLE) >>> 0;
    expect(pfn).toBeLessThan(FRAMES_256G);
    expect(g.exports.mm_free(pfn, abi.MAX_ORDER)).toBe(abi.OK);
  });
});
