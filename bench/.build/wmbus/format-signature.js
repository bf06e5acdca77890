import { crc16 } from './crc.js';
/**
 * Lobaro's FormatSignature: CRC-16/EN-13757 over the DIF/DIFE/VIF/VIFE bytes of all records
 * (the FormatFrame), which is also the OMS compact-frame format signature (EN 13757-3 Annex G).
 * Verified: OMS example FormatFrame 0c14046d02fd17 → 61330.
 */
export function formatSignature(signatureBytes) {
    return crc16(Uint8Array.from(signatureBytes));
}
/**
 * Bounded LRU of learnt record formats, keyed by format signature, so that compact frames
 * (CI 79/7B/73) can be decoded once a full frame of the same format was seen. The caller owns it
 * (one per process or per stream); nothing is global.
 */
export class FormatCache {
    maxEntries;
    map = new Map();
    /** @param maxEntries upper bound on stored formats (default 1024, at least 1). */
    constructor(maxEntries = 1024) {
        this.maxEntries = Math.max(1, Math.floor(Number.isFinite(maxEntries) ? maxEntries : 1024));
    }
    get size() {
        return this.map.size;
    }
    /** Header bytes (DIF…VIFE of every record) for a signature, refreshing its LRU position. */
    get(signature) {
        const v = this.map.get(signature);
        if (v !== undefined) {
            this.map.delete(signature);
            this.map.set(signature, v);
        }
        return v;
    }
    set(signature, headerBytes) {
        if (this.map.has(signature))
            this.map.delete(signature);
        else if (this.map.size >= this.maxEntries) {
            const oldest = this.map.keys().next();
            if (oldest.done !== true)
                this.map.delete(oldest.value);
        }
        this.map.set(signature, headerBytes);
    }
    clear() {
        this.map.clear();
    }
}
