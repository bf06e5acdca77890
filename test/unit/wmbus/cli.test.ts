import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './vector-match.js';

const OMS_A = '2e44931578563412330333637a2a0020055923c95aaa26d1b2e7493b2a8b013ec4a6f6d3529b520edff0ea6defc955b29d6d69ebf3ec8a';
const OMS_PLAIN = '2e4493157856341233037a2a0020055923c95aaa26d1b2e7493b013ec4a6f6d3529b520edff0ea6defc99d6d69ebf3';
const KEY = '0102030405060708090A0B0C0D0E0F11';

function cli(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  const r = spawnSync(tsx, [path.join(repoRoot, 'src', 'cli', 'main.ts'), ...args], { input: input ?? '', encoding: 'utf8', cwd: repoRoot, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('oms-bridge CLI', () => {
  it('decodes one telegram with a key', () => {
    const r = cli(['decode', '--key', KEY, OMS_A]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.FormatSignature).toBe(61330);
    expect(out.Body.DataRecords[0].ValueString).toBe('28504.27');
    expect(out.KeyIdentifier).toBe('6CDF4E13B88E3B890A803C4EECF8B89D60916C2E4E3C5CB32818F06A56BB60B5');
  });

  it('prints a typed error object and exits 0 on a decoder error', () => {
    const r = cli(['decode', 'zz']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'invalid_hex', message: expect.any(String) } });
  });

  it('decodes JSON Lines in order, one line per input line, keeping compact formats', () => {
    const lines = [
      JSON.stringify({ hex: OMS_PLAIN, key: KEY }),
      'not json',
      JSON.stringify({ hex: OMS_PLAIN, key: null }),
      JSON.stringify({ hex: '79e7f1a3fced2400e723002e5e00bf2c0d0000', key: null }),
      JSON.stringify({ hex: '780306EB24004306E723000314285E00426CBF2C022D030001FF2100', key: null }),
      JSON.stringify({ hex: '79e7f1a3fced2400e723002e5e00bf2c0d0000', key: null }),
      JSON.stringify({ hex: 42 }),
    ].join('\n');
    const r = cli(['decode', '--jsonl'], `${lines}\n`);
    expect(r.code).toBe(0);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out.length).toBe(7);
    expect(out[0].Body.DataRecords.length).toBe(3);
    expect(out[1].error.code).toBe('invalid_json');
    expect(out[2].Body.DecryptionFailed).toBe(true);
    expect(out[2].KeyDiagnosis).toEqual({ problem: 'key_missing', detail: expect.stringContaining('no AES key') });
    expect(out[3].error.code).toBe('format_unknown');
    expect(out[5].IsCompactFrame).toBe(true);
    expect(out[6].error.code).toBe('invalid_input');
  });

  it('takes wmbusmeters test data as is: NOKEY means no key, _ | # are separators; a blank line keeps its place', () => {
    const lines = [
      JSON.stringify({ hex: `${OMS_PLAIN.slice(0, 22)}_${OMS_PLAIN.slice(22)}`, key: 'NOKEY' }),
      '',
      JSON.stringify({ hex: `${OMS_PLAIN.slice(0, 22)}|${OMS_PLAIN.slice(22)}`, key: KEY }),
    ].join('\n');
    const out = cli(['decode', '--jsonl'], `${lines}\n`).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out).toHaveLength(3);
    expect(out[0].Body.DecryptionFailed).toBe(true);
    expect(out[1].error.code).toBe('invalid_json');
    expect(out[2].Body.DataRecords[0].ValueString).toBe('28504.27');
  });

  it('refuses plaintext under an encryption header unless --accept-predecrypted, which marks it unauthenticated', () => {
    const forged = '2e4493157856341233037a2a0020052f2f0c1499999999046d32371f1502fd1700002f2f2f2f2f2f2f2f2f2f2f2f2f';
    const plain = JSON.parse(cli(['decode', forged]).stdout);
    expect(plain.Body).toMatchObject({ DecryptionFailed: true, DataRecords: [] });
    expect(plain.Warnings.join(' ')).toContain('acceptPredecrypted');
    expect(JSON.parse(cli(['decode', '--key', KEY, forged]).stdout).error.code).toBe('unexpected_plaintext');
    const lab = JSON.parse(cli(['decode', '--accept-predecrypted', forged]).stdout);
    expect(lab).toMatchObject({ AlreadyDecrypted: true, Authenticated: false });
    expect(lab.Body.DataRecords[0].ValueString).toBe('999999.99');
  });

  it('exits 2 with a usage line on wrong usage', () => {
    for (const args of [[], ['nope'], ['decode'], ['decode', '--jsonl', OMS_A], ['decode', '--bogus', OMS_A]]) {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('usage: oms-bridge decode');
    }
  });

  it('decode --driver FILE applies a driver under development; drivers check names file, path and problem', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-drivers-'));
    try {
      const file = path.join(dir, 'mine.json');
      writeFileSync(file, JSON.stringify({
        id: 'mine', description: 'test', match: [{ manufacturer: 'BFW' }],
        fields: [{ name: 'firstWord', quantity: 'H.C.A.', unit: 'Units for H.C.A.', bytes: { area: 'apl', offset: 4, length: 2, encoding: 'uint-be' } }],
      }));
      const bfw = '3644D7084774700002087A80C000002F2F6F1F01440100147000000000000000000000000000000000000000000037009B4410AC260221';
      const out = JSON.parse(cli(['decode', '--driver', file, bfw]).stdout);
      expect(out.Driver).toBe('mine');
      expect(out.Body.DataRecords.find((x: { Name?: string }) => x.Name === 'firstWord').ValueString).toBe('324');
      expect(JSON.parse(cli(['decode', bfw]).stdout).Driver).toBe('bfw-240-radio');

      expect(cli(['drivers', 'check', file])).toMatchObject({ code: 0, stdout: `${file}: ok (mine, 1 fields)\n` });
      const bad = path.join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ id: 'Bad Id', description: 'x', match: [{ manufacturer: 'BFW' }], fields: [] }));
      expect(cli(['drivers', 'check', bad])).toMatchObject({ code: 1, stdout: `${bad}: /id: must match pattern "^[a-z0-9][a-z0-9-]{0,63}$"\n` });
      const broken = cli(['decode', '--driver', bad, bfw]);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain(`${bad}: /id:`);
      const list = cli(['drivers', 'list', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(list.map((d: { id: string }) => d.id)).toContain('bfw-240-radio');
      // A default key is a fact the list states, never the key itself.
      expect(list.find((d: { id: string }) => d.id === 'diehl-default-key').defaultKey).toBe(true);
      expect(JSON.stringify(list)).not.toMatch(/51728910/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
