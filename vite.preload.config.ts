// Forge's vite build of the preload: one CommonJS file (sandboxed preloads cannot be ES modules), named
// .cjs because package.json says "type": "module".
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    rollupOptions: {
      output: { format: 'cjs', entryFileNames: '[name].cjs', inlineDynamicImports: true },
    },
  },
});
