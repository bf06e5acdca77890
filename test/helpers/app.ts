import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';

export const GW_KEY = 'gw-test-key-0001';
export const GLOBAL_KEY = 'global-test-key-0001';

/** The OMS example (lobaro-api.md §2.1), mode 5, without CRCs; key 0102…0F11. */
export const OMS_EXAMPLE = '2e4493157856341233037a2a0020055923c95aaa26d1b2e7493b013ec4a6f6d3529b520edff0ea6defc99d6d69ebf3';
export const OMS_KEY = '0102030405060708090A0B0C0D0E0F11';

export interface TestApp {
  app: App;
  dir: string;
  /** Every log line the app wrote. */
  logs: string[];
  gatewayId: string;
  stop(): Promise<void>;
}

/** Starts the whole app in-process on a temp SQLite file; env overrides the test defaults. */
export async function startTestApp(env: Record<string, string>, opts: { gatewayId?: string; dir?: string } = {}): Promise<TestApp> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'oms-bridge-'));
  const gatewayId = opts.gatewayId ?? `gw-${Math.random().toString(16).slice(2, 10)}`;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const config = loadConfig({
    APP_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: `sqlite:///${join(dir, 'bridge.db')}`,
    INGEST_API_KEYS: `${gatewayId}:${GW_KEY};*:${GLOBAL_KEY}`,
    MAPPINGS_FILE: join(dir, 'domainMappings.json'),
    RETRY_BASE_MS: '20',
    RETRY_MAX_MS: '200',
    LOG_LEVEL: 'debug',
    // Tests run many bridges and test processes side by side; a niced pipeline thread would wait behind
    // all of them, which is not what a bridge's own host looks like. pipeline-priority.test.ts covers it.
    PIPELINE_NICE: '0',
    ...env,
  });
  const app = await createApp(config, createLogger(config.logLevel, sink), { writeLog: (line) => logs.push(line) });
  try {
    await app.start();
  } catch (err) {
    await app.stop();
    throw err;
  }
  return {
    app, dir, logs, gatewayId,
    async stop() {
      await app.stop();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function post(app: App, body: unknown, opts: { key?: string; query?: string; headers?: Record<string, string> } = {}) {
  const res = await app.http.inject({
    method: 'POST',
    url: `/v1/telegrams${opts.query ?? ''}`,
    headers: { authorization: `Bearer ${opts.key ?? GLOBAL_KEY}`, 'content-type': 'application/json', ...opts.headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, json: res.body ? (JSON.parse(res.body) as Record<string, any>) : {} };
}
