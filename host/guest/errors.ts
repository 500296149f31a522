// SPDX-License-Identifier: MIT
// Typed errors. Three kinds (design §6): guest misbehaviour never throws (it is counted);
// API misuse throws a SimError subclass naming the field, the value and what was expected;
// broken invariants throw InvariantError and mark the run invalid.

import * as abi from "./abi.generated.js";

/** Base class of every error guestmem throws on purpose. */
export class SimError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A configuration or argument was invalid: names the field, the value and the expectation. */
export class ConfigError extends SimError {
  constructor(readonly field: string, readonly value: unknown, readonly expected: string) {
    super("EINVALCONFIG", `${field}: got ${formatValue(value)}, expected ${expected}`);
  }
}

/** A guest export returned an error code for a host request (API misuse reaching the guest). */
export class GuestCallError extends SimError {
  constructor(readonly call: string, readonly result: number, readonly detail: string) {
    super(errorCodeName(result), `${call}: ${errorCodeName(result)} (${result}): ${detail}`);
  }
}

/** A model invariant was broken: a bug in guestmem, never the user's fault. */
export class InvariantError extends SimError {
  constructor(message: string) {
    super("EINVARIANT", message);
  }
}

export function formatValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  try { return JSON.stringify(v); } catch { return String(v); }
}

const CODE_NAMES: Record<number, string> = {
  [abi.OK]: "OK",
  [abi.E_NOMEM]: "ENOMEM",
  [abi.E_INVAL]: "EINVAL",
  [abi.E_RANGE]: "ERANGE",
  [abi.E_DOUBLE_FREE]: "EDOUBLEFREE",
  [abi.E_NOT_ALLOCATED]: "ENOTALLOCATED",
  [abi.E_BUSY]: "EBUSY",
  [abi.E_STATE]: "ESTATE",
  [abi.E_IO]: "EIO",
};

/** Name of a guest result code (abi.ts E_*). */
export function errorCodeName(code: number): string {
  return CODE_NAMES[code] ?? `E${code}`;
}

/** Throws GuestCallError if `result` is a negative guest code; returns it otherwise. */
export function check(call: string, result: number, detail = ""): number {
  if (result < 0) throw new GuestCallError(call, result, detail);
  return result;
}
