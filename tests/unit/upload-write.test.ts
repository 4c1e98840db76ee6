// UploadStore's writeAllAt: the pieces of a chunk reach the file in order, at the chunk's position, however
// the writes split them (a writev may write less than asked). A real file; the split is forced by handing
// writev at most a few bytes of each call.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { writeAllAt } from '../../src-main/api/uploads.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-upload-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('writeAllAt', () => {
  for (const limit of [Infinity, 1, 3, 7]) {
    test(`pieces land in order at the position, writes of at most ${limit} bytes`, async () => {
      const file = path.join(dir, `limit-${limit}.bin`);
      writeFileSync(file, 'xxxx');
      const handle = await open(file, 'r+');
      let calls = 0;
      try {
        // Each call writes only the first `limit` bytes of what it is given (a short write).
        const short = {
          async writev(buffers: Uint8Array[], position: number) {
            calls++;
            const take: Uint8Array[] = [];
            let room = limit;
            for (const b of buffers) {
              if (room <= 0) break;
              const part = b.subarray(0, Math.min(b.byteLength, room));
              take.push(part);
              room -= part.byteLength;
            }
            return handle.writev(take, position);
          },
        };
        await writeAllAt(short, [bytes('ab'), bytes(''), bytes('cdefg'), bytes('h'), bytes('ijk')], 4);
      } finally {
        await handle.close();
      }
      expect(readFileSync(file, 'utf8')).toBe('xxxxabcdefghijk');
      expect(calls).toBe(limit === Infinity ? 1 : Math.ceil(11 / limit));
    });
  }

  test('nothing to write makes no call', async () => {
    let calls = 0;
    await writeAllAt(
      {
        async writev() {
          calls++;
          throw new Error('not expected');
        },
      },
      [new Uint8Array(0)],
      0,
    );
    expect(calls).toBe(0);
  });
});
