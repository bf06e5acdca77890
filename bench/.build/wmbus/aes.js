import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
const MAX_CACHED_KEYS = 256;
const cache = new Map();
export function newKeyContext(key) {
    return { key: Buffer.from(key) };
}
function enc(ctx) {
    if (ctx.encCipher === undefined) {
        ctx.encCipher = createCipheriv('aes-128-ecb', ctx.key, null);
        ctx.encCipher.setAutoPadding(false);
    }
    return ctx.encCipher;
}
function dec(ctx) {
    if (ctx.decCipher === undefined) {
        ctx.decCipher = createDecipheriv('aes-128-ecb', ctx.key, null);
        ctx.decCipher.setAutoPadding(false);
    }
    return ctx.decCipher;
}
/** Cached context for a long-lived (master) key; bounded so random keys cannot grow memory. */
export function keyContext(key) {
    const id = Buffer.from(key).toString('hex');
    let ctx = cache.get(id);
    if (ctx === undefined) {
        ctx = newKeyContext(key);
        if (cache.size >= MAX_CACHED_KEYS) {
            const first = cache.keys().next();
            if (first.done !== true)
                cache.delete(first.value);
        }
        cache.set(id, ctx);
    }
    return ctx;
}
/** Lobaro `KeyIdentifier`: upper-case hex SHA-256 of the 16 key bytes, never the key itself. */
export function keyIdentifier(ctx) {
    if (ctx.keyIdentifier === undefined)
        ctx.keyIdentifier = createHash('sha256').update(ctx.key).digest('hex').toUpperCase();
    return ctx.keyIdentifier;
}
export function ecbEncrypt(ctx, blocks) {
    return enc(ctx).update(blocks);
}
/** AES-128-CBC decryption of whole blocks (EN 13757-7 modes 5 and 7). */
export function cbcDecrypt(ctx, iv, ct) {
    const p = dec(ctx).update(ct);
    const out = new Uint8Array(ct.length);
    for (let i = 0; i < ct.length; i++) {
        const prev = i < 16 ? (iv[i] ?? 0) : (ct[i - 16] ?? 0);
        out[i] = (p[i] ?? 0) ^ prev;
    }
    return out;
}
/**
 * AES-128-CTR (EN 13757-4 ELL): the counter block's last byte is the block counter,
 * incremented per 16 bytes; the last block may be short.
 */
export function ctrCrypt(ctx, iv, data) {
    const nBlocks = Math.ceil(data.length / 16);
    const counters = new Uint8Array(nBlocks * 16);
    for (let b = 0; b < nBlocks; b++) {
        counters.set(iv, b * 16);
        // 128-bit big-endian increment by b, as OpenSSL's CTR does.
        let carry = b;
        for (let i = 15; i >= 0 && carry > 0; i--) {
            const v = (counters[b * 16 + i] ?? 0) + (carry & 0xff);
            counters[b * 16 + i] = v & 0xff;
            carry = (carry >>> 8) + (v >> 8);
        }
    }
    const ks = enc(ctx).update(counters);
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++)
        out[i] = (data[i] ?? 0) ^ (ks[i] ?? 0);
    return out;
}
/** CBC-MAC core for a one-off key: one CBC cipher, chained over whole blocks, last block returned. */
export function cbcMacOneShot(key, first, rest) {
    const c = createCipheriv('aes-128-cbc', key, Buffer.alloc(16));
    c.setAutoPadding(false);
    const l = c.update(first);
    const out = c.update(rest(l));
    return out.subarray(out.length - 16);
}
