import { describe, expect, it } from 'vitest';
import { parseRecords } from '../../../src/wmbus/records.js';
import { toBytes } from '../../../src/wmbus/hex.js';
import { FB_TABLE, FD_TABLE, PRIMARY } from '../../../src/wmbus/vif-tables.js';

function recs(apl: string) {
  const b = toBytes(apl);
  return parseRecords(b, 0, b.length);
}

describe('VIF tables', () => {
  it('has the primary table of EN 13757-3 with Lobaro spellings', () => {
    expect(PRIMARY[0x03]).toMatchObject({ unit: 'Wh', quantity: 'Energy', exp10: 0 });
    expect(PRIMARY[0x0e]).toMatchObject({ unit: 'J', exp10: 6 });
    expect(PRIMARY[0x14]).toMatchObject({ unit: 'm^3', quantity: 'Volume', exp10: -2 });
    expect(PRIMARY[0x1b]).toMatchObject({ unit: 'kg', exp10: 0 });
    expect(PRIMARY[0x22]).toMatchObject({ unit: 's', quantity: 'On time', factor: 3600 });
    expect(PRIMARY[0x2b]).toMatchObject({ unit: 'W', exp10: 0 });
    expect(PRIMARY[0x3b]).toMatchObject({ unit: 'm^3/h', exp10: -3 });
    expect(PRIMARY[0x5a]).toMatchObject({ unit: '°C', quantity: 'Flow temperature', exp10: -1 });
    expect(PRIMARY[0x5e]).toMatchObject({ quantity: 'Return temperature' });
    expect(PRIMARY[0x61]).toMatchObject({ unit: 'K', quantity: 'Temperature difference', exp10: -2 });
    expect(PRIMARY[0x6d]).toMatchObject({ quantity: 'Time & Date', kind: 'datetime' });
    expect(PRIMARY[0x6e]).toMatchObject({ unit: 'Units for H.C.A.', quantity: 'H.C.A.' });
  });

  it('has the FD and FB extension tables', () => {
    expect(FD_TABLE[0x17]).toMatchObject({ quantity: 'Error flags' });
    expect(FD_TABLE[0x48]).toMatchObject({ unit: 'V', exp10: -1 });
    expect(FD_TABLE[0x59]).toMatchObject({ unit: 'A', exp10: -3 });
    expect(FD_TABLE[0x74]).toMatchObject({ unit: 'd', quantity: 'Remaining battery' });
    expect(FB_TABLE[0x00]).toMatchObject({ unit: 'Wh', exp10: 5 });
    expect(FB_TABLE[0x09]).toMatchObject({ unit: 'GJ', exp10: 0 });
    expect(FB_TABLE[0x1a]).toMatchObject({ unit: '%', quantity: 'Relative humidity', exp10: -1 });
    expect(FB_TABLE[0x2e]).toMatchObject({ unit: 'Hz', exp10: -1 });
  });
});

describe('records', () => {
  it('reads DIFE storage, tariff and subunit', () => {
    // DIF 8C (storage bit 0, ext) DIFE 51 (subunit 1, tariff 1, storage 1) → storage 2, tariff 1, subunit 1
    const r2 = recs('cc511378563412');
    expect(r2.records[0]).toMatchObject({ StorageNo: 3, Tariff: 1, DifSubunit: 1, ValueString: '12345.678' });
  });

  it('reads the function field', () => {
    expect(recs('1c1378563412').records[0]?.DifFunctionString).toBe('Maximum Value');
    expect(recs('2c1378563412').records[0]?.DifFunctionString).toBe('Minimum Value');
    expect(recs('3c1378563412').records[0]?.DifFunctionString).toBe('Value during error state');
  });

  it('applies multiplicative and additive correction VIFEs', () => {
    expect(recs('0493750a000000').records[0]?.ValueString).toBe('0.001');
    expect(recs('04937d0a000000').records[0]?.ValueString).toBe('10');
    expect(recs('04937b0a000000').records[0]?.ValueString).toBe('1.01');
  });

  it('describes combinable VIFEs and keeps the unit', () => {
    const r = recs('04933c0a000000').records[0];
    expect(r?.VifUnit).toBe('m^3');
    expect(r?.VifEDescription).toContain('backward flow');
    expect(recs('04fdc8fc0117090000').records[0]).toMatchObject({ VifUnit: 'V', ValueString: '232.7', VifEDescription: 'at phase L1' });
  });

  it('reads plain-text VIFs, manufacturer VIFs and 0F manufacturer data', () => {
    const r = recs('027c03324f43000104ff2201000000' + '0f0102');
    expect(r.records[0]).toMatchObject({ VifUnit: 'CO2', ValueString: '256' });
    expect(r.records[1]).toMatchObject({ VifQuantity: 'Manufacturer specific', ValueString: '1' });
    expect(Array.from(r.manufacturerData ?? [])).toEqual([1, 2]);
    expect(r.signatureBytes).toEqual([0x02, 0x7c, 0x04, 0xff, 0x22]);
  });

  it('reads variable-length text, BCD and binary (LVAR)', () => {
    const r = recs('0dfd0c0820353331334d4569' + '0d13c23412' + '0d13d23412' + '0d13e2ffff');
    expect(r.records[0]?.ValueString).toBe('iEM3135 ');
    expect(r.records[1]?.ValueString).toBe('1.234');
    expect(r.records[2]?.ValueString).toBe('-1.234');
    expect(r.records[3]?.ValueString).toBe('-0.001');
  });

  it('reads 48- and 64-bit integers exactly', () => {
    expect(recs('0613ffffffffff7f').records[0]?.ValueString).toBe('140737488355.327');
    expect(recs('0713ffffffffffffff7f').records[0]?.ValueString).toBe('9223372036854775.807');
  });

  it('skips 2F fill and reports truncation without throwing', () => {
    const r = recs('2f2f0c14270485');
    expect(r.records.length).toBe(0);
    expect(r.error).toContain('premature end');
  });

  it('computes FormatFrame bytes without data and fill', () => {
    expect(recs('2f2f0c1427048502046d32371f1502fd1700002f2f').signatureBytes).toEqual([0x0c, 0x14, 0x04, 0x6d, 0x02, 0xfd, 0x17]);
  });
});
