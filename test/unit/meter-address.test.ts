import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { meterAddress } from '../../src/ingest/meter-address.js';
import { parseHeader } from '../../src/wmbus/index.js';

const vectors = readFileSync(new URL('../fixtures/public-vectors.jsonl', import.meta.url), 'utf8')
  .split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { name: string; hex: string });

describe('meterAddress (the cheap header read at ingest)', () => {
  it('gives the same meter id and manufacturer as parseHeader for every public vector it can parse', () => {
    let compared = 0;
    for (const v of vectors) {
      let h: ReturnType<typeof parseHeader>;
      try {
        h = parseHeader(v.hex);
      } catch {
        continue;
      }
      expect(meterAddress(v.hex), v.name).toEqual({ meterId: h.meterId, manufacturer: h.manufacturer });
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('is null for bytes that are no telegram', () => {
    expect(meterAddress('00')).toBeNull();
  });
});
