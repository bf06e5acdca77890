// Bundles the server and its two thread entries into dist/bundle/, which `npm start` runs.
// Loading ~600 separate modules (resolution, file opens, per-module compile) was most of the
// start-up CPU, paid once per thread; one file per thread roughly halves it (bench/README.md).
// Usage: node scripts/bundle.mjs [outdir]   (outdir must sit two levels below the repository root,
// like dist/bundle: the console and the built-in drivers are found relative to it).
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const outdir = process.argv[2] ?? 'dist/bundle';

await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts', 'src/pipeline/pipeline-thread.ts', 'src/store/sqlite/writer-thread.ts'],
  // Flat: spawnThread() finds a thread's entry next to the module that starts it.
  entryNames: '[name]',
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // Native addons and a package that serves its own files from its folder stay in node_modules.
  external: ['better-sqlite3', 'pg-native', '@fastify/swagger-ui'],
  // CommonJS dependencies call require(); an ES module bundle has none of its own.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  logLevel: 'warning',
});
