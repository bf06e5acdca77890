import { cbcMacOneShot, ecbEncrypt } from './aes.js';
/** AES-CMAC (RFC 4493 / NIST SP 800-38B), needed by OMS mode 7 (KDF-A and the AFL MAC). */
const ZERO = new Uint8Array(16);
function shiftLeft(src) {
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i++)
        out[i] = (((src[i] ?? 0) << 1) | ((src[i + 1] ?? 0) >> 7)) & 0xff;
    if (((src[0] ?? 0) & 0x80) !== 0)
        out[15] = (out[15] ?? 0) ^ 0x87;
    return out;
}
function subkeysFrom(l) {
    const k1 = shiftLeft(l);
    return [k1, shiftLeft(k1)];
}
function subkeys(ctx) {
    if (ctx.k1 === undefined || ctx.k2 === undefined) {
        const l = ecbEncrypt(ctx, ZERO);
        ctx.k1 = shiftLeft(l);
        ctx.k2 = shiftLeft(ctx.k1);
    }
    return [ctx.k1, ctx.k2];
}
export function cmac(ctx, msg) {
    const [k1, k2] = subkeys(ctx);
    const n = msg.length === 0 ? 1 : Math.ceil(msg.length / 16);
    const complete = msg.length > 0 && msg.length % 16 === 0;
    const last = new Uint8Array(16);
    const lastStart = (n - 1) * 16;
    for (let i = 0; i < 16; i++) {
        const idx = lastStart + i;
        let v;
        if (idx < msg.length)
            v = msg[idx] ?? 0;
        else
            v = !complete && idx === msg.length ? 0x80 : 0;
        last[i] = v ^ ((complete ? k1[i] : k2[i]) ?? 0);
    }
    let x = ZERO;
    const block = new Uint8Array(16);
    for (let b = 0; b < n; b++) {
        const src = b === n - 1 ? last : msg.subarray(b * 16, b * 16 + 16);
        for (let i = 0; i < 16; i++)
            block[i] = (src[i] ?? 0) ^ (x[i] ?? 0);
        x = Uint8Array.from(ecbEncrypt(ctx, block));
    }
    return x;
}
/** CMAC of several complete one-block messages under one key, in one AES call (KDF-A derivations). */
export function cmacBlocks(ctx, blocks) {
    const [k1] = subkeys(ctx);
    const x = new Uint8Array(blocks.length);
    for (let i = 0; i < blocks.length; i++)
        x[i] = (blocks[i] ?? 0) ^ (k1[i & 15] ?? 0);
    return ecbEncrypt(ctx, x);
}
/**
 * CMAC under a key used once (mode 7 Kmac): a CBC cipher first encrypts a zero block (giving L for
 * the subkeys and leaving L as chaining value), so the first message block is pre-XORed with L to
 * restart the chain from zero; one cipher object and two AES calls in total.
 */
export function cmacOnce(key, msg) {
    return cbcMacOneShot(key, ZERO, (l) => {
        const [k1, k2] = subkeysFrom(l);
        const n = msg.length === 0 ? 1 : Math.ceil(msg.length / 16);
        const complete = msg.length > 0 && msg.length % 16 === 0;
        const buf = new Uint8Array(n * 16);
        buf.set(msg, 0);
        if (!complete)
            buf[msg.length] = 0x80;
        const sub = complete ? k1 : k2;
        const last = (n - 1) * 16;
        for (let i = 0; i < 16; i++) {
            buf[last + i] = (buf[last + i] ?? 0) ^ (sub[i] ?? 0);
            buf[i] = (buf[i] ?? 0) ^ (l[i] ?? 0);
        }
        return buf;
    });
}
