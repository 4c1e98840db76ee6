// Forge's vite build of the Electron main process (forge adds the entry and its defines). ESM output,
// since package.json says "type": "module"; the native addon and ws's optional natives stay external.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    lib: { entry: 'src-main/electron/main.ts', formats: ['es'], fileName: () => 'main.js' },
    rollupOptions: {
      external: [/\.node$/, 'bufferutil', 'utf-8-validate', 'tsx', /^tsx\//],
    },
  },
});
