import { ecbEncrypt, type KeyContext } from './aes.js';

/** AES-CMAC (RFC 4493 / NIST SP 800-38B), needed by OMS mode 7 (KDF-A and the AFL MAC). */
const ZERO = new Uint8Array(16);

function shiftLeft(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = (((src[i] ?? 0) << 1) | ((src[i + 1] ?? 0) >> 7)) & 0xff;
  if (((src[0] ?? 0) & 0x80) !== 0) out[15] = (out[15] ?? 0) ^ 0x87;
  return out;
}

function subkeys(ctx: KeyContext): [Uint8Array, Uint8Array] {
  if (ctx.k1 === undefined || ctx.k2 === undefined) {
    const l = ecbEncrypt(ctx, ZERO);
    ctx.k1 = shiftLeft(l);
    ctx.k2 = shiftLeft(ctx.k1);
  }
  return [ctx.k1, ctx.k2];
}

export function cmac(ctx: KeyContext, msg: Uint8Array): Uint8Array {
  const [k1, k2] = subkeys(ctx);
  const n = msg.length === 0 ? 1 : Math.ceil(msg.length / 16);
  const complete = msg.length > 0 && msg.length % 16 === 0;
  const last = new Uint8Array(16);
  const lastStart = (n - 1) * 16;
  for (let i = 0; i < 16; i++) {
    const idx = lastStart + i;
    let v: number;
    if (idx < msg.length) v = msg[idx] ?? 0;
    else v = !complete && idx === msg.length ? 0x80 : 0;
    last[i] = v ^ ((complete ? k1[i] : k2[i]) ?? 0);
  }
  let x: Uint8Array = ZERO;
  const block = new Uint8Array(16);
  for (let b = 0; b < n; b++) {
    const src = b === n - 1 ? last : msg.subarray(b * 16, b * 16 + 16);
    for (let i = 0; i < 16; i++) block[i] = (src[i] ?? 0) ^ (x[i] ?? 0);
    x = Uint8Array.from(ecbEncrypt(ctx, block));
  }
  return x;
}
