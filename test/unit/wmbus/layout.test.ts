import { describe, expect, it } from 'vitest';
import { decodeWithDrivers } from '../../../src/drivers/index.js';
import { loadDriverRegistry } from '../../../src/drivers/load.js';
import { inspectTelegram } from '../../../src/parser/local/inspect.js';
import { addFormatACrcs } from '../../../src/wmbus/frame.js';
import { toBytes } from '../../../src/wmbus/hex.js';
import { decode, WmbusError } from '../../../src/wmbus/index.js';
import { telegramLayout } from '../../../src/wmbus/layout.js';
import { OMS_EXAMPLE, OMS_KEY } from '../../helpers/app.js';
import { cleanHex, loadVectors, realKey } from './vector-match.js';

const PLAIN = '1844ae4c4455223368077a55000000041389e20100023b0000';
const drivers = loadDriverRegistry();

describe('telegramLayout (inspector byte layout, issue 14)', () => {
  it('OMS example with its key: link layer, short TPL, records with their bytes in the decrypted payload', () => {
    const l = telegramLayout(OMS_EXAMPLE, OMS_KEY);
    expect(l.hex).toBe(OMS_EXAMPLE);
    expect(l.layers).toEqual([{ name: 'dll', start: 0, end: 10 }, { name: 'tpl', start: 10, end: 15 }, { name: 'records', start: 15, end: 47 }]);
    // The decrypted payload starts with 2F2F, in place of the ciphertext; the headers are unchanged.
    expect(l.plainHex?.slice(0, 30)).toBe(OMS_EXAMPLE.slice(0, 30));
    expect(l.plainHex?.slice(30, 34)).toBe('2f2f');
    expect(l.records.map((s) => [s.start, s.dataStart, s.end, s.dif, s.vif])).toEqual([[17, 19, 23, '0c', '14'], [23, 25, 29, '04', '6d'], [29, 32, 34, '02', 'fd17']]);
    // Each record's data bytes are its Data, read at its offsets in plain_hex.
    for (const s of l.records) expect(`0x${l.plainHex!.slice(2 * s.dataStart, 2 * s.end)}`).toBe(s.record.Data);
    expect(l.records[0]!.record.ValueString).toBe('28504.27');
  });

  it('without the key: the payload is one encrypted span and no records', () => {
    const l = telegramLayout(OMS_EXAMPLE, null);
    expect(l.layers.at(-1)).toEqual({ name: 'encrypted', start: 15, end: 47 });
    expect(l.records).toEqual([]);
    expect(l.plainHex).toBeNull();
  });

  it('format A input: offsets refer to the frame without CRCs', () => {
    const withCrc = Buffer.from(addFormatACrcs(toBytes(PLAIN))).toString('hex');
    expect(withCrc.length).toBeGreaterThan(PLAIN.length);
    const l = telegramLayout(withCrc, null);
    expect(l.crcRemoved).toBe(true);
    expect(l.hex).toBe(PLAIN);
    expect(l.records.map((s) => [s.start, s.end])).toEqual([[15, 21], [21, 25]]);
  });

  it('a frame the decoder cannot read throws its WmbusError', () => {
    expect(() => telegramLayout('01', null)).toThrow(WmbusError);
  });

  it('every public vector: layers are contiguous from byte 0 to the end, records inside the payload in order', () => {
    let withRecords = 0;
    for (const v of loadVectors()) {
      const input = cleanHex(v.telegram_hex ?? v.hex);
      const key = realKey(v);
      let result = null;
      try {
        result = decodeWithDrivers(input, { key }, drivers);
      } catch {
        // refused telegrams are laid out from their headers
      }
      let l: ReturnType<typeof telegramLayout>;
      try {
        l = telegramLayout(input, key);
      } catch (e) {
        expect(e, v.name).toBeInstanceOf(WmbusError);
        continue;
      }
      const n = l.hex.length / 2;
      let pos = 0;
      for (const layer of l.layers) {
        expect(layer.start, `${v.name} ${layer.name}`).toBe(pos);
        expect(layer.end, `${v.name} ${layer.name}`).toBeGreaterThan(layer.start);
        pos = layer.end;
      }
      expect(pos, v.name).toBe(n);
      const payload = l.layers.find((x) => x.name === 'records');
      let last = payload?.start ?? 0;
      for (const s of l.records) {
        expect(s.start, v.name).toBeGreaterThanOrEqual(last);
        expect(s.end, v.name).toBeLessThanOrEqual(payload!.end);
        last = s.end;
      }
      const standard = result === null ? null : safeDecode(input, key);
      if (standard && standard.Body.DataRecords.length > 0) {
        withRecords++;
        // Every record the standard decoder read is placed, and its bytes are its DIF…VIFE and data.
        expect(l.records.length, v.name).toBe(standard.Body.DataRecords.length);
        for (const s of l.records) {
          const bytes = (l.plainHex ?? l.hex).slice(2 * s.start, 2 * s.end);
          expect(bytes.startsWith(s.record.DifVif.slice(2)), v.name).toBe(true);
          expect(bytes.endsWith(s.record.Data.slice(2)), v.name).toBe(true);
        }
      }
    }
    expect(withRecords).toBeGreaterThan(50);
  });
});

function safeDecode(input: string, key: string | null) {
  try {
    return decode(input, { key });
  } catch {
    return null;
  }
}

describe('inspectTelegram', () => {
  it('with a wrong key: no values, the diagnosis says wrong_key, and the key identifier is not in the result', () => {
    const x = inspectTelegram(OMS_EXAMPLE, '00112233445566778899aabbccddeeff', drivers);
    expect(x.values).toEqual([]);
    expect(x.result?.KeyDiagnosis?.problem).toBe('wrong_key');
    expect(JSON.stringify(x)).not.toMatch(/KeyIdentifier|00112233445566778899aabbccddeeff/i);
  });

  it('with the key: the values of a reading', () => {
    const x = inspectTelegram(OMS_EXAMPLE, OMS_KEY, drivers);
    expect(x.values[0]).toMatchObject({ name: 'volume', value: 28504.27, unit: 'm^3' });
    expect(x.result?.KeyIdentifier).toBeUndefined();
  });
});
