// Forge's vite build of the Electron main process and the worker threads it starts (forge adds its
// defines; the outDir is .vite/build). Everything main runs at run time is in that folder: main.js,
// scenario-worker.js, trace-worker.js (and its analysis-worker.js) and their shared chunks side by side
// (src-main/runtime/install.ts
// finds the workers there), with zod and ws bundled in; no sources, no node_modules. ESM output, since
// package.json says "type": "module". The native addon is loaded by path (an extra resource when packaged).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

/** Entry name -> source; the worker names are the ones workerEntry() (src-main/runtime/install.ts) loads. */
export const mainEntries = {
  main: 'src-main/electron/main.ts',
  'scenario-worker': 'src-main/session/scenario-worker.ts',
  'trace-worker': 'src-main/api/trace-worker.ts',
  'analysis-worker': 'src-main/import/analysis-worker.ts',
};

export default defineConfig({
  define: { VRAMSCOPE_BUNDLED: 'true' },
  build: {
    lib: {
      entry: Object.fromEntries(Object.entries(mainEntries).map(([k, v]) => [k, path.join(repoRoot, v)])),
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: {
      external: [/\.node$/, 'bufferutil', 'utf-8-validate'],
      // No `// src-main/...` marker before each module: the app ships no sources to point at.
      experimental: { attachDebugInfo: 'none' },
      output: { chunkFileNames: '[name]-[hash].js', comments: false },
    },
  },
});
