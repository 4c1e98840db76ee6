// The `vramscope` command line: one surface for the whole product (bench, devices, run, report, replay,
// serve, import). Usage errors print one line on stderr and exit 2; failed work exits 1.
import { parseArgs } from 'node:util';
import { CommandFailure, UsageError, type CommandIo } from './command.ts';
import { commands as registry } from './registry.ts';
import { printable } from '../../allocator/text/printable.ts';

// For scripts/start.mjs, which starts `vramscope serve` with them (huge pages for the server's memory, and
// V8's starting heap size).
export { serverEnvironment } from '../runtime/huge-pages.ts';
export { serverNodeFlags } from '../runtime/server-heap.ts';

async function overview(): Promise<string> {
  const commands = await Promise.all(registry.map((c) => c.load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `vramscope: a debugger for GPU memory\n\nUsage: vramscope <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun \`vramscope <command> --help\` for a command's options.\n`;
}

export async function main(
  argv: string[],
  io: CommandIo = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(await overview());
    return name === undefined ? 2 : 0;
  }
  const entry = registry.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`vramscope: unknown command "${name}" (try --help)\n`);
    return 2;
  }
  const command = await entry.load();
  // Arguments after `--` belong to a program (vramscope capture -- app --help), not to us.
  const ours = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (ours.includes('--help') || ours.includes('-h')) {
    io.stdout.write(command.help.endsWith('\n') ? command.help : `${command.help}\n`);
    return 0;
  }
  try {
    const parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    if (parsed.positionals.length > command.maxPositionals) {
      throw new UsageError(`unexpected argument "${parsed.positionals[command.maxPositionals]}"`);
    }
    return await command.run(
      parsed.values as Record<string, string | boolean | undefined>,
      parsed.positionals,
      io,
    );
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr.write(
        `vramscope ${name}: ${printable((error as Error).message.split('\n')[0] ?? '')} (try --help)\n`,
      );
      return 2;
    }
    if (error instanceof CommandFailure) {
      io.stderr.write(`vramscope ${name}: ${printable(error.message)}\n`);
      return 1;
    }
    throw error;
  }
}

function isParseArgsError(error: unknown): boolean {
  const code: unknown =
    error instanceof TypeError ? (error as unknown as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
