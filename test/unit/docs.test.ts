import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TLS_VARIABLE_SUFFIXES } from '../../src/config/tls-settings.js';
import { ROOT } from '../helpers/process.js';

const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** Every variable the configuration reads, straight from its source. */
function configVariables(): Set<string> {
  const src = read('src/config/config.ts');
  const plain = [...src.matchAll(/read\.\w+\('([A-Z0-9_]+)'/g)].map((m) => m[1]!);
  // TLS settings are read by prefix (MQTT_CA_FILE, later INGRESS_MQTT_CA_FILE …).
  const tls = [...src.matchAll(/loadTlsSettings\(read, '([A-Z0-9_]+)'/g)].flatMap((m) => TLS_VARIABLE_SUFFIXES.map((s) => `${m[1]!}_${s}`));
  return new Set([...plain, ...tls]);
}

describe('docs and docker stay consistent with the code', () => {
  const vars = configVariables();

  it('finds the configuration variables', () => {
    expect(vars.size).toBeGreaterThan(30);
    expect(vars).toContain('INGEST_API_KEYS');
    expect(vars).toContain('MQTT_CA_FILE');
  });

  it('documents every configuration variable in the README', () => {
    const readme = read('README.md');
    const missing = [...vars].filter((v) => !readme.includes(`\`${v}\``));
    expect(missing).toEqual([]);
  });

  it('uses only known variables in docker/', () => {
    const envExample = [...read('docker/.env.example').matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!);
    const compose = [...read('docker/docker-compose.yml').matchAll(/^\s{6}([A-Z_]+):/gm)].map((m) => m[1]!).filter((v) => !v.startsWith('POSTGRES_'));
    const dockerfile = [...read('docker/Dockerfile').matchAll(/\b([A-Z_]+)=/g)].map((m) => m[1]!).filter((v) => v !== 'NODE_ENV');
    const unknown = [...envExample, ...compose, ...dockerfile].filter((v) => !vars.has(v));
    expect(unknown).toEqual([]);
    expect(compose).toEqual(expect.arrayContaining(['MQTT_URL', 'DATABASE_URL', 'INSTANCE_ID']));
  });

  it('README starts with the two commands, and .ci/run calls the same test command', () => {
    const readme = read('README.md');
    expect(readme).toMatch(/npm ci && npm start/);
    expect(readme).toMatch(/npm ci && npm test/);
    const ci = read('.ci/run');
    expect(ci).toMatch(/npm ci/);
    expect(ci).toMatch(/npm test/);
  });
});
