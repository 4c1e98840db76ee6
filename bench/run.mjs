#!/usr/bin/env node
// `npm run bench`: `vramscope bench` on workload-a (generated into bench/ on first use, see
// workload-a.mjs) with every strategy. Extra arguments go to the bench command, e.g.
// `npm run bench -- --device 0` or `npm run bench -- --runs 5`.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureWorkloadA } from './workload-a.mjs';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'vramscope.mjs');
const args = process.argv.slice(2);
const withStrategy = args.includes('--strategy') ? args : ['--strategy', 'all', ...args];
const r = spawnSync(process.execPath, [bin, 'bench', ensureWorkloadA(), ...withStrategy], {
  stdio: 'inherit',
});
process.exitCode = r.status ?? 1;
