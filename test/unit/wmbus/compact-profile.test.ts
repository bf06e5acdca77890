import { describe, expect, it } from 'vitest';
import { decode, toValues } from '../../../src/wmbus/index.js';
import { parseRecords } from '../../../src/wmbus/records.js';

// The three worked examples of EN 13757-3:2018 Annex F (F.2.6–F.2.8), as application-layer bytes.
const F26 = ['868081006D0000A0411135', '8490810003F0490200', '8D908100831E0A34FEA0860100D0FB0100', 'C68181006D0B0C8D59130C',
  'C491810003905F0100', '868281006D00008041140D', '849281000350C30000', '8D928100831E0634FE00710200'].join('');
const F27 = '84046D00204111' + '8B0415003012' + '8D04951F056901030211';
const F28 = '84046D00234111' + '8B0415163012' + '8D049513056901110203';

function records(hex: string) {
  const b = Buffer.from(hex, 'hex');
  const r = parseRecords(b, 0, b.length);
  expect(r.error).toBeUndefined();
  return r.records;
}

/** A plain wireless frame (CI 78, no TPL header) around application-layer bytes. */
function frame(apl: string): string {
  const body = `4493157856341233077 8${apl}`.replace(' ', '');
  return `${(body.length / 2).toString(16).padStart(2, '0')}${body}`;
}

describe('compact profiles (EN 13757-3 Annex F)', () => {
  it('F.2.7 compact profile (1F): hourly increments on a BCD base value, forward in time', () => {
    const p = records(F27).find((r) => r.Profile)?.Profile;
    expect(p).toMatchObject({ Type: 'compact', IncrementMode: 'increments', Spacing: '1 h' });
    expect(p!.Entries.map((e) => [e.StorageNo, e.Date, e.ValueString])).toEqual([
      [9, '2010-01-01T01:00:00Z', '12300.3'], [10, '2010-01-01T02:00:00Z', '12300.5'], [11, '2010-01-01T03:00:00Z', '12301.6'],
    ]);
  });

  it('F.2.8 inverse compact profile (13): the same series read back from the newest value', () => {
    const p = records(F28).find((r) => r.Profile)?.Profile;
    expect(p).toMatchObject({ Type: 'inverse', IncrementMode: 'increments' });
    expect(p!.Entries.map((e) => [e.StorageNo, e.Date, e.ValueScaled])).toEqual([
      [9, '2010-01-01T02:00:00Z', 12300.5], [10, '2010-01-01T01:00:00Z', 12300.3], [11, '2010-01-01T00:00:00Z', 12300],
    ]);
  });

  it('F.2.6 compact profile with register numbers (1E): monthly absolute values, storage numbers after the base', () => {
    const recs = records(F26);
    const profiles = recs.filter((r) => r.Profile).map((r) => r.Profile!);
    expect(profiles.map((p) => [p.Type, p.IncrementMode, p.Spacing])).toEqual([['registers', 'absolute', '1 month'], ['registers', 'absolute', '1 month']]);
    expect(profiles.flatMap((p) => p.Entries.map((e) => [e.StorageNo, e.Date, e.ValueScaled]))).toEqual([
      [33, '2010-02-01T00:00:00Z', 100_000], [34, '2010-03-01T00:00:00Z', 130_000], [37, '2010-05-01T00:00:00Z', 160_000],
    ]);
  });

  it('the values list carries one dated value per element instead of the profile record', () => {
    const r = decode(frame(F27));
    const volumes = toValues(r).filter((v) => v.name === 'volume');
    expect(volumes).toEqual([
      { name: 'volume', value: 12300, unit: 'm^3', storage: 8, date: '2010-01-01T00:00:00Z' },
      expect.objectContaining({ value: 12300.3, storage: 9, date: '2010-01-01T01:00:00Z', description: 'Compact profile' }),
      expect.objectContaining({ value: 12300.5, storage: 10 }),
      expect.objectContaining({ value: 12301.6, storage: 11, date: '2010-01-01T03:00:00Z' }),
    ]);
  });

  it('invalid presets are skipped; an increment without its base value gives no values; arrays have no dates', () => {
    // Absolute signed bytes, 15 min spacing: 0x80 is the "illegal" preset.
    const abs = records('84046D00204111' + '8D0495 1F 05 11 0F 05 80 07'.replace(/ /g, '')).find((r) => r.Profile)!.Profile!;
    expect(abs.Spacing).toBe('15 min');
    expect(abs.Entries.map((e) => [e.Date, e.ValueScaled])).toEqual([['2010-01-01T00:15:00Z', 0.5], ['2010-01-01T00:30:00Z', null], ['2010-01-01T00:45:00Z', 0.7]]);
    const noBase = records('84046D00204111' + '8D04951F056901030211').find((r) => r.Profile)!.Profile!;
    expect(noBase.Entries.every((e) => e.ValueScaled === null)).toBe(true);
    const array = records('8D04951F0401000102').find((r) => r.Profile)!.Profile!;
    expect(array).toMatchObject({ Spacing: 'array', Entries: [{ StorageNo: 9, ValueScaled: 0.1 }, { StorageNo: 10, ValueScaled: 0.2 }] });
    expect(array.Entries[0]!.Date).toBeUndefined();
  });

  it('a real meter (wmbusmeters uiws test telegram): inverse monthly profile, first month 0 m³, the rest "illegal"', () => {
    const hex = '6e44496a6407336199077a361260252f2f046d22484136041301000000441300000080820f6c4136840f13010000008d0f93132e34fe000000000000008000000080000000800000008000000080000000800000008000000080000000800000008002fd1728000259340702656c07';
    // Stored decrypted under its mode 5 header, as wmbusmeters keeps its test telegrams.
    const p = decode(hex, { acceptPredecrypted: true }).Body.DataRecords.find((r) => r.Profile)!.Profile!;
    expect(p).toMatchObject({ Type: 'inverse', IncrementMode: 'absolute', Spacing: '1 month' });
    expect(p.Entries).toHaveLength(11);
    // wmbusmeters states target_1 (2026-05-01) = 0 m³ and no value for targets 2–10.
    expect(p.Entries[0]).toEqual({ StorageNo: 31, ValueScaled: 0, ValueString: '0', Date: '2026-05-01' });
    expect(p.Entries.slice(1).every((e) => e.ValueScaled === null)).toBe(true);
    expect(p.Entries[9]!.Date).toBe('2025-08-01');
  });

  it('Zenner Caltos E HCA (wmbusmeters caltose test telegrams and their published test keys): monthly history as stated there', () => {
    const cases = [
      { hex: '5e44496a91190880fc087a744050052f05bf0c6baf613a078098e048ae47ffb93083b455065e03de9b7878c8b3bb063637ea5693160e831cc3d4e0470fabbcd4fedb09d289a0025ca7960d5c7b8064b1093037e7a0a57908edb554d17ad587',
        key: '6B6B5EB80884328A7B1E45043D39FAAD', history: [99, 52, 10, 0] },
      { hex: '5e44496a12180880fc087a7040500584a63344b5af071a23539c6020cbba81fa6adcfe738682a0924d4f6f7d89d165c9144e4918cdc2d5f86be7b5bd8143528273accc131a13d0b100f2540dc1f2c379dde4984236d3bca424113cf0ee1bbd',
        key: 'DC7C9EF16126348CDFD52CE6567A9FFD', history: [627, 395, 176, 7] },
    ];
    for (const c of cases) {
      const profile = toValues(decode(c.hex, { key: c.key })).filter((v) => v.name === 'hca' && v.description === 'Inverse compact profile');
      // wmbusmeters: consumption_1 … _4 at 2026-01-01, 2025-12-01, 2025-11-01, 2025-10-01.
      expect(profile.map((v) => [v.date, v.value])).toEqual([
        ['2026-01-01', c.history[0]], ['2025-12-01', c.history[1]], ['2025-11-01', c.history[2]], ['2025-10-01', c.history[3]],
      ]);
    }
  });

  it('month steps keep the day, clamped to the end of a shorter month', () => {
    // Base 2010-01-31 (type G), monthly absolute 8-bit values.
    const p = records('82046C5F11' + '8D04931F0431FE0102').find((r) => r.Profile)!.Profile!;
    expect(p.Entries.map((e) => e.Date)).toEqual(['2010-02-28', '2010-03-31']);
  });
});
