// Every CLI command, listed once. Add new commands here (one import, one entry).
import type { Command } from './command.ts';
import { devicesCommand } from './commands/devices.ts';

export const commands: readonly Command[] = [devicesCommand];
