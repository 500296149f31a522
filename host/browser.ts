// SPDX-License-Identifier: MIT
// Browser bundle entry (build/guestmem.browser.mjs): the guest wasm is inlined by esbuild's
// binary loader and becomes the default guest module; everything else is host/index.ts.

import wasm from "../build/guest.wasm";
import { compileGuest, setDefaultGuestModule } from "./guest/module.js";

setDefaultGuestModule(compileGuest(wasm));

export * from "./index.js";
