// One lint config for the whole repository. Layer rules live here: who may import whom is
// decided by lint, not by goodwill (see DESIGN.md, "Layout").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'crypto',
  'events',
  'fs',
  'fs/promises',
  'http',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'stream',
  'url',
  'util',
  'worker_threads',
  'zlib',
  'readline',
  'v8',
  'vm',
];
const nodeImportPatterns = ['node:*', ...nodeBuiltins];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'native/build/**',
      'native/build-electron/**',
      'dist/**',
      'out/**',
      '.vite/**',
      'test-output/**',
      '.gl/**',
      '.devrun/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
    },
  },
  {
    // Tool configs must default-export.
    files: ['*.config.ts', '*.config.js', 'tests/support/*-reporter.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // allocator/ is pure: no Node, Electron, DOM, and nothing of ours outside allocator/.
    files: ['allocator/**/*.ts'],
    languageOptions: { globals: { ...globals.es2022 } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeImportPatterns, message: 'allocator/ must not import Node APIs.' },
            {
              group: ['electron', 'electron/*', 'react', 'react-dom', 'react-dom/*', 'zustand', 'd3', 'd3-*'],
              message: 'allocator/ is UI- and Electron-free.',
            },
            {
              group: [
                '../../native/*',
                '../native/*',
                '**/native/**',
                '**/src-main/**',
                '**/src-renderer/**',
                '**/tests/**',
              ],
              message: 'allocator/ imports nothing of ours outside allocator/.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        'window',
        'document',
        'navigator',
        'process',
        'require',
        'Buffer',
        'setImmediate',
        '__dirname',
      ],
    },
  },
  {
    // The renderer never imports main or native at run time (type-only imports of the API contract are fine).
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeImportPatterns, message: 'The renderer runs sandboxed: no Node APIs.' },
            {
              group: ['electron', 'electron/*'],
              message: 'The renderer talks to main only through the API contract.',
            },
            { group: ['**/native/**', '**/native'], message: 'The renderer never imports native code.' },
            {
              // (`ignore` cannot re-include a file under an excluded folder, so api/ is re-included first.)
              group: [
                '**/src-main/**',
                '!**/src-main/api/',
                '**/src-main/api/*',
                '!**/src-main/api/contract',
                '!**/src-main/api/contract.ts',
              ],
              allowTypeImports: true,
              message: 'Only `import type` from src-main, and only the API contract at run time.',
            },
          ],
        },
      ],
    },
  },
  {
    // Electron IPC only through the typed wrappers in src-main/electron/ipc-*.ts.
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/electron/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Electron is only used in src-main/electron/.' }] },
      ],
    },
  },
);
