import { describe, expect, it } from 'vitest';
import { crc16 } from '../../../src/wmbus/crc.js';
import { addFormatACrcs, detectFrame } from '../../../src/wmbus/frame.js';
import { hex, toBytes } from '../../../src/wmbus/hex.js';
import { decode, parseHeader, WmbusError } from '../../../src/wmbus/index.js';

const OMS_A = '2e44931578563412330333637a2a0020055923c95aaa26d1b2e7493b2a8b013ec4a6f6d3529b520edff0ea6defc955b29d6d69ebf3ec8a';
const OMS_PLAIN = '2e4493157856341233037a2a0020055923c95aaa26d1b2e7493b013ec4a6f6d3529b520edff0ea6defc99d6d69ebf3';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof WmbusError) return e.code;
    throw e;
  }
  return undefined;
}

describe('CRC-16/EN-13757', () => {
  it('has the catalogue check value', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0xc2b7);
  });

  it('strips and verifies frame format A', () => {
    const f = detectFrame(toBytes(OMS_A));
    expect(f.frameFormat).toBe('A');
    expect(f.hasCrc).toBe(true);
    expect(hex(f.data)).toBe(OMS_PLAIN);
  });

  it('re-creates the format A CRCs of a stripped frame', () => {
    expect(hex(addFormatACrcs(toBytes(OMS_PLAIN)))).toBe(OMS_A);
  });

  it('names the block of a wrong CRC', () => {
    const b = toBytes(OMS_A);
    b[30] = (b[30] ?? 0) ^ 0x01;
    try {
      decode(b);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WmbusError);
      expect((e as WmbusError).code).toBe('crc_error');
      expect((e as WmbusError).details?.block).toBe(3);
      expect((e as WmbusError).message).toContain('block 3');
    }
  });

  it('reports a bad first block when later blocks prove CRCs are present', () => {
    const b = toBytes(OMS_A);
    b[5] = (b[5] ?? 0) ^ 0x80;
    try {
      decode(b);
      expect.unreachable();
    } catch (e) {
      expect((e as WmbusError).code).toBe('crc_error');
      expect((e as WmbusError).details?.block).toBe(1);
    }
  });

  it('strips and verifies frame format B (OMS example)', () => {
    const r = decode('1444AE0C7856341201078C2027780B134365877AC5');
    expect(r.FrameFormat).toBe('B');
    expect(r.HasCrc).toBe(true);
    expect(r.Length).toBe(0x12);
    expect(r.Body.DataRecords[0]?.ValueString).toBe('876.543');
    expect(r.MFieldCodeString).toBe('CEN');
  });

  it('accepts the same telegram without CRCs', () => {
    const r = decode('1244ae0c7856341201078c2027780b13436587');
    expect(r.HasCrc).toBe(false);
    expect(r.Body.DataRecords[0]?.ValueScaled).toBe(876.543);
  });
});

describe('input handling', () => {
  it('accepts upper/lower case, whitespace, 0x prefix and bytes', () => {
    const a = decode(OMS_PLAIN.toUpperCase());
    const b = decode(`0x${OMS_PLAIN.slice(0, 20)} \n ${OMS_PLAIN.slice(20)}`);
    const c = decode(toBytes(OMS_PLAIN));
    expect(a.Raw).toBe(b.Raw);
    expect(c.Raw).toBe(a.Raw);
  });

  it('rejects bad hex, odd length, empty and oversized input with typed codes', () => {
    expect(codeOf(() => decode('zz'))).toBe('invalid_hex');
    expect(codeOf(() => decode('abc'))).toBe('invalid_hex');
    expect(codeOf(() => decode(''))).toBe('too_short');
    expect(codeOf(() => decode('2e44'))).toBe('too_short');
    expect(codeOf(() => decode('00'.repeat(2000)))).toBe('too_long');
    expect(codeOf(() => decode(OMS_PLAIN, { key: 'nothex' }))).toBe('invalid_hex');
    expect(codeOf(() => decode(OMS_PLAIN, { key: '0102' }))).toBe('invalid_hex');
  });

  it('accepts a telegram that starts at the C-field (no L-field)', () => {
    const h = parseHeader('4493444433221155087288776655934455080004100500dfe2a782146d1513581cd2f83f3904015b19');
    expect(h.manufacturer).toBe('QDS');
    expect(h.meterId).toBe('11223344');
    expect(h.tplId).toBe('55667788');
    expect(h.securityMode).toBe(5);
  });

  it('decodes a telegram whose L-field does not match, with a warning', () => {
    const r = decode(`ff${OMS_PLAIN.slice(2)}`);
    expect(r.IdString).toBe('12345678');
    expect(r.Warnings?.[0]).toContain('L-field');
  });
});

describe('wired M-Bus long frame', () => {
  const N22 = '6820206808fd7278563412931533032a0000000c1427048502046d32371f1502fd1700008916';

  it('decodes OMS N.2.2 through the same application layer', () => {
    const r = decode(N22);
    expect(r.SourceType).toBe('MBUS');
    expect(r.CFieldString).toBe('0x08 (RSP_UD)');
    expect(r.IdString).toBe('12345678');
    expect(r.MFieldCodeString).toBe('ELS');
    expect(r.Header.IdString).toBe('12345678');
    expect(r.FormatSignature).toBe(61330);
    expect(r.Body.DataRecords.map((x) => x.ValueString)).toEqual(['28504.27', '2008-05-31T23:50:00Z', '0']);
  });

  it('rejects a wrong checksum and a wrong length', () => {
    expect(codeOf(() => decode(`${N22.slice(0, -4)}0016`))).toBe('crc_error');
    expect(codeOf(() => decode(`${N22.slice(0, -4)}16`))).toBe('length_mismatch');
  });
});

describe('TPL without APL', () => {
  it('decodes OMS N.5.2 (ELL-I + CI 8B, ACC-NR) as header only', () => {
    const r = decode('194793444433221155378c20758b8877665593445508ff040000');
    expect(r.CFieldString).toBe('0x47 (ACC_NR)');
    expect(r.CiChain).toEqual(['0x8c', '0x8b']);
    expect(r.TplIdString).toBe('55667788');
    expect(r.PayloadKnown).toBe(true);
    expect(r.Body.DataRecords).toEqual([]);
  });
});
