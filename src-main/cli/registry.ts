// Every CLI command, listed once. Add new commands here (one import, one entry).
import type { Command } from './command.ts';
import { importCommand } from './commands/import.ts';

export const commands: readonly Command[] = [importCommand];
