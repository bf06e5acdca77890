import { crc16 } from './crc.js';

/**
 * Lobaro's FormatSignature: CRC-16/EN-13757 over the DIF/DIFE/VIF/VIFE bytes of all records
 * (the FormatFrame), which is also the OMS compact-frame format signature (EN 13757-3 Annex G).
 * Verified: OMS example FormatFrame 0c14046d02fd17 → 61330.
 */
export function formatSignature(signatureBytes: readonly number[]): number {
  return crc16(Uint8Array.from(signatureBytes));
}

/**
 * Bounded LRU of learnt record formats, keyed by owner and format signature, so that compact
 * frames (CI 79/7B/73) can be decoded once a full frame of the same owner and format was seen.
 * `decode()` names the owner: the meter (manufacturer, id, version, device type) and whether the
 * frame was decrypted with the key, so one sender cannot teach a format that another meter's
 * compact frames are then read with. The caller owns the cache (one per process or per stream);
 * nothing is global.
 */
export class FormatCache {
  private readonly maxEntries: number;
  private readonly map = new Map<string, Uint8Array>();
  /** Formats from a trusted file (a driver's published formats) whose full-frame CRC is not enforced. */
  private readonly unchecked = new Set<string>();

  /** @param maxEntries upper bound on stored formats (default 1024, at least 1). */
  constructor(maxEntries = 1024) {
    this.maxEntries = Math.max(1, Math.floor(Number.isFinite(maxEntries) ? maxEntries : 1024));
  }

  get size(): number {
    return this.map.size;
  }

  /** Header bytes (DIF…VIFE of every record) of a meter's format, refreshing its LRU position. */
  get(meter: string, signature: number): Uint8Array | undefined {
    const k = cacheKey(meter, signature);
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }

  set(meter: string, signature: number, headerBytes: Uint8Array, opts: { fullFrameCrc?: boolean } = {}): void {
    const k = cacheKey(meter, signature);
    if (this.map.has(k)) this.map.delete(k);
    else if (this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next();
      if (oldest.done !== true) {
        this.map.delete(oldest.value);
        this.unchecked.delete(oldest.value);
      }
    }
    this.map.set(k, headerBytes);
    if (opts.fullFrameCrc === false) this.unchecked.add(k);
    else this.unchecked.delete(k);
  }

  /** False only for a format set with `fullFrameCrc: false`. */
  checksFullFrameCrc(meter: string, signature: number): boolean {
    return !this.unchecked.has(cacheKey(meter, signature));
  }

  clear(): void {
    this.map.clear();
    this.unchecked.clear();
  }
}

function cacheKey(meter: string, signature: number): string {
  return `${meter}#${signature}`;
}
