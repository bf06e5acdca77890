import { createRequire } from 'node:module';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread from a sibling module of `fromUrl` (`import.meta.url`
 * of the caller). From sources (tests, `node --import tsx`) the thread needs
 * tsx's loader; from dist/ it is plain JavaScript.
 */
export function spawnThread(fromUrl: string, baseName: string, opts: WorkerOptions): Worker {
  const fromSource = fromUrl.endsWith('.ts');
  const entry = new URL(`./${baseName}${fromSource ? '.ts' : '.js'}`, fromUrl);
  if (!fromSource) return new Worker(entry, opts);
  const loader = `import(${JSON.stringify(tsxApi())}).then((m) => m.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}))`;
  return new Worker(loader, { ...opts, eval: true });
}

function tsxApi(): string {
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return new URL(cjs.replace(/index\.cjs$/, 'index.mjs'), 'file://').href;
}
