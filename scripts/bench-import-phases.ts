// Where `vramscope import` of a PyTorch snapshot spends its time and fresh memory, phase by phase (printed,
// not asserted): importSource, the end-state check the CLI runs, writing the trace (writeImportedTrace).
// Each line: wall seconds, user and system CPU seconds and minor page faults (first touches of fresh
// memory: the system time of an import is mostly these) of that phase, RSS after it, the load average.
//
//   node --import tsx scripts/bench-import-phases.ts [--entries 1000000] [--file F.pickle]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { endState, importSource } from '../allocator/import/index.ts';
import { fileSource } from '../src-main/import/file-source.ts';
import { writeImportedTrace } from '../src-main/import/write-imported.ts';
import { benchSnapshotFile } from './pytorch-training-snapshot.ts';

const MiB = 1 << 20;

/** Runs `phase`, then prints its line. */
async function measured<T>(name: string, phase: () => T | Promise<T>): Promise<T> {
  const r0 = process.resourceUsage();
  const t0 = performance.now();
  const value = await phase();
  const wall = (performance.now() - t0) / 1000;
  const r = process.resourceUsage();
  console.log(
    `bench-import-phases phase=${name} wall_s=${wall.toFixed(2)} user_s=${((r.userCPUTime - r0.userCPUTime) / 1e6).toFixed(2)} sys_s=${((r.systemCPUTime - r0.systemCPUTime) / 1e6).toFixed(2)} minor_faults=${r.minorPageFault - r0.minorPageFault} rss_mb=${(process.memoryUsage().rss / MiB).toFixed(0)} load=${loadavg()[0]!.toFixed(2)}`,
  );
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { entries: { type: 'string', default: '1000000' }, file: { type: 'string' } },
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-bench-phases-'));
  try {
    const file = benchSnapshotFile(dir, Number(values.entries), values.file);
    const source = await fileSource(file);
    const result = await measured('import', () => importSource(source, {}));
    await measured('end-state', () => endState(result.log));
    await measured('write', () => writeImportedTrace(result, path.join(dir, 'out.trace')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
