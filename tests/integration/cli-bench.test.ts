// The bench command end to end: the documented output lines (numbers are printed, never asserted as
// speed), the replay's bookkeeping against the workload itself, and bad usage.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { generateWorkload as generate } from '../../bench/workload-a.mjs';
import { repoRoot } from '../support/profiles.ts';

const bin = path.join(repoRoot, 'bin', 'vramscope.mjs');
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-bench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function vramscope(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: tmp, encoding: 'utf8', timeout: 120_000 });
}

function generateWorkload(seed: number, ops: number, budgetMiB: number): { file: string; text: string } {
  const text = generate([seed, ops, budgetMiB]);
  const file = path.join(tmp, `w${seed}.trace`);
  writeFileSync(file, text);
  return { file, text };
}

const lineRe =
  /^allocator=vramscope strategy=(tlsf|freelist) mode=simulated ops=(\d+) ns_per_op=([\d.]+) blocks_allocated=(\d+) blocks_freed=(\d+) dedicated=(\d+) committed_peak_mib=([\d.]+) live_peak_mib=([\d.]+) overhead_ratio=([\d.]+) failures=(\d+) cpu_ns_per_op=([\d.]+) driver_ns_per_op=([\d.]+)$/;

describe('vramscope bench', () => {
  test('prints one line per strategy with the documented fields, and the live peak of the workload', () => {
    const { file, text } = generateWorkload(11, 4000, 64);
    // The live peak, computed here from the workload text independently of the allocator.
    const sizes = new Map<string, number>();
    let live = 0;
    let peak = 0;
    let ops = 0;
    for (const line of text.split('\n')) {
      const f = line.split(' ');
      if (f[0] === 'a') {
        sizes.set(f[1]!, Number(f[2]));
        live += Number(f[2]);
        peak = Math.max(peak, live);
        ops++;
      } else if (f[0] === 'f') {
        live -= sizes.get(f[1]!)!;
        ops++;
      }
    }
    const r = vramscope('bench', file, '--runs', '1');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const results = lines.filter((l) => l.startsWith('allocator=')).map((l) => lineRe.exec(l));
    expect(results.map((m) => m?.[1])).toEqual(['tlsf', 'freelist']);
    for (const m of results) {
      expect(Number(m![2])).toBe(ops);
      expect(Number(m![3])).toBeGreaterThan(0);
      // Blocks freed during the replay never exceed those allocated (the rest are freed by destroy()).
      expect(Number(m![5])).toBeLessThanOrEqual(Number(m![4]));
      expect(Number(m![6])).toBeLessThanOrEqual(Number(m![4]));
      expect(Number(m![8])).toBeCloseTo(peak / 2 ** 20, 1);
      expect(Number(m![7])).toBeGreaterThanOrEqual(Number(m![8]));
      expect(Number(m![9])).toBeGreaterThanOrEqual(1);
      expect(Number(m![10])).toBe(0);
      // The device's share of the wall time is part of it (a median of parts never exceeds the median of wholes).
      expect(Number(m![12])).toBeLessThanOrEqual(Number(m![3]));
    }
    expect(
      lines.filter((l) =>
        /^js_heap_mib=[\d.]+ bookkeeping_bytes_per_allocation=-?\d+ typed_array_bytes_per_allocation=-?\d+$/.test(
          l,
        ),
      ),
    ).toHaveLength(2);
  });

  test('--relocate prints the moves and the bytes moved after the documented fields', () => {
    // A small budget so that live bytes churn at the budget and fragmentation misses happen.
    const { file } = generateWorkload(3, 20000, 96);
    const r = vramscope('bench', file, '--runs', '1', '--strategy', 'tlsf', '--relocate');
    expect(r.status, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('allocator='))!;
    const m = /^(.*) moves=(\d+) moved_mib=([\d.]+)$/.exec(line);
    expect(m, line).not.toBeNull();
    expect(lineRe.exec(m![1]!)?.[1]).toBe('tlsf');
    // Moved bytes are whole allocations: none without moves, some with them.
    expect(Number(m![2]) === 0).toBe(Number(m![3]) === 0);
  });

  test('--device 0 replays on the real lavapipe device with mode=device', () => {
    const { file } = generateWorkload(12, 2000, 32);
    const r = vramscope('bench', file, '--runs', '1', '--strategy', 'tlsf', '--device', '0');
    expect(r.status, r.stderr).toBe(0);
    const line =
      /^allocator=vramscope strategy=tlsf mode=device device="[^"]+" ops=\d+ ns_per_op=([\d.]+) .* failures=0 cpu_ns_per_op=[\d.]+ driver_ns_per_op=([\d.]+)$/m.exec(
        r.stdout,
      );
    expect(line, r.stdout).not.toBeNull();
    // Real vkAllocateMemory calls take measurable time, and they are part of the wall time.
    expect(Number(line![2])).toBeGreaterThan(0);
    expect(Number(line![2])).toBeLessThanOrEqual(Number(line![1]));
  });

  test('bad usage and bad workloads exit 2 and 1 with one line', () => {
    const usage = [
      ['bench'],
      ['bench', 'x', '--strategy', 'best'],
      ['bench', 'x', '--runs', '0'],
      ['bench', 'x', '--dedicated-above', '2'],
      ['bench', 'x', '--device', '0', '--profile', 'y'],
      ['bench', 'x', '--frobnicate'],
      ['bench', 'x', '--relocate'],
      ['bench', 'x', '--strategy', 'tlsf', '--max-moved', '2'],
      ['bench', 'x', '--strategy', 'tlsf', '--relocate', '--max-moved', '-1'],
    ];
    for (const args of usage) {
      const r = vramscope(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const bad = path.join(tmp, 'bad.trace');
    writeFileSync(bad, 'a 1 100 3 buffer gpu\n');
    const r = vramscope('bench', bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('line 1: alignment 3 is not a power of two');
    const missing = vramscope('bench', path.join(tmp, 'missing.trace'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('ENOENT');
  });
});
