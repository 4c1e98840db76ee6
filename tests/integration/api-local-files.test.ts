// Desktop open-by-path (issue 11), main's side, without Electron: the IPC endpoint's grantLocalFile (what
// the preload calls with the path webUtils found for a dropped or picked File) grants regular files only,
// refuses everything else before a byte is read and without naming the path, answers untrusted senders
// with a refusal, and an ApiSource given it opens a dropped file in place: no upload, no copy.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { AppBackend } from '../../src-main/api/app-backend.ts';
import { createIpcEndpoint } from '../../src-main/api/ipc-endpoint.ts';
import { checkLocalFile } from '../../src-main/api/local-files.ts';
import { ApiSource } from '../../src-renderer/data/api-source.ts';
import type { PickedFile } from '../../src-renderer/data/source.ts';
import { createClientCore } from '../../src-renderer/api/client-core.ts';
import { repoRoot, trustedTestSender } from '../support/api-transports.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-local-files-'));
const backend = new AppBackend({ checkResults: true });
const endpoint = createIpcEndpoint({
  dispatch: backend.dispatch,
  trustedWebContents: () => new Set([1]),
  appOrigins: ['app://vramscope'],
  grantLocalFile: (file) => backend.grantFile(file, 'picked'),
});
const sender = trustedTestSender(1);
afterAll(async () => {
  await backend.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const sample = path.join(repoRoot, 'assets', 'traces', 'streaming-h100.trace');

describe('grantLocalFile (main side of the preload channel)', () => {
  test('a regular file is granted by path: its fileId resolves to that file, its name is the base name', async () => {
    const answer = await endpoint.handleLocalFile(sender, sample);
    expect(answer).toEqual({
      ok: true,
      fileId: expect.stringMatching(/^file-/),
      name: 'streaming-h100.trace',
      bytes: readFileSync(sample).byteLength,
    });
    if (!answer.ok) return;
    expect(backend.grants.resolve(answer.fileId).path).toBe(sample);
    // The same file keeps its id (as a file picked in the Open dialog does).
    expect(await endpoint.handleLocalFile(sender, sample)).toEqual(answer);
  });

  test('anything but an absolute path to a regular file is refused, without its path in the answer', async () => {
    const folder = path.join(dir, 'a-folder');
    mkdirSync(folder);
    const fifo = path.join(dir, 'a-fifo');
    execFileSync('mkfifo', [fifo]);
    const secret = path.join(dir, 'secret-dir', 'missing.trace');
    const toDevice = path.join(dir, 'to-device.trace');
    symlinkSync('/dev/zero', toDevice);
    const unreadable = path.join(dir, 'unreadable.trace');
    writeFileSync(unreadable, 'x', { mode: 0o000 });
    const candidates: unknown[] = [
      '',
      'relative/streaming-h100.trace',
      `${sample}\0.png`,
      `/${'a'.repeat(5000)}`,
      folder,
      fifo, // opened with O_NONBLOCK: no hang
      '/dev/zero',
      toDevice, // a link to a device: what is opened is checked
      secret,
      42,
      null,
      { path: sample },
      [sample],
    ];
    // root reads files whatever their mode: only check the unreadable file as another user.
    if (process.getuid?.() !== 0) candidates.push(unreadable);
    for (const candidate of candidates) {
      const answer = await endpoint.handleLocalFile(sender, candidate);
      expect(answer.ok, String(candidate).slice(0, 80)).toBe(false);
      if (answer.ok) continue;
      expect(answer.message).toMatch(
        /cannot be opened in place: it is missing, unreadable or not a regular file/,
      );
      expect(answer.message).not.toContain(dir);
      expect(answer.message).not.toContain('secret-dir');
    }
    expect(await checkLocalFile(sample)).toEqual({ path: sample, bytes: readFileSync(sample).byteLength });
  });

  test('untrusted senders (another window, a subframe, another origin) get a refusal and no grant', async () => {
    const untrusted = [
      trustedTestSender(2),
      { ...sender, isMainFrame: false },
      { ...sender, frameUrl: 'https://example.com/' },
    ];
    const other = path.join(dir, 'other.trace');
    writeFileSync(other, readFileSync(sample));
    for (const s of untrusted) {
      expect(await endpoint.handleLocalFile(s, other)).toEqual({
        ok: false,
        message: 'This sender may not open files by path.',
      });
    }
    // An endpoint without the option refuses too (web mode has no such channel at all).
    const bare = createIpcEndpoint({
      dispatch: backend.dispatch,
      trustedWebContents: () => new Set([1]),
      appOrigins: ['app://vramscope'],
    });
    expect((await bare.handleLocalFile(sender, other)).ok).toBe(false);
  });
});

describe('ApiSource with the preload bridge: a dropped file opens in place', () => {
  test('no upload request is made and the trace opens from its own path', async () => {
    const core = createClientCore(
      async (frame) => core.receive(structuredClone(await endpoint.handle(sender, structuredClone(frame)))),
      () => undefined,
    );
    const names: string[] = [];
    const request = core.client.request.bind(core.client);
    const api = {
      ...core.client,
      request: ((name, params) => {
        names.push(name);
        return request(name, params);
      }) as typeof core.client.request,
    };
    // What the preload does: webUtils' path for the File, sent to main's channel.
    const dropped = path.join(dir, 'dropped copy.trace');
    writeFileSync(dropped, readFileSync(sample));
    const file: PickedFile & { path: string } = {
      name: path.basename(dropped),
      size: readFileSync(dropped).byteLength,
      path: dropped,
      slice: () => {
        throw new Error('the page must not read a file that opens in place');
      },
    };
    const source = new ApiSource(api, (f) => endpoint.handleLocalFile(sender, (f as typeof file).path));
    const overview = await source.loadFile(file);
    expect(overview.title.startsWith('dropped copy.trace')).toBe(true);
    expect(names.filter((n) => /upload/i.test(n))).toEqual([]);
    expect(names).toContain('loadTrace');
    expect(backend.uploads.count).toBe(0);
    // A File without a path (made in the page) or a refusal falls back to sending the bytes.
    const made = new Uint8Array(readFileSync(sample));
    const fallback = new ApiSource(api, () => Promise.resolve(null));
    const o2 = await fallback.loadFile({
      name: 'made.trace',
      size: made.byteLength,
      slice: (a, b) => ({ arrayBuffer: async () => made.slice(a, b).buffer }),
    });
    expect(o2.title.startsWith('made.trace')).toBe(true);
  });
});
