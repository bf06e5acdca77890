import { encryptInPlace, newKeyContext, type KeyContext } from './aes.js';

/** AES-CMAC (RFC 4493 / NIST SP 800-38B), needed by OMS mode 7 (KDF-A and the AFL MAC). */

function shiftLeft(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = (((src[i] ?? 0) << 1) | ((src[i + 1] ?? 0) >> 7)) & 0xff;
  if (((src[0] ?? 0) & 0x80) !== 0) out[15] = (out[15] ?? 0) ^ 0x87;
  return out;
}

function subkeys(ctx: KeyContext): [Uint8Array, Uint8Array] {
  if (ctx.k1 === undefined || ctx.k2 === undefined) {
    const l = new Uint8Array(16);
    encryptInPlace(ctx, l);
    ctx.k1 = shiftLeft(l);
    ctx.k2 = shiftLeft(ctx.k1);
  }
  return [ctx.k1, ctx.k2];
}

export function cmac(ctx: KeyContext, msg: Uint8Array): Uint8Array {
  const [k1, k2] = subkeys(ctx);
  const n = msg.length === 0 ? 1 : Math.ceil(msg.length / 16);
  const complete = msg.length > 0 && msg.length % 16 === 0;
  const x = new Uint8Array(16);
  for (let b = 0; b < n - 1; b++) {
    for (let i = 0; i < 16; i++) x[i] = (x[i] as number) ^ (msg[b * 16 + i] as number);
    encryptInPlace(ctx, x);
  }
  const lastStart = (n - 1) * 16;
  const sub = complete ? k1 : k2;
  for (let i = 0; i < 16; i++) {
    const idx = lastStart + i;
    let v: number;
    if (idx < msg.length) v = msg[idx] as number;
    else v = !complete && idx === msg.length ? 0x80 : 0;
    x[i] = (x[i] as number) ^ v ^ (sub[i] as number);
  }
  encryptInPlace(ctx, x);
  return x;
}

/** CMAC of several complete one-block messages under one key (KDF-A derivations). */
export function cmacBlocks(ctx: KeyContext, blocks: Uint8Array): Uint8Array {
  const [k1] = subkeys(ctx);
  const x = new Uint8Array(blocks.length);
  for (let o = 0; o < blocks.length; o += 16) {
    const one = x.subarray(o, o + 16);
    for (let i = 0; i < 16; i++) one[i] = (blocks[o + i] as number) ^ (k1[i] as number);
    encryptInPlace(ctx, one);
  }
  return x;
}

/** CMAC under a key used once (mode 7 Kmac); its context is not cached. */
export function cmacOnce(key: Uint8Array, msg: Uint8Array): Uint8Array {
  return cmac(newKeyContext(key), msg);
}
