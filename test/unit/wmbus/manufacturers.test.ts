import { describe, expect, it } from 'vitest';
import { FLAG_NAMES } from '../../../src/wmbus/flag-codes.js';
import { isValidManufacturer, manufacturerCode, manufacturerName } from '../../../src/wmbus/manufacturers.js';

/** EN 13757-3 §5.5: (c1−64)·32² + (c2−64)·32 + (c3−64). */
const encode = (code: string) => [...code].reduce((m, c) => m * 32 + (c.charCodeAt(0) - 64), 0);

describe('manufacturer (FLAG) codes', () => {
  it('the FLAG table has every registered code once, each a valid three-capital M-field', () => {
    const codes = Object.keys(FLAG_NAMES);
    expect(codes.length).toBeGreaterThanOrEqual(1200);
    for (const code of codes) {
      expect(code).toMatch(/^[A-Z]{3}$/);
      expect(isValidManufacturer(encode(code))).toBe(true);
      expect(manufacturerCode(encode(code))).toBe(code);
      expect(manufacturerName(code)).not.toBe('');
    }
  });

  it('Lobaro\'s spelling wins where it has one; other registered codes get the FLAG name; unknown ones none', () => {
    expect(manufacturerName('ELS')).toBe('Elster GmbH, Germany, Europe');
    expect(manufacturerName('LOB')).toBe('Lobaro, Germany');
    expect(manufacturerName('BFW')).toBe('BFW Buero fuer Waermemesstechnik OHG, Germany');
    expect(manufacturerName('ZZY')).toBe('');
  });
});
