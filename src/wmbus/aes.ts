import { createCipheriv, createDecipheriv, createHash, type Cipher, type Decipher } from 'node:crypto';

/**
 * AES-128 building blocks on node:crypto. One ECB cipher/decipher pair is kept per key and reused:
 * ECB without padding has no state between 16-byte blocks, so CBC and CTR are composed from it with
 * XORs and no cipher object is created per telegram. Every call passes whole blocks only.
 */
export interface KeyContext {
  readonly key: Buffer;
  /** Created on first use: an ephemeral mode-7 key needs only one direction. */
  encCipher?: Cipher;
  decCipher?: Decipher;
  /** CMAC subkeys (RFC 4493), computed on first use. */
  k1?: Uint8Array;
  k2?: Uint8Array;
  keyIdentifier?: string;
}

const MAX_CACHED_KEYS = 256;
const cache = new Map<string, KeyContext>();

export function newKeyContext(key: Uint8Array): KeyContext {
  return { key: Buffer.from(key) };
}

function enc(ctx: KeyContext): Cipher {
  if (ctx.encCipher === undefined) {
    ctx.encCipher = createCipheriv('aes-128-ecb', ctx.key, null);
    ctx.encCipher.setAutoPadding(false);
  }
  return ctx.encCipher;
}

function dec(ctx: KeyContext): Decipher {
  if (ctx.decCipher === undefined) {
    ctx.decCipher = createDecipheriv('aes-128-ecb', ctx.key, null);
    ctx.decCipher.setAutoPadding(false);
  }
  return ctx.decCipher;
}

/** Cached context for a long-lived (master) key; bounded so random keys cannot grow memory. */
export function keyContext(key: Uint8Array): KeyContext {
  const id = Buffer.from(key).toString('hex');
  let ctx = cache.get(id);
  if (ctx === undefined) {
    ctx = newKeyContext(key);
    if (cache.size >= MAX_CACHED_KEYS) {
      const first = cache.keys().next();
      if (first.done !== true) cache.delete(first.value);
    }
    cache.set(id, ctx);
  }
  return ctx;
}

/** Lobaro `KeyIdentifier`: upper-case hex SHA-256 of the 16 key bytes, never the key itself. */
export function keyIdentifier(ctx: KeyContext): string {
  if (ctx.keyIdentifier === undefined) ctx.keyIdentifier = createHash('sha256').update(ctx.key).digest('hex').toUpperCase();
  return ctx.keyIdentifier;
}

export function ecbEncrypt(ctx: KeyContext, blocks: Uint8Array): Uint8Array {
  return enc(ctx).update(blocks);
}

/** AES-128-CBC decryption of whole blocks (EN 13757-7 modes 5 and 7). */
export function cbcDecrypt(ctx: KeyContext, iv: Uint8Array, ct: Uint8Array): Uint8Array {
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
export function ctrCrypt(ctx: KeyContext, iv: Uint8Array, data: Uint8Array): Uint8Array {
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
  for (let i = 0; i < data.length; i++) out[i] = (data[i] ?? 0) ^ (ks[i] ?? 0);
  return out;
}

/** CBC-MAC core for a one-off key: one CBC cipher, chained over whole blocks, last block returned. */
export function cbcMacOneShot(key: Uint8Array, first: Uint8Array, rest: (l: Uint8Array) => Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-cbc', key, Buffer.alloc(16));
  c.setAutoPadding(false);
  const l = c.update(first);
  const out = c.update(rest(l));
  return out.subarray(out.length - 16);
}
