import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeWithDrivers, DriverRegistry, type DriverDefinition, type DriverField } from '../../../src/drivers/index.js';
import { decode, toValues, type WmbusResult } from '../../../src/wmbus/index.js';

// BFW 240 radio (no encryption): APL = 2F 2F 6F 1F 01 44 01 00 14 70 00 … 00 37 00 9B 44 10 AC 26 02 21.
const BFW = '3644D7084774700002087A80C000002F2F6F1F01440100147000000000000000000000000000000000000000000037009B4410AC260221';
// Hydrodigit: standard records 0C13 (volume) and 046D (date/time F), then DIF 0F manufacturer data.
const HYDRO = '4644B4092143658713077A9C0000000C1364390400046D212F16350F152A0F000000440F00C00F00511000D51000B20B00180C007C0C00E60C00560D00D10D00400E00C60E0000';

function driver(fields: DriverField[], extra: Partial<DriverDefinition> = {}, manufacturer = 'BFW'): DriverRegistry {
  const reg = new DriverRegistry();
  reg.add({ id: 'test', description: 'test', match: [{ manufacturer }], fields, ...extra }, 'test');
  return reg;
}

function run(hex: string, reg: DriverRegistry): WmbusResult {
  return decodeWithDrivers(hex, {}, reg);
}

function value(r: WmbusResult, name: string): number | string | undefined {
  return toValues(r).find((v) => v.name === name)?.value;
}

const f = (name: string, bytes: DriverField['bytes'], more: Partial<DriverField> = {}): DriverField => ({ name, quantity: 'Volume', unit: 'm^3', bytes, ...more });

describe('driver interpreter', () => {
  it('reads integers, BCD and bit fields in both byte orders, from the start and from the end', () => {
    const r = run(BFW, driver([
      f('uLe', { area: 'apl', offset: 4, length: 2, encoding: 'uint-le' }),
      f('uBe', { area: 'apl', offset: 4, length: 2, encoding: 'uint-be' }),
      f('iNeg', { area: 'apl', offset: -7, length: 1, encoding: 'int-le' }),
      f('bcdLe', { area: 'apl', offset: -3, length: 3, encoding: 'bcd-le' }),
      f('bcdBe', { area: 'apl', offset: -3, length: 3, encoding: 'bcd-be' }),
      f('nibble', { area: 'apl', offset: -3, encoding: 'bits', parts: [{ offset: 0, mask: 0x0f }] }),
      f('twelve', { area: 'apl', offset: -6, encoding: 'bits', parts: [{ offset: 0 }, { offset: -1, shift: 4, mask: 0x0f, place: 8 }] }),
      f('hex', { area: 'apl', offset: 0, length: 2, encoding: 'hex' }),
    ]));
    expect(r.Driver).toBe('test');
    expect(value(r, 'uLe')).toBe(0x4401);
    expect(value(r, 'uBe')).toBe(324);
    expect(value(r, 'iNeg')).toBe(-101);
    expect(value(r, 'bcdLe')).toBe(210226);
    expect(value(r, 'bcdBe')).toBe(260221);
    expect(value(r, 'nibble')).toBe(6);
    expect(value(r, 'twelve')).toBe(0x944);
    expect(value(r, 'hex')).toBe('2F2F');
  });

  it('scales exactly, divides, looks up codes and leaves out absent patterns and bytes past the end', () => {
    const r = run(BFW, driver([
      f('scaled', { area: 'apl', offset: 4, length: 2, encoding: 'uint-le' }, { scale: 0.001 }),
      f('third', { area: 'apl', offset: 4, length: 2, encoding: 'uint-be' }, { divide: 3 }),
      f('code', { area: 'apl', offset: 2, length: 1, encoding: 'uint-le' }, { lookup: { '1': 1.5, default: 9 } }),
      f('gone', { area: 'apl', offset: 10, length: 2, encoding: 'uint-le' }, { absent: ['0000'] }),
      f('past', { area: 'apl', offset: 60, length: 4, encoding: 'uint-le' }),
    ]));
    const rec = r.Body.DataRecords.find((x) => x.Name === 'scaled');
    expect(rec?.ValueString).toBe('17.409');
    expect(value(r, 'third')).toBe(108);
    expect(value(r, 'code')).toBe(9);
    expect(value(r, 'gone')).toBeUndefined();
    expect(value(r, 'past')).toBeUndefined();
  });

  it('undoes an XOR obfuscation with a key byte and a row of a table the key picks', () => {
    // APL bytes 4, 5, 6 = 01 44 01: key 01 (row 1 of the table), value 44 01.
    const table = Array.from({ length: 16 }, (_, i) => (i === 1 ? '0F00' : 'FFFF'));
    const r = run(BFW, driver([
      f('keyOnly', { area: 'apl', offset: 5, length: 2, encoding: 'uint-le', xor: { offset: 4 } }),
      f('withTable', { area: 'apl', offset: 5, length: 2, encoding: 'uint-le', xor: { offset: 4, table } }),
      f('plain', { area: 'apl', offset: 5, length: 2, encoding: 'uint-le' }),
      f('noKey', { area: 'apl', offset: 5, length: 2, encoding: 'uint-le', xor: { offset: 200 } }),
    ]));
    expect(value(r, 'keyOnly')).toBe(0x0045);
    expect(value(r, 'withTable')).toBe(0x004a);
    expect(value(r, 'plain')).toBe(0x0144);
    expect(value(r, 'noKey')).toBeUndefined();
  });

  it('repeats a field with a stride, running backwards, numbering the names', () => {
    const r = run(BFW, driver([f('m{n}', { area: 'apl', offset: -3, length: 1, encoding: 'uint-le' }, { repeat: { count: 3, stride: -1, first: 2, step: 2 } })]));
    expect([value(r, 'm2'), value(r, 'm4'), value(r, 'm6')]).toEqual([0x26, 0xac, 0x10]);
  });

  it('takes standard records by DIF/VIF, reinterprets them and hides the original; sums earlier fields', () => {
    const reg = driver([
      { name: 'litres', quantity: 'Volume', unit: 'l', scale: 1, record: { difVif: '0c13', use: 'raw' } },
      { name: 'when', quantity: 'Date', unit: '', bytes: { area: 'record', record: { vif: '6D' }, offset: 0, encoding: 'datetime-f' } },
      { name: 'twice', quantity: 'Volume', unit: 'l', sum: ['litres', 'litres'] },
    ], { hideRecords: ['0C13'] }, 'BMT');
    const r = run(HYDRO, reg);
    expect(value(r, 'litres')).toBe(43964);
    expect(value(r, 'when')).toBe('2024-05-22T15:33:00Z');
    expect(value(r, 'twice')).toBe(87928);
    expect(r.Body.DataRecords.filter((x) => x.DifVif === '0x0c13').map((x) => x.Name)).toEqual(['litres']);
  });

  it('walks a tag-length list', () => {
    const reg = driver([f('v', { area: 'tlv', tag: '0A', offset: 0, length: 2, encoding: 'uint-le' })], {
      tlv: { area: 'mfct', offset: 2, lengths: { '00': 4, '44': 1, '0F': 2, '0A': 2 } },
    }, 'BMT');
    // mfct = 15 2A 0F 00 00 00 44 0F 00 C0 0F …: from offset 2, tag 0F (2 bytes: 00 00), tag 00 (4 bytes:
    // 44 0F 00 C0), then 0F again, then an unknown tag ends the list; no 0A.
    expect(value(run(HYDRO, reg), 'v')).toBeUndefined();
    const reg2 = driver([f('v', { area: 'tlv', tag: '00', offset: 0, length: 4, encoding: 'uint-le' })], {
      tlv: { area: 'mfct', offset: 2, lengths: { '00': 4, '0F': 2 } },
    }, 'BMT');
    expect(value(run(HYDRO, reg2), 'v')).toBe(0xc0000f44);
  });

  it('matches on version, device type, CI, bytes and records, and falls back to "oms"', () => {
    const field = [f('x', { area: 'apl', offset: 0, length: 1, encoding: 'uint-le' })];
    const cases: [DriverDefinition['match'][number], boolean][] = [
      [{ manufacturer: 'BFW', version: [2], deviceType: [8], ci: ['7a'] }, true],
      [{ manufacturer: 'BFW', version: [3] }, false],
      [{ manufacturer: 'BFW', deviceType: [7] }, false],
      [{ manufacturer: 'BFW', ci: ['72'] }, false],
      [{ manufacturer: 'BFW', bytes: { area: 'apl', offset: 0, hex: '2f2f6f' } }, true],
      [{ manufacturer: 'BFW', bytes: { area: 'apl', offset: -1, hex: '22' } }, false],
      [{ manufacturer: 'BFW', hasRecord: '0C13' }, false],
      [{ manufacturer: 'ABC' }, false],
    ];
    for (const [m, hit] of cases) {
      const reg = new DriverRegistry();
      reg.add({ id: 'm', description: 'm', match: [m], fields: field }, 'test');
      expect(run(BFW, reg).Driver, JSON.stringify(m)).toBe(hit ? 'm' : 'oms');
    }
  });

  it('a later driver with the same id replaces the earlier one (user drivers over built-in ones)', () => {
    const reg = driver([f('a', { area: 'apl', offset: 0, length: 1, encoding: 'uint-le' })]);
    reg.add({ id: 'test', description: 'v2', match: [{ manufacturer: 'BFW' }], fields: [f('b', { area: 'apl', offset: 0, length: 1, encoding: 'uint-le' })] }, 'user');
    expect(reg.size).toBe(1);
    const r = run(BFW, reg);
    expect(value(r, 'b')).toBe(0x2f);
    expect(value(r, 'a')).toBeUndefined();
  });

  it('never throws on arbitrary payloads, whatever offsets a driver names', () => {
    const reg = driver([
      f('a', { area: 'apl', offset: 3, length: 8, encoding: 'bcd-le' }),
      f('b', { area: 'mfct', offset: -2, length: 2, encoding: 'int-be' }),
      f('c', { area: 'frame', offset: 40, encoding: 'datetime-i' }),
      f('d{n}', { area: 'apl', offset: 0, encoding: 'bits', parts: [{ offset: 5, shift: 3, mask: 7, place: 20 }] }, { repeat: { count: 20, stride: 3 } }),
    ]);
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (body) => {
      const hex = `3644D7084774700002087A80C00000${Buffer.from(body).toString('hex')}`;
      let r: WmbusResult;
      try {
        r = decode(hex);
      } catch {
        return true;
      }
      expect(() => decodeWithDrivers(hex, {}, reg)).not.toThrow();
      return r !== undefined;
    }), { numRuns: 300 });
  });
});
