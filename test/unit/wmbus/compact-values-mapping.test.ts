import { describe, expect, it } from 'vitest';
import { applyMappings, decode, FormatCache, toValues, WmbusError } from '../../../src/wmbus/index.js';

const FULL_APL = '780306EB24004306E723000314285E00426CBF2C022D030001FF2100';
const COMPACT_APL = '79e7f1a3fced2400e723002e5e00bf2c0d0000';
const OMS_A = '2e44931578563412330333637a2a0020055923c95aaa26d1b2e7493b2a8b013ec4a6f6d3529b520edff0ea6defc955b29d6d69ebf3ec8a';
const OMS_KEY = '0102030405060708090A0B0C0D0E0F11';

describe('compact frames (CI 79) and FormatCache', () => {
  it('reports format_unknown before the full frame was seen', () => {
    try {
      decode(COMPACT_APL, { formatCache: new FormatCache(2) });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WmbusError);
      expect((e as WmbusError).code).toBe('format_unknown');
      expect((e as WmbusError).details?.formatSignature).toBe(0xf1e7);
    }
    expect(() => decode(COMPACT_APL)).toThrow(WmbusError);
  });

  it('decodes a compact frame after its full frame and checks the full-frame CRC', () => {
    const cache = new FormatCache(8);
    const full = decode(FULL_APL, { formatCache: cache });
    expect(full.FormatSignature).toBe(0xf1e7);
    const r = decode(COMPACT_APL, { formatCache: cache });
    expect(r.IsCompactFrame).toBe(true);
    expect(r.FormatSignature).toBe(0xf1e7);
    expect(r.Body.BodyParseError).toBeUndefined();
    expect(r.Body.DataRecords.length).toBe(full.Body.DataRecords.length);
    expect(r.Body.DataRecords[3]?.ValueString).toBe('2021-12-31');
  });

  it('detects data that does not fit the learnt format', () => {
    const cache = new FormatCache(8);
    decode(FULL_APL, { formatCache: cache });
    expect(() => decode(COMPACT_APL.replace('ed2400', 'ee2400'), { formatCache: cache })).toThrow(/CRC/);
  });

  it('stays bounded', () => {
    const cache = new FormatCache(2);
    for (let i = 0; i < 10; i++) cache.set('ELS.12345678.51.3', i, new Uint8Array([i]));
    expect(cache.size).toBe(2);
    expect(cache.get('ELS.12345678.51.3', 9)).toBeDefined();
    expect(cache.get('ELS.12345678.51.3', 0)).toBeUndefined();
    expect(cache.get('ELS.87654321.51.3', 9)).toBeUndefined();
  });
});

describe('toValues', () => {
  it('normalises records to named values with units and dates', () => {
    const v = toValues(decode(OMS_A, { key: OMS_KEY }));
    expect(v).toEqual([
      { name: 'volume', value: 28504.27, unit: 'm^3', date: '2008-05-31T23:50:00Z' },
      { name: 'dateTime', value: '2008-05-31T23:50:00Z', unit: '' },
      { name: 'errorFlags', value: 0, unit: '', date: '2008-05-31T23:50:00Z' },
    ]);
  });

  it('carries storage, tariff and subunit when not zero', () => {
    const r = decode('304493444433221155378c00757288776655934455080004100500dfe2a782146d1513581cd2f83f39040cfd1078563412', { key: '000102030405060708090A0B0C0D0E0F' });
    const v = toValues(r);
    expect(v[0]).toEqual({ name: 'hca', value: 1234, unit: 'Units for H.C.A.' });
    expect(v[2]).toEqual({ name: 'hca', value: 23456, unit: 'Units for H.C.A.', storage: 1, date: '2007-04-30' });
  });
});

describe('applyMappings (Metering Domain Model)', () => {
  const now = new Date('2024-01-02T03:04:05.678Z');
  const r = decode(OMS_A, { key: OMS_KEY });

  it('maps indices to named values when every filter field matches', () => {
    const m = applyMappings(r, {
      mappings: [
        { comment: 'other', filter: { manafacture: 'KAM' }, heat: { currentValueIdx: 0 } },
        { comment: 'Elster gas', filter: { formatSignature: 'ef92', manafacture: 'ELS', type: '03', version: 51 },
          gas: { currentValueIdx: 0, currentDateIdx: 1, errorFlagsIdx: 2, missingIdx: 9 } },
      ],
    }, now);
    expect(m).toEqual({
      id: 'ELS12345678512024-01-02T03:04:05Z',
      type: 'GasMeterReading',
      meterId: '12345678',
      linkLayerId: '12345678',
      meterType: 3,
      manufacturer: 'ELS',
      manufacturerLinkLayer: 'ELS',
      version: 51,
      versionLinkLayer: 51,
      currentValue: { date: '2008-05-31T23:50:00Z', value: 28504.27, unit: 'm^3' },
      errorFlags: { date: now.toISOString(), value: 0, unit: '' },
    });
  });

  it('names heat and water readings and returns null when nothing matches', () => {
    expect(applyMappings(r, { mappings: [{ filter: { type: '03' }, water: { volumeIdx: 0 } }] }, now)?.type).toBe('WaterMeterReading');
    expect(applyMappings(r, { mappings: [{ filter: { version: 52 }, heat: { volumeIdx: 0 } }] }, now)).toBeNull();
    expect(applyMappings(r, { mappings: [{ filter: { formatSignature: '052D' }, heat: { volumeIdx: 0 } }] }, now)).toBeNull();
    expect(applyMappings(r, { mappings: [] }, now)).toBeNull();
  });
});
