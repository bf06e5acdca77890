import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { FakeLobaro, okDomainModel } from '../../test/helpers/fake-lobaro.js';
import { BENCH_DIR, onCleanup, spawnTracked, stopChild } from './common.js';

/**
 * The fake Lobaro for a benchmark: answers every request with a reading after `delayMs()`
 * (read per request, so a bench can change it between phases), stopped at cleanup.
 */
export async function startDelayedLobaro(delayMs: () => number): Promise<{ url: string }> {
  const lobaro = new FakeLobaro();
  const url = await lobaro.start();
  onCleanup(() => lobaro.stop());
  lobaro.behaviour = (req, n) => {
    // The request log would otherwise grow through the whole run.
    if (lobaro.requests.length > 1000) lobaro.requests.splice(0, lobaro.requests.length);
    return { ...okDomainModel(req, n), delayMs: delayMs() };
  };
  return { url };
}

/** The same fake with a fixed delay in a child process (lobaro-process.ts), so it has its own event loop. */
export async function startLobaroProcess(delayMs: number): Promise<{ url: string }> {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'lib/lobaro-process.ts'), String(delayMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(() => stopChild(child).then(() => undefined));
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (line.startsWith('url ')) return { url: line.slice(4) };
  }
  throw new Error('the fake Lobaro process ended before printing its url');
}
