// The benchmark workload is generated, not committed: bench/gen-workload.mjs with workload-a's arguments
// must give exactly the bytes of the original workload-a.trace (its SHA-256 is recorded in
// bench/workload-a.mjs and bench/PROVENANCE.md), and ensureWorkloadA() leaves that file in bench/.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  ensureWorkloadA,
  generateWorkload,
  sha256,
  workloadAArgs,
  workloadASha256,
} from '../../bench/workload-a.mjs';
import { parseWorkload, WorkloadOp } from '../../allocator/index.ts';

describe('workload-a', () => {
  test('gen-workload.mjs 7 200000 1024 reproduces the original file byte for byte', () => {
    const text = generateWorkload(workloadAArgs);
    expect(text.length).toBe(3_966_599);
    expect(text.startsWith('# gpumem workload seed=7\n')).toBe(true);
    expect(sha256(text)).toBe(workloadASha256);
  });

  test('ensureWorkloadA() writes it to bench/ and it parses to 200,754 ops, every allocation freed', () => {
    const file = ensureWorkloadA();
    const bytes = readFileSync(file);
    expect(sha256(bytes)).toBe(workloadASha256);
    const w = parseWorkload(bytes.toString('utf8'));
    expect(w.length).toBe(200_754);
    let allocations = 0;
    for (let i = 0; i < w.length; i++) if (w.op[i] === WorkloadOp.Allocate) allocations++;
    expect(allocations * 2).toBe(w.length);
  });

  test('other seeds give other workloads (the seed is used)', () => {
    expect(sha256(generateWorkload([8, 2000, 64]))).not.toBe(sha256(generateWorkload([7, 2000, 64])));
  });
});
