import { deviceTypeName } from './device-types.js';
import { WmbusError } from './errors.js';
import { hex, readUintLE } from './hex.js';
import { manufacturerCode, manufacturerName } from './manufacturers.js';
/** C-field names, EN 13757-4 (wireless) and EN 13757-2 (wired). */
const C_NAMES = {
    0x44: 'SND_NR', 0x46: 'SND_IR', 0x47: 'ACC_NR', 0x48: 'ACC_DMD', 0x40: 'SND_NKE',
    0x53: 'SND_UD', 0x73: 'SND_UD', 0x43: 'SND_UD2', 0x5a: 'REQ_UD1', 0x7a: 'REQ_UD1', 0x5b: 'REQ_UD2', 0x7b: 'REQ_UD2',
    0x00: 'ACK', 0x10: 'ACK', 0x20: 'ACK', 0x30: 'ACK', 0x06: 'CNF_IR',
    0x08: 'RSP_UD', 0x18: 'RSP_UD', 0x28: 'RSP_UD', 0x38: 'RSP_UD',
};
export function cFieldName(c) {
    return C_NAMES[c] ?? 'unknown';
}
/** Reads M(2) at `mOff` and ID(4) at `idOff`, version and type at `vOff`, `vOff+1`. */
export function readAddress(b, mOff, idOff, vOff) {
    const m = (b[mOff] ?? 0) | ((b[mOff + 1] ?? 0) << 8);
    const idBytes = b.subarray(idOff, idOff + 4);
    const code = manufacturerCode(m);
    const deviceType = b[vOff + 1] ?? 0;
    return {
        m,
        mBytes: b.subarray(mOff, mOff + 2),
        idBytes,
        idString: hex(Uint8Array.of(idBytes[3] ?? 0, idBytes[2] ?? 0, idBytes[1] ?? 0, idBytes[0] ?? 0)),
        idNumber: readUintLE(b, idOff, 4),
        version: b[vOff] ?? 0,
        deviceType,
        manufacturer: code,
        manufacturerName: manufacturerName(code),
        deviceTypeName: deviceTypeName(deviceType),
    };
}
export function parseLinkLayer(d) {
    if (d.length < 11)
        throw new WmbusError('too_short', `telegram of ${d.length} bytes has no CI field`, { bytes: d.length });
    return { l: d[0] ?? 0, c: d[1] ?? 0, address: readAddress(d, 2, 4, 8), addressBytes: d.subarray(2, 10) };
}
