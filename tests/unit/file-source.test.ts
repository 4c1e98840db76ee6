// Bounded file reading (src-main/import/file-source.ts) on real files, FIFOs and devices, and the name
// escaping every printed name goes through (allocator/text/printable.ts).
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { printable, printableLines, safeFileName } from '../../allocator/text/printable.ts';
import {
  fileSource,
  FileReadError,
  maxLineBytes,
  openBoundedFileSync,
  readLinesSync,
} from '../../src-main/import/file-source.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vramscope-file-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemOf(run: () => unknown): { problem: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof FileReadError) return { problem: error.problem, message: error.message };
    throw error;
  }
  throw new Error('expected a FileReadError');
}

async function asyncProblemOf(run: () => Promise<unknown>): Promise<{ problem: string; message: string }> {
  try {
    await run();
  } catch (error) {
    if (error instanceof FileReadError) return { problem: error.problem, message: error.message };
    throw error;
  }
  throw new Error('expected a FileReadError');
}

const lines = (file: string, options: Parameters<typeof readLinesSync>[1]) => [
  ...readLinesSync(file, options),
];

describe('bounded reads: regular files only', () => {
  const fifo = path.join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const folder = path.join(dir, 'folder');
  mkdirSync(folder);

  test('/dev/zero, a FIFO with no writer, a folder and a missing file are refused at once, with one message', async () => {
    const cases = ['/dev/zero', fifo, folder, path.join(dir, 'missing')];
    const messages = new Set<string>();
    for (const file of cases) {
      const sync = problemOf(() => lines(file, { name: 'f', maxBytes: 1 << 30 }));
      const whole = problemOf(() => openBoundedFileSync(file, { name: 'f', maxBytes: 1 << 30 }));
      const streamed = await asyncProblemOf(() => fileSource(file, { name: 'f' }));
      for (const p of [sync, whole, streamed]) {
        expect(p.problem, file).toBe('unreadable');
        messages.add(p.message);
      }
    }
    // Missing and unreadable read the same: an error says nothing about what exists.
    expect([...messages]).toEqual(['f cannot be read: it is missing, unreadable or not a regular file']);
  });

  test('a file over the cap is refused before it is read, and a file that grows past it stops at the cap', async () => {
    const file = path.join(dir, 'big.txt');
    writeFileSync(file, 'x\n'.repeat(5000));
    const before = problemOf(() => lines(file, { name: 'big.txt', maxBytes: 1000 }));
    expect(before.problem).toBe('too-large');
    expect(before.message).toMatch(/^big\.txt is larger than 1000 bytes/);
    expect(problemOf(() => openBoundedFileSync(file, { maxBytes: 1000 })).problem).toBe('too-large');
    // Growth while reading: the cap holds for what is actually read.
    const growing = path.join(dir, 'growing.txt');
    writeFileSync(growing, 'a\n'.repeat(100));
    const read = readLinesSync(growing, { maxBytes: 300, chunkBytes: 64 });
    let count = 0;
    const grown = problemOf(() => {
      for (const _line of read) {
        if (count++ === 0) appendFileSync(growing, 'b\n'.repeat(1000));
      }
    });
    expect(grown.problem).toBe('too-large');
  });

  test('lines come with their number and byte offset; an over-long line is refused by offset, not quoted', () => {
    const file = path.join(dir, 'lines.txt');
    writeFileSync(file, 'first\nsecond line\n\nlast-no-newline');
    expect(lines(file, { maxBytes: 1 << 20, chunkBytes: 4 })).toEqual([
      { line: 1, offset: 0, text: 'first' },
      { line: 2, offset: 6, text: 'second line' },
      { line: 3, offset: 18, text: '' },
      { line: 4, offset: 19, text: 'last-no-newline' },
    ]);
    const long = path.join(dir, 'long.txt');
    writeFileSync(long, `ok\n${'SECRET'.repeat(maxLineBytes)}\n`);
    const p = problemOf(() => lines(long, { name: 'long.txt', maxBytes: 1 << 30 }));
    expect(p.problem).toBe('line-too-long');
    expect(p.message).toBe(`long.txt line 2 (at byte 3) is longer than ${maxLineBytes} bytes`);
    // A file with no newline at all (what /dev/zero would have been) stops at the line limit.
    const flat = path.join(dir, 'flat.bin');
    writeFileSync(flat, Buffer.alloc(64 * 1024));
    expect(problemOf(() => lines(flat, { maxBytes: 1 << 30 })).problem).toBe('line-too-long');
  });

  test('a cancel stops a read between chunks, mid-file', async () => {
    const file = path.join(dir, 'cancel.txt');
    writeFileSync(file, '# comment\n'.repeat(100_000));
    let chunksAsked = 0;
    let seen = 0;
    const p = problemOf(() => {
      for (const _line of readLinesSync(file, {
        maxBytes: 1 << 30,
        chunkBytes: 4096,
        isCancelled: () => ++chunksAsked > 3,
      }))
        seen++;
    });
    expect(p.problem).toBe('cancelled');
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(100_000);
    let asked = 0;
    const source = await fileSource(file, { chunkBytes: 4096, isCancelled: () => ++asked > 10 });
    const streamed = await asyncProblemOf(async () => {
      for await (const _chunk of source.chunks()) {
        // drain
      }
    });
    expect(streamed.problem).toBe('cancelled');
  });
});

describe('names are data: printable()', () => {
  test('control, line-separator and bidi characters are escaped; the rest is kept', () => {
    expect(printable('a\nb\r\tc')).toBe('a\\nb\\r\\tc');
    expect(printable('\x1b[31mred\x1b[0m')).toBe('\\x1b[31mred\\x1b[0m');
    expect(printable('x\u2028y\u202egnp.exe')).toBe('x\\u2028y\\u202egnp.exe');
    expect(printable('\x00\x7f\x9b')).toBe('\\x00\\x7f\\x9b');
    expect(printable('Grüße, 显存 ✓')).toBe('Grüße, 显存 ✓');
  });

  test('long names are cut with an ellipsis, never inside a surrogate pair', () => {
    expect(printable('abcdef', 4)).toBe('abc…');
    const cut = printable('ab😀cd', 4);
    expect(cut).toBe('ab…');
    expect(printable('x'.repeat(2000)).length).toBe(1000);
  });

  test('printableLines keeps the line breaks of a report and escapes inside each line', () => {
    expect(printableLines('one\ntwo\r\x1b')).toBe('one\ntwo\\r\\x1b');
  });

  test('safeFileName makes any name a plain file name', () => {
    expect(safeFileName('../../.bashrc')).toBe('bashrc');
    expect(safeFileName('x.trace\nrm -rf ~')).toBe('x.trace_rm_-rf_');
    expect(safeFileName('...')).toBe('vramscope');
    expect(safeFileName('C:\\Windows\\system32')).toBe('C_Windows_system32');
    expect(safeFileName('a'.repeat(500)).length).toBe(100);
  });
});
