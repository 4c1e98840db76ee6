// Every CLI command, listed once. Add new commands here (one import, one entry).
import type { Command } from './command.ts';
import { serveCommand } from './commands/serve.ts';

export const commands: readonly Command[] = [serveCommand];
