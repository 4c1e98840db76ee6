// The Node build of the command line and its four worker threads: `npm run build` writes dist/cli/
// (vramscope.js, scenario-worker.js, trace-worker.js, trace-stream-worker.js, analysis-worker.js and their
// shared chunks, all in that one folder, which src-main/runtime/install.ts relies on). Dependencies (zod,
// ws) are bundled in, so the installed package runs with no node_modules and no TypeScript tooling. Every
// command in src-main/cli/registry.ts is part of the bundle: the registry imports each (dynamically: a
// chunk each, loaded when that command runs).
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

/** Entry name -> source; the worker names are the ones workerEntry() (src-main/runtime/install.ts) loads. */
export const cliEntries = {
  vramscope: 'src-main/cli/main.ts',
  'scenario-worker': 'src-main/session/scenario-worker.ts',
  'trace-worker': 'src-main/api/trace-worker.ts',
  /** `vramscope import` only: encodes the trace while the import runs (src-main/import/trace-stream.ts). */
  'trace-stream-worker': 'src-main/import/trace-stream-worker.ts',
  /** The trace worker's: analyses an import's timeline while it is written (src-main/import/analysis-follower.ts). */
  'analysis-worker': 'src-main/import/analysis-worker.ts',
};

export default defineConfig({
  root: repoRoot,
  logLevel: 'warn',
  define: { VRAMSCOPE_BUNDLED: 'true' },
  ssr: { noExternal: true, target: 'node' },
  build: {
    ssr: true,
    target: 'node20',
    outDir: path.join(repoRoot, 'dist', 'cli'),
    emptyOutDir: true,
    minify: false,
    sourcemap: false,
    copyPublicDir: false,
    reportCompressedSize: false,
    rollupOptions: {
      input: Object.fromEntries(Object.entries(cliEntries).map(([k, v]) => [k, path.join(repoRoot, v)])),
      // Node's own modules, the native addon (loaded by path at run time) and ws's optional natives.
      external: [...builtinModules, /^node:/, /\.node$/, 'bufferutil', 'utf-8-validate'],
      // No `// src-main/...` marker before each module: the package ships no sources to point at.
      experimental: { attachDebugInfo: 'none' },
      output: {
        format: 'es',
        entryFileNames: '[name].js',
        chunkFileNames: '[name]-[hash].js',
        // No comments (JSDoc would be copied): the bundle is not read, the sources are.
        comments: false,
      },
    },
  },
});
