import { join } from 'node:path';
import { BENCH_DIR, freePort, onCleanup, portOpen, spawnTracked, stopChild, waitUntil } from './common.js';

/** The baseline every ingest bench compares with: a bare Fastify 202 route in its own process, stopped at cleanup. */
export async function startBareRoute(): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const proc = spawnTracked(process.execPath, [join(BENCH_DIR, 'lib/baseline-server.mjs'), String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  onCleanup(() => stopChild(proc).then(() => undefined));
  if (!(await waitUntil(() => portOpen(port, 200), 15_000))) throw new Error('baseline server did not start');
  return { url: `http://127.0.0.1:${port}`, pid: proc.pid ?? -1 };
}
