#!/usr/bin/env node
// workload-a: the allocation workload the benchmark numbers in README.md and docs/ are measured on. It is
// not committed (3.8 MB): gen-workload.mjs (beside this file, see PROVENANCE.md) writes it deterministically
// (seed 7, 200,000 ops, 1024 MiB live budget), and the result is checked byte for byte against the SHA-256 of
// the original file. `node bench/workload-a.mjs` generates bench/workload-a.trace when it is missing or
// differs, and prints its path.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));

/** The generator, a verbatim copy (PROVENANCE.md). */
export const generatorPath = path.join(benchDir, 'gen-workload.mjs');
/** Where workload-a is generated (ignored by git). */
export const workloadAPath = path.join(benchDir, 'workload-a.trace');
/** The generator's arguments for workload-a: seed, ops, live budget in MiB. */
export const workloadAArgs = ['7', '200000', '1024'];
/** SHA-256 of the original workload-a.trace (3,966,599 bytes, 200,755 lines). */
export const workloadASha256 = 'b29d1f718cd285c7de9ddd955f661320a450838bddbf47a8b39fc8f085c76fdc';

/** Runs gen-workload.mjs with `args` (seed, ops, budget MiB) and returns the workload text. */
export function generateWorkload(args) {
  const r = spawnSync(process.execPath, [generatorPath, ...args.map(String)], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`gen-workload.mjs ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout;
}

export function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

/** bench/workload-a.trace, generated when missing or not byte-identical to the original. Returns its path. */
export function ensureWorkloadA() {
  if (existsSync(workloadAPath) && sha256(readFileSync(workloadAPath)) === workloadASha256)
    return workloadAPath;
  const text = generateWorkload(workloadAArgs);
  const got = sha256(text);
  if (got !== workloadASha256) {
    throw new Error(
      `gen-workload.mjs ${workloadAArgs.join(' ')} gave sha256 ${got}, expected ${workloadASha256}`,
    );
  }
  const partial = `${workloadAPath}.${process.pid}.tmp`;
  writeFileSync(partial, text);
  renameSync(partial, workloadAPath);
  return workloadAPath;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${ensureWorkloadA()}\n`);
}
