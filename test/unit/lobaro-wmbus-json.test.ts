import { describe, expect, it } from 'vitest';
import { fromWmbusJson } from '../../src/parser/lobaro/lobaro-parser.js';
import type { ParseRequest } from '../../src/parser/parser.js';

const req = { ingestId: 'i1', header: null } as unknown as ParseRequest;
const volume = {
  DifDataLength: 4, DifFunctionString: 'Current Value', DifDataFormat: 'BCD (8 digits)', DifSubunit: 0, VifUnit: 'm^3', VifQuantity: 'Volume',
  VifExponent: 0.01, VifEDescription: '', Value: 2850427, ValueScaled: 28504.27, ValueString: '28504.27', Tariff: 0, StorageNo: 0, DifVif: '0x0C14', Data: '0x27048502',
};

describe('LOBARO_API=mbus answers that do not follow the documented types', () => {
  it('a null or missing record list is a reading without values, not parse_failed', () => {
    for (const DataRecords of [null, undefined, 'x']) {
      expect(fromWmbusJson({ IdString: '12345678', Body: { DataRecords } }, req).values).toEqual([]);
    }
  });

  it('null records and fields of another type are skipped or read as absent; good records still come through', () => {
    const body = { IdString: '12345678', Body: { DataRecords: [null, { ...volume, VifQuantity: 7, ValueScaled: 'many' }, volume] } };
    expect(fromWmbusJson(body, req).values).toEqual([{ name: 'volume', value: 28504.27, unit: 'm^3' }]);
  });
});
