// Test helpers: compile the guest once per test file and give each test a fresh instance.
import { loadGuestModuleFromFile } from "../../host/node.js";
import { Guest, GuestImports } from "../../host/guest/guest.js";

let debugModule: WebAssembly.Module | undefined;
let releaseModule: WebAssembly.Module | undefined;

/** The compiled debug guest (asserts on), cached per worker. */
export function debugGuestModule(): WebAssembly.Module {
  return (debugModule ??= loadGuestModuleFromFile({ debug: true }));
}

/** The compiled release guest, cached per worker. */
export function releaseGuestModule(): WebAssembly.Module {
  return (releaseModule ??= loadGuestModuleFromFile({ debug: false }));
}

/** Imports that back every page on first touch and count exits: the minimal "host". */
export function backingImports(guestRef: () => Guest | undefined, costNs = 1500): GuestImports & { faults: number } {
  const imp = {
    faults: 0,
    hwFault(pfn: number) {
      imp.faults++;
      const g = guestRef();
      if (!g) return -1;
      g.views.hstate[pfn] = 1; // HS_BACKED
      return costNs;
    },
    virtioNotify: () => 0,
    timerArm: () => {},
    timerCancel: () => {},
    virtioTransport: () => 0xffffffff,
    virtioQueueSetup: () => -2,
  };
  return imp;
}

/** A fresh guest of `mib` MiB with the minimal backing host. */
export function newGuest(mib: number, opts: { seed?: number; debug?: boolean } = {}): { guest: Guest; imports: ReturnType<typeof backingImports> } {
  let g: Guest | undefined;
  const imports = backingImports(() => g);
  const mod = opts.debug === false ? releaseGuestModule() : debugGuestModule();
  g = new Guest(mod, (mib * 1024 * 1024) / 4096, opts.seed ?? 1, imports);
  return { guest: g, imports };
}
