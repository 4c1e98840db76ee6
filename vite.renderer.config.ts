// The renderer build, used twice: by `npm run build:renderer` (web mode serves dist/renderer) and by
// forge's vite plugin for the desktop app (.vite/renderer/main_window). The entry is
// src-renderer/index.html, which loads src-renderer/main.tsx.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig((env) => {
  // Forge passes its own fields in the config env; a plain `vite build` does not.
  const forgeName = (env as { forgeConfigSelf?: { name?: string } }).forgeConfigSelf?.name;
  const outDir =
    forgeName === undefined
      ? path.join(repoRoot, 'dist', 'renderer')
      : path.join(repoRoot, '.vite', 'renderer', forgeName);
  return {
    root: path.join(repoRoot, 'src-renderer'),
    base: './',
    plugins: [react()],
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      // Maps for web mode's dev use; the packaged app ships none (they would list the sources).
      sourcemap: forgeName === undefined,
    },
    server: {
      host: '127.0.0.1',
      strictPort: false,
    },
  };
});
