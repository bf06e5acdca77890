import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';
import { DriverFileError, loadDriverRegistry, parseDriver } from '../../../src/drivers/load.js';

const good = {
  id: 'my-meter',
  description: 'example',
  match: [{ manufacturer: 'BFW' }],
  fields: [{ name: 'hca', quantity: 'H.C.A.', unit: 'Units for H.C.A.', bytes: { area: 'apl', offset: 6, length: 2, encoding: 'uint-be' } }],
};

function bytesOf(d: typeof good): Record<string, unknown> {
  const field = d.fields[0];
  if (field === undefined) throw new Error('no field');
  return field.bytes as Record<string, unknown>;
}

function problem(text: string): DriverFileError {
  try {
    parseDriver(text, 'x.json');
  } catch (e) {
    if (e instanceof DriverFileError) return e;
    throw e;
  }
  throw new Error('no error');
}

const dir = mkdtempSync(path.join(tmpdir(), 'drivers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('driver files', () => {
  it('accepts a valid driver', () => {
    expect(parseDriver(JSON.stringify(good), 'x.json').id).toBe('my-meter');
  });

  it('names the file, the JSON path and the problem', () => {
    const noLength = structuredClone(good);
    delete bytesOf(noLength).length;
    const e = problem(JSON.stringify(noLength));
    expect(e.code).toBe('driver_invalid');
    expect(e.file).toBe('x.json');
    expect(e.jsonPath).toBe('/fields/0/bytes');
    expect(e.problem).toMatch(/length/);
    expect(e.message).toBe(`x.json: /fields/0/bytes: ${e.problem}`);

    expect(problem('{').jsonPath).toBe('');
    expect(problem('{').problem).toMatch(/not valid JSON/);
    expect(problem(JSON.stringify({ ...good, colour: 'red' })).problem).toBe('unknown property "colour"');
    expect(problem(JSON.stringify({ ...good, match: [{ manufacturer: 'BFWX' }] })).jsonPath).toBe('/match/0/manufacturer');
    const badEnc = structuredClone(good);
    bytesOf(badEnc).encoding = 'utf-8';
    expect(problem(JSON.stringify(badEnc)).jsonPath).toBe('/fields/0/bytes/encoding');
    const repeat = structuredClone(good) as typeof good & { fields: Record<string, unknown>[] };
    (repeat.fields[0] as Record<string, unknown>).repeat = { count: 2, stride: 2 };
    expect(problem(JSON.stringify(repeat))).toMatchObject({ jsonPath: '/fields/0/name', problem: 'a repeated field needs {n} in its name' });
  });

  it('DRIVERS_DIR: user drivers load after the built-in ones; a bad file stops the start with file and path', () => {
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify(good));
    const reg = loadDriverRegistry({ dir });
    expect(reg.list().find((d) => d.def.id === 'my-meter')?.origin).toBe(path.join(dir, 'a.json'));
    expect(loadConfig({ APP_ENV: 'test', DRIVERS_DIR: dir }).driversDir).toBe(dir);

    const bad = structuredClone(good);
    bytesOf(bad).offset = 'six';
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify(bad));
    let err: unknown;
    try {
      loadConfig({ APP_ENV: 'test', DRIVERS_DIR: dir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([`DRIVERS_DIR: ${path.join(dir, 'b.json')}: /fields/0/bytes/offset: must be integer`]);
    expect(() => loadConfig({ APP_ENV: 'test', DRIVERS_DIR: path.join(dir, 'missing') })).toThrow(/DRIVERS_DIR: .*cannot read the drivers folder/);
  });
});
