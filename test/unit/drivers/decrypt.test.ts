/**
 * A driver's `decrypt` step (manufacturer payloads with their own AES block), the `times`, `hidden`
 * and subtracting `sum` fields it needs, and the seconds-since-2000 time, on telegrams built here
 * with node:crypto under a key of our own, so every byte is known.
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeWithDrivers, DriverRegistry, type DriverDefinition } from '../../../src/drivers/index.js';
import { parseDriver } from '../../../src/drivers/load.js';
import { toValues, type WmbusResult } from '../../../src/wmbus/index.js';

const KEY = '0F1E2D3C4B5A69788796A5B4C3D2E1F0';
// L C M(APA) ID(04913581) version 0x14, type 07, CI A0; then ACC, a clear status byte, 16 encrypted bytes.
const HEADER = '44' + '0106' + '81359104' + '1407' + 'A0';
const ACC = 0x5c;

/** A frame whose plaintext block is `plain` (16 bytes), encrypted as the driver below expects. */
function frame(plain: Uint8Array, key = KEY): string {
  const address = Buffer.from(HEADER.slice(2, 18), 'hex');
  const iv = Buffer.concat([address, Buffer.alloc(8, ACC)]);
  const c = createCipheriv('aes-128-cbc', Buffer.from(key, 'hex'), iv);
  c.setAutoPadding(false);
  const body = Buffer.concat([Buffer.from([ACC, 0x01]), c.update(plain), c.final()]);
  const withoutL = Buffer.concat([Buffer.from(HEADER, 'hex'), body]);
  return Buffer.concat([Buffer.from([withoutL.length]), withoutL]).toString('hex');
}

// Check byte 2F; count 0x12345 with multiplier code 2 (×100) in the byte-1 high bits; time; difference 0x1F3.
const PLAIN = Uint8Array.from([
  0x2f,
  0x25, 0x34, 0x12, 0x00, // nibble 5 | multiplier 2 <<4, then 0x34 << 4, 0x12 << 12 → 0x12345
  0x00, 0x00, 0x00, 0x00, // patched below: seconds since 2000
  0x07, 0x00, // age 7
  0xf3, 0x01, 0x00, // difference (0xF3 << 0) | (0x01 << 8) = 0x1F3
  0x80, 0x00,
]);
// 2024-03-23 15:22:20 is 764,522,540 s after 2000-01-01 00:00.
Buffer.from(PLAIN.buffer).writeUInt32LE(764522540, 5);

const DEF: DriverDefinition = {
  id: 'na1-test',
  description: 'test',
  match: [{ manufacturer: 'APA', ci: ['A0'] }],
  decrypt: { area: 'mfct', offset: 2, length: 16, mode: 'aes-128-cbc', iv: 'link-acc', acc: 0, check: { offset: 0, hex: '2F' } },
  fields: [
    { name: 'mult', quantity: 'Multiplier', unit: '', hidden: true, lookup: { '0': 1, '1': 10, '2': 100, '3': 1000 }, bytes: { area: 'decrypted', offset: 3, encoding: 'bits', parts: [{ offset: 0, shift: 4, mask: 3 }] } },
    {
      name: 'volume', quantity: 'Volume', unit: 'm^3', scale: 0.001, times: 'mult',
      bytes: { area: 'decrypted', offset: 3, encoding: 'bits', parts: [{ offset: 0, mask: 15 }, { offset: 1, place: 4 }, { offset: 2, place: 12 }, { offset: 3, place: 20 }] },
    },
    { name: 'meterTime', quantity: 'Date', unit: '', bytes: { area: 'decrypted', offset: 7, encoding: 'seconds-2000-le' } },
    { name: 'diff', quantity: 'Volume', unit: 'm^3', hidden: true, scale: 0.001, times: 'mult', bytes: { area: 'decrypted', offset: 13, length: 2, encoding: 'uint-le' } },
    { name: 'volumeBefore', quantity: 'Volume', unit: 'm^3', storage: 1, sum: ['volume', '-diff'] },
    { name: 'clearStatus', quantity: 'Error flags', unit: '', bytes: { area: 'mfct', offset: 1, length: 1, encoding: 'uint-le' } },
  ],
};

function registry(def: DriverDefinition = DEF): DriverRegistry {
  const reg = new DriverRegistry();
  reg.add(def, 'test');
  return reg;
}

function values(r: WmbusResult): Record<string, number | string> {
  return Object.fromEntries(toValues(r).map((v) => [v.name, v.value]));
}

describe('driver decrypt step', () => {
  it('decrypts with the configured key; multiplies, subtracts, hides helpers, reads the meter time', () => {
    const r = decodeWithDrivers(frame(PLAIN), { key: KEY }, registry());
    expect(r.Driver).toBe('na1-test');
    expect(values(r)).toEqual({ volume: 7456.5, meterTime: '2024-03-23T15:22:20Z', volumeBefore: 7406.6, clearStatus: 1 });
    expect(r.Body.DataRecords.find((x) => x.Name === 'volumeBefore')?.ValueString).toBe('7406.6');
    expect(r.DefaultKeyUsed).toBeUndefined();
    expect(r.KeyDiagnosis).toBeUndefined();
  });

  it('a wrong key fails the check: no encrypted value, wrong_key, the clear bytes still read', () => {
    const r = decodeWithDrivers(frame(PLAIN), { key: '00'.repeat(16) }, registry());
    expect(values(r)).toEqual({ clearStatus: 1 });
    expect(r.KeyDiagnosis?.problem).toBe('wrong_key');
    expect(r.KeyDiagnosis?.detail).not.toContain('0F1E');
    expect(r.Warnings).toContain('driver decryption failed: wrong_key');
  });

  it('without a key: key_missing, or the driver default key (flagged) when it declares one', () => {
    expect(decodeWithDrivers(frame(PLAIN), {}, registry()).KeyDiagnosis?.problem).toBe('key_missing');
    const r = decodeWithDrivers(frame(PLAIN), {}, registry({ ...DEF, defaultKey: KEY }));
    expect(values(r).volume).toBe(7456.5);
    expect(r.DefaultKeyUsed).toBe(true);
    // A configured key wins over the default one.
    expect(decodeWithDrivers(frame(PLAIN), { key: '11'.repeat(16) }, registry({ ...DEF, defaultKey: KEY })).KeyDiagnosis?.problem).toBe('wrong_key');
  });

  it('a payload shorter than the encrypted block is truncated, not decrypted', () => {
    const cut = frame(PLAIN).slice(0, -4);
    const short = (Number.parseInt(cut.slice(0, 2), 16) - 2).toString(16).padStart(2, '0') + cut.slice(2);
    const r = decodeWithDrivers(short, { key: KEY }, registry());
    expect(r.KeyDiagnosis?.problem).toBe('truncated');
    expect(values(r).volume).toBeUndefined();
  });

  it('the schema and the loader refuse a decrypted area without a decrypt step, bad block lengths and unknown names', () => {
    const json = (d: unknown): string => JSON.stringify(d);
    expect(parseDriver(json(DEF), 'x.json').decrypt?.iv).toBe('link-acc');
    const { decrypt: _, ...noDecrypt } = DEF;
    expect(() => parseDriver(json(noDecrypt), 'x.json')).toThrow(/area "decrypted" needs/);
    expect(() => parseDriver(json({ ...DEF, decrypt: { ...DEF.decrypt, length: 15 } }), 'x.json')).toThrow(/decrypt\/length/);
    expect(() => parseDriver(json({ ...DEF, decrypt: { ...DEF.decrypt, acc: undefined } }), 'x.json')).toThrow(/acc/);
    expect(() => parseDriver(json({ ...DEF, fields: [...DEF.fields, { name: 'x', quantity: 'Volume', unit: 'm^3', sum: ['volume', '-nothing'] }] }), 'x.json')).toThrow(/"nothing" is not a field defined earlier/);
    expect(() => parseDriver(json({ ...DEF, match: [{ manufacturer: 'APA', bytes: { area: 'decrypted', offset: 0, hex: '2F' } }] }), 'x.json')).toThrow(/match\/0\/bytes\/area/);
  });
});
