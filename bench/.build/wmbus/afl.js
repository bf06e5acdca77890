/** Authentication and fragmentation layer (EN 13757-7:2018 clause 6, CI 90). */
import { readUintLE } from './hex.js';
/** MAC length per authentication type (MCL bits 3–0), Table 8. */
const MAC_LEN = [0, 0, 0, 2, 4, 8, 12, 16, 12, 16];
export function parseAfl(d, off, end) {
    if (off + 2 > end)
        return 'AFL truncated';
    const afll = d[off + 1] ?? 0;
    const next = off + 2 + afll;
    if (next > end || afll < 2)
        return 'AFL length exceeds telegram';
    let p = off + 2;
    const fcl = readUintLE(d, p, 2);
    p += 2;
    const afl = { fcl, start: off, next };
    if ((fcl & 0x2000) !== 0)
        afl.mcl = d[p++] ?? 0;
    if ((fcl & 0x0200) !== 0) {
        afl.ki = readUintLE(d, p, 2);
        p += 2;
    }
    if ((fcl & 0x0800) !== 0) {
        afl.mcr = d.subarray(p, p + 4);
        afl.mcrValue = readUintLE(d, p, 4);
        p += 4;
    }
    if ((fcl & 0x0400) !== 0) {
        const len = MAC_LEN[(afl.mcl ?? 0) & 0x0f] ?? 0;
        afl.mac = d.subarray(p, p + len);
        p += len;
    }
    if ((fcl & 0x1000) !== 0) {
        afl.ml = readUintLE(d, p, 2);
        p += 2;
    }
    if (p > next)
        return 'AFL fields exceed AFLL';
    return afl;
}
/** MAC input (EN 13757-7 §6.3.5): MCL ‖ [KI] ‖ MCR ‖ [ML] ‖ everything from the TPL CI to the end. */
export function aflMacInput(d, afl, end) {
    const parts = [];
    if (afl.mcl !== undefined)
        parts.push(afl.mcl);
    if (afl.ki !== undefined)
        parts.push(afl.ki & 0xff, afl.ki >> 8);
    if (afl.mcr !== undefined)
        parts.push(...afl.mcr);
    if (afl.ml !== undefined)
        parts.push(afl.ml & 0xff, afl.ml >> 8);
    const out = new Uint8Array(parts.length + (end - afl.next));
    out.set(parts, 0);
    out.set(d.subarray(afl.next, end), parts.length);
    return out;
}
