/**
 * Diehl "real data" frames (Hydrus IZAR RS 868): A-field sent as version, type, ID; payload after the
 * short TPL header LFSR-scrambled, checked by the configuration byte. The two published telegrams are
 * stored descrambled (wmbusmeters `hydrus` tests); scrambled ones are made here with the same LFSR.
 */
import { describe, expect, it } from 'vitest';
import { decodeWithDrivers, DriverRegistry } from '../../../src/drivers/index.js';
import { DEFAULT_SEEDS, LFSR_PAYLOAD_START, lfsrDecode, lfsrSeed } from '../../../src/wmbus/diehl.js';
import { decode, parseHeader, toValues } from '../../../src/wmbus/index.js';

// wmbusmeters hydrus tests "Hydrus IZAR RS 868": 60897379 71.442 m³, 69.7 m³ at 2021-03-31 (water);
// 60904720 49.373 m³, 48.002 m³ at 2021-03-31 (warm water).
const RS = '1E4424238B07797389607A8F00107D041312170100426CBF23441344100100';
const RS_WARM = '1E4424238B06204790607A2A0010D80413DDC00000426CBF23441382BB0000';

/** Scrambles the payload (the LFSR is an XOR stream, so descrambling a plaintext scrambles it). */
function scramble(hex: string, seed: number): string {
  const f = Uint8Array.from(Buffer.from(hex, 'hex'));
  const s = lfsrDecode(f, f, seed);
  if (s === null) throw new Error('no stream');
  f.set(s, LFSR_PAYLOAD_START);
  return Buffer.from(f).toString('hex');
}

function values(hex: string, opts: Parameters<typeof decode>[1] = {}): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const v of toValues(decode(hex, opts))) out[`${v.name}${v.storage ? `@s${v.storage}` : ''}`] ??= v.value;
  return out;
}

describe('Diehl real-data frames (Hydrus IZAR RS 868)', () => {
  it('reads the swapped A-field: ID, version and type as wmbusmeters states them', () => {
    const r = decode(RS, { acceptPredecrypted: true });
    expect([r.IdString, r.Version, r.Device, r.MFieldCodeString]).toEqual(['60897379', 0x8b, '0x07', 'HYD']);
    expect(parseHeader(RS).meterId).toBe('60897379');
    expect(decode(RS_WARM, { acceptPredecrypted: true }).IdString).toBe('60904720');
  });

  it('the published (descrambled) telegrams give their stated values, as plaintext under the usual rule', () => {
    expect(values(RS, { acceptPredecrypted: true })).toMatchObject({ volume: 71.442, 'volume@s1': 69.7, 'date@s1': '2021-03-31' });
    expect(values(RS_WARM, { acceptPredecrypted: true })).toMatchObject({ volume: 49.373, 'volume@s1': 48.002 });
    // Plaintext under an encryption claim proves nothing: refused without acceptPredecrypted.
    const refused = decode(RS);
    expect(refused.Body.DecryptionFailed).toBe(true);
    expect(refused.Body.DataRecords).toEqual([]);
  });

  it('descrambles with either published default seed, or with the configured key; not authenticated', () => {
    for (const seed of DEFAULT_SEEDS) {
      const r = decode(scramble(RS, seed));
      expect(r.Body.DecryptionFailed).toBe(false);
      expect(r.Authenticated).toBe(false);
      expect(values(scramble(RS, seed))).toMatchObject({ volume: 71.442, 'volume@s1': 69.7 });
    }
    const key = '0123456789ABCDEF0123456789ABCDEF';
    const own = scramble(RS_WARM, lfsrSeed(Buffer.from(key, 'hex')));
    expect(values(own, { key })).toMatchObject({ volume: 49.373, 'volume@s1': 48.002 });
    // That frame with the default seeds only: the checksum fails, and the diagnosis says so.
    const r = decodeWithDrivers(own, { key: 'FFEEDDCCBBAA99887766554433221100' }, new DriverRegistry());
    expect(r.Body.DecryptionFailed).toBe(true);
    expect(r.KeyDiagnosis).toMatchObject({ problem: 'wrong_key', detail: expect.stringContaining('checksum') });
  });

  it('only real-data frames are swapped: a standard Hydrus frame keeps its A-field', () => {
    const standard = '4E44A5116464646470077AED004005_2F2F01FD08300C13741100007C1300000000FC101300000000FC201300000000726C00000B3B00000002FD748713025A6800C4016D3B177F2ACC011300020000';
    expect(decode(standard.replace('_', ''), { acceptPredecrypted: true }).IdString).toBe('64646464');
  });
});
