// `vramscope run` as a user starts it: bin/vramscope.mjs (tsx's register()) in a child process, the
// scenario in a worker thread. Exit codes 0/1/2, messages on stderr, the summary on stdout.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { afterAll, expect, test } from 'vitest';
import { main } from '../../src-main/cli/main.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(repoRoot, 'bin', 'vramscope.mjs');
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-cli-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function vramscope(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('run leaks: exit 0, summary with the leaks grouped by origin; no progress line off a terminal', () => {
  const r = vramscope(
    'run',
    'leaks',
    '--profile',
    'lavapipe',
    '--seed',
    '3',
    '--param',
    'objects=20',
    '--param',
    'leakEvery=10',
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^scenario +leaks \(seed 3\) — completed$/m);
  expect(r.stdout).toMatch(/^ops +43 \(25 allocations, 18 frees, 0 failures\)$/m);
  expect(r.stdout).toMatch(/^leaks +7 allocations, .*by origin:$/m);
  expect(r.stdout).toMatch(/^ +2 × leaks\.mjs:\d+ \[scene\] \(.*\): leak\/texture-9, leak\/buffer-19$/m);
  expect(r.stdout).toMatch(/^ +5 × leaks\.mjs:\d+ \[cache\]/m);
  expect(r.stdout).not.toContain('\r');
});

test('a script path runs; a script error exits 1 with file:line on stderr', () => {
  const file = path.join(tmp, 'fails.mjs');
  writeFileSync(
    file,
    `export const meta = { name: 'fails', description: '', parameters: {} };\nexport function run(ctx) {\n  ctx.allocate({ name: 'a', size: 64, kind: 'buffer' });\n  throw new Error('scripted failure');\n}\n`,
  );
  const r = vramscope('run', 'fails.mjs', '--profile', 'h100', '--seed', '1');
  expect(r.status).toBe(1);
  expect(r.stderr).toBe('vramscope run: fails.mjs:4: Error: scripted failure\n');
  expect(r.stdout).toMatch(/— failed/);
});

test('bad usage exits 2 with one line on stderr', () => {
  const bad = vramscope('run', 'leaks', '--param', 'objects=many', '--profile', 'lavapipe');
  expect(bad.status).toBe(2);
  expect(bad.stderr).toBe('vramscope run: parameter "objects" must be a number, got "many" (try --help)\n');
  expect(vramscope('run', 'no-such-scenario', '--profile', 'lavapipe').status).toBe(2);
  expect(vramscope('run', 'leaks', '--profile', 'no-such-gpu').status).toBe(2);
  expect(vramscope('run', 'leaks', '--device', '0', '--profile', 'lavapipe').status).toBe(2);
  expect(vramscope('run', 'leaks', '--strategy', 'best').status).toBe(2);
  expect(vramscope('run').status).toBe(2);
});

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

test('on a terminal, a \\r-updated progress line on stderr, cleared before the summary', async () => {
  const stdout = new Capture(true);
  const stderr = new Capture(true);
  const code = await main(
    ['run', 'transient-ring', '--profile', 'lavapipe', '--seed', '1', '--param', 'frames=400'],
    {
      stdout,
      stderr,
      cwd: tmp,
    },
  );
  expect(code).toBe(0);
  const lines = stderr.text.split('\r\x1b[K').filter((l) => l !== '');
  expect(lines.length).toBeGreaterThan(0);
  for (const l of lines)
    expect(l).toMatch(
      /^transient-ring: (running|paused|finished), \d+ ops, frame \d+, \d+ live, .+ committed, 0 failures$/,
    );
  expect(stderr.text.endsWith('\r\x1b[K')).toBe(true);
  expect(stdout.text).toMatch(/^scenario +transient-ring \(seed 1\) — completed$/m);
});

test('run --list shows every built-in with its parameters', async () => {
  const stdout = new Capture(false);
  const stderr = new Capture(false);
  expect(await main(['run', '--list'], { stdout, stderr, cwd: tmp })).toBe(0);
  for (const name of [
    'streaming',
    'transient-ring',
    'fragmentation',
    'budget-overflow',
    'leaks',
    'replay-workload',
  ])
    expect(stdout.text).toMatch(new RegExp(`^${name}: `, 'm'));
  expect(stdout.text).toMatch(/^ {2}leakEvery \(integer, default 7, 2\.\.1000000\): /m);
  expect(stdout.text).toMatch(/^ {2}file \(file, default ""\): /m);
});
