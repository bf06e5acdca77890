import { createHash } from 'node:crypto';
import { decryptBlock, encryptBlock, expandDecryptKey, expandEncryptKey } from './aes-block.js';

/**
 * AES-128 modes for OMS on the block functions in aes-block.ts. The round keys are computed on first
 * use and kept in the context: a mode-7 ephemeral key needs only one direction, a DES key (8 bytes)
 * never reaches these functions (the walker checks the key length per security mode).
 */
export interface KeyContext {
  readonly key: Buffer;
  enc?: Int32Array;
  dec?: Int32Array;
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

function enc(ctx: KeyContext): Int32Array {
  if (ctx.enc === undefined) ctx.enc = expandEncryptKey(ctx.key);
  return ctx.enc;
}

function dec(ctx: KeyContext): Int32Array {
  if (ctx.dec === undefined) ctx.dec = expandDecryptKey(enc(ctx));
  return ctx.dec;
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

/** Encrypts one block in place (CBC-MAC chains). */
export function encryptInPlace(ctx: KeyContext, block: Uint8Array): void {
  encryptBlock(enc(ctx), block, 0, block, 0);
}

/** AES-128-CBC decryption of whole blocks (EN 13757-7 modes 5 and 7). */
export function cbcDecrypt(ctx: KeyContext, iv: Uint8Array, ct: Uint8Array): Uint8Array {
  const dk = dec(ctx);
  const out = new Uint8Array(ct.length);
  for (let o = 0; o + 16 <= ct.length; o += 16) {
    decryptBlock(dk, ct, o, out, o);
    const prev = o === 0 ? iv : ct;
    const po = o === 0 ? 0 : o - 16;
    for (let i = 0; i < 16; i++) out[o + i] = (out[o + i] as number) ^ (prev[po + i] as number);
  }
  return out;
}

/**
 * AES-128-CTR (EN 13757-4 ELL): the counter block's last byte is the block counter,
 * incremented per 16 bytes; the last block may be short.
 */
export function ctrCrypt(ctx: KeyContext, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const rk = enc(ctx);
  const counter = Uint8Array.from(iv.subarray(0, 16));
  const ks = new Uint8Array(16);
  const out = new Uint8Array(data.length);
  for (let o = 0; o < data.length; o += 16) {
    encryptBlock(rk, counter, 0, ks, 0);
    const n = Math.min(16, data.length - o);
    for (let i = 0; i < n; i++) out[o + i] = (data[o + i] as number) ^ (ks[i] as number);
    // 128-bit big-endian increment, as OpenSSL's CTR does.
    for (let i = 15; i >= 0; i--) {
      counter[i] = ((counter[i] as number) + 1) & 0xff;
      if (counter[i] !== 0) break;
    }
  }
  return out;
}
