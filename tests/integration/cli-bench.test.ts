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
  /^allocator=vramscope strategy=(tlsf|freelist) mode=simulated ops=(\d+) ns_per_op=([\d.]+) blocks_allocated=(\d+) blocks_freed=(\d+) dedicated=(\d+) committed_peak_mib=([\d.]+) live_peak_mib=([\d.]+) overhead_ratio=([\d.]+) failures=(\d+) cpu_ns_per_op=([\d.]+) driver_ns_per_op=([\d.]+) relocation=(on|off)(?: moves=(\d+) moved_mib=([\d.]+))?$/;

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
    // tlsf relocates by default (the bench owns every allocation); freelist never does.
    expect(results.map((m) => [m?.[13], m?.[14] !== undefined])).toEqual([
      ['on', true],
      ['off', false],
    ]);
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

  test('each timed run is printed in order after its line, and the line holds their medians', () => {
    const { file } = generateWorkload(5, 4000, 64);
    const r = vramscope('bench', file, '--runs', '4', '--strategy', 'tlsf', '--no-relocate');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const at = lines.findIndex((l) => l.startsWith('allocator='));
    const m = lineRe.exec(lines[at]!);
    expect(m).not.toBeNull();
    const runs =
      /^runs_ns_per_op=([\d.,]+) runs_cpu_ns_per_op=([\d.,]+) runs_driver_ns_per_op=([\d.,]+)$/.exec(
        lines[at + 1]!,
      );
    expect(runs, lines[at + 1]).not.toBeNull();
    const values = runs!.slice(1, 4).map((list) => list.split(',').map(Number));
    for (const v of values) expect(v).toHaveLength(4);
    // Median of an even count: the mean of the middle two; all printed rounded to 0.1, so they agree to 0.1.
    const median = (v: number[]) => {
      const s = [...v].sort((a, b) => a - b);
      return (s[1]! + s[2]!) / 2;
    };
    expect(Math.abs(median(values[0]!) - Number(m![3]))).toBeLessThanOrEqual(0.1 + 1e-9);
    expect(Math.abs(median(values[1]!) - Number(m![11]))).toBeLessThanOrEqual(0.1 + 1e-9);
    expect(Math.abs(median(values[2]!) - Number(m![12]))).toBeLessThanOrEqual(0.1 + 1e-9);
  });

  test('relocation is the tlsf default, --relocate says so explicitly, --no-relocate turns it off', () => {
    // A small budget so that live bytes churn at the budget and fragmentation misses happen.
    const { file } = generateWorkload(3, 20000, 96);
    const line = (...extra: string[]) => {
      const r = vramscope('bench', file, '--runs', '1', '--strategy', 'tlsf', ...extra);
      expect(r.status, r.stderr).toBe(0);
      const m = lineRe.exec(r.stdout.split('\n').find((l) => l.startsWith('allocator='))!);
      expect(m).not.toBeNull();
      return m!;
    };
    const byDefault = line();
    const explicit = line('--relocate');
    const off = line('--no-relocate');
    expect([byDefault[13], explicit[13], off[13]]).toEqual(['on', 'on', 'off']);
    expect(off[14]).toBeUndefined();
    // The same replay either way (moves are deterministic): same moves, blocks and committed peak.
    expect(explicit.slice(4, 10)).toEqual(byDefault.slice(4, 10));
    expect([explicit[14], explicit[15]]).toEqual([byDefault[14], byDefault[15]]);
    // This workload fragments: relocation moves something, and moved bytes are whole allocations.
    expect(Number(byDefault[14])).toBeGreaterThan(0);
    expect(Number(byDefault[15])).toBeGreaterThan(0);
    // Moves replace blocks: never more vkAllocateMemory calls or a higher committed peak than without.
    expect(Number(byDefault[4])).toBeLessThanOrEqual(Number(off[4]));
    expect(Number(byDefault[7])).toBeLessThanOrEqual(Number(off[7]));
  });

  test('--device 0 replays on the real lavapipe device with mode=device and counts the copies', () => {
    const { file } = generateWorkload(3, 20000, 96);
    const copies = (...extra: string[]) => {
      const r = vramscope('bench', file, '--runs', '1', '--strategy', 'tlsf', '--device', '0', ...extra);
      expect(r.status, r.stderr).toBe(0);
      const m =
        /^allocator=vramscope strategy=tlsf mode=device device="[^"]+" ops=\d+ ns_per_op=([\d.]+) .* failures=0 cpu_ns_per_op=[\d.]+ driver_ns_per_op=([\d.]+) relocation=on moves=(\d+) moved_mib=[\d.]+ mapped_moves=(\d+) transfer_moves=(\d+) transfer_submits=(\d+) copy_buffers=(\d+) temp_blocks=(\d+)$/m.exec(
          r.stdout,
        );
      expect(m, r.stdout).not.toBeNull();
      const [nsPerOp, driverNsPerOp, ...counts] = m!.slice(1).map(Number);
      // Real vkAllocateMemory calls take measurable time, and they are part of the wall time.
      expect(driverNsPerOp).toBeGreaterThan(0);
      expect(driverNsPerOp).toBeLessThanOrEqual(nsPerOp!);
      return counts;
    };
    // lavapipe's one memory type is HOST_CACHED and mapped: auto copies through the mapping.
    const [moves, mapped, transfer, submits, buffers, temp] = copies();
    expect(moves).toBeGreaterThan(0);
    expect([mapped, transfer, submits, buffers, temp]).toEqual([moves, 0, 0, 0, 0]);
    // vkCmdCopyBuffer: at most one submission per relocating request (fewer than the moves when a
    // request moves several), a buffer per block involved, no temporary blocks.
    const [tMoves, tMapped, tTransfer, tSubmits, tBuffers, tTemp] = copies('--copy', 'transfer');
    expect([tMoves, tMapped, tTransfer, tTemp]).toEqual([moves, 0, moves, 0]);
    expect(tSubmits).toBeGreaterThan(0);
    expect(tSubmits).toBeLessThanOrEqual(moves);
    expect(tBuffers).toBeGreaterThanOrEqual(tSubmits);
    const off = vramscope(
      'bench',
      file,
      '--runs',
      '1',
      '--strategy',
      'tlsf',
      '--device',
      '0',
      '--no-relocate',
    );
    expect(off.status, off.stderr).toBe(0);
    expect(off.stdout).toMatch(/ cpu_ns_per_op=[\d.]+ driver_ns_per_op=[\d.]+ relocation=off$/m);
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
      ['bench', 'x', '--relocate', '--no-relocate', '--strategy', 'tlsf'],
      ['bench', 'x', '--strategy', 'tlsf', '--no-relocate', '--max-moved', '2'],
      ['bench', 'x', '--strategy', 'tlsf', '--copy', 'transfer'],
      ['bench', 'x', '--strategy', 'tlsf', '--device', '0', '--copy', 'sideways'],
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
