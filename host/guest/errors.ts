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

/**
 * A guest export returned an error code for a host request (API misuse reaching the guest).
 * Subclasses below name the argument (`field`), its `value` and what was `expected`.
 */
export class GuestCallError extends SimError {
  readonly field: string | undefined;
  readonly value: unknown;
  readonly expected: string | undefined;
  constructor(readonly call: string, readonly result: number, readonly detail: string,
    what?: { field: string; value: unknown; expected: string }) {
    super(errorCodeName(result), what
      ? `${call}: ${errorCodeName(result)} (${result}): ${what.field}: got ${formatValue(what.value)}, expected ${what.expected}${detail ? ` (${detail})` : ""}`
      : `${call}: ${errorCodeName(result)} (${result}): ${detail}`);
    this.field = what?.field;
    this.value = what?.value;
    this.expected = what?.expected;
  }
}

/** E_RANGE: a pfn (or the block it starts) lies outside guest memory. */
export class PfnRangeError extends GuestCallError {
  constructor(call: string, value: number, expected: string, detail = "") {
    super(call, abi.E_RANGE, detail, { field: "pfn", value, expected });
  }
}

/** E_INVAL from the allocator: an order above MAX_ORDER, or a pfn not aligned to its order. */
export class BlockArgumentError extends GuestCallError {
  constructor(call: string, field: "order" | "pfn" | "gfp", value: number, expected: string, detail = "") {
    super(call, abi.E_INVAL, detail, { field, value, expected });
  }
}

/** E_DOUBLE_FREE: the block is already free (in the buddy or on a per-cpu list). */
export class DoubleFreeError extends GuestCallError {
  constructor(call: string, value: number, expected: string, detail = "") {
    super(call, abi.E_DOUBLE_FREE, detail, { field: "pfn", value, expected });
  }
}

/** E_NOT_ALLOCATED: not the head of an allocated block of that order (never allocated as given). */
export class NotAllocatedError extends GuestCallError {
  constructor(call: string, value: { pfn: number; order: number }, expected: string, detail = "") {
    super(call, abi.E_NOT_ALLOCATED, detail, { field: "pfn", value, expected });
  }
}

/** E_BUSY: the block is isolated (being reported, migrated or offlined) and cannot be freed now. */
export class BlockBusyError extends GuestCallError {
  constructor(call: string, value: number, expected: string, detail = "") {
    super(call, abi.E_BUSY, detail, { field: "pfn", value, expected });
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
