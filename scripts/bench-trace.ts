// Trace benchmark: writes 1,000,000-event traces and loads each with `vramscope report --json` in a fresh
// process (so RSS is the loader's own), printing bytes/event, write time, load time and RSS. Prints; never
// asserts. Usage: node --import tsx scripts/bench-trace.ts [events] [runs]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TraceWriter } from '../src-main/trace/writer.ts';
import { generateWorkload, testHeader } from '../tests/support/trace-fixtures.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const events = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 3);
const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-bench-'));

interface ReportPerf {
  loadMs: number;
  loadCpuMs: number;
  analysisMs: number;
  bytesPerEvent: number;
  rssAfterLoadMiB: number;
  peakRssMiB: number;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const variants = [
  { label: 'unique names (every allocation "tex_<id>")', nameVariety: undefined },
  { label: '200 distinct names', nameVariety: 200 },
];
console.log(
  `bench-trace: ${events.toLocaleString('en-US')} events, ${runs} load runs each; ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)}`,
);
try {
  for (const v of variants) {
    const log = generateWorkload({
      events,
      seed: 42,
      ...(v.nameVariety ? { nameVariety: v.nameVariety } : {}),
    });
    const file = path.join(dir, `bench-${v.nameVariety ?? 'unique'}.vrt`);
    const t0 = performance.now();
    const writer = new TraceWriter(file, log, { header: testHeader(), flushIntervalMs: 0 });
    writer.close();
    const writeMs = performance.now() - t0;
    const bytes = statSync(file).size;
    const perf: ReportPerf[] = [];
    for (let k = 0; k < runs; k++) {
      const out = execFileSync(
        process.execPath,
        [path.join(repoRoot, 'bin/vramscope.mjs'), 'report', file, '--json'],
        {
          encoding: 'utf8',
          maxBuffer: 256 * 1024 * 1024,
        },
      );
      perf.push((JSON.parse(out) as { performance: ReportPerf }).performance);
    }
    console.log(
      `\n${v.label}: ${log.length.toLocaleString('en-US')} events, ${log.strings.size.toLocaleString('en-US')} strings`,
    );
    console.log(
      `  on disk: ${(bytes / 2 ** 20).toFixed(2)} MiB, ${(bytes / log.length).toFixed(2)} bytes/event; written in ${writeMs.toFixed(0)} ms (${writer.chunksWritten} chunks)`,
    );
    console.log(
      `  load (median of ${runs}): ${median(perf.map((p) => p.loadMs)).toFixed(0)} ms wall [${perf.map((p) => p.loadMs.toFixed(0)).join(', ')}], ${median(perf.map((p) => p.loadCpuMs)).toFixed(0)} ms CPU [${perf.map((p) => p.loadCpuMs.toFixed(0)).join(', ')}]`,
    );
    console.log(
      `  RSS after load (median): ${median(perf.map((p) => p.rssAfterLoadMiB)).toFixed(1)} MiB; peak RSS incl. analysis: ${median(perf.map((p) => p.peakRssMiB)).toFixed(1)} MiB`,
    );
    console.log(`  analysis (median): ${median(perf.map((p) => p.analysisMs)).toFixed(0)} ms`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
