import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Spool, type SpoolItem } from '../../src/cli/forward-spool.js';

const item = (i: number): SpoolItem => ({ client_id: `c-${i}`, gateway_id: 'gw', raw_hex: `1844ae4c44552233680${i}` });

describe('forwarder spool', () => {
  it('drops a torn last line at load and removes it from the file, so the next append is not glued onto it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'oms-spool-')), 'spool.jsonl');
    writeFileSync(path, `${JSON.stringify(item(1))}\n${JSON.stringify(item(2))}\n{"client_id":"c-3","gat`);
    const a = new Spool(path);
    expect(a.load()).toBe(2);
    a.add(item(4));
    const b = new Spool(path);
    expect(b.load()).toBe(3);
    expect(b.pending.map((x) => x.client_id)).toEqual(['c-1', 'c-2', 'c-4']);
  });

  it('keeps exactly the items not yet acknowledged', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'oms-spool-')), 'spool.jsonl');
    const s = new Spool(path);
    for (let i = 0; i < 5; i++) s.add(item(i));
    s.ack(3);
    expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as SpoolItem).client_id)).toEqual(['c-3', 'c-4']);
  });
});
