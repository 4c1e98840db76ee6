import { describe, expect, test } from 'vitest';
import {
  sniffTextEncoding,
  textChunks,
  bytesSource,
  blobSource,
} from '../../allocator/import/byte-source.ts';
import { importSource } from '../../allocator/import/index.ts';
import { readFileSync } from 'node:fs';
import { fixture } from '../support/import-fixtures.ts';
import {
  JsonStreamParser,
  JsonSyntaxError,
  parseJsonText,
  type JsonValue,
} from '../../allocator/import/json-stream.ts';

const docs = [
  '{}',
  '[]',
  '  {"a": [1, 2.5, -3e2, true, false, null, "x\\"y\\\\z\\u00e9\\n"], "b": {"c": {}}}  ',
  '[{"Offset": 0, "Type": "FREE", "Size": 1024}, {"Offset": 1024, "Type": "BUFFER", "Size": 64, "Name": "τ"}]',
  '"just a string"',
  '12345',
  '{"nested": [[[[[]]]]], "emoji": "\\ud83d\\ude00"}',
];

/** Feeds `text` in pieces of `size` characters. */
function parseInPieces(text: string, size: number): JsonValue {
  const p = new JsonStreamParser();
  for (let i = 0; i < text.length; i += size) p.feed(text.slice(i, i + size));
  return p.end();
}

describe('streaming JSON parser', () => {
  test('equals JSON.parse for every split of the input', () => {
    for (const doc of docs) {
      const want = JSON.parse(doc) as unknown;
      for (const size of [1, 2, 3, 7, 1000])
        expect(JSON.parse(JSON.stringify(parseInPieces(doc, size)))).toEqual(want);
    }
  });

  test('integers beyond 2^53 become exact bigints; others stay numbers', () => {
    const v = parseJsonText(
      '{"big": 18446744073709551615, "safe": 9007199254740991, "f": 1.5e300}',
    ) as Record<string, unknown>;
    expect(v.big).toBe(18446744073709551615n);
    expect(v.safe).toBe(9007199254740991);
    expect(v.f).toBe(1.5e300);
  });

  test('"__proto__" is an ordinary key', () => {
    const v = parseJsonText('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(null);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('selected containers stream their items with paths and do not keep them', () => {
    const seen: [string, string | number, unknown][] = [];
    const p = new JsonStreamParser({
      streamItems: (path) => path.join('/') === 'pools/a/Blocks' || path.join('/') === 'list',
      onItem: (path, key, value) => seen.push([path.join('/'), key, value]),
    });
    const text =
      '{"pools": {"a": {"Name": "n", "Blocks": {"0": {"x": 1}, "7": {"x": 2}}}}, "list": [10, [20]]}';
    for (let i = 0; i < text.length; i += 5) p.feed(text.slice(i, i + 5));
    const root = p.end();
    expect(JSON.parse(JSON.stringify(root))).toEqual({ pools: { a: { Name: 'n', Blocks: {} } }, list: [] });
    expect(JSON.parse(JSON.stringify(seen))).toEqual([
      ['pools/a/Blocks', '0', { x: 1 }],
      ['pools/a/Blocks', '7', { x: 2 }],
      ['list', 0, 10],
      ['list', 1, [20]],
    ]);
  });

  test('malformed input: one JsonSyntaxError with the character position', () => {
    const bad: [string, RegExp][] = [
      ['{"a": 1,}', /Expected a string key at character 8/],
      ['{"a" 1}', /Expected ":" at character 5/],
      ['[1 2]', /Expected "," or "]" at character 3/],
      ['{"a": tru}', /Unexpected character/],
      ['{"a": [1, 2]', /Unexpected end of input/],
      ['{} {}', /Unexpected data after the JSON value at character 3/],
      ['', /No JSON value found/],
      ['{"a": "\\q"}', /Malformed escape/],
      ['['.repeat(600), /Nesting deeper than 512/],
    ];
    for (const [text, message] of bad) {
      expect(() => parseInPieces(text, 3)).toThrow(JsonSyntaxError);
      expect(() => parseInPieces(text, 3)).toThrow(message);
    }
  });

  test('text decoding: UTF-16 LE/BE with BOM, UTF-8 with BOM, characters split across chunks', async () => {
    const text = '{"name": "Ünïcødé текстура 😀"}';
    const le = new Uint8Array([0xff, 0xfe, ...new Uint8Array(Buffer.from(text, 'utf16le'))]);
    const be = new Uint8Array(le.length);
    for (let i = 0; i < le.length; i += 2) [be[i], be[i + 1]] = [le[i + 1]!, le[i]!];
    const u8 = new Uint8Array([0xef, 0xbb, 0xbf, ...new Uint8Array(Buffer.from(text, 'utf8'))]);
    for (const bytes of [le, be, u8]) {
      const { encoding } = sniffTextEncoding(bytes);
      let out = '';
      for await (const piece of textChunks(bytesSource('t', bytes, 3), encoding)) out += piece;
      expect(out).toBe(text);
    }
    expect(sniffTextEncoding(new Uint8Array([0x7b, 0x00])).encoding).toBe('utf-16le');
  });

  test('a Blob (as a browser File) imports the same as bytes', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('d3d12ma-tier2-utf16.json')));
    const fromBlob = await importSource(blobSource(new Blob([bytes]), 'dropped.json'));
    const fromBytes = await importSource(bytesSource('dropped.json', bytes));
    expect(fromBlob.totals).toEqual(fromBytes.totals);
    expect(fromBlob.log.length).toBe(fromBytes.log.length);
    expect(fromBlob.header.importedFrom.file).toBe('dropped.json');
  });
});
