// The renderer build, used twice: by `npm run build:renderer` (web mode serves dist/renderer) and by
// forge's vite plugin for the desktop app (.vite/renderer/main_window). The entry is
// src-renderer/index.html, which loads src-renderer/main.tsx.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

/** The page's icons, from assets/icons/ (made by make-icons.py there): served name -> [file, type]. */
const favicons: Record<string, [string, string]> = {
  'favicon.svg': ['vramscope.svg', 'image/svg+xml'],
  'favicon.ico': ['vramscope.ico', 'image/x-icon'],
};

/** Puts the favicons beside index.html in the build, and serves them from the dev server. */
function faviconsFromAssets(): Plugin {
  const read = (name: string): Buffer =>
    readFileSync(path.join(repoRoot, 'assets', 'icons', favicons[name]![0]));
  return {
    name: 'vramscope-favicons',
    generateBundle() {
      for (const name of Object.keys(favicons))
        this.emitFile({ type: 'asset', fileName: name, source: read(name) });
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0]?.replace(/^\//, '') ?? '';
        if (!(name in favicons)) return next();
        res.setHeader('Content-Type', favicons[name]![1]);
        res.end(read(name));
      });
    },
  };
}

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
    plugins: [react(), faviconsFromAssets()],
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
