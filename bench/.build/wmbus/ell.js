/** Extended link layer (EN 13757-4:2019 §13.2, CI 8C–8F) and its AES-128-CTR encryption. */
import { ctrCrypt } from './aes.js';
import { crc16 } from './crc.js';
import { readAddress } from './link-layer.js';
const HEADER_LEN = { 0x8c: 2, 0x8d: 8, 0x8e: 10, 0x8f: 16 };
export function parseEll(d, off, end) {
    const ci = d[off] ?? 0;
    const len = HEADER_LEN[ci] ?? 0;
    if (off + 1 + len > end)
        return 'ELL header truncated';
    const p = off + 1;
    const hasAddress = ci === 0x8e || ci === 0x8f;
    const hasSn = ci === 0x8d || ci === 0x8f;
    const snOff = hasAddress ? p + 10 : p + 2;
    const sn = hasSn ? d.subarray(snOff, snOff + 4) : null;
    const snValue = sn === null ? 0 : ((sn[0] ?? 0) | ((sn[1] ?? 0) << 8) | ((sn[2] ?? 0) << 16) | ((sn[3] ?? 0) << 24)) >>> 0;
    return {
        ci,
        cc: d[p] ?? 0,
        acc: d[p + 1] ?? 0,
        address: hasAddress ? readAddress(d, p + 2, p + 4, p + 8) : null,
        sn,
        snValue,
        enc: snValue >>> 29,
        crcPos: hasSn ? snOff + 4 : -1,
        next: p + len,
    };
}
/** Payload CRC (LE) over every byte after it to the end of the frame. */
export function ellCrcOk(d, crcPos, end) {
    if (crcPos + 2 > end)
        return false;
    return crc16(d, crcPos + 2, end) === ((d[crcPos] ?? 0) | ((d[crcPos + 1] ?? 0) << 8));
}
/**
 * Decrypts from the payload CRC to the end. Initial counter block (EN 13757-4:2019 13.2.12):
 * DLL M(2) A(6), CC with H and R cleared, SN(4), FN 00 00, BC 00.
 */
export function ellDecrypt(ctx, dllAddress, ell, d, end) {
    const iv = new Uint8Array(16);
    iv.set(dllAddress.subarray(0, 8), 0);
    iv[8] = ell.cc & 0xed;
    if (ell.sn !== null)
        iv.set(ell.sn, 9);
    const out = Uint8Array.from(d.subarray(0, end));
    out.set(ctrCrypt(ctx, iv, d.subarray(ell.crcPos, end)), ell.crcPos);
    return out;
}
