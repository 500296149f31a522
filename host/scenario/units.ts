// SPDX-License-Identifier: MIT
// Unit strings of scenario files: sizes ("512MiB", or plain integer bytes), times ("5s", "200ms",
// "2min") and rates ("32MiB/s", "unlimited"). Binary units only (GiB = 2^30 B), as in
// reference/performance.md; decimal "MB" is rejected rather than guessed.

/** Bytes per binary size unit. */
export const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** Nanoseconds per time unit. */
export const TIME_UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  ms: 1e6,
  s: 1e9,
  min: 60e9,
  h: 3600e9,
};

/** Outcome of parsing a unit string: the value, or what was expected instead. */
export type UnitResult = { ok: true; value: number } | { ok: false; expected: string };

const NUMBER_WITH_UNIT = /^\s*(-?)(\d+(?:\.\d+)?)\s*([A-Za-z/]*)\s*$/;

export const SIZE_EXPECTED = "a size: non-negative integer bytes or a number with a binary unit B|KiB|MiB|GiB|TiB (e.g. \"512MiB\")";
export const TIME_EXPECTED = "a time: a non-negative number with a unit ns|us|ms|s|min|h (e.g. \"5s\", \"200ms\")";
export const RATE_EXPECTED = "a rate: \"unlimited\" or a size per second (e.g. \"32MiB/s\")";

/** Parses a size into bytes (whole bytes: fractions round down to a byte). */
export function parseSize(v: unknown): UnitResult {
  if (typeof v === "number") {
    if (Number.isSafeInteger(v) && v >= 0) return { ok: true, value: v };
    return { ok: false, expected: SIZE_EXPECTED };
  }
  if (typeof v !== "string") return { ok: false, expected: SIZE_EXPECTED };
  const m = NUMBER_WITH_UNIT.exec(v);
  if (!m) return { ok: false, expected: SIZE_EXPECTED };
  const [, sign, num, unit] = m;
  const mult = SIZE_UNITS[unit === "" ? "B" : unit];
  if (mult === undefined) return { ok: false, expected: hintDecimal(unit, SIZE_EXPECTED) };
  if (sign === "-") return { ok: false, expected: `a non-negative size (${SIZE_EXPECTED})` };
  return { ok: true, value: Math.floor(Number(num) * mult) };
}

/** Parses a time into nanoseconds. A bare number is ambiguous and rejected. */
export function parseTime(v: unknown): UnitResult {
  if (typeof v !== "string") return { ok: false, expected: TIME_EXPECTED };
  const m = NUMBER_WITH_UNIT.exec(v);
  if (!m) return { ok: false, expected: TIME_EXPECTED };
  const [, sign, num, unit] = m;
  const mult = TIME_UNITS[unit];
  if (mult === undefined) return { ok: false, expected: TIME_EXPECTED };
  if (sign === "-") return { ok: false, expected: `a non-negative time (${TIME_EXPECTED})` };
  return { ok: true, value: Math.round(Number(num) * mult) };
}

/** Parses a rate into bytes per second; "unlimited" is Infinity. */
export function parseRate(v: unknown): UnitResult {
  if (v === "unlimited") return { ok: true, value: Infinity };
  if (typeof v !== "string" || !v.endsWith("/s")) return { ok: false, expected: RATE_EXPECTED };
  const size = parseSize(v.slice(0, -2));
  if (!size.ok) return { ok: false, expected: RATE_EXPECTED };
  if (size.value === 0) return { ok: false, expected: `a positive rate (${RATE_EXPECTED})` };
  return size;
}

function hintDecimal(unit: string, expected: string): string {
  const binary: Record<string, string> = { KB: "KiB", kB: "KiB", K: "KiB", MB: "MiB", M: "MiB", GB: "GiB", G: "GiB", TB: "TiB", T: "TiB" };
  const b = binary[unit];
  return b ? `${expected}; "${unit}" is ambiguous, write "${b}"` : expected;
}

/** Formats bytes with the largest binary unit that keeps the value ≥ 1 (for messages and tables). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number.isInteger(v) ? v : v.toFixed(2)}${units[i]}`;
}
