// Reading an upload while it arrives (upload-arrival.ts + file-source.ts's `arrival`): a real file written
// in parts, the writer's count shared through the same SharedArrayBuffer main and the trace worker use.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FileReadError, fileSource, untilArrived } from '../../src-main/import/file-source.ts';
import { ArrivalBoard, arrivalOf } from '../../src-main/import/upload-arrival.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-arrival-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251);
const tick = (ms = 30): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An upload's file with its first `part` bytes written and counted. */
function arriving(name: string, part: number): { file: string; board: ArrivalBoard } {
  const file = path.join(dir, name);
  writeFileSync(file, bytes.subarray(0, part));
  const board = new ArrivalBoard();
  board.advance(part);
  return { file, board };
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk.slice());
  return new Uint8Array(Buffer.concat(parts));
}

describe('reading a file while it arrives', () => {
  test('reads wait for the counted bytes, never read past them, and end at the declared size', async () => {
    const { file, board } = arriving('a.upload', 100_000);
    const source = await fileSource(file, {
      arrival: arrivalOf(board.shared, bytes.length),
      chunkBytes: 64 * 1024,
    });
    expect(source.size).toBe(bytes.length);
    let done = false;
    const reading = collect(source.chunks()).finally(() => (done = true));
    // Written but not yet counted: not read (main counts bytes only once they are on disk).
    appendFileSync(file, bytes.subarray(100_000, 200_000));
    await tick();
    expect(done).toBe(false);
    board.advance(200_000);
    appendFileSync(file, bytes.subarray(200_000));
    await tick();
    expect(done).toBe(false);
    board.advance(bytes.length);
    expect(Buffer.from(await reading).equals(bytes)).toBe(true);
    // head() waits for its bytes too; a trace waits until the whole file has arrived, then reads it from disk.
    expect(await source.head(10)).toEqual(bytes.subarray(0, 10));
    await untilArrived(arrivalOf(board.shared, bytes.length), 'a.upload');
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  test('a dropped upload stops the read as cancelled, also when its file is gone', async () => {
    const { file, board } = arriving('b.upload', 1000);
    const source = await fileSource(file, { arrival: arrivalOf(board.shared, bytes.length) });
    const reading = collect(source.chunks());
    await tick();
    board.drop();
    rmSync(file);
    await expect(reading).rejects.toMatchObject({ problem: 'cancelled' });
    await expect(source.head(4)).rejects.toMatchObject({ problem: 'cancelled' });
  });

  test('an upload that stops arriving is given up after the stall time, with its own word', async () => {
    const { file, board } = arriving('c.upload', 1000);
    const source = await fileSource(file, { arrival: arrivalOf(board.shared, bytes.length, 100) });
    const error = await collect(source.chunks()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileReadError);
    expect((error as FileReadError).problem).toBe('stalled');
    expect((error as FileReadError).message).toMatch(/c\.upload stopped arriving/);
  });

  test('the cap is checked against the declared size before a byte is read', async () => {
    const { file, board } = arriving('d.upload', 10);
    await expect(
      fileSource(file, { maxBytes: 1000, arrival: arrivalOf(board.shared, bytes.length) }),
    ).rejects.toMatchObject({ problem: 'too-large' });
  });
});
