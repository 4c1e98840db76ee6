#!/usr/bin/env node
// `npm run bench:targets [-- --device N] [-- --runs N] [-- --no-relocate]`: the numbers issue 17 (item 2)
// sets targets for, on workload-a and gen-workload seeds 1–6 (200,000 ops, 1024 MiB live budget each),
// tlsf strategy: ns/op in simulated mode (the default lavapipe profile) and, with --device N, on the real
// device N and its ratio to simulated, plus the bookkeeping bytes per live allocation. It prints numbers and never fails on them.
// Pin it for comparable figures (`taskset -c 1 npm run bench:targets`): the bench processes inherit it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureWorkloadA, generateWorkload } from './workload-a.mjs';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'vramscope.mjs');
const seeds = [1, 2, 3, 4, 5, 6];

function option(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const device = option('--device');
const runs = option('--runs') ?? '5';
// The bench's tlsf default relocates before growth; --no-relocate measures the allocator without moves.
const relocateFlags = process.argv.includes('--no-relocate') ? ['--no-relocate'] : [];

/** Runs `vramscope bench` on one workload (tlsf) and returns its printed fields. */
function bench(file, extra) {
  const r = spawnSync(
    process.execPath,
    [bin, 'bench', file, '--strategy', 'tlsf', '--runs', runs, ...extra],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`vramscope bench ${file} ${extra.join(' ')}: ${r.stderr.trim()}`);
  const fields = {};
  for (const m of r.stdout.matchAll(/(\w+)=("[^"]*"|\S+)/g)) fields[m[1]] = m[2];
  return fields;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vramscope-targets-'));
try {
  const workloads = [{ name: 'workload-a', file: ensureWorkloadA() }];
  for (const seed of seeds) {
    const file = path.join(tmp, `seed-${seed}.trace`);
    writeFileSync(file, generateWorkload([seed, 200000, 1024]));
    workloads.push({ name: `seed ${seed}`, file });
  }
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${os.cpus().length} CPUs`,
  );
  let deviceName = '';
  /** Per figure, its value on every workload (for the worst-case summary). */
  const figures = new Map();
  const note = (name, value) => figures.set(name, [...(figures.get(name) ?? []), Number(value)]);
  for (const w of workloads) {
    const sim = bench(w.file, relocateFlags);
    const line = [
      w.name.padEnd(10),
      `simulated_ns_per_op=${sim.ns_per_op}`,
      `simulated_cpu_ns_per_op=${sim.cpu_ns_per_op}`,
      // Each timed run's CPU ns/op, in order (the line above is their median).
      `simulated_cpu_runs=${sim.runs_cpu_ns_per_op}`,
      `bookkeeping_bytes_per_allocation=${sim.bookkeeping_bytes_per_allocation}`,
      `typed_array_bytes_per_allocation=${sim.typed_array_bytes_per_allocation}`,
      `blocks_allocated=${sim.blocks_allocated}`,
      `blocks_freed=${sim.blocks_freed}`,
      `dedicated=${sim.dedicated}`,
      `overhead_ratio=${sim.overhead_ratio}`,
      // The bench's tlsf default relocates before growth (--no-relocate turns it off).
      `relocation=${sim.relocation}`,
      `moves=${sim.moves ?? 0}`,
    ];
    note('simulated_cpu_ns_per_op', sim.cpu_ns_per_op);
    note('bookkeeping_bytes_per_allocation', sim.bookkeeping_bytes_per_allocation);
    note('blocks_allocated', sim.blocks_allocated);
    note('overhead_ratio', sim.overhead_ratio);
    if (device !== undefined) {
      const dev = bench(w.file, ['--device', device, ...relocateFlags]);
      deviceName = dev.device;
      line.push(
        `device_ns_per_op=${dev.ns_per_op}`,
        `device_cpu_ns_per_op=${dev.cpu_ns_per_op}`,
        `device_cpu_runs=${dev.runs_cpu_ns_per_op}`,
        `device_driver_ns_per_op=${dev.driver_ns_per_op}`,
        `device_driver_runs=${dev.runs_driver_ns_per_op}`,
        `device_blocks_allocated=${dev.blocks_allocated}`,
        `device_blocks_freed=${dev.blocks_freed}`,
        `device_dedicated=${dev.dedicated}`,
        `device_over_simulated=${(Number(dev.ns_per_op) / Number(sim.ns_per_op)).toFixed(2)}`,
        `device_overhead_ratio=${dev.overhead_ratio}`,
      );
      note('device_cpu_ns_per_op', dev.cpu_ns_per_op);
      // The copy counters exist on relocating lines only.
      if (dev.transfer_submits !== undefined)
        line.push(`device_transfer_submits=${dev.transfer_submits}`, `device_temp_blocks=${dev.temp_blocks}`);
    }
    console.log(line.join(' '));
  }
  if (deviceName) console.log(`device ${deviceName}`);
  // The worst workload of each figure (the targets hold on every workload or not at all), and the median.
  const summary = [...figures].map(([name, values]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `${name}: max=${sorted[sorted.length - 1]} median=${sorted[sorted.length >> 1]}`;
  });
  console.log(`over the ${workloads.length} workloads: ${summary.join('; ')}`);
  console.log(
    'targets (issue 17, item 2): simulated <= 80 ns/op; device <= 100 ns/op on lavapipe, <= 500 ns/op and ' +
      '<= 1.3 x simulated on the H200; bookkeeping <= 150 bytes per live allocation',
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
