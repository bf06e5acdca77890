import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Built into ui/dist and served by the bridge at /ui (src/http/console.ts); no CDN, everything bundled.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022', chunkSizeWarningLimit: 200 },
  logLevel: 'warn',
});
