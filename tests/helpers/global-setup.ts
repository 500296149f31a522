// Builds the guest wasm (skipped when build/ is newer than assembly/) before any test runs.
export default async function setup(): Promise<void> {
  // @ts-expect-error: plain ESM build script without types
  const { buildWasm } = await import("../../scripts/build.mjs");
  await buildWasm();
}
