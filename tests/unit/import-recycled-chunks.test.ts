// ByteSource.chunks({recycle}) on a real file: a file source then reads into three buffers in turn (the
// consumer may hold two, the third is read ahead) instead of fresh memory per chunk; the importers that ask for it (pickle, text) keep no view of a chunk past the
// next one, so an import reads the same from recycled chunks as from fresh ones.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { bytesSource, importSource } from '../../allocator/import/index.ts';
import type { EventColumns } from '../../allocator/event-log.ts';
import { fileSource } from '../../src-main/import/file-source.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-recycle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('recycled chunks', () => {
  test('a file source reads the same bytes into three buffers in turn, the last two chunks left intact', async () => {
    const file = path.join(dir, 'bytes.bin');
    const bytes = new Uint8Array(100_003).map((_v, i) => (i * 7919) % 251);
    writeFileSync(file, bytes);
    const source = await fileSource(file, { chunkBytes: 4096 });
    const copies: Uint8Array[] = [];
    const buffers: ArrayBufferLike[] = [];
    let previous: Uint8Array | null = null;
    for await (const chunk of source.chunks({ recycle: true })) {
      // The chunk before this one is still what it was (the read ahead went to the third buffer).
      if (previous !== null) expect(previous).toEqual(copies.at(-1));
      copies.push(chunk.slice());
      buffers.push(chunk.buffer);
      // Give the read of the next chunk, issued before this one was handed out, time to land.
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(chunk).toEqual(copies.at(-1));
      previous = chunk;
    }
    expect(Buffer.concat(copies).equals(Buffer.from(bytes))).toBe(true);
    // The chunks go round three buffers.
    expect(new Set(buffers).size).toBe(3);
    expect(buffers[0]).toBe(buffers[3]);
    expect(buffers[1]).toBe(buffers[4]);
    expect(buffers[2]).not.toBe(buffers[0]);
    // Without recycle every chunk is fresh memory.
    const fresh: ArrayBufferLike[] = [];
    for await (const chunk of source.chunks()) fresh.push(chunk.buffer);
    expect(new Set(fresh).size).toBe(fresh.length);
  });

  test('a consumer that stops early: the read ahead is waited for, and the next pass reads from the start', async () => {
    const file = path.join(dir, 'stop.bin');
    const bytes = new Uint8Array(50_000).map((_v, i) => i % 253);
    writeFileSync(file, bytes);
    const source = await fileSource(file, { chunkBytes: 4096 });
    for (const recycle of [true, false]) {
      let seen = 0;
      for await (const chunk of source.chunks({ recycle })) {
        expect(chunk).toEqual(bytes.subarray(seen, seen + chunk.length));
        seen += chunk.length;
        if (seen >= 8192) break;
      }
      const again: Uint8Array[] = [];
      for await (const chunk of source.chunks({ recycle })) again.push(chunk.slice());
      expect(Buffer.concat(again).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  test('a PyTorch pickle imports the same from recycled chunks as from bytes in memory', async () => {
    const file = path.join(dir, 's.pickle');
    writeTrainingPickle(file, simulateTraining({ entries: 5000, layers: 2, hidden: 128, batch: 2 }));
    const reference = await importSource(bytesSource('s.pickle', new Uint8Array(readFileSync(file))));
    const columns = (c: EventColumns): Record<string, number[]> =>
      Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Array.from(v as ArrayLike<number>)]));
    // Chunks above 64 KiB (the reader stitches an opcode cut by the chunk end, then reads on in the chunk
    // itself) and below (copied behind the unfinished opcode).
    for (const chunkBytes of [70_001, 5003]) {
      const r = await importSource(await fileSource(file, { name: 's.pickle', chunkBytes }));
      expect(r.totals).toEqual(reference.totals);
      expect(r.warnings).toEqual(reference.warnings);
      expect(r.log.length).toBe(reference.log.length);
      expect(r.log.strings.strings).toEqual(reference.log.strings.strings);
      const n = r.log.length;
      const sliced = (c: EventColumns): Record<string, number[]> =>
        Object.fromEntries(Object.entries(columns(c)).map(([k, v]) => [k, v.slice(0, n)]));
      expect(sliced(r.log.columns)).toEqual(sliced(reference.log.columns));
    }
  });
});
