// Peak memory of opening a big trace (issue 11: "any size, bounded memory"); prints, asserts nothing.
// Generates traces of the given sizes (tests/support/ui-upload.ts: 1 KB random names, so they do not
// compress) in a temporary folder (deleted afterwards), then opens each in a fresh process the way the trace
// worker does (loadTrace + AnalyzedSource.analysis(), src-main/api/trace-worker.ts), two ways:
//   - file:  decoded from disk record by record (what the worker does for a path or an upload);
//   - bytes: the whole file read into memory first, then decoded (a file sent in one message; also how
//            every trace was opened before the decoder read from disk).
// Each line: peak RSS (VmHWM) and RSS after, the V8 heap and array buffers after, load + analysis seconds,
// events, and the load average. Runs alternate file/bytes so a busy machine affects both alike.
//
//   node --import tsx scripts/bench-trace-memory.ts [--mb 256,1024] [--runs 1]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { AnalyzedSource } from '../src-main/api/analyzed-source.ts';
import { fileLimits } from '../src-main/import/file-source.ts';
import { openTraceFile } from '../src-main/trace/file-bytes.ts';
import { loadTrace } from '../src-main/trace/reader.ts';
import { processMemory } from '../tests/support/ui-upload.ts';

const MiB = 2 ** 20;
const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '256,1024' },
    runs: { type: 'string', default: '1' },
    child: { type: 'string' },
    file: { type: 'string' },
  },
});

/** The child: opens `file` one way and prints one JSON line. */
async function openOnce(mode: string, file: string): Promise<void> {
  const started = performance.now();
  const opened = mode === 'file' ? openTraceFile(file, { maxBytes: fileLimits.trace }) : null;
  try {
    const loaded = await loadTrace(opened ?? new Uint8Array(readFileSync(file)));
    const events = loaded.events;
    const source = AnalyzedSource.ofLoadedTrace('bench', path.basename(file), loaded);
    source.analysis();
    const seconds = (performance.now() - started) / 1000;
    const mem = process.memoryUsage();
    const { rssMiB, peakMiB } = processMemory(process.pid);
    console.log(
      JSON.stringify({
        peakMiB,
        rssMiB,
        heapMiB: mem.heapUsed / MiB,
        arrayBuffersMiB: mem.arrayBuffers / MiB,
        seconds,
        events: events.length,
      }),
    );
  } finally {
    opened?.close();
  }
}

async function main(): Promise<void> {
  if (values.child !== undefined && values.file !== undefined) return openOnce(values.child, values.file);
  // Generating needs the writer's event log in memory: imported only in the parent.
  const { writeBigNamedTrace } = await import('../tests/support/ui-upload.ts');
  const self = fileURLToPath(import.meta.url);
  const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-bench-trace-memory-'));
  const runs = Number(values.runs);
  console.log(`bench-trace-memory: ${cpus().length} CPUs, node ${process.version}`);
  try {
    for (const mb of values.mb.split(',').map(Number)) {
      const file = path.join(dir, `big-${mb}.vrt`);
      const bytes = writeBigNamedTrace(file, mb * MiB);
      for (let run = 0; run < runs; run++) {
        for (const mode of run % 2 === 0 ? ['file', 'bytes'] : ['bytes', 'file']) {
          const load = loadavg()[0]!.toFixed(2);
          const out = execFileSync(
            process.execPath,
            ['--import', 'tsx', self, '--child', mode, '--file', file],
            { encoding: 'utf8', maxBuffer: 1 << 20 },
          );
          const r = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
          const f = (k: string): string => r[k]!.toFixed(0);
          console.log(
            `${(bytes / MiB).toFixed(0)} MiB trace, ${mode.padEnd(5)}: peak RSS ${f('peakMiB')} MiB, ` +
              `after ${f('rssMiB')} MiB (heap ${f('heapMiB')}, array buffers ${f('arrayBuffersMiB')}), ` +
              `${r.seconds!.toFixed(1)} s, ${r.events!.toLocaleString('en-US')} events; load average ${load}`,
          );
        }
      }
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
