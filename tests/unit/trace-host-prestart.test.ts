// TraceHost.prestart (what `vramscope serve` and the desktop app call once they are up): the trace worker
// starts before the first file is opened (its modules load while nothing waits), once, and it does not keep
// a process alive that has nothing else to do.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { TraceHost } from '../../src-main/api/trace-host.ts';
import { repoRoot } from '../support/profiles.ts';

/** OS threads of this process (Linux). */
const threads = (): number => readdirSync('/proc/self/task').length;

describe('TraceHost.prestart', () => {
  test('starts the worker thread at once, only once; dispose ends it', async () => {
    const host = new TraceHost(() => undefined);
    const before = threads();
    host.prestart();
    const started = threads();
    expect(started).toBeGreaterThan(before);
    host.prestart();
    expect(threads()).toBe(started);
    // The worker started early answers like one started on first use.
    await expect(host.query('no-such-source', 'report', 'json')).rejects.toThrow(/no-such-source/);
    await host.dispose();
    await expect.poll(threads, { timeout: 10_000 }).toBeLessThan(started);
  });

  test('a process that prestarted the worker and has nothing else to do ends by itself', () => {
    const script = `import { TraceHost } from ${JSON.stringify(path.join(repoRoot, 'src-main/api/trace-host.ts'))};
new TraceHost(() => undefined).prestart();
console.log('prestarted');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.signal).toBeNull();
    expect(r.stdout).toContain('prestarted');
    expect(r.status).toBe(0);
  });
});
