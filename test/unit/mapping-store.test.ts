import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { MappingStore } from '../../src/store/mapping-store.js';
import { mappingProblems } from '../../src/store/mapping-schema.js';

const kamstrup = {
  comment: 'Kampstrup MC603',
  filter: { formatSignature: '7869', manafacture: 'KAM', type: '04', version: 53 },
  heat: { currentValueIdx: 0, flowTemperatureIdx: 5, returnTemperatureIdx: 6, volumeIdx: 3 },
};

function write(file: string, content: string, mtimeS: number): void {
  writeFileSync(file, content);
  utimesSync(file, mtimeS, mtimeS);
}

describe('MappingStore', () => {
  const log = createLogger('silent');

  it('starts empty when the file is missing', async () => {
    const s = new MappingStore(join(mkdtempSync(join(tmpdir(), 'map-')), 'none.json'), log);
    await s.start();
    expect(s.get()).toEqual({ mappings: [] });
    await s.stop();
  });

  it('reloads on change and keeps the last good configuration when the file turns invalid', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'map-')), 'domainMappings.json');
    write(file, JSON.stringify({ mappings: [kamstrup] }), 1_000);
    const s = new MappingStore(file, log);
    await s.start();
    expect(s.get().mappings).toHaveLength(1);

    write(file, JSON.stringify({ mappings: [kamstrup, { ...kamstrup, comment: 'second' }] }), 2_000);
    await s.reload();
    expect(s.get().mappings.map((m) => m.comment)).toEqual(['Kampstrup MC603', 'second']);

    write(file, '{ not json', 3_000);
    await s.reload();
    expect(s.get().mappings).toHaveLength(2);

    write(file, JSON.stringify({ mappings: [{ heat: { currentValueIdx: -1 } }] }), 4_000);
    await s.reload();
    expect(s.get().mappings).toHaveLength(2);
    await s.stop();
  });
});

describe('mapping schema', () => {
  it('accepts the documented example', () => {
    expect(mappingProblems({ mappings: [kamstrup] })).toEqual([]);
  });
  it.each([
    [{}, /mappings/],
    [{ mappings: [{ filter: { manafacture: 'KAM' } }] }, /exactly one medium/],
    [{ mappings: [{ water: { currentValue: 1 } }] }, /water/],
    [{ mappings: [{ water: { currentValueIdx: 1 }, heat: { currentValueIdx: 1 } }] }, /exactly one medium/],
    [{ mappings: [{ water: { currentValueIdx: 1 }, filter: { type: 'xyz' } }] }, /filter\/type/],
  ])('rejects %j', (doc, re) => {
    expect(mappingProblems(doc).join('\n')).toMatch(re);
  });
});
