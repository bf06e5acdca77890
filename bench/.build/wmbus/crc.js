/**
 * CRC-16/EN-13757 (EN 13757-4 §"frame formats"): poly 0x3D65, init 0, no reflection,
 * final XOR 0xFFFF, check("123456789") = 0xC2B7. Also used for the ELL payload CRC and
 * for the format signature of compact frames (EN 13757-3 Annex G).
 */
const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++)
        c = c & 0x8000 ? ((c << 1) ^ 0x3d65) & 0xffff : (c << 1) & 0xffff;
    TABLE[i] = c;
}
export function crc16(buf, start = 0, end = buf.length) {
    let c = 0;
    for (let i = start; i < end; i++)
        c = ((c << 8) & 0xffff) ^ (TABLE[((c >> 8) ^ (buf[i] ?? 0)) & 0xff] ?? 0);
    return c ^ 0xffff;
}
/** True when the two bytes at `at` hold the CRC of [start, end) most significant byte first (DLL blocks). */
export function crcMatchesBE(buf, start, end, at) {
    return crc16(buf, start, end) === (((buf[at] ?? 0) << 8) | (buf[at + 1] ?? 0));
}
