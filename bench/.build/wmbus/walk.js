import { aflMacInput, parseAfl } from './afl.js';
import { ellCrcOk, ellDecrypt, parseEll } from './ell.js';
import { WmbusError } from './errors.js';
import { parseLinkLayer } from './link-layer.js';
import { decryptMode5, decryptMode7, deriveMode7Keys, ephemeralContext, macMatches, startsWith2F2F } from './security.js';
import { isAflCi, isEllCi, isMfctCi, parseTpl, tplKind } from './transport.js';
const MAX_LAYERS = 8;
/** `key` null: header mode (no decryption attempted, plaintext checks only). */
export function walk(frame, key, tryDecrypt) {
    let d = frame.data;
    const end = d.length;
    const w = {
        frame, dll: null, mbusC: 0, mbusA: 0, chain: [], ell: null, afl: null, tpl: null, payload: 'none',
        apl: null, aplStart: 0, aplEnd: 0, encrypted: false, ellEncrypted: false, alreadyDecrypted: false,
        decryptionFailed: false, unsupportedSecurity: false, headerKnown: true,
    };
    let pos;
    if (frame.layout === 'dll') {
        w.dll = parseLinkLayer(d);
        pos = 10;
    }
    else if (frame.layout === 'mbus') {
        w.mbusC = d[0] ?? 0;
        w.mbusA = d[1] ?? 0;
        pos = 2;
    }
    else {
        pos = 0;
    }
    for (let layer = 0; layer < MAX_LAYERS && pos < end; layer++) {
        const ci = d[pos] ?? 0;
        w.chain.push(ci);
        if (isEllCi(ci) && w.ell === null && w.afl === null) {
            const ell = parseEll(d, pos, end);
            if (typeof ell === 'string')
                return fail(w, ell);
            w.ell = ell;
            if (ell.crcPos >= 0 && ell.enc === 1) {
                w.ellEncrypted = true;
                w.encrypted = true;
                const plainOk = ellCrcOk(d, ell.crcPos, end);
                if (key !== null && tryDecrypt && w.dll !== null) {
                    const dec = ellDecrypt(key, w.dll.addressBytes, ell, d, end);
                    if (ellCrcOk(dec, ell.crcPos, end)) {
                        d = dec;
                        w.ellCrcValid = true;
                    }
                    else if (plainOk) {
                        w.alreadyDecrypted = true;
                        w.ellCrcValid = true;
                    }
                    else {
                        w.decryptionFailed = true;
                        return w;
                    }
                }
                else if (plainOk) {
                    w.alreadyDecrypted = true;
                    w.ellCrcValid = true;
                }
                else {
                    w.decryptionFailed = tryDecrypt;
                    return w;
                }
            }
            else if (ell.crcPos >= 0) {
                w.ellCrcValid = ellCrcOk(d, ell.crcPos, end);
                if (ell.enc !== 0) {
                    w.encrypted = true;
                    w.unsupportedSecurity = true;
                    return w;
                }
            }
            pos = ell.next;
            continue;
        }
        if (isAflCi(ci) && w.afl === null && w.tpl === null) {
            const afl = parseAfl(d, pos, end);
            if (typeof afl === 'string')
                return fail(w, afl);
            w.afl = afl;
            if ((afl.fcl & 0x4000) !== 0 || (afl.fcl & 0xff) > 1) {
                w.payload = 'other';
                w.error = 'fragmented message: reassembly of AFL fragments is not supported';
                return w;
            }
            pos = afl.next;
            continue;
        }
        if (isMfctCi(ci)) {
            w.payload = 'mfct';
            w.apl = d;
            w.aplStart = pos + 1;
            w.aplEnd = end;
            return w;
        }
        if (ci === 0x81 && w.tpl === null) {
            // Network layer (EN 13757-5): wmbusmeters skips one byte after the CI.
            pos += 2;
            continue;
        }
        if (tplKind(ci) === undefined || w.tpl !== null) {
            w.payload = 'unknown';
            w.headerKnown = false;
            return w;
        }
        const tpl = parseTpl(d, pos, end);
        if (typeof tpl === 'string')
            return fail(w, tpl);
        w.tpl = tpl;
        w.payload = tpl.payload;
        security(w, d, tpl, end, key, tryDecrypt);
        return w;
    }
    return w;
}
function fail(w, msg) {
    w.headerKnown = false;
    w.error = msg;
    return w;
}
function setApl(w, buf, start, end) {
    w.apl = buf;
    w.aplStart = start;
    w.aplEnd = end;
}
function security(w, d, tpl, end, key, tryDecrypt) {
    const start = tpl.dataOffset;
    if (tpl.mode === 0 || tpl.headerType === 'none') {
        setApl(w, d, start, end);
        return;
    }
    w.encrypted = true;
    const plain = startsWith2F2F(d, start, end);
    if (tpl.mode !== 5 && tpl.mode !== 7) {
        if (plain) {
            w.alreadyDecrypted = true;
            setApl(w, d, start, end);
        }
        else {
            w.unsupportedSecurity = true;
        }
        return;
    }
    if (key === null || !tryDecrypt) {
        // Published test telegrams are often stored decrypted; wmbusmeters accepts 2F2F as plaintext.
        if (plain) {
            w.alreadyDecrypted = true;
            setApl(w, d, start, end);
        }
        else {
            w.decryptionFailed = tryDecrypt;
        }
        return;
    }
    const dec = tpl.mode === 5 ? mode5(w, d, tpl, end, key) : mode7(w, d, tpl, end, key);
    if (dec !== null && startsWith2F2F(dec, 0, dec.length)) {
        if (w.macValid === false) {
            w.decryptionFailed = true;
            w.error = 'AFL MAC does not match';
            return;
        }
        setApl(w, dec, 0, dec.length);
        return;
    }
    if (plain) {
        w.alreadyDecrypted = true;
        w.macValid = undefined;
        setApl(w, d, start, end);
        return;
    }
    w.decryptionFailed = true;
}
function mode5(w, d, tpl, end, key) {
    const address = tpl.addressBytes ?? w.dll?.addressBytes ?? null;
    if (address === null)
        return null;
    return decryptMode5(key, address, tpl.acc, d, tpl.dataOffset, end, tpl.blocks);
}
function mode7(w, d, tpl, end, key) {
    const kdf = ((tpl.cfe ?? 0) >> 4) & 3;
    if (kdf === 0)
        return decryptMode7(key, d, tpl.dataOffset, end, tpl.blocks);
    if (kdf !== 1)
        return null;
    const counter = tpl.counter ?? w.afl?.mcr;
    const id = tpl.address?.idBytes ?? w.dll?.address.idBytes;
    if (counter === undefined || counter.length < 4 || id === undefined)
        return null;
    const keys = deriveMode7Keys(key, counter, id);
    const afl = w.afl;
    if (afl !== null && afl.mac !== undefined && afl.mac.length > 0) {
        w.macValid = macMatches(keys.kmac, aflMacInput(d, afl, end), afl.mac);
    }
    return decryptMode7(ephemeralContext(keys.kenc), d, tpl.dataOffset, end, tpl.blocks);
}
export function assertKnown(w) {
    if (w.frame.layout === 'apl' && w.tpl === null)
        throw new WmbusError('unsupported_frame', 'no link layer and no known CI');
}
