// Every CLI command, listed once. Add new commands here (one import, one entry).
import type { Command } from './command.ts';
import { benchCommand } from './commands/bench.ts';
import { captureCommand } from './commands/capture.ts';
import { devicesCommand } from './commands/devices.ts';
import { importCommand } from './commands/import.ts';
import { replayCommand } from './commands/replay.ts';
import { reportCommand } from './commands/report.ts';
import { runCommand } from './commands/run.ts';
import { serveCommand } from './commands/serve.ts';

export const commands: readonly Command[] = [
  benchCommand,
  devicesCommand,
  runCommand,
  reportCommand,
  replayCommand,
  importCommand,
  captureCommand,
  serveCommand,
];
