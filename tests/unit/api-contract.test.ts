// The contract module itself: the web codec round-trips typed arrays, frames and schemas behave.
import { describe, expect, test } from 'vitest';
import {
  decodeBinaryFrame,
  decodeFrame,
  encodeBinaryFrame,
  encodeFrame,
  maxBinaryHeadBytes,
  events,
  eventNames,
  requestNames,
  requests,
  sessionConfigSchema,
} from '../../src-main/api/contract.ts';

describe('web codec', () => {
  test('typed arrays of every column type survive encode/decode, values and types intact', () => {
    const frame = {
      t: 'evt',
      events: [
        {
          name: 'x',
          payload: {
            u8: new Uint8Array([0, 1, 255]),
            i16: new Int16Array([-32768, -1, 32767]),
            u32: new Uint32Array([0, 4294967295]),
            i32: new Int32Array([-2147483648, 7]),
            f64: new Float64Array([0.5, -1e300, 2 ** 53 - 1, Number.NaN]),
            empty: new Float64Array(0),
            sub: new Float64Array([1, 2, 3, 4]).subarray(1, 3),
            bytes: new Uint8Array(70_000).map((_, i) => i % 251),
          },
        },
      ],
    };
    const back = decodeFrame(encodeFrame(frame)) as typeof frame;
    const p = back.events[0]!.payload;
    const q = frame.events[0]!.payload;
    expect(p.u8).toBeInstanceOf(Uint8Array);
    expect(p.i16).toBeInstanceOf(Int16Array);
    expect(p.u32).toBeInstanceOf(Uint32Array);
    expect(p.i32).toBeInstanceOf(Int32Array);
    expect(p.f64).toBeInstanceOf(Float64Array);
    expect([...p.u8]).toEqual([...q.u8]);
    expect([...p.i16]).toEqual([...q.i16]);
    expect([...p.u32]).toEqual([...q.u32]);
    expect([...p.i32]).toEqual([...q.i32]);
    expect(Object.is(p.f64[3], Number.NaN)).toBe(true);
    expect([...p.f64.subarray(0, 3)]).toEqual([...q.f64.subarray(0, 3)]);
    expect(p.empty.length).toBe(0);
    expect([...p.sub]).toEqual([2, 3]);
    expect(p.bytes).toEqual(q.bytes);
  });

  test('encoding is JSON.stringify with typed arrays as {$ta, b64}, nested anywhere; the frame is not changed', () => {
    const columns = { kind: new Uint8Array([1, 2]), size: new Float64Array([4096]) };
    const when = new Date(0);
    const frame = {
      t: 'res',
      ok: true,
      result: {
        series: [
          { key: -1, committedMax: [1, 2, 3] },
          { key: 0, columns },
        ],
        nested: [[new Int32Array([-7])], 'text', null, 5],
        plain: { a: 1, b: [true, false], skipped: undefined },
        when,
        raw: new Float32Array([1]),
      },
    };
    // The rule as a replacer (the codec's former form), for comparison.
    const viaReplacer = JSON.stringify(frame, (_key, value: unknown) =>
      ArrayBuffer.isView(value) &&
      ['Uint8Array', 'Int32Array', 'Float64Array'].includes(value.constructor.name)
        ? {
            $ta: value.constructor.name,
            b64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
          }
        : value,
    );
    expect(encodeFrame(frame)).toBe(viaReplacer);
    expect(frame.result.series[1]).toEqual({ key: 0, columns });
    expect(frame.result.series[1]!.columns!.kind).toBeInstanceOf(Uint8Array);
    expect(frame.result.nested[0]).toEqual([new Int32Array([-7])]);
    const plain = { a: [1, 2], b: { c: 'd' } };
    expect(encodeFrame(plain)).toBe(JSON.stringify(plain));
  });

  test('decoding restores typed arrays nested anywhere, children first; a "__proto__" key stays data', () => {
    const frame = {
      t: 'res',
      id: 3,
      ok: true,
      result: {
        firstEvent: new Float64Array([0, 64, 128]),
        committed: [new Float64Array([1, 2]), new Float64Array([3])],
        markers: Array.from({ length: 50 }, (_, i) => ({
          eventIndex: i,
          kind: 'frame',
          label: `frame ${i}`,
        })),
        nested: { deeper: [{ ids: new Int32Array([-1, 7]) }, null, 'x'] },
      },
    };
    const text = encodeFrame(frame);
    expect(decodeFrame(text)).toEqual(frame);
    // Children first, as a JSON.parse reviver: a malformed typed array inside another one is still refused.
    expect(() => decodeFrame('{"$ta":"Uint8Array","b64":"AQI=","x":{"$ta":"Function","b64":""}}')).toThrow(
      SyntaxError,
    );
    const proto = decodeFrame('{"__proto__":{"$ta":"Uint8Array","b64":"AQI="},"a":1}') as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value).toEqual(new Uint8Array([1, 2]));
  });

  test('malformed typed arrays are a SyntaxError, not a crash or a wrong value', () => {
    expect(() => decodeFrame('{"$ta":"Function","b64":""}')).toThrow(SyntaxError);
    expect(() => decodeFrame('{"$ta":"Float64Array","b64":"AAA="}')).toThrow(SyntaxError);
    expect(() => decodeFrame('{"$ta":1,"b64":""}')).toThrow(SyntaxError);
    expect(() => decodeFrame('{"$ta":"Uint8Array","b64":"!!!"}')).toThrow();
  });
  test('binary request frames: the first Uint8Array travels raw after the JSON head, the rest as usual', () => {
    const data = new Uint8Array(300_000).map((_, i) => (i * 7) % 256).subarray(5, 299_000);
    const frame = {
      t: 'req' as const,
      id: 42,
      name: 'uploadChunk',
      params: { uploadId: 'upload-abc', offset: 2 ** 40, data, other: new Float64Array([1.5, -2]) },
    };
    const message = encodeBinaryFrame(frame);
    expect(message).not.toBeNull();
    const headLength = new DataView(message!.buffer).getUint32(0, true);
    // The payload is raw: the message is the head plus exactly the bytes, no base64.
    expect(message!.byteLength).toBe(4 + headLength + data.byteLength);
    const head = new TextDecoder().decode(message!.subarray(4, 4 + headLength));
    expect(head).toContain(`{"$bin":${data.byteLength}}`);
    // Decoding from a view at an odd offset of a bigger buffer (as ws hands out pooled Buffers).
    const pooled = new Uint8Array(message!.byteLength + 3);
    pooled.set(message!, 3);
    const back = decodeBinaryFrame(pooled.subarray(3)) as typeof frame;
    expect(back.t).toBe('req');
    expect(back.id).toBe(42);
    expect(back.params.offset).toBe(2 ** 40);
    expect(back.params.data).toBeInstanceOf(Uint8Array);
    expect(back.params.data).toEqual(data);
    expect([...back.params.other]).toEqual([1.5, -2]);
    // A frame without bytes has no binary form (it goes as text).
    expect(encodeBinaryFrame({ t: 'req', id: 1, name: 'getState', params: {} })).toBeNull();
  });

  test('malformed binary frames are a SyntaxError', () => {
    function message(head: string, payload: number[]): Uint8Array {
      const h = new TextEncoder().encode(head);
      const m = new Uint8Array(4 + h.byteLength + payload.length);
      new DataView(m.buffer).setUint32(0, h.byteLength, true);
      m.set(h, 4);
      m.set(payload, 4 + h.byteLength);
      return m;
    }
    const ok = '{"t":"req","id":1,"name":"uploadChunk","params":{"data":{"$bin":2}}}';
    expect(decodeBinaryFrame(message(ok, [1, 2]))).toMatchObject({ id: 1 });
    const bad: [string, Uint8Array][] = [
      ['too short', new Uint8Array([1, 0])],
      ['head longer than the message', new Uint8Array([200, 0, 0, 0, 123])],
      ['head over the limit', message(' '.repeat(maxBinaryHeadBytes + 1), [])],
      ['payload length differs from the marker', message(ok, [1, 2, 3])],
      ['no marker', message('{"t":"req","id":1,"name":"getState","params":{}}', [])],
      ['two markers', message('{"a":{"$bin":0},"b":{"$bin":0}}', [])],
      ['marker with other keys', message('{"a":{"$bin":0,"x":1}}', [])],
      ['marker not a number', message('{"a":{"$bin":"0"}}', [])],
      ['not JSON', message('{not json', [])],
      ['not UTF-8', new Uint8Array([2, 0, 0, 0, 0xff, 0xfe])],
    ];
    for (const [what, m] of bad) expect(() => decodeBinaryFrame(m), what).toThrow(SyntaxError);
  });
});

describe('schemas', () => {
  test('every request has a params and a result schema, every event a payload schema', () => {
    expect(requestNames.length).toBeGreaterThanOrEqual(20);
    for (const name of requestNames) {
      expect(typeof requests[name].params.safeParse).toBe('function');
      expect(typeof requests[name].result.safeParse).toBe('function');
    }
    expect(eventNames).toEqual(
      expect.arrayContaining(['progress', 'sessionEvents', 'runState', 'log', 'stateChanged', 'appCommand']),
    );
    for (const name of eventNames) expect(typeof events[name].safeParse).toBe('function');
  });

  test('session config defaults: the default real device and tlsf', () => {
    expect(sessionConfigSchema.parse({})).toEqual({ device: { kind: 'vulkan' }, strategy: 'tlsf' });
  });

  test('allocation sizes must be safe non-negative integers', () => {
    for (const bad of [2 ** 53, -1, 1.5, '256']) {
      expect(sessionConfigSchema.safeParse({ allocationSizes: { deviceMemblockSize: bad } }).success).toBe(
        false,
      );
    }
    expect(sessionConfigSchema.safeParse({ allocationSizes: { deviceMemblockSize: 2 ** 52 } }).success).toBe(
      true,
    );
  });

  test('inline trace bytes are limited, paths and bytes are the only sources', () => {
    const params = requests.loadTrace.params;
    expect(
      params.safeParse({ source: { kind: 'bytes', name: 'a.trace', data: new Uint8Array(10) } }).success,
    ).toBe(true);
    expect(params.safeParse({ source: { kind: 'bytes', name: 'a.trace', data: [1, 2] } }).success).toBe(
      false,
    );
    expect(params.safeParse({ source: { kind: 'url', url: 'http://x' } }).success).toBe(false);
    expect(
      params.safeParse({ source: { kind: 'bytes', name: 'a', data: new Uint8Array(48 * 1024 * 1024 + 1) } })
        .success,
    ).toBe(false);
  });
});
