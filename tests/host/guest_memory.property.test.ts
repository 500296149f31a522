import { describe, expect, it } from "vitest";
import * as abi from "../../host/guest/abi.generated.js";
import { Rng } from "../../host/sim/rng.js";
import { MIB, newHost, testSeed } from "../helpers/host.js";

/** The obvious model: per frame a backing kind, a version, write-protect reasons, a dirty bit. */
class RefMemory {
  kind: ("none" | "zero" | "backed")[];
  version: number[];
  wp: Set<string>[];
  dirty: boolean[];
  logging = false;
  constructor(readonly frames: number, readonly hpf: number, pinned: [number, number]) {
    this.kind = Array(frames).fill("none");
    this.version = Array(frames).fill(0);
    this.wp = Array.from({ length: frames }, () => new Set<string>());
    this.dirty = Array(frames).fill(false);
    const first = Math.floor(pinned[0] / hpf) * hpf;
    const end = Math.ceil((pinned[0] + pinned[1]) / hpf) * hpf;
    for (let f = first; f < end; f++) this.kind[f] = "backed";
  }
  hp(f: number): [number, number] { const a = f - (f % this.hpf); return [a, a + this.hpf]; }
  write(f: number): void {
    let exit = false;
    if (this.kind[f] !== "backed") {
      exit = true;
      const [a, b] = this.hp(f);
      for (let g = a; g < b; g++) {
        if (this.kind[g] === "backed") continue;
        this.kind[g] = "backed";
        if (g !== f && this.logging) this.wp[g].add("dirty-log");
      }
    }
    if (this.wp[f].size > 0) { exit = true; this.wp[f].clear(); }
    if (exit && this.logging) this.dirty[f] = true;
    this.version[f] = (this.version[f] + 1) >>> 0 || 1;
  }
  read(f: number): void {
    if (this.kind[f] !== "none") return;
    const [a, b] = this.hp(f);
    for (let g = a; g < b; g++) if (this.kind[g] === "none") this.kind[g] = "zero";
  }
  discard(pfn: number, count: number): number {
    const a = Math.ceil(pfn / this.hpf) * this.hpf;
    const b = Math.floor((pfn + count) / this.hpf) * this.hpf;
    let freed = 0;
    for (let f = a; f < b; f++) {
      if (this.kind[f] === "backed") freed++;
      this.kind[f] = "none";
      this.version[f] = 0;
    }
    return freed;
  }
  startLog(): void {
    this.logging = true;
    this.dirty.fill(false);
    for (let f = 0; f < this.frames; f++) if (this.kind[f] === "backed") this.wp[f].add("dirty-log");
  }
  clearChunk(first: number, end: number): number {
    let n = 0;
    for (let f = first; f < end; f++) if (this.dirty[f]) { this.dirty[f] = false; this.wp[f].add("dirty-log"); n++; }
    return n;
  }
  stopLog(): void {
    this.logging = false;
    this.dirty.fill(false);
    for (const s of this.wp) s.delete("dirty-log");
  }
  get backed(): number { return this.kind.filter((k) => k === "backed").length; }
}

/**
 * With `swap`, host RAM is smaller than the guest: host reclaim swaps frames out behind the
 * model's back. Then "backed" means resident or swapped, and the dirty log may hold extra pages
 * (a write to a swapped frame exits), never fewer.
 */
function run(seed: number, hostPageBytes: 4096 | 2097152, steps: number, swap = false): void {
  const rng = new Rng(seed);
  const host = swap ? newHost({ ramMib: 6, swapBytes: 64 * MIB }) : newHost();
  const vm = host.createVm({ name: "p", memBytes: 16 * MIB, hostPageBytes, seed });
  const mem = vm.memory;
  mem.registerWpReason("hint-wp");
  const frames = vm.frames;
  const ref = new RefMemory(frames, mem.hostPageFrames, [vm.guest.ramwinPfn, vm.guest.ramwinFrames]);
  const lo = 1024; // keep away from the pinned RAM window's host page
  const shift = 9;
  const range = (): [number, number] => {
    const pfn = rng.int(lo, frames - 1);
    const count = rng.int(1, Math.min(1500, frames - pfn) + 1);
    return [pfn, count];
  };
  const hs = vm.guest.views.hstate;
  const ver = vm.guest.views.versions;
  for (let step = 0; step < steps; step++) {
    const op = rng.int(0, 100);
    const [pfn, count] = range();
    let what: string;
    if (op < 35) {
      what = `write ${pfn}+${count}`;
      expect(vm.touch(pfn, count, true)).toBe(0);
      for (let f = pfn; f < pfn + count; f++) ref.write(f);
    } else if (op < 55) {
      what = `read ${pfn}+${count}`;
      vm.touch(pfn, count, false);
      for (let f = pfn; f < pfn + count; f++) ref.read(f);
    } else if (op < 75) {
      what = `discard ${pfn}+${count}`;
      const r = mem.discard(pfn, count);
      expect(r.freedPages + r.swapFreedPages, what).toBe(ref.discard(pfn, count));
      if (!swap) expect(r.swapFreedPages).toBe(0);
    } else if (op < 83) {
      what = `hint-wp ${pfn}+${count}`;
      mem.writeProtect(pfn, count, "hint-wp");
      for (let f = pfn; f < pfn + count; f++) ref.wp[f].add("hint-wp");
    } else if (op < 88) {
      what = `hint-unprotect ${pfn}+${count}`;
      mem.unprotect(pfn, count, "hint-wp");
      for (let f = pfn; f < pfn + count; f++) ref.wp[f].delete("hint-wp");
    } else if (op < 94) {
      if (!ref.logging) {
        what = "start dirty log";
        mem.startDirtyLog({ clearBitmapShift: shift });
        ref.startLog();
      } else {
        const chunk = rng.int(0, mem.dirty.chunks);
        what = `clear chunk ${chunk}`;
        const [a, b] = mem.dirty.chunkRange(chunk);
        expect(mem.clearDirtyLog(chunk).clearedPages, what).toBe(ref.clearChunk(a, b));
      }
    } else {
      what = "stop dirty log";
      mem.stopDirtyLog();
      ref.stopLog();
    }
    expect(mem.rssBytes + mem.swapBytes, `seed ${seed} step ${step}: ${what}`).toBe(ref.backed * 4096);
    if (swap) expect(host.rssBytes).toBeLessThanOrEqual(host.ramBytes);
    if (step % 10 === 9 || step === steps - 1) {
      for (let f = 0; f < frames; f++) {
        const k = hs[f] & (abi.HS_BACKED | abi.HS_SWAPPED) ? "backed" : hs[f] & abi.HS_ZERO ? "zero" : "none";
        const dirtyOk = swap ? !ref.dirty[f] || mem.dirty.test(f) : mem.dirty.test(f) === ref.dirty[f];
        if (k !== ref.kind[f] || ver[f] !== ref.version[f] || !dirtyOk
          || ((hs[f] & abi.HS_WP) !== 0) !== (ref.wp[f].size > 0)) {
          throw new Error(`seed ${seed} step ${step} (${what}): pfn ${f} host=${k}/v${ver[f]}/d${mem.dirty.test(f)}/wp${hs[f] & abi.HS_WP} ref=${ref.kind[f]}/v${ref.version[f]}/d${ref.dirty[f]}/wp${[...ref.wp[f]]}`);
        }
      }
      mem.validate();
    }
  }
}

describe("memory/guest_memory: random operation sequences against a reference model", () => {
  it("RSS, backing kind, versions, WP and dirty bits stay exact with 4 KiB host pages", () => {
    const seed = testSeed("guest_memory 4k", 20261126);
    for (let i = 0; i < 3; i++) run(seed + i, 4096, 150);
  });

  it("RSS, backing kind, versions, WP and dirty bits stay exact with 2 MiB host pages", () => {
    const seed = testSeed("guest_memory 2m", 7);
    for (let i = 0; i < 3; i++) run(seed + i, 2097152, 150);
  });

  it("with host swap underneath, resident + swapped stays exact and versions survive", () => {
    const seed = testSeed("guest_memory swap", 99);
    for (let i = 0; i < 3; i++) run(seed + i, 4096, 150, true);
  });
});
