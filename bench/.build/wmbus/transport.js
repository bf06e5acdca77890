/**
 * Transport layer (EN 13757-7:2018 §7): CI field table and the short/long TPL header with the
 * configuration word (and mode 7's configuration field extension).
 */
import { readAddress } from './link-layer.js';
/** CI → TPL header and what follows it (EN 13757-7:2018 Table 2, oms-reference §3). */
const TPL_CI = new Map([
    [0x72, ['long', 'records']], [0x7a, ['short', 'records']], [0x78, ['none', 'records']],
    [0x79, ['none', 'compact']], [0x7b, ['short', 'compact']], [0x73, ['long', 'compact']],
    [0x69, ['none', 'format']], [0x6a, ['short', 'format']], [0x6b, ['long', 'format']],
    [0x8a, ['short', 'none']], [0x8b, ['long', 'none']],
    [0x5a, ['short', 'records']], [0x5b, ['long', 'records']], [0x51, ['none', 'records']],
    [0x70, ['none', 'error']], [0x6e, ['short', 'error']], [0x6f, ['long', 'error']],
    [0x71, ['none', 'alarm']], [0x74, ['short', 'alarm']], [0x75, ['long', 'alarm']],
    [0x7c, ['long', 'other']], [0x7d, ['short', 'other']], [0x7e, ['long', 'other']], [0x7f, ['short', 'other']],
    [0x60, ['long', 'other']], [0x61, ['short', 'other']],
]);
export function tplKind(ci) {
    return TPL_CI.get(ci);
}
export const isEllCi = (ci) => ci >= 0x8c && ci <= 0x8f;
export const isAflCi = (ci) => ci === 0x90;
export const isMfctCi = (ci) => ci >= 0xa0 && ci <= 0xb7;
const MODE_NAMES = {
    0: 'No encryption', 1: 'Manufacturer specific', 2: 'DES with IV = 0', 3: 'DES with IV',
    4: 'Specific usage', 5: 'AES with CBC', 7: 'AES with CBC and ephemeral key', 8: 'AES with CTR and CMAC',
    9: 'AES with GCM', 10: 'AES with CCM', 13: 'TLS', 15: 'Specific usage',
};
export function encryptionModeName(mode) {
    return MODE_NAMES[mode] ?? (mode >= 16 ? 'Manufacturer specific' : 'Reserved');
}
/** Parses the TPL header whose CI is at `off`; returns an error text when the bytes run out. */
export function parseTpl(d, off, end) {
    const kind = TPL_CI.get(d[off] ?? 0);
    if (kind === undefined)
        return `unknown CI 0x${(d[off] ?? 0).toString(16)}`;
    const [headerType, payload] = kind;
    const tpl = {
        ci: d[off] ?? 0, headerType, payload, address: null, addressBytes: null,
        acc: 0, sts: 0, cw: 0, cwBytes: [0, 0], mode: 0, blocks: 0, dataOffset: off + 1,
    };
    if (headerType === 'none')
        return tpl;
    let p = off + 1;
    if (headerType === 'long') {
        if (p + 8 > end)
            return 'long TPL header truncated';
        tpl.address = readAddress(d, p + 4, p, p + 6);
        const ab = new Uint8Array(8);
        ab.set(d.subarray(p + 4, p + 6), 0);
        ab.set(d.subarray(p, p + 4), 2);
        ab.set(d.subarray(p + 6, p + 8), 6);
        tpl.addressBytes = ab;
        p += 8;
    }
    if (p + 4 > end)
        return 'TPL header truncated';
    tpl.acc = d[p] ?? 0;
    tpl.sts = d[p + 1] ?? 0;
    tpl.cwBytes = [d[p + 2] ?? 0, d[p + 3] ?? 0];
    tpl.cw = tpl.cwBytes[0] | (tpl.cwBytes[1] << 8);
    tpl.mode = (tpl.cw >> 8) & 0x1f;
    tpl.blocks = (tpl.cw >> 4) & 0x0f;
    p += 4;
    if (tpl.mode === 7) {
        // EN 13757-7:2018 7.7.5: CFE, then [TPL counter if Z (CW bit 13)] [key version if CFE bit 6].
        if (p >= end)
            return 'mode 7 configuration field extension missing';
        tpl.cfe = d[p] ?? 0;
        p++;
        if ((tpl.cw & 0x2000) !== 0) {
            if (p + 4 > end)
                return 'mode 7 TPL counter truncated';
            tpl.counter = d.subarray(p, p + 4);
            p += 4;
        }
        if ((tpl.cfe & 0x40) !== 0) {
            if (p >= end)
                return 'mode 7 key version missing';
            tpl.keyVersion = d[p] ?? 0;
            p++;
        }
    }
    tpl.dataOffset = p;
    return tpl;
}
