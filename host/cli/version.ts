// SPDX-License-Identifier: MIT
// guestmem's version, read from package.json at build time (esbuild inlines the JSON).
import pkg from "../../package.json" with { type: "json" };

export const GUESTMEM_VERSION: string = pkg.version;
