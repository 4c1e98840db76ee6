// `vramscope serve` stops when told to (SIGTERM, as Ctrl-C's SIGINT), whatever connections browsers still
// hold. Before, closing waited for every connection to end: a Chromium connection Node counted as busy
// kept the process alive for about 10 minutes after its tab closed. Here a client that started a request
// and sent no more plays that browser (Node would wait up to its 60 s headers timeout for it).
import { connect } from 'node:net';
import { expect, test } from 'vitest';
import { startServeProcess } from '../support/api-transports.ts';

test('serve exits promptly on SIGTERM while a client holds a connection mid-request', async () => {
  const server = await startServeProcess();
  const socket = connect(server.port, '127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    // The start of a request, never finished.
    socket.write(`GET /?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    const started = performance.now();
    // Far under Node's 60 s wait for the request's headers: the connection is closed, not waited for.
    const exited = await Promise.race([
      server.stop().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000)),
    ]);
    console.log(`serve-shutdown exited=${exited} ms=${(performance.now() - started).toFixed(0)}`);
    expect(exited).toBe(true);
    expect(server.child.exitCode).toBe(0);
    await closed;
  } finally {
    socket.destroy();
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  }
}, 30_000);
