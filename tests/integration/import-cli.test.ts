// The `import` command end to end: the real CLI entry (bin/vramscope.mjs) for exit codes and output
// streams, and main() in-process for every fixture; each written trace is loaded back with the trace reader.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { endState } from '../../allocator/import/index.ts';
import { main } from '../../src-main/cli/main.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { expectedTotals, fixture, fixtureDir, realVmaSample, repoRoot } from '../support/import-fixtures.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';

const run = promisify(execFile);
const work = mkdtempSync(path.join(tmpdir(), 'vramscope-import-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await main(args, { stdout, stderr, cwd: work });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const summaryPattern =
  /^format=(vma|d3d12ma|pytorch|rmv) version=(\S+) blocks=(\d+) block_bytes=(\d+) allocations=(\d+) allocated_bytes=(\d+)(?: events=(\d+))?$/;

function parseSummary(stdout: string): Record<string, number | string> {
  const lines = stdout.split('\n').filter((l) => summaryPattern.test(l));
  expect(lines).toHaveLength(1); // exactly one parseable line
  const m = summaryPattern.exec(lines[0]!)!;
  return {
    format: m[1]!,
    version: m[2]!,
    blocks: Number(m[3]),
    block_bytes: Number(m[4]),
    allocations: Number(m[5]),
    allocated_bytes: Number(m[6]),
    ...(m[7] === undefined ? {} : { events: Number(m[7]) }),
  };
}

/** The generated fixtures (each with its .expected.json); VMA's real sample has its own test above. */
const fixtures = readdirSync(fixtureDir).filter(
  (f) =>
    !f.endsWith('.expected.json') &&
    !f.endsWith('.py') &&
    !f.endsWith('.md') &&
    f !== path.basename(realVmaSample),
);

describe('vramscope import', () => {
  test("the real CLI: summary on stdout, exit 0, a trace that loads with the dump's totals", async () => {
    const out = path.join(work, 'sample.trace');
    const { stdout, stderr } = await run(process.execPath, [
      path.join(repoRoot, 'bin', 'vramscope.mjs'),
      'import',
      realVmaSample,
      '--out',
      out,
    ]);
    expect(stderr).toBe('');
    const s = parseSummary(stdout);
    const doc = JSON.parse(readFileSync(realVmaSample, 'utf8')) as { Total: Record<string, number> };
    expect([s.blocks, s.block_bytes, s.allocations, s.allocated_bytes]).toEqual([
      doc.Total.BlockCount,
      doc.Total.BlockBytes,
      doc.Total.AllocationCount,
      doc.Total.AllocationBytes,
    ]);
    const trace = loadTraceSync(out);
    expect(trace.complete).toBe(true);
    expect(trace.header.importedFrom?.format).toBe('vma');
    const end = endState(trace.events).totals;
    expect([end.blocks, end.blockBytes, end.allocations, end.allocatedBytes]).toEqual([
      s.blocks,
      s.block_bytes,
      s.allocations,
      s.allocated_bytes,
    ]);
  });

  test('the real CLI started with a Node flag a worker thread refuses (--max-old-space-size) still streams a big snapshot', async () => {
    // Large enough that the trace is encoded on the trace-stream worker (>= 4 MiB, >= 65,536 events).
    const file = path.join(work, 'big-flags.pickle');
    writeTrainingPickle(file, simulateTraining({ entries: 100_000 }));
    expect(statSync(file).size).toBeGreaterThanOrEqual(4 << 20);
    const out = path.join(work, 'big-flags.trace');
    const { stdout, stderr } = await run(process.execPath, [
      '--max-old-space-size=2048',
      path.join(repoRoot, 'bin', 'vramscope.mjs'),
      'import',
      file,
      '--out',
      out,
    ]);
    expect(stderr).toBe('');
    const s = parseSummary(stdout);
    const trace = loadTraceSync(out);
    expect(trace.complete).toBe(true);
    expect(trace.events.length).toBeGreaterThanOrEqual(65_536);
    expect(stdout).toContain(`wrote ${out}: ${trace.events.length} events`);
    expect(s.format).toBe('pytorch');
  });

  test('the real CLI: a bad file exits 1 with one line on stderr and writes nothing', async () => {
    const bad = path.join(work, 'bad.json');
    writeFileSync(bad, '{"General": {"API": "Vulkan"}, "Total": {"BlockCount": 1}, "MemoryInfo": {');
    const out = path.join(work, 'bad.trace');
    const result = await run(process.execPath, [
      path.join(repoRoot, 'bin', 'vramscope.mjs'),
      'import',
      bad,
      '--out',
      out,
    ]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^vramscope import: bad\.json is not valid JSON \(Unexpected end of input.*\), so it is not a readable VMA dump/,
    );
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  for (const name of fixtures) {
    test(`${name}: the parseable line equals the expected totals and the trace loads`, async () => {
      const out = path.join(work, `${name}.trace`);
      const { code, stdout, stderr } = await cli(['import', fixture(name), '--out', out]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const s = parseSummary(stdout);
      // RMV samples' expected files also count the snapshots (marks), checked on the loaded trace below.
      const { marks, ...want } = expectedTotals(name) as ReturnType<typeof expectedTotals> & {
        marks?: number;
      };
      expect({ ...s, format: undefined, version: undefined }).toEqual({
        ...want,
        format: undefined,
        version: undefined,
      });
      expect(s.format).toBe(
        name.startsWith('pytorch')
          ? 'pytorch'
          : name.startsWith('d3d12ma')
            ? 'd3d12ma'
            : name.startsWith('rmv')
              ? 'rmv'
              : 'vma',
      );
      expect(stdout.includes('warning:')).toBe(name.includes('inconsistent'));
      const trace = loadTraceSync(out, { strict: true });
      const end = endState(trace.events).totals;
      // Expandable segments: the output says how many more blocks (mapped pieces) the timeline has.
      const pieces = Number(/the timeline has (\d+) more blocks/.exec(stdout)?.[1] ?? 0);
      expect(pieces > 0).toBe(name.includes('expandable'));
      expect([end.blocks, end.blockBytes, end.allocations, end.allocatedBytes]).toEqual([
        want.blocks + pieces,
        want.block_bytes,
        want.allocations,
        want.allocated_bytes,
      ]);
      if (marks !== undefined)
        expect(trace.events.columns.kind.subarray(0, trace.events.length).filter((k) => k === 9).length).toBe(
          marks,
        );
    });
  }

  test('--partial writes what came before the problem, with a warning; without it nothing is written', async () => {
    const bytes = readFileSync(fixture('pytorch-trace-p4.pickle'));
    const cut = path.join(work, 'cut.pickle');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const out = path.join(work, 'cut.trace');
    const strict = await cli(['import', cut, '--out', out]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(
      /cut\.pickle is not a readable PyTorch snapshot pickle: The pickle ends before its STOP opcode/,
    );
    expect(existsSync(out)).toBe(false);
    const partial = await cli(['import', cut, '--out', out, '--partial']);
    expect(partial.code).toBe(0);
    expect(partial.stdout).toMatch(/warning: Reading stopped early/);
    const s = parseSummary(partial.stdout);
    expect(s.events as number).toBeGreaterThan(0);
    expect(loadTraceSync(out).events.length).toBeGreaterThan(0);
  });

  test('usage errors: no file, unknown format, unknown file type', async () => {
    expect((await cli(['import'])).code).toBe(2);
    const f = await cli(['import', realVmaSample, '--format', 'tracy']);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/--format must be one of vma, d3d12ma, pytorch, rmv/);
    // A JSON dump read as an RMV trace: the RMV reader says what it expected, in one line.
    const asRmv = await cli(['import', realVmaSample, '--format', 'rmv']);
    expect(asRmv.code).toBe(1);
    expect(asRmv.stderr).toMatch(
      /read as a Radeon Memory Visualizer trace \(\.rmv\)\): the file starts with neither the RMT magic/,
    );
    const txt = path.join(work, 'notes.txt');
    writeFileSync(txt, 'just some notes');
    const u = await cli(['import', txt]);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(
      /notes\.txt is not a VMA JSON dump, a D3D12MA JSON dump, a PyTorch memory snapshot or an RMV trace/,
    );
    const missing = await cli(['import', path.join(work, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read/);
  });

  test('default output: beside the input, with .trace', async () => {
    const copy = path.join(work, 'copy.json');
    writeFileSync(copy, readFileSync(fixture('vma3-empty.json')));
    const { code } = await cli(['import', copy]);
    expect(code).toBe(0);
    expect(existsSync(path.join(work, 'copy.trace'))).toBe(true);
  });
});
