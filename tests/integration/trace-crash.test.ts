// Crash safety: a child process records continuously and is killed with SIGKILL after ≥ 1.2 s; what it left
// on disk must load (events > 0, a valid prefix of what it generated) with a warning saying where it stopped.
import { expect, test, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeTrace } from '../../allocator/analysis/index.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('a recording killed with SIGKILL leaves a loadable prefix and a warning', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-crash-'));
  const file = path.join(dir, 'killed.vrt');
  try {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'tests/support/record-forever.ts'), file],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('recording')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`recorder exited early (${code}): ${stderr}`)));
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    // Kill it mid-recording once several flushes have reached the disk (watched on the file, not timed).
    await vi.waitFor(
      () => {
        if (loadTraceSync(file).events.length < 3 * 4096) throw new Error('not enough flushed yet');
      },
      { timeout: 30_000, interval: 50 },
    );
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const trace = loadTraceSync(file);
    expect(trace.events.length).toBeGreaterThan(0);
    expect(trace.complete).toBe(false);
    expect(trace.warnings).toHaveLength(1);
    expect(trace.warnings[0]!.message).toMatch(/torn|end-of-trace index/);
    expect(trace.warnings[0]!.position).toBeLessThanOrEqual(statSync(file).size);
    // The loaded events are exactly the prefix the child generated.
    const c = trace.events.columns;
    let wrong = -1;
    for (let i = 0; i < trace.events.length && wrong < 0; i++) {
      const g = Math.floor(i / 4);
      const want = [
        [4, g],
        [1, 2 * g],
        [1, 2 * g + 1],
        [2, 2 * g],
      ][i % 4]!;
      if (c.kind[i] !== want[0] || c.id[i] !== want[1]) wrong = i;
    }
    expect(wrong).toBe(-1);
    expect(analyzeTrace(trace.events, trace.header.device).summary.anomalies).toBe(0);
    console.log(
      `crash test: ${trace.events.length} events loaded from ${statSync(file).size} bytes; warning: ${trace.warnings[0]!.message}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
