import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Built into ui/dist and served by the bridge at /ui (src/http/console.ts); no CDN, everything bundled.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // `npx vite ui`: live editing against a bridge on the default port.
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022', chunkSizeWarningLimit: 200 },
  logLevel: 'warn',
});
