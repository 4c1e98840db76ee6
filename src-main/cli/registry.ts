// Every CLI command, listed once. Add new commands here (one entry: its name and its module). A command's
// module is loaded only when it runs (or for the overview), so a command starts without loading the others
// (the server, the scenario runner, ...): tens of milliseconds of start-up.
import type { Command } from './command.ts';

export interface CommandEntry {
  /** The command's name (its Command.name; a test checks they agree). */
  readonly name: string;
  load(): Promise<Command>;
}

export const commands: readonly CommandEntry[] = [
  { name: 'bench', load: async () => (await import('./commands/bench.ts')).benchCommand },
  { name: 'devices', load: async () => (await import('./commands/devices.ts')).devicesCommand },
  { name: 'run', load: async () => (await import('./commands/run.ts')).runCommand },
  { name: 'report', load: async () => (await import('./commands/report.ts')).reportCommand },
  { name: 'replay', load: async () => (await import('./commands/replay.ts')).replayCommand },
  { name: 'import', load: async () => (await import('./commands/import.ts')).importCommand },
  { name: 'capture', load: async () => (await import('./commands/capture.ts')).captureCommand },
  { name: 'serve', load: async () => (await import('./commands/serve.ts')).serveCommand },
];
