// SPDX-License-Identifier: MIT
// esbuild's binary loader: `import bytes from "x.wasm"` yields the file's bytes.
declare module "*.wasm" {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
