import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyResolver } from '../../src/parser/key-resolver.js';
import { ParseError } from '../../src/parser/parser.js';
import { KeyVault } from '../../src/security/key-vault.js';
import type { Job, KeyProblemReport } from '../../src/store/store.js';
import { decode, parseHeader } from '../../src/wmbus/index.js';

const KEY = '0102030405060708090A0B0C0D0E0F11';
const HEAD = '2e44931578563412330' + '3'; // L C M ID ver type of the README meter (ELS 12345678, gas)
const FORGED = `${HEAD}7a2a0020052f2f0c1499999999046d32371f1502fd1700002f2f2f2f2f2f2f2f2f2f2f2f2f`;

/**
 * A real mode 5 telegram whose ciphertext happens to start with 2F2F (one in 65,536): the volume
 * is stepped until AES-CBC under KEY gives that first block. Its header looks "already decrypted".
 */
function unluckyCiphertext(): { hex: string; volume: string } {
  for (let v = 0; v < 2_000_000; v++) {
    const bcd = v.toString().padStart(8, '0');
    const volLe = bcd.match(/../g)!.reverse().join('');
    const plain = Buffer.from(`2f2f0c14${volLe}046d32371f1502fd1700002f2f2f2f2f2f2f2f2f2f2f2f2f`, 'hex');
    const iv = Buffer.from(`9315785634123303${'2a'.repeat(8)}`, 'hex');
    const c = createCipheriv('aes-128-cbc', Buffer.from(KEY, 'hex'), iv).setAutoPadding(false);
    const enc = Buffer.concat([c.update(plain), c.final()]);
    if (enc[0] === 0x2f && enc[1] === 0x2f) return { hex: `${HEAD}7a2a002005${enc.toString('hex')}`, volume: `${Number(bcd) / 100}` };
  }
  throw new Error('no such volume');
}

/** Only the fields the resolver reads matter; the cast keeps the test independent of queue bookkeeping fields. */
function job(rawHex: string, keyHex: string | null = null): Job {
  return ({ ingestId: 'i1', gatewayId: 'gw1', rxTime: '2026-01-01T00:00:00Z', rssiDbm: null, mode: null, rawHex, meterId: null, manufacturer: null, attempts: 0, keyHex, replay: false }) as Job;
}

function resolver(stored: string | undefined, opts: { acceptPredecrypted?: boolean; policy?: 'strict' | 'lenient' } = {}) {
  const missing: string[] = [];
  const store = {
    getMeterKey: async () => stored,
    recordKeyProblem: async (r: KeyProblemReport) => {
      expect(r.problem).toBe('key_missing');
      missing.push(r.meterId);
    },
  };
  return { r: new KeyResolver(store, KeyVault.plain(), { policy: opts.policy ?? 'strict', acceptPredecrypted: opts.acceptPredecrypted }), missing };
}

async function failure(p: Promise<unknown>): Promise<ParseError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error('resolved');
}

describe('KeyResolver: a stored key that does not open', () => {
  it('is decrypt_failed for the telegram (it was retried every second forever as a database outage)', async () => {
    const vault = KeyVault.fromSecret('a-long-key-encryption-secret-for-tests', Buffer.alloc(16, 7));
    const sealedForAnotherMeter = vault.seal(KEY, '87654321');
    const store = { getMeterKey: async () => sealedForAnotherMeter, recordKeyProblem: async () => {} };
    const r = new KeyResolver(store, vault, { policy: 'strict' });
    const e = await failure(r.resolve(job(FORGED), parseHeader(FORGED)));
    expect(e).toMatchObject({ code: 'decrypt_failed', retryable: false });
    expect(e.message).not.toContain(KEY);
  });
});

describe('KeyResolver: plaintext under an encryption header', () => {
  it('refuses it with the stored key as decrypt_failed / unexpected_plaintext', async () => {
    const { r } = resolver(KEY);
    const e = await failure(r.resolve(job(FORGED), parseHeader(FORGED)));
    expect(e).toMatchObject({ code: 'decrypt_failed', reason: 'unexpected_plaintext', retryable: false });
  });

  it('without any key it is decrypt_key_missing under both policies, and the meter is listed', async () => {
    for (const policy of ['strict', 'lenient'] as const) {
      const { r, missing } = resolver(undefined, { policy });
      expect((await failure(r.resolve(job(FORGED), parseHeader(FORGED)))).code).toBe('decrypt_key_missing');
      expect(missing).toEqual(['12345678']);
    }
  });

  it('ACCEPT_PREDECRYPTED takes it without a key', async () => {
    expect(await resolver(KEY, { acceptPredecrypted: true }).r.resolve(job(FORGED), parseHeader(FORGED))).toEqual({ keyHex: null, predecrypted: true });
    expect(await resolver(undefined, { acceptPredecrypted: true }).r.resolve(job(FORGED), parseHeader(FORGED))).toEqual({ keyHex: null, predecrypted: true });
  });

  it('real ciphertext that starts with 2F2F is decrypted with the key, not refused', async () => {
    const t = unluckyCiphertext();
    expect(parseHeader(t.hex)).toMatchObject({ alreadyDecrypted: true, needsKey: true });
    for (const accept of [false, true]) {
      expect(await resolver(KEY, { acceptPredecrypted: accept }).r.resolve(job(t.hex), parseHeader(t.hex))).toEqual({ keyHex: KEY, predecrypted: false });
      const d = decode(t.hex, { key: KEY, acceptPredecrypted: accept });
      expect(d).toMatchObject({ Authenticated: true, AlreadyDecrypted: false });
      expect(d.Body.DataRecords[0]?.ValueScaled).toBe(Number(t.volume));
    }
    // The key from the request is tried the same way.
    expect(await resolver(undefined).r.resolve(job(t.hex, KEY), parseHeader(t.hex))).toEqual({ keyHex: KEY, predecrypted: false });
  });

  it('leaves unencrypted and ordinary encrypted telegrams as before', async () => {
    const plain = `${HEAD}7a2a0000002f2f0c1427048502046d32371f1502fd1700002f2f2f2f2f2f2f2f2f2f2f2f2f`;
    expect(await resolver(KEY).r.resolve(job(plain), parseHeader(plain))).toEqual({ keyHex: null, predecrypted: false });
    const oms = `${HEAD}7a2a0020055923c95aaa26d1b2e7493b013ec4a6f6d3529b520edff0ea6defc99d6d69ebf3`;
    expect(await resolver(KEY).r.resolve(job(oms), parseHeader(oms))).toEqual({ keyHex: KEY, predecrypted: false });
    expect((await failure(resolver(undefined).r.resolve(job(oms), parseHeader(oms)))).code).toBe('decrypt_key_missing');
    expect(await resolver(undefined, { policy: 'lenient' }).r.resolve(job(oms), parseHeader(oms))).toEqual({ keyHex: null, predecrypted: false });
  });
});

describe('KeyResolver: AFL fragments', () => {
  // FID 2 of a fragmented message (no TPL in this fragment): its message may be encrypted.
  const LATER = '1b4493157856341233038c207690020200aabbccddeeff0011223344';

  it('a later fragment gets the meter\'s stored key, and without one is neither failed nor listed as key_missing', async () => {
    expect(parseHeader(LATER).encrypted).toBe(false);
    const withKey = resolver(KEY);
    expect(await withKey.r.resolve(job(LATER), parseHeader(LATER))).toEqual({ keyHex: KEY, predecrypted: false });
    const none = resolver(undefined);
    expect(await none.r.resolve(job(LATER), parseHeader(LATER))).toEqual({ keyHex: null, predecrypted: false });
    expect(none.missing).toEqual([]);
  });
});
