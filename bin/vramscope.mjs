#!/usr/bin/env node
// Entry point of the `vramscope` command. The sources are TypeScript, run through tsx's loader.
import { register } from 'tsx/esm/api';

// A closed pipe (`vramscope ... | head`) ends the command quietly instead of with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
register();
const { main } = await import('../src-main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
