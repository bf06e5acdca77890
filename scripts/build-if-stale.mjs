// `npm start` runs this first: it compiles only when a source is newer than dist/,
// so a restart after a crash takes about a second instead of a full tsc run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let max = s.mtimeMs;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

function builtAt(file) {
  try {
    return statSync(join(root, file)).mtimeMs;
  } catch {
    return -1;
  }
}

// The server (dist/) and the operator console (ui/dist) are built together by `npm run build`.
const sources = Math.max(newest(join(root, 'src')), newest(join(root, 'ui/src')),
  ...['package.json', 'tsconfig.json', 'tsconfig.build.json', 'ui/index.html'].map((f) => statSync(join(root, f)).mtimeMs));
if (Math.min(builtAt('dist/main.js'), builtAt('dist/bundle/main.js'), builtAt('ui/dist/index.html')) < sources) {
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
