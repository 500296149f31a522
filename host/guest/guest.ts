// SPDX-License-Identifier: MIT
// One guest instance (one VM's kernel): instantiation with a host-sized memory, the typed export
// surface, and zero-copy views over the per-frame arrays and the shared control block.

import * as abi from "./abi.generated.js";
import { GuestExports, UNSIGNED_RESULT_EXPORTS } from "./exports.generated.js";
import { check, InvariantError } from "./errors.js";
import { hostMetaLayout, HOSTMETA_BYTES_PER_FRAME } from "./host_meta.js";

/** What the host provides for the guest's VM exits (assembly/host.ts). */
export interface GuestImports {
  /** EPT violation on `pfn`; returns host cost in ns, or < 0 if refused. */
  hwFault(pfn: number, write: boolean): number;
  /** Kick of queue `queue` on device `dev`; returns the guest's wait in ns. */
  virtioNotify(dev: number, queue: number): number;
  /** Arm guest timer `id` at absolute simulated time `atNs`. */
  timerArm(id: number, atNs: number): void;
  timerCancel(id: number): void;
  /** Virtio transport exit (abi.ts VT_*); returns the value read, 0xffffffff for an empty slot. */
  virtioTransport(dev: number, op: number, a: number, b: number, c: number): number;
  /** Queue address setup; returns 0 or a negative abi.ts E_* code. */
  virtioQueueSetup(dev: number, queue: number, size: number, descGpa: number, availGpa: number, usedGpa: number): number;
}

const WASM_PAGE_BYTES = 65536;
const WASM_MAX_PAGES = 65536; // wasm32: 4 GiB
/** Runtime heap, statics, list heads, RAM window (1 MiB) and slack on top of per-frame arrays. */
const FIXED_OVERHEAD_BYTES = 24 << 20;

/** Bytes of the host-owned per-frame region guest_init reserves (abi.ts LAYOUT_HOSTMETA; host_meta.ts). */
export function hostMetaBytes(frames: number): number { return hostMetaLayout(frames).bytes; }

/** Linear memory a guest of `frames` frames needs (guest and host per-frame arrays plus overhead). */
export function guestLinearBytes(frames: number): number {
  return frames * abi.BYTES_PER_FRAME + Math.ceil(frames / abi.PAGEBLOCK_NR_PAGES) + hostMetaBytes(frames) + FIXED_OVERHEAD_BYTES;
}

/** Per-frame bytes of linear memory, guest arrays plus the host region (15 + 1/512 + 0.75). */
const LINEAR_BYTES_PER_FRAME = abi.BYTES_PER_FRAME + 1 / abi.PAGEBLOCK_NR_PAGES + HOSTMETA_BYTES_PER_FRAME;

/** Largest guest (in frames) that fits one wasm32 instance. */
export const MAX_GUEST_FRAMES = Math.floor((WASM_MAX_PAGES * WASM_PAGE_BYTES - FIXED_OVERHEAD_BYTES - (1 << 20)) / LINEAR_BYTES_PER_FRAME);

/** Typed views over the guest's metadata. Recreated if the memory ever grows. */
export interface GuestViews {
  readonly versions: Uint32Array;
  readonly next: Uint32Array;
  readonly prev: Uint32Array;
  readonly pflags: Uint8Array;
  readonly porder: Uint8Array;
  readonly hstate: Uint8Array;
  readonly pageblock: Uint8Array;
  readonly costs: Float64Array;
  readonly vmstat: Float64Array;
  /** Bytes of the RAM window (virtqueues, buffers). */
  readonly ramwin: Uint8Array;
  readonly ramwinView: DataView;
  // The host-owned region (abi.ts LAYOUT_HOSTMETA): host state the guest never reads.
  /** Dirty log bitmap, one bit per frame (host/memory/dirty_log.ts). */
  readonly hostDirty: Uint32Array;
  /** Discarded-and-untouched bits, one per frame (refault counting). */
  readonly hostDiscarded: Uint32Array;
  /** Write-protect reason nibbles, 2 frames per byte (host/memory/write_protect.ts). */
  readonly hostWp: Uint8Array;
}

export class Guest {
  readonly exports: GuestExports;
  readonly memory: WebAssembly.Memory;
  readonly frames: number;
  readonly scbPtr: number;
  readonly ramwinPfn: number;
  readonly ramwinFrames: number;
  /** Linear address of the host-owned per-frame region (abi.ts LAYOUT_HOSTMETA). */
  readonly hostMetaPtr: number;
  private cachedBuffer: ArrayBuffer | undefined;
  private cachedViews: GuestViews | undefined;

  /** `bootParams`: [abi PARAM_* id, value] pairs set with guest_set_param before guest_init. */
  constructor(module: WebAssembly.Module, frames: number, seed: number, imports: GuestImports,
    bootParams: ReadonlyArray<readonly [number, number]> = []) {
    const pages = Math.ceil(guestLinearBytes(frames) / WASM_PAGE_BYTES);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: WASM_MAX_PAGES });
    const memory = this.memory;
    const instance = new WebAssembly.Instance(module, {
      env: {
        memory,
        abort(msg: number, file: number, line: number, col: number) {
          throw new Error(`guest abort: ${liftString(memory, msg)} in ${liftString(memory, file)}:${line >>> 0}:${col >>> 0}`);
        },
        seed: () => seed,
        trace: () => {},
      },
      guestmem: {
        hw_fault: (pfn: number, write: number) => imports.hwFault(pfn >>> 0, write !== 0),
        virtio_notify: (dev: number, q: number) => imports.virtioNotify(dev >>> 0, q >>> 0),
        timer_arm: (id: number, atNs: number) => imports.timerArm(id >>> 0, atNs),
        timer_cancel: (id: number) => imports.timerCancel(id >>> 0),
        virtio_transport: (dev: number, op: number, a: number, b: number, c: number) =>
          imports.virtioTransport(dev >>> 0, op >>> 0, a >>> 0, b >>> 0, c >>> 0) | 0,
        virtio_queue_setup: (dev: number, q: number, size: number, d: number, a: number, u: number) =>
          imports.virtioQueueSetup(dev >>> 0, q >>> 0, size >>> 0, d, a, u),
      },
    });
    this.exports = adaptExports(instance.exports as unknown as GuestExports);
    this.frames = frames;
    for (const [id, v] of bootParams) check("guest_set_param", this.exports.guest_set_param(id, v), `id=${id} value=${v}`);
    check("guest_init", this.exports.guest_init(frames, seed >>> 0), `frames=${frames}`);
    this.scbPtr = this.exports.scb_ptr();
    const scb = new Uint32Array(this.memory.buffer, this.scbPtr, 16);
    this.ramwinPfn = scb[abi.LAYOUT_RAMWIN_PFN >> 2];
    this.ramwinFrames = scb[abi.LAYOUT_RAMWIN_FRAMES >> 2];
    this.hostMetaPtr = scb[abi.LAYOUT_HOSTMETA >> 2];
    // a guest built from an older abi.ts reserves no (or a smaller) host region: refuse it here
    const reserved = scb[abi.LAYOUT_HOSTMETA_BYTES >> 2];
    if (this.hostMetaPtr === 0 || reserved !== hostMetaBytes(frames)) {
      throw new InvariantError(`guest reserved ${reserved} bytes of host region at 0x${this.hostMetaPtr.toString(16)}, expected ${hostMetaBytes(frames)} (stale build/guest.wasm?)`);
    }
    // memory is sized once (design §2): growth would detach every host view; views are
    // re-created on a buffer change anyway, but growing during boot means guestLinearBytes is wrong
    if (this.memory.buffer.byteLength !== pages * WASM_PAGE_BYTES) {
      throw new InvariantError(`guest_init grew linear memory from ${pages} to ${this.memory.buffer.byteLength / WASM_PAGE_BYTES} wasm pages: guestLinearBytes(${frames}) is too small`);
    }
  }

  /** Zero-copy views; cheap to call (cached until the memory buffer changes). */
  get views(): GuestViews {
    // Hot path (several calls per simulated page): `memory.buffer` is a slow accessor, but a
    // grow detaches the old buffer and every view over it reads length 0, so test that instead.
    const cached = this.cachedViews;
    if (cached !== undefined && cached.versions.length !== 0) return cached;
    const buf = this.memory.buffer;
    if (cached !== undefined && this.cachedBuffer === buf) return cached;
    const scb = new Uint32Array(buf, this.scbPtr, 16);
    const n = scb[abi.LAYOUT_FRAMES >> 2];
    const ramPtr = scb[abi.LAYOUT_RAMWIN_PTR >> 2];
    const ramLen = scb[abi.LAYOUT_RAMWIN_FRAMES >> 2] * abi.PAGE_SIZE;
    this.cachedViews = {
      versions: new Uint32Array(buf, scb[abi.LAYOUT_VERSIONS >> 2], n),
      next: new Uint32Array(buf, scb[abi.LAYOUT_NEXT >> 2], n),
      prev: new Uint32Array(buf, scb[abi.LAYOUT_PREV >> 2], n),
      pflags: new Uint8Array(buf, scb[abi.LAYOUT_PFLAGS >> 2], n),
      porder: new Uint8Array(buf, scb[abi.LAYOUT_PORDER >> 2], n),
      hstate: new Uint8Array(buf, scb[abi.LAYOUT_HSTATE >> 2], n),
      pageblock: new Uint8Array(buf, scb[abi.LAYOUT_PAGEBLOCK >> 2], Math.ceil(n / abi.PAGEBLOCK_NR_PAGES)),
      costs: new Float64Array(buf, this.scbPtr + abi.SCB_COST, abi.NR_COSTS),
      vmstat: new Float64Array(buf, this.scbPtr + abi.SCB_VMSTAT, abi.NR_VMSTAT),
      ramwin: new Uint8Array(buf, ramPtr, ramLen),
      ramwinView: new DataView(buf, ramPtr, ramLen),
      ...hostMetaViews(buf, this.hostMetaPtr, n),
    };
    this.cachedBuffer = buf;
    return this.cachedViews;
  }

  /** Guest-physical address of the RAM window's first byte. */
  get ramwinGpa(): number {
    return this.ramwinPfn * abi.PAGE_SIZE;
  }

  /**
   * Runs `fn` as one guest entry at simulated time `nowNs`; returns the simulated ns the guest
   * spent (its own work plus the host's exit handling it waited for).
   */
  enter(nowNs: number, fn: (g: GuestExports) => void): number {
    this.exports.guest_enter(nowNs);
    fn(this.exports);
    return this.exports.guest_elapsed();
  }
}

/** Views over the host region at `ptr` in the order abi.ts lays it out. */
function hostMetaViews(buf: ArrayBuffer, ptr: number, frames: number): Pick<GuestViews, "hostDirty" | "hostDiscarded" | "hostWp"> {
  const l = hostMetaLayout(frames);
  return {
    hostDirty: new Uint32Array(buf, ptr + l.dirtyOffset, l.bitmapWords),
    hostDiscarded: new Uint32Array(buf, ptr + l.discardedOffset, l.bitmapWords),
    hostWp: new Uint8Array(buf, ptr + l.wpOffset, l.nibbleBytes),
  };
}

function adaptExports(raw: GuestExports): GuestExports {
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === "function" && UNSIGNED_RESULT_EXPORTS.includes(k)) {
      const f = v as (...a: number[]) => number;
      out[k] = (...a: number[]) => f(...a) >>> 0;
    } else {
      out[k] = v;
    }
  }
  return out as unknown as GuestExports;
}

/** Reads an AssemblyScript string (UTF-16, length in the header) for abort messages. */
function liftString(memory: WebAssembly.Memory, ptr: number): string {
  ptr >>>= 0;
  if (!ptr) return "";
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0] >>> 1;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, len));
}
