// The package as a user installs it: `npm pack` (prepack brings dist/cli up to date), then
// `npm install -g --prefix <temp> <tarball> --offline` (its one dependency, the optional bufferutil, comes
// from npm's cache), then the installed `vramscope` away from the repository: `devices` on the real Vulkan
// device, a scenario run in the bundled scenario worker, its report, a PyTorch import streamed through the
// bundled trace-stream worker, and `serve` answering with the UI. The installed tree holds built JavaScript
// only (and that optional native module). `vramscope --help` start-up time is measured and printed, never
// asserted.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importSource } from '../../allocator/import/index.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';
import { fileSource } from '../../src-main/import/file-source.ts';
import { writeImportedTrace } from '../../src-main/import/write-imported.ts';
import { repoRoot } from '../support/profiles.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-pack-'));
const prefix = path.join(tmp, 'prefix');
const work = path.join(tmp, 'work');
const installed = path.join(prefix, 'lib', 'node_modules', 'vramscope');
const vramscopeBin = path.join(prefix, 'bin', 'vramscope');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The environment without npm's own variables (the test may itself run under `npm test`). */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync('npm', args, { cwd, env: cleanEnv, encoding: 'utf8', timeout: 300_000 });
}

function vramscope(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(vramscopeBin, args, { cwd: work, env: cleanEnv, encoding: 'utf8', timeout: 120_000 });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('npm pack + npm install -g', () => {
  beforeAll(() => {
    const pack = npm(['pack', '--pack-destination', tmp, '--silent'], repoRoot);
    if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stdout}${pack.stderr}`);
    const tarball = path.join(tmp, pack.stdout.trim().split('\n').at(-1) ?? '');
    const install = npm(
      ['install', '-g', '--prefix', prefix, tarball, '--offline', '--no-audit', '--no-fund'],
      tmp,
    );
    if (install.status !== 0) throw new Error(`npm install -g failed:\n${install.stdout}${install.stderr}`);
    mkdirSync(work);
  }, 600_000);

  test('the installed package is built code only: no TypeScript, no sources, no node_modules but the optional native unmasking of ws', () => {
    const files = filesUnder(installed);
    expect(files).toContain(path.join('dist', 'cli', 'vramscope.js'));
    expect(files).toContain(path.join('dist', 'cli', 'scenario-worker.js'));
    expect(files).toContain(path.join('dist', 'cli', 'trace-worker.js'));
    expect(files).toContain(path.join('dist', 'cli', 'trace-stream-worker.js'));
    expect(files).toContain(path.join('dist', 'cli', 'analysis-worker.js'));
    expect(files).toContain(path.join('dist', 'renderer', 'index.html'));
    expect(files.filter((f) => /\.(ts|tsx|mts)$/.test(f))).toEqual([]);
    // The one dependency: bufferutil (optional, prebuilt; ws unmasks uploads with it, else in JavaScript)
    // and its loader.
    const optionalNative = /^node_modules[\\/](bufferutil|node-gyp-build)[\\/]/;
    expect(
      files.filter(
        (f) =>
          /^(src-main|src-renderer|allocator|tests|node_modules)[\\/]/.test(f) && !optionalNative.test(f),
      ),
    ).toEqual([]);
  });

  test('vramscope devices lists the real Vulkan device', () => {
    const r = vramscope('devices');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Vulkan loader \S+: [1-9]\d* device\(s\)\n/);
    expect(r.stdout).toMatch(/Device 0: .+ \(default\)/);
  });

  test('vramscope run (scenario worker) and report (trace reader) work from the install', () => {
    const trace = path.join(work, 'streaming.trace');
    const run = vramscope(
      'run',
      'streaming',
      '--profile',
      'lavapipe',
      '--param',
      'frames=20',
      '--out',
      trace,
    );
    expect(run.stderr).toMatch(/^\[streaming\] streamed \d+ textures over 20 frames\n$/); // its ctx.log
    expect(run.status).toBe(0);
    const report = vramscope('report', trace, '--json');
    expect(report.status).toBe(0);
    const json = JSON.parse(report.stdout) as { scenario?: { name?: string } | null };
    expect(JSON.stringify(json)).toContain('streaming');
  });

  test('vramscope import streams a large PyTorch snapshot through the bundled trace-stream worker', async () => {
    // 70,000 entries (about 10 MB): past the 4 MiB that start the worker and the 65,536 events streamed.
    const snapshot = path.join(work, 'training.pickle');
    writeTrainingPickle(snapshot, simulateTraining({ entries: 70_000, layers: 2, hidden: 128, batch: 2 }));
    const r = vramscope('import', snapshot, '--out', path.join(work, 'training.trace'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The same events and bytes as the sources' whole-log writer gives for the same snapshot.
    const whole = writeImportedTrace(
      await importSource(await fileSource(snapshot)),
      path.join(work, 'training-whole.trace'),
    );
    expect(r.stdout).toContain(`: ${whole.events} events, ${whole.bytes} bytes (imported in`);
    expect(readdirSync(work).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('vramscope serve answers with the installed UI', async () => {
    const child = spawn(vramscopeBin, ['serve', '--port', '0', '--no-session'], { cwd: work, env: cleanEnv });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      await expect.poll(() => /VRAMscope web UI: (http:\S+)/.test(out), { timeout: 60_000 }).toBe(true);
      const url = new URL(/VRAMscope web UI: (http:\S+)/.exec(out)![1]!);
      // The token link sets the cookie and redirects to /, which then serves the page.
      const first = await fetch(url, { redirect: 'manual' });
      const cookie = first.headers.get('set-cookie')?.split(';')[0] ?? '';
      expect(cookie).toMatch(/=/);
      const page = await fetch(new URL('/', url), { headers: { cookie } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
      expect(out).not.toContain('not built');
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('vramscope --help start-up time (printed)', () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = process.hrtime.bigint();
      const r = vramscope('--help');
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('Usage: vramscope <command>');
    }
    const baseline: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0']);
      baseline.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `vramscope --help (installed): median ${median(times).toFixed(0)} ms, best ${Math.min(...times).toFixed(0)} ms ` +
        `over 5 runs; bare \`node -e 0\` on this machine: median ${median(baseline).toFixed(0)} ms`,
    );
  });
});
