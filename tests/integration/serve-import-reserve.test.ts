// The web server's trace worker fills the import reserve (src-main/import/import-reserve.ts) once it has
// been idle a second, and not when VRAMSCOPE_IMPORT_RESERVE=off. Seen from outside as resident memory: two
// servers of the same build started together, one with the reserve forced on (whatever a first touch costs
// on the machine running the test), one with it off; a few seconds later the first holds about the
// reserve's touched pages (about 80 MiB) more than the second.
import { expect, test } from 'vitest';
import { startServeProcess } from '../support/api-transports.ts';
import { processMemory } from '../support/ui-upload.ts';

test('serve fills the import reserve while idle, and not when it is turned off', async () => {
  const [on, off] = await Promise.all([
    startServeProcess([], { ...process.env, VRAMSCOPE_IMPORT_RESERVE: 'on' }),
    startServeProcess([], { ...process.env, VRAMSCOPE_IMPORT_RESERVE: 'off' }),
  ]);
  try {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const onMiB = processMemory(on.child.pid!).rssMiB;
    const offMiB = processMemory(off.child.pid!).rssMiB;
    console.log(`serve-import-reserve rss_on_mib=${onMiB.toFixed(0)} rss_off_mib=${offMiB.toFixed(0)}`);
    expect(onMiB - offMiB).toBeGreaterThan(60);
    expect(onMiB - offMiB).toBeLessThan(130);
  } finally {
    await Promise.all([on.stop(), off.stop()]);
  }
}, 60_000);
