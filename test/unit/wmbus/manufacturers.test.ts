import { createHash } from 'node:crypto';
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

  it('every M-field value names the same manufacturer as the 1,258-line TypeScript table did (before the JSON move)', () => {
    // SHA-256 over "code=name\n" for all 32,768 M-field values, computed with the table as TypeScript
    // (main at 949f214): 1,254 codes with a name (1,250 FLAG codes plus Lobaro-only spellings).
    const h = createHash('sha256');
    let named = 0;
    for (let m = 0; m < 0x8000; m++) {
      const code = manufacturerCode(m);
      const name = manufacturerName(code);
      if (name !== '') named++;
      h.update(`${code}=${name}\n`);
    }
    expect(named).toBe(1254);
    expect(h.digest('hex')).toBe('9590b419728c166552ea246e16ff742a084d86d9255a95179e8e38cc0ef4623d');
  });
});
