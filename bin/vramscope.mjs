#!/usr/bin/env node
// Entry point of the `vramscope` command: runs the built JavaScript in dist/cli/ (`npm run build`, part of
// `npm run setup`; scripts/build-cli.mjs). No TypeScript tooling is needed at run time.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node 22.1+ caches compiled code between runs (faster start); older Node has no such call.
module.enableCompileCache?.();

// A closed pipe (`vramscope ... | head`) ends the command quietly instead of with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
const entry = new URL('../dist/cli/vramscope.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'vramscope: not built (dist/cli/vramscope.js is missing): run `npm run build` or `npm run setup`\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
