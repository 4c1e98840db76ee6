// Shared helpers for the importer tests: fixture paths, reading the generator's expected totals, and
// importing a file through an in-memory byte source with a chosen chunk size.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bytesSource,
  importSource,
  type ImportOptions,
  type ImportResult,
} from '../../allocator/import/index.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixtureDir = path.join(repoRoot, 'tests', 'fixtures', 'import');
/** VMA's own sample dump (a real VMA 3.x dump; PROVENANCE.md says where it comes from). */
export const realVmaSample = path.join(fixtureDir, 'vma3-sample-amd-rx6600xt.json');

export function fixture(name: string): string {
  return path.join(fixtureDir, name);
}

export interface ExpectedTotals {
  blocks: number;
  block_bytes: number;
  allocations: number;
  allocated_bytes: number;
  events?: number;
}

export function expectedTotals(name: string): ExpectedTotals {
  return JSON.parse(readFileSync(`${fixture(name)}.expected.json`, 'utf8')) as ExpectedTotals;
}

export async function importBytes(
  name: string,
  bytes: Uint8Array,
  chunkSize = 1 << 16,
  options: ImportOptions = {},
): Promise<ImportResult> {
  return importSource(bytesSource(name, bytes, chunkSize), options);
}

export async function importFixture(
  name: string,
  chunkSize = 1 << 16,
  options: ImportOptions = {},
): Promise<ImportResult> {
  return importBytes(name, new Uint8Array(readFileSync(fixture(name))), chunkSize, options);
}

/** The summary line's numbers as an object, for comparison with ExpectedTotals. */
export function totalsOf(r: ImportResult): ExpectedTotals {
  return {
    blocks: r.totals.blocks,
    block_bytes: r.totals.blockBytes,
    allocations: r.totals.allocations,
    allocated_bytes: r.totals.allocatedBytes,
    ...(r.sourceEvents === null ? {} : { events: r.sourceEvents }),
  };
}

/** The event log as rows (kind, time, id, block, offset, size, stack text), to compare two imports. */
export function eventRows(r: ImportResult): unknown[] {
  const c = r.log.columns;
  const rows: unknown[] = [];
  for (let i = 0; i < r.log.length; i++)
    rows.push([
      c.kind[i],
      c.time[i],
      c.id[i],
      c.block[i],
      c.offset[i],
      c.size[i],
      r.log.strings.get(c.stack[i]!),
    ]);
  return rows;
}
