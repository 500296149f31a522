// SPDX-License-Identifier: MIT
// A device's configuration space: little-endian fields at fixed offsets, device-written or
// driver-writable, with a generation counter (virtio 1.x §2.5, §4.1.4.3 config_generation).
// Model: the transport carries 1-, 2- and 4-byte accesses; 8-byte fields are read as two words.

import { ConfigError } from "../guest/errors.js";

/** One config field (layout from the device type's spec section). */
export interface ConfigField {
  readonly name: string;
  /** Byte offset in config space. */
  readonly offset: number;
  /** Width in bytes. */
  readonly size: 1 | 2 | 4 | 8;
  /** The driver may write it (e.g. balloon `actual`, `poison_val`); otherwise writes are ignored. */
  readonly driverWritable?: boolean;
}

/** Result of a driver write: the field it changed, "readonly" or "out-of-range". */
export type ConfigWriteResult = ConfigField | "readonly" | "out-of-range";

export class ConfigSpace {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly byName = new Map<string, ConfigField>();
  /** Bumped by every device-side change; the driver re-reads multi-word fields until stable. */
  generation = 0;

  constructor(readonly fields: readonly ConfigField[], size?: number) {
    let end = 0;
    for (const f of fields) {
      const width: number = f.size;
      if (width !== 1 && width !== 2 && width !== 4 && width !== 8) throw new ConfigError(`config.${f.name}.size`, width, "1, 2, 4 or 8 bytes");
      if (!Number.isInteger(f.offset) || f.offset < 0) throw new ConfigError(`config.${f.name}.offset`, f.offset, "a non-negative integer byte offset");
      // the driver accesses 1/2/4-byte fields with aligned accesses of their width and 8-byte
      // fields as two aligned le32 (virtio 1.x §2.5.1), so offsets align to min(size, 4)
      const align = Math.min(f.size, 4);
      if (f.offset % align !== 0) throw new ConfigError(`config.${f.name}.offset`, f.offset, `a multiple of ${align} (natural alignment of a ${f.size}-byte field)`);
      if (this.byName.has(f.name)) throw new ConfigError("config.name", f.name, "unique field names");
      for (const g of this.byName.values()) {
        if (f.offset < g.offset + g.size && g.offset < f.offset + f.size) {
          throw new ConfigError(`config.${f.name}.offset`, f.offset, `no overlap with ${g.name} (bytes ${g.offset}..${g.offset + g.size - 1}); ${f.name} spans ${f.offset}..${f.offset + f.size - 1}`);
        }
      }
      this.byName.set(f.name, f);
      end = Math.max(end, f.offset + f.size);
    }
    const bytes = size ?? end;
    if (bytes < end) throw new ConfigError("config.size", size, `>= ${end} (end of the last field)`);
    this.bytes = new Uint8Array(bytes);
    this.view = new DataView(this.bytes.buffer);
  }

  get size(): number { return this.bytes.length; }

  field(name: string): ConfigField {
    const f = this.byName.get(name);
    if (!f) throw new ConfigError("config.field", name, `one of ${[...this.byName.keys()].join(", ")}`);
    return f;
  }

  /** Current value of field `name` (8-byte fields exact up to 2^53). */
  get(name: string): number {
    const f = this.field(name);
    return this.readAt(f.offset, f.size);
  }

  /** Device-side write of field `name`; bumps the generation. */
  set(name: string, value: number): void {
    const f = this.field(name);
    if (!Number.isInteger(value) || value < 0 || (f.size < 8 && value >= 2 ** (8 * f.size)) || value > Number.MAX_SAFE_INTEGER) {
      throw new ConfigError(`config.${name}`, value, `an unsigned ${8 * f.size}-bit integer`);
    }
    this.writeAt(f.offset, f.size, value);
    this.generation = (this.generation + 1) >>> 0;
  }

  /** Driver read of `size` (1, 2, 4) bytes at `offset`; undefined if outside config space. */
  driverRead(offset: number, size: number): number | undefined {
    if (!validAccess(offset, size, this.size)) return undefined;
    return this.readAt(offset, size);
  }

  /**
   * Driver write. Only bytes inside one driver-writable field are accepted; anything touching
   * a device-owned byte is ignored as a whole ("readonly").
   */
  driverWrite(offset: number, size: number, value: number): ConfigWriteResult {
    if (!validAccess(offset, size, this.size)) return "out-of-range";
    for (const f of this.fields) {
      if (offset >= f.offset && offset + size <= f.offset + f.size) {
        if (!f.driverWritable) return "readonly";
        this.writeAt(offset, size, value);
        return f;
      }
    }
    return "readonly";
  }

  private readAt(offset: number, size: number): number {
    switch (size) {
      case 1: return this.view.getUint8(offset);
      case 2: return this.view.getUint16(offset, true);
      case 4: return this.view.getUint32(offset, true);
      default: return this.view.getUint32(offset, true) + this.view.getUint32(offset + 4, true) * 0x1_0000_0000;
    }
  }

  private writeAt(offset: number, size: number, value: number): void {
    switch (size) {
      case 1: this.view.setUint8(offset, value & 0xff); break;
      case 2: this.view.setUint16(offset, value & 0xffff, true); break;
      case 4: this.view.setUint32(offset, value >>> 0, true); break;
      default:
        this.view.setUint32(offset, value % 0x1_0000_0000, true);
        this.view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
    }
  }
}

function validAccess(offset: number, size: number, total: number): boolean {
  return (size === 1 || size === 2 || size === 4) && Number.isInteger(offset) && offset >= 0 && offset + size <= total;
}
