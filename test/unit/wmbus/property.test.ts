import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, FormatCache, parseHeader, toValues, WmbusError } from '../../../src/wmbus/index.js';
import { cleanHex, loadVectors, realKey } from './vector-match.js';

const vectors = loadVectors().filter((v) => v.frame?.kind !== 'invalid_hex_odd_length');
const samples = vectors.map((v) => ({ bytes: Uint8Array.from(Buffer.from(cleanHex(v.hex), 'hex')), key: realKey(v) }));

/**
 * decode/parseHeader may only return or throw a typed WmbusError; anything else fails the property,
 * and so does `internal_error` — the code a bug inside the decoder is reported under.
 */
function safely(bytes: Uint8Array, key: string | null, cache: FormatCache): void {
  const runs = [
    () => toValues(decode(bytes, { key, formatCache: cache })),
    () => toValues(decode(bytes, { key, formatCache: cache, acceptPredecrypted: true })),
    () => parseHeader(bytes),
  ];
  for (const fn of runs) {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof WmbusError)) throw e;
      if (e.code === 'internal_error') throw new Error(`internal decoder error on ${Buffer.from(bytes).toString('hex')}: ${e.message}`);
    }
  }
}

describe('robustness (fast-check)', () => {
  it('random byte strings give a result or a WmbusError, quickly', () => {
    const cache = new FormatCache(64);
    const started = Date.now();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean(), (bytes, withKey) => {
        safely(bytes, withKey ? '000102030405060708090A0B0C0D0E0F' : null, cache);
      }),
      { numRuns: 2000 },
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('random telegrams with a plausible link layer and CI survive', () => {
    const cache = new FormatCache(64);
    const ci = fc.constantFrom(0x72, 0x7a, 0x78, 0x79, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0xa0, 0x8b, 0x69);
    fc.assert(
      fc.property(ci, fc.uint8Array({ minLength: 0, maxLength: 200 }), (c, rest) => {
        const b = new Uint8Array(11 + rest.length);
        b.set([10 + rest.length, 0x44, 0x93, 0x15, 0x78, 0x56, 0x34, 0x12, 0x33, 0x03, c], 0);
        b.set(rest, 11);
        safely(b, '0102030405060708090A0B0C0D0E0F11', cache);
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated real telegrams (bit flips, truncation, insertion) survive', () => {
    const cache = new FormatCache(64);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: samples.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.constantFrom('flip', 'truncate', 'insert', 'set'),
        (i, edits, cut, how) => {
          const s = samples[i];
          if (s === undefined) return;
          let b = Uint8Array.from(s.bytes);
          if (how === 'truncate') b = b.slice(0, cut % (b.length + 1));
          for (const [pos, val] of edits) {
            if (b.length === 0) break;
            const p = pos % b.length;
            if (how === 'flip') b[p] = (b[p] ?? 0) ^ (1 << (val & 7));
            else if (how === 'set') b[p] = val;
            else if (how === 'insert') b = Uint8Array.from([...b.subarray(0, p), val, ...b.subarray(p)]);
          }
          safely(b, s.key, cache);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('no format frame, however made, changes the values a compact frame decodes to', () => {
    // DME 11223344 (water, unencrypted): full frame, then a compact frame of the same format (volume 241.1 m³).
    const head = '44a5114433221101' + '07';
    const full = `25${head}780306EB24004306E723000314285E00426CBF2C022D030001FF2100`;
    const compact = `1c${head}79e7f1a3fced2400e723002e5e00bf2c0d0000`;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), fc.boolean(), (format, claimRealSignature) => {
        const cache = new FormatCache(8);
        decode(full, { formatCache: cache });
        const sig = claimRealSignature ? [0xe7, 0xf1] : [format[0] ?? 0, format[1] ?? 0];
        const body = Buffer.from([0x69, format.length, ...sig, ...format]).toString('hex');
        try {
          decode(`${(10 + body.length / 2).toString(16).padStart(2, '0')}${head}${body}`, { formatCache: cache });
        } catch (e) {
          if (!(e instanceof WmbusError) || e.code === 'internal_error') throw e;
        }
        try {
          const r = decode(compact, { formatCache: cache });
          expect(r.Body.DataRecords.find((x) => x.VifUnit === 'm^3')?.ValueString).toBe('241.1');
        } catch (e) {
          // Only a format that really has the signature can replace the real one, and then the full-frame CRC refuses it.
          if (!(e instanceof WmbusError) || e.code !== 'crc_error') throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('hex strings with junk never throw anything but WmbusError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          decode(s);
        } catch (e) {
          expect(e).toBeInstanceOf(WmbusError);
          expect((e as WmbusError).code).not.toBe('internal_error');
        }
      }),
      { numRuns: 500 },
    );
  });
});
