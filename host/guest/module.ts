// SPDX-License-Identifier: MIT
// The compiled guest module: compiled once, instantiated once per VM (design §2). How the wasm
// bytes arrive depends on the platform: bundles inline them (host/browser.ts, host/cli/main.ts),
// tests and Node users read build/guest.wasm (host/node.ts). The library itself imports no
// Node built-ins.

let defaultModule: WebAssembly.Module | undefined;

/** Compiles guest wasm bytes. */
export function compileGuest(bytes: BufferSource): WebAssembly.Module {
  return new WebAssembly.Module(bytes);
}

/** Sets the module new hosts use when none is given. */
export function setDefaultGuestModule(mod: WebAssembly.Module): void {
  defaultModule = mod;
}

/** The default module; throws if no entry point registered one. */
export function defaultGuestModule(): WebAssembly.Module {
  if (!defaultModule) {
    throw new Error("no guest module loaded: import 'guestmem/node' (loadGuestModuleFromFile) or the bundled entry first");
  }
  return defaultModule;
}
