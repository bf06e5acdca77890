import { describe, expect, it } from 'vitest';
import { decodeBcd, decodeDateG, decodeDateTimeF, decodeDateTimeI, decodeReal32, decodeSigned, decodeTimeJ, decodeUnsigned } from '../../../src/wmbus/data-types.js';
import { addDecimalText, float32ToString, scaleDecimalText, scaleInt, shiftDecimal } from '../../../src/wmbus/decimal.js';
import { toBytes } from '../../../src/wmbus/hex.js';

const b = (h: string): Uint8Array => toBytes(h);

describe('type A (BCD)', () => {
  it('reads 2 to 12 digits little-endian', () => {
    expect(decodeBcd(b('12'), 0, 1)).toBe('12');
    expect(decodeBcd(b('3412'), 0, 2)).toBe('1234');
    expect(decodeBcd(b('563412'), 0, 3)).toBe('123456');
    expect(decodeBcd(b('27048502'), 0, 4)).toBe('2850427');
    expect(decodeBcd(b('907856341290'), 0, 6)).toBe('901234567890');
  });

  it('reads a top nibble F as minus sign and rejects other non-digits', () => {
    expect(decodeBcd(b('23f1'), 0, 2)).toBe('-123');
    expect(decodeBcd(b('01f0'), 0, 2)).toBe('-1');
    expect(decodeBcd(b('1a00'), 0, 2)).toBeNull();
    expect(decodeBcd(b('ffff'), 0, 2)).toBeNull();
  });
});

describe('type B/C integers', () => {
  it('reads signed 8 to 64 bit exactly', () => {
    expect(decodeSigned(b('ff'), 0, 1)).toBe('-1');
    expect(decodeSigned(b('7f'), 0, 1)).toBe('127');
    expect(decodeSigned(b('0080'), 0, 2)).toBe('-32768');
    expect(decodeSigned(b('ffffff'), 0, 3)).toBe('-1');
    expect(decodeSigned(b('78563412'), 0, 4)).toBe('305419896');
    expect(decodeSigned(b('feffffffffff'), 0, 6)).toBe('-2');
    expect(decodeSigned(b('ffffffffffff7f00'), 0, 8)).toBe('36028797018963967');
    expect(decodeSigned(b('0000000000000080'), 0, 8)).toBe('-9223372036854775808');
  });

  it('reads unsigned values', () => {
    expect(decodeUnsigned(b('ffff'), 0, 2)).toBe('65535');
    expect(decodeUnsigned(b('ffffffffffffffff'), 0, 8)).toBe('18446744073709551615');
  });
});

describe('type H (real32)', () => {
  it('reads IEEE-754 single LE and prints the shortest round-trip decimal', () => {
    const f = decodeReal32(b('748d9141'), 0);
    expect(float32ToString(f)).toBe('18.194069');
    expect(float32ToString(decodeReal32(b('0000803f'), 0))).toBe('1');
    expect(scaleDecimalText(float32ToString(f), 1, 3)).toBe('18194.069');
  });
});

describe('date and time types', () => {
  it('type G', () => {
    expect(decodeDateG(b('bf2c'), 0)).toBe('2021-12-31');
    expect(decodeDateG(b('fe04'), 0)).toBe('2007-04-30');
  });
  it('type F', () => {
    expect(decodeDateTimeF(b('32371f15'), 0)).toBe('2008-05-31T23:50:00Z');
    expect(decodeDateTimeF(b('1e02de21'), 0)).toBe('2022-01-30T02:30:00Z');
  });
  it('type I (with seconds) and J (time)', () => {
    expect(decodeDateTimeI(b('37090e223205'), 0)).toBe('2025-02-02T14:09:55Z');
    expect(decodeTimeJ(b('3b3b17'), 0)).toBe('23:59:59');
  });
});

describe('exact decimal scaling', () => {
  it('scales integers by powers of ten without float error', () => {
    expect(scaleInt('2850427', 1, -2)).toBe('28504.27');
    expect(scaleInt('5', 1, -3)).toBe('0.005');
    expect(scaleInt('-123', 1, -1)).toBe('-12.3');
    expect(scaleInt('100', 1, -2)).toBe('1');
    expect(scaleInt('0', 1, -3)).toBe('0');
    expect(scaleInt('12', 1, 3)).toBe('12000');
    expect(scaleInt('3', 3600, 0)).toBe('10800');
    expect(scaleInt('18446744073709551615', 1, -3)).toBe('18446744073709551.615');
    expect(shiftDecimal('-0', 2)).toBe('0');
  });

  it('adds decimals exactly', () => {
    expect(addDecimalText('0.1', '0.2')).toBe('0.3');
    expect(addDecimalText('12', '1e-3')).toBe('12.001');
  });

  it('gives ValueScaled equal to Number(ValueString)', () => {
    expect(Number(scaleInt('2850427', 1, -2))).toBe(28504.27);
  });
});
