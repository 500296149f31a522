// Test helpers for host-side tests: a Host over the cached release guest module.
import { Host, HostConfig } from "../../host/host.js";
import { releaseGuestModule } from "./guest.js";

export const MIB = 1024 * 1024;

/** A host with `ramMib` MiB of RAM (default 1 GiB) using the compiled release guest. */
export function newHost(cfg: Partial<HostConfig> & { ramMib?: number } = {}): Host {
  const { ramMib, ...rest } = cfg;
  return new Host({ ramBytes: (ramMib ?? 1024) * MIB, guestModule: releaseGuestModule(), ...rest });
}

/** Seed for a property test: $SEED if set (replay), else `fallback`; printed either way. */
export function testSeed(name: string, fallback: number): number {
  const env = typeof process !== "undefined" ? process.env.SEED : undefined;
  const seed = env !== undefined ? Number(env) >>> 0 : fallback;
  console.log(`${name}: seed=${seed} (replay with SEED=${seed})`);
  return seed;
}
