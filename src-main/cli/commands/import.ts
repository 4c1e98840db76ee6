// `vramscope import <file> [--out trace] [--format F] [--partial]`: reads a VMA / D3D12MA JSON dump, a
// PyTorch memory snapshot or a Radeon Memory Visualizer trace, prints what it found and one parseable summary line, and writes a trace.
import { basename, dirname, extname, join, resolve } from 'node:path';
import {
  detectFormat,
  endState,
  ImportError,
  importFormats,
  importSource,
  summaryLine,
  type ImportFormat,
} from '../../../allocator/import/index.ts';
import { fileSource } from '../../import/file-source.ts';
import { ImportTraceStream } from '../../import/trace-stream.ts';
import { choiceOption, CommandFailure, stringOption, UsageError, type Command } from '../command.ts';
import { printable } from '../../../allocator/text/printable.ts';

const help = `Usage: vramscope import <file> [--out <trace>] [--format vma|d3d12ma|pytorch|rmv] [--partial]

Imports a memory dump written by another tool and writes a VRAMscope trace:
  - VMA JSON dumps (vmaBuildStatsString with the detailed map; VMA 3.x and 2.x layouts)
  - D3D12MA JSON dumps (BuildStatsString with the detailed map; UTF-8 or UTF-16 with a BOM)
  - PyTorch CUDA memory snapshots (torch.cuda.memory._dump_snapshot pickles, protocols 0-5, or JSON)
  - Radeon Memory Visualizer traces (.rmv: legacy RMT files and RDF files)
Snapshots become one point in time; PyTorch device_traces and RMV traces become a timeline.

Prints what it found, any inconsistencies in the dump as warnings, and one line
  format=<vma|d3d12ma|pytorch|rmv> version=<v> blocks=B block_bytes=X allocations=A allocated_bytes=Y [events=E]

Options:
  --out <trace>    where to write the trace (default: the input's name with .trace, beside it)
  --format <f>     skip detection and read the file as this format
  --partial        on a malformed file, write what could be read before the problem (with a warning)
`;

function defaultOut(input: string): string {
  const ext = extname(input);
  const stem = basename(input, ext);
  return join(dirname(input), ext === '.trace' ? `${stem}.imported.trace` : `${stem}.trace`);
}

export const importCommand: Command = {
  name: 'import',
  summary: 'import a VMA / D3D12MA JSON dump, a PyTorch memory snapshot or an RMV trace as a trace',
  help,
  options: {
    out: { type: 'string', short: 'o' },
    format: { type: 'string' },
    partial: { type: 'boolean' },
  },
  maxPositionals: 1,
  async run(values, positionals, io) {
    const input = positionals[0];
    if (input === undefined) throw new UsageError('which file? (vramscope import <file>)');
    const format: ImportFormat | undefined = choiceOption(values, 'format', importFormats);
    const inputPath = resolve(io.cwd, input);
    const outPath = resolve(io.cwd, stringOption(values, 'out') ?? defaultOut(input));
    if (outPath === inputPath) throw new UsageError('--out must not be the input file');
    let source;
    try {
      source = await fileSource(inputPath);
    } catch (error) {
      throw new CommandFailure(`cannot read ${input}: ${(error as Error).message}`);
    }
    // Progress on a terminal only: one line, rewritten in place.
    let lastShown = 0;
    const showProgress = io.stderr.isTTY === true;
    const onProgress = (done: number, total: number | null, phase: string): void => {
      if (!showProgress || total === null || total === 0) return;
      const now = Date.now();
      if (now - lastShown < 100) return;
      lastShown = now;
      io.stderr.write(`\rimporting ${source.name}: ${phase} ${((100 * done) / total).toFixed(0)}%   `);
    };
    const started = performance.now();
    // The trace is encoded on another thread while the import builds its timeline (trace-stream.ts).
    const stream = new ImportTraceStream();
    // A PyTorch snapshot of 4 MiB or more has tens of thousands of entries, enough to be streamed: start
    // the worker thread now, so its start-up overlaps the parse.
    if ((format ?? detectFormat(await source.head(4096))) === 'pytorch' && (source.size ?? 0) >= 4 << 20)
      stream.warmUp();
    let result;
    try {
      result = await importSource(source, {
        ...(format ? { format } : {}),
        onProgress,
        partial: values.partial === true,
        eventLog: stream.eventLog,
        entryMemory: stream.memory.entryMemory,
      });
    } catch (error) {
      await stream.close();
      if (showProgress) io.stderr.write('\n');
      if (error instanceof ImportError) throw new CommandFailure(error.message);
      throw error;
    }
    // The trace is finished (last chunk, header, index, fsync) while the lines below are printed.
    const writing = stream.write(result, outPath);
    writing.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
    if (showProgress) io.stderr.write('\r\x1b[K');
    const seconds = (performance.now() - started) / 1000;
    for (const line of result.found) io.stdout.write(`${printable(line)}\n`);
    // The timeline must end in the state the dump describes; say so if it does not. A streamed log's end
    // state was replayed by the worker as the events came.
    const end = (await stream.endState()) ?? endState(result.log);
    const warnings = [...result.warnings];
    const t = result.timelineEnd ?? result.totals;
    if (
      end.totals.blocks !== t.blocks ||
      end.totals.blockBytes !== t.blockBytes ||
      end.totals.allocations !== t.allocations ||
      end.totals.allocatedBytes !== t.allocatedBytes
    ) {
      warnings.push(
        `The imported timeline ends with ${end.totals.blocks} blocks (${end.totals.blockBytes} bytes) and ${end.totals.allocations} allocations (${end.totals.allocatedBytes} bytes), not what the dump describes`,
      );
    }
    for (const w of warnings) io.stdout.write(`warning: ${printable(w)}\n`);
    io.stdout.write(`${summaryLine(result)}\n`);
    let written;
    try {
      written = await writing;
    } catch (error) {
      throw new CommandFailure(`cannot write ${outPath}: ${(error as Error).message}`);
    }
    io.stdout.write(
      `wrote ${written.path}: ${written.events} events, ${written.bytes} bytes (imported in ${seconds.toFixed(2)} s)\n`,
    );
    return 0;
  },
};
