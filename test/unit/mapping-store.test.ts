import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { MappingStore } from '../../src/store/mapping-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
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
  const withStore = async (fn: (store: SqliteStore, dir: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'map-'));
    const store = new SqliteStore(join(dir, 'bridge.db'));
    await store.start();
    try {
      await fn(store, dir);
    } finally {
      await store.stop();
    }
  };

  it('seeds version 1 with an empty configuration when the file is missing', () => withStore(async (store, dir) => {
    const s = new MappingStore(join(dir, 'none.json'), store, log);
    await s.start();
    expect(s.get()).toEqual({ mappings: [] });
    expect(s.version).toBe(1);
    await s.stop();
  }));

  it('imports the file as version 1, a changed file as a new version, and keeps the last good one when the file turns invalid', () => withStore(async (store, dir) => {
    const file = join(dir, 'domainMappings.json');
    write(file, JSON.stringify({ mappings: [kamstrup] }), 1_000);
    const s = new MappingStore(file, store, log);
    await s.start();
    expect(s.get().mappings).toHaveLength(1);
    expect(s.version).toBe(1);

    write(file, JSON.stringify({ mappings: [kamstrup, { ...kamstrup, comment: 'second' }] }), 2_000);
    await s.refresh();
    expect(s.get().mappings.map((m) => m.comment)).toEqual(['Kampstrup MC603', 'second']);
    expect(s.version).toBe(2);

    write(file, '{ not json', 3_000);
    await s.refresh();
    expect(s.get().mappings).toHaveLength(2);

    write(file, JSON.stringify({ mappings: [{ heat: { currentValueIdx: -1 } }] }), 4_000);
    await s.refresh();
    expect(s.get().mappings).toHaveLength(2);
    expect(s.version).toBe(2);
    await s.stop();

    // A restart with the same file adds no version.
    const again = new MappingStore(file, store, log);
    write(file, JSON.stringify({ mappings: [kamstrup, { ...kamstrup, comment: 'second' }] }), 5_000);
    await again.start();
    expect(again.version).toBe(2);
    await again.stop();
  }));

  it('follows versions another instance activated, and rolls back', () => withStore(async (store, dir) => {
    const s = new MappingStore(join(dir, 'none.json'), store, log);
    await s.start();
    await store.putMapping(JSON.stringify({ mappings: [kamstrup] }), Date.now());
    await s.refresh();
    expect(s.get().mappings).toHaveLength(1);
    expect((await s.activate(1))?.version).toBe(1);
    expect(s.get().mappings).toHaveLength(0);
    expect(await s.put({ mappings: 'no' })).toEqual(expect.arrayContaining([expect.stringContaining('/mappings')]));
    await s.stop();
  }));
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
