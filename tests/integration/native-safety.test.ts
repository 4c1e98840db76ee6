// Every bad input the addon can get — freed, foreign, forged and wrong-kind handles, bad type indices,
// sizes and offsets, bad resource descriptions, binds that break Vulkan's rules, calls after close, a wrong
// `this` — throws a JS error with a documented code, through the facade AND straight into the raw addon
// (the facade only types: both paths meet the same C++ check). All of it runs in this one process, which then still works.
// Child processes check that exit with open devices and garbage collection of unclosed ones are clean.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import {
  BufferUsage,
  ImageUsage,
  VulkanContext,
  defaultAddonPath,
  maxCoreFormat,
  resourceDefaults,
  type ArgumentTables,
  enumerateDevices,
  isCodedError,
  type MemoryHandle,
} from '../../native/index.ts';
import { addonBuilt, skipReason } from './native-support.ts';

type Fn = (...args: unknown[]) => unknown;
interface RawContext extends Record<string, Fn | boolean> {
  closed: boolean;
}
interface RawAddon {
  VulkanContext: new (...args: unknown[]) => RawContext;
}

/** Calls `fn` and returns the thrown error's code; fails the test when nothing is thrown. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isCodedError(error)) return error.code;
    throw new Error(`threw an error without a code: ${String(error)}`);
  }
  throw new Error('did not throw');
}

const ARG = 'ERR_VRAMSCOPE_INVALID_ARGUMENT';
const HANDLE = 'ERR_VRAMSCOPE_INVALID_HANDLE';
const STATE = 'ERR_VRAMSCOPE_INVALID_STATE';
const CLOSED = 'ERR_VRAMSCOPE_CLOSED';

const badSizes: unknown[] = [
  0,
  -1,
  1.5,
  Number.NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  2 ** 64,
  '4096',
  null,
  undefined,
  1n,
  {},
];
const badIndices: unknown[] = [-1, 1.5, Number.NaN, 2 ** 32, '0', null, 1n];

describe.skipIf(!addonBuilt)(`bad inputs never crash (${addonBuilt ? 'addon built' : skipReason})`, () => {
  test('the facade rejects every bad input with a coded error', () => {
    const ctx = VulkanContext.open();
    const types = ctx.info.types.length;
    for (const size of badSizes)
      expect(
        codeOf(() => ctx.allocateMemory(0, size as number)),
        String(size),
      ).toBe(ARG);
    for (const index of [...badIndices, types, 31]) {
      expect(
        codeOf(() => ctx.allocateMemory(index as number, 4096)),
        String(index),
      ).toBe(ARG);
    }
    const heap = ctx.info.heaps[ctx.info.types[0]!.heapIndex]!;
    expect(codeOf(() => ctx.allocateMemory(0, heap.size + 1))).toBe('VK_ERROR_OUT_OF_DEVICE_MEMORY');
    expect(codeOf(() => ctx.allocateMemory(0, 4096, { map: 'yes' } as never))).toBe(ARG);

    const mem = ctx.allocateMemory(0, 4096, { map: true });
    const buf = ctx.createBuffer(256);
    const img = ctx.createImage({ width: 8, height: 8, tiling: 'optimal' });
    // Wrong kinds, look-alikes and non-objects.
    expect(codeOf(() => ctx.freeMemory(buf.handle as never))).toBe(HANDLE);
    expect(codeOf(() => ctx.destroyBuffer(mem as never))).toBe(HANDLE);
    expect(codeOf(() => ctx.destroyImage(buf.handle as never))).toBe(HANDLE);
    expect(codeOf(() => ctx.freeMemory({ kind: 'memory', id: 1, context: 1 } as MemoryHandle))).toBe(HANDLE);
    expect(codeOf(() => ctx.freeMemory({ ...mem }))).toBe(HANDLE);
    expect(codeOf(() => ctx.freeMemory(Object.create(mem) as MemoryHandle))).toBe(HANDLE);
    expect(codeOf(() => ctx.freeMemory(new Proxy(mem, {})))).toBe(HANDLE);
    for (const junk of [null, undefined, 42, 'memory', Symbol('m'), [] as unknown]) {
      expect(
        codeOf(() => ctx.freeMemory(junk as MemoryHandle)),
        String(junk),
      ).toBe(HANDLE);
    }
    // Reads/writes/flushes outside the block or with bad numbers.
    expect(codeOf(() => ctx.readMemory(mem, 4090, 7))).toBe(ARG);
    expect(codeOf(() => ctx.readMemory(mem, -1, 1))).toBe(ARG);
    expect(codeOf(() => ctx.readMemory(mem, 0, 2 ** 53))).toBe(ARG);
    expect(codeOf(() => ctx.readMemory(mem, 4097, 0))).toBe(ARG);
    expect(codeOf(() => ctx.writeMemory(mem, 4095, new Uint8Array(2)))).toBe(ARG);
    expect(codeOf(() => ctx.writeMemory(mem, 0, [1, 2, 3] as never))).toBe(ARG);
    expect(codeOf(() => ctx.flushMemory(mem, 0, 4097))).toBe(ARG);
    expect(codeOf(() => ctx.copyMappedMemory(mem, 4000, mem, 0, 97))).toBe(ARG);
    expect(codeOf(() => ctx.copyMappedMemory(mem, 0, mem, 4000, 97))).toBe(ARG);
    expect(codeOf(() => ctx.copyMappedMemory(mem, 0, mem, -1, 1))).toBe(ARG);
    expect(codeOf(() => ctx.copyMappedMemory(mem, 0, buf.handle as never, 0, 1))).toBe(HANDLE);
    expect(codeOf(() => ctx.invalidateMemory(mem, 1.5, 1))).toBe(ARG);
    // Resource descriptions.
    for (const size of badSizes)
      expect(
        codeOf(() => ctx.createBuffer(size as number)),
        String(size),
      ).toBe(ARG);
    expect(codeOf(() => ctx.createBuffer(16, 0))).toBe(ARG);
    expect(codeOf(() => ctx.createBuffer(16, 0x40000000))).toBe(ARG);
    expect(codeOf(() => ctx.createImage({ width: 0, height: 8, tiling: 'optimal' }))).toBe(ARG);
    expect(codeOf(() => ctx.createImage({ width: 8, height: 8, tiling: 'diagonal' as never }))).toBe(ARG);
    expect(codeOf(() => ctx.createImage({ width: 8, height: 8, tiling: 'optimal', mipLevels: 5 }))).toBe(ARG);
    expect(codeOf(() => ctx.createImage({ width: 1 << 20, height: 8, tiling: 'optimal' }))).toBe(ARG);
    expect(codeOf(() => ctx.createImage({ width: 8, height: 8, tiling: 'optimal', format: 99999 }))).toBe(
      ARG,
    );
    expect(codeOf(() => ctx.createImage({ width: 8, height: 8, tiling: 'optimal', usage: 0x1000 }))).toBe(
      ARG,
    );
    expect(codeOf(() => ctx.createImage(null as never))).toBe(ARG);
    // Binds that break Vulkan's rules.
    if (buf.requirements.alignment > 1) {
      expect(codeOf(() => ctx.bindBufferMemory(buf.handle, mem, 1))).toBe(ARG);
    }
    expect(codeOf(() => ctx.bindBufferMemory(buf.handle, mem, 4096))).toBe(ARG);
    expect(codeOf(() => ctx.bindBufferMemory(buf.handle, mem, -64))).toBe(ARG);
    ctx.bindBufferMemory(buf.handle, mem, 0);
    expect(codeOf(() => ctx.bindBufferMemory(buf.handle, mem, 0))).toBe(STATE);
    const dedicatedBuf = ctx.createBuffer(512);
    expect(
      codeOf(() =>
        ctx.allocateMemory(0, dedicatedBuf.requirements.size + 64, { dedicatedBuffer: dedicatedBuf.handle }),
      ),
    ).toBe(ARG);
    const dedicated = ctx.allocateMemory(0, dedicatedBuf.requirements.size, {
      dedicatedBuffer: dedicatedBuf.handle,
    });
    const otherBuf = ctx.createBuffer(64);
    expect(codeOf(() => ctx.bindBufferMemory(otherBuf.handle, dedicated, 0))).toBe(STATE);
    expect(codeOf(() => ctx.bindImageMemory(img.handle, dedicated, 0))).toBe(STATE);
    // A dedicated block for a buffer that is already bound.
    expect(codeOf(() => ctx.allocateMemory(0, buf.requirements.size, { dedicatedBuffer: buf.handle }))).toBe(
      STATE,
    );
    // Handles of another device.
    const other = VulkanContext.open();
    const foreign = other.allocateMemory(0, 4096);
    expect(codeOf(() => ctx.freeMemory(foreign))).toBe(HANDLE);
    expect(codeOf(() => ctx.bindImageMemory(img.handle, foreign, 0))).toBe(HANDLE);
    other.close();
    // Freed and destroyed handles.
    ctx.freeMemory(mem);
    expect(codeOf(() => ctx.freeMemory(mem))).toBe(HANDLE);
    expect(codeOf(() => ctx.readMemory(mem, 0, 1))).toBe(HANDLE);
    expect(codeOf(() => ctx.writeMemory(mem, 0, new Uint8Array(1)))).toBe(HANDLE);
    ctx.destroyBuffer(buf.handle);
    expect(codeOf(() => ctx.destroyBuffer(buf.handle))).toBe(HANDLE);
    expect(codeOf(() => ctx.bindBufferMemory(buf.handle, dedicated, 0))).toBe(HANDLE);
    // Not mapped.
    const unmapped = ctx.allocateMemory(0, 128);
    expect(codeOf(() => ctx.readMemory(unmapped, 0, 1))).toBe(STATE);
    expect(codeOf(() => ctx.copyMappedMemory(unmapped, 0, unmapped, 64, 1))).toBe(STATE);
    // Everything after close.
    ctx.close();
    ctx.close(); // idempotent
    expect(codeOf(() => ctx.allocateMemory(0, 4096))).toBe(CLOSED);
    expect(codeOf(() => ctx.freeMemory(unmapped))).toBe(CLOSED);
    expect(codeOf(() => ctx.createBuffer(64))).toBe(CLOSED);
    expect(codeOf(() => ctx.createImage({ width: 8, height: 8, tiling: 'optimal' }))).toBe(CLOSED);
    expect(codeOf(() => ctx.budgets())).toBe(CLOSED);
    expect(codeOf(() => ctx.destroyImage(img.handle))).toBe(CLOSED);
    expect(codeOf(() => ctx.bindBufferMemory(otherBuf.handle, dedicated, 0))).toBe(CLOSED);
    expect(ctx.liveCounts()).toEqual({ memory: 0, mapped: 0, buffers: 0, images: 0 });
  });

  test('the raw addon (no facade checks) rejects the same inputs itself', () => {
    const raw = createRequire(import.meta.url)(defaultAddonPath) as RawAddon;
    expect(codeOf(() => new raw.VulkanContext(99))).toBe(ARG);
    expect(codeOf(() => new raw.VulkanContext(-1))).toBe(ARG);
    expect(codeOf(() => new raw.VulkanContext(undefined, 'yes'))).toBe(ARG);
    const c = new raw.VulkanContext();
    const call = (name: string, ...args: unknown[]): unknown => (c[name] as Fn).call(c, ...args);
    for (const size of badSizes)
      expect(
        codeOf(() => call('allocateMemory', 0, size)),
        String(size),
      ).toBe(ARG);
    for (const index of [...badIndices, 31, 2 ** 31]) {
      expect(
        codeOf(() => call('allocateMemory', index, 4096)),
        String(index),
      ).toBe(ARG);
    }
    expect(codeOf(() => call('allocateMemory', 0, 64, 'options'))).toBe(ARG);
    const mem = call('allocateMemory', 0, 4096, { map: true });
    const buf = (call('createBuffer', 256, 0x20) as { handle: unknown }).handle;
    expect(codeOf(() => call('freeMemory', buf))).toBe(HANDLE);
    expect(codeOf(() => call('freeMemory', { kind: 'memory', id: 1, context: 1 }))).toBe(HANDLE);
    expect(codeOf(() => call('freeMemory'))).toBe(HANDLE);
    expect(codeOf(() => call('readMemory', mem, 0, 4097))).toBe(ARG);
    expect(codeOf(() => call('readMemory', mem, 4096, 1))).toBe(ARG);
    expect(codeOf(() => call('readMemory', mem, '0', 1))).toBe(ARG);
    expect(codeOf(() => call('writeMemory', mem, 4093, new Uint32Array(1)))).toBe(ARG);
    expect(codeOf(() => call('writeMemory', mem, 0, 'bytes'))).toBe(ARG);
    call('writeMemory', mem, 0, new DataView(new ArrayBuffer(8)));
    expect(codeOf(() => call('copyMappedMemory', mem, 0, mem, 0, 2 ** 60))).toBe(ARG);
    expect(codeOf(() => call('copyMappedMemory', mem, '0', mem, 8, 8))).toBe(ARG);
    expect(codeOf(() => call('copyMappedMemory', mem, 0, buf, 8, 8))).toBe(HANDLE);
    expect(codeOf(() => call('copyMappedMemory', mem, 0))).toBe(HANDLE);
    expect(codeOf(() => call('bindBufferMemory', buf, mem, 1))).toBe(ARG);
    expect(codeOf(() => call('bindBufferMemory', buf, mem, 2 ** 60))).toBe(ARG);
    expect(codeOf(() => call('bindBufferMemory', mem, buf, 0))).toBe(HANDLE);
    expect(codeOf(() => call('createBuffer', 0, 0x20))).toBe(ARG);
    expect(codeOf(() => call('createBuffer', 64, 0x40000000))).toBe(ARG);
    // Omitted fields take the addon's defaults (the facade adds none of its own).
    const defaulted = call('createImage', { width: 8, height: 8, tiling: 'optimal' }) as {
      handle: unknown;
      requirements: { size: number };
    };
    expect(defaulted.requirements.size).toBeGreaterThan(0);
    call('destroyImage', defaulted.handle);
    expect(codeOf(() => call('createImage', { width: 8, height: 8, tiling: 'optimal', format: 185 }))).toBe(
      ARG,
    );
    expect(codeOf(() => call('createImage', { width: 8, height: 8, tiling: 'optimal', usage: 0x100 }))).toBe(
      ARG,
    );
    expect(codeOf(() => call('createBuffer', 64, 0x200))).toBe(ARG);
    expect(
      codeOf(() =>
        call('createImage', {
          width: 8,
          height: 8,
          tiling: 'optimal',
          format: 37,
          usage: 4,
          mipLevels: 1,
          arrayLayers: 0,
        }),
      ),
    ).toBe(ARG);
    expect(codeOf(() => call('submitDebugMessage', 'error', 'x', 'y'))).toBe(STATE);
    // A method called with a `this` the addon did not construct (a handle, a plain object).
    const allocate = c.allocateMemory as Fn;
    expect(() => allocate.call(mem, 0, 64)).toThrow();
    expect(() => allocate.call({}, 0, 64)).toThrow();
    call('close');
    expect(codeOf(() => call('allocateMemory', 0, 64))).toBe(CLOSED);
    expect(codeOf(() => call('readMemory', mem, 0, 1))).toBe(CLOSED);
    expect(c.closed).toBe(true);
  });

  test("one check per call: the facade passes arguments through and the addon's error reaches the caller", () => {
    const raw = createRequire(import.meta.url)(defaultAddonPath) as RawAddon;
    const rawContext = new raw.VulkanContext();
    const ctx = VulkanContext.open();
    const messageOf = (fn: () => unknown): string => {
      try {
        fn();
      } catch (error) {
        return `${(error as Error).name} ${(error as { code?: string }).code}: ${(error as Error).message}`;
      }
      return 'did not throw';
    };
    const viaRaw = (name: string, ...args: unknown[]): string =>
      messageOf(() => (rawContext[name] as Fn).call(rawContext, ...args));
    const viaFacade = (name: string, ...args: unknown[]): string =>
      messageOf(() => (ctx[name as keyof VulkanContext] as Fn).call(ctx, ...args));
    const cases: [string, ...unknown[]][] = [
      ['allocateMemory', '0', 4096],
      ['allocateMemory', 0, 1.5],
      ['allocateMemory', 99, 4096],
      ['allocateMemory', 0, 64, { map: 'yes' }],
      ['allocateMemory', 0, 64, 'options'],
      ['freeMemory', { kind: 'memory', id: 1, context: 1 }],
      ['createBuffer', 64, 0],
      ['createBuffer', 64, 0x200],
      ['createBuffer', 64, 0x40000000],
      ['createImage', null],
      ['createImage', { width: 8, height: 8, tiling: 'optimal', format: 185 }],
      ['createImage', { width: 8, height: 8, tiling: 'optimal', format: 0 }],
      ['createImage', { width: 8, height: 8, tiling: 'optimal', usage: 0x100 }],
      ['createImage', { width: 8, height: 8, tiling: 'optimal', mipLevels: 0 }],
      ['createImage', { width: 8, height: 8, tiling: 'diagonal' }],
      ['submitDebugMessage', 'fatal', 'x', 'y'],
    ];
    for (const [name, ...args] of cases) {
      const expected = viaRaw(name, ...args);
      expect(expected, `${name}(${JSON.stringify(args)})`).toMatch(/^\w*Error ERR_VRAMSCOPE_\w+: /);
      expect(viaFacade(name, ...args), `${name}(${JSON.stringify(args)})`).toBe(expected);
    }
    // Messages name what was wrong: the type, or the unknown bits and the known ones.
    expect(viaFacade('allocateMemory', 0, '4096')).toContain('size must be a number, got string');
    expect(viaFacade('createBuffer', 64, 0x201)).toContain('has bits VRAMscope does not know: 0x200');
    expect(viaFacade('createImage', { width: 8, height: 8, tiling: 'optimal', usage: 0x104 })).toContain(
      'known: TRANSFER_SRC|TRANSFER_DST|SAMPLED|STORAGE|COLOR_ATTACHMENT|DEPTH_STENCIL_ATTACHMENT|TRANSIENT_ATTACHMENT|INPUT_ATTACHMENT',
    );
    // Bits and formats the TypeScript tables name are accepted (they drifted once: TRANSIENT_ATTACHMENT and
    // INPUT_ATTACHMENT were accepted by C++ but unnamed in the facade).
    const transient = ctx.createImage({
      width: 8,
      height: 8,
      tiling: 'optimal',
      usage: ImageUsage.TRANSIENT_ATTACHMENT | ImageUsage.COLOR_ATTACHMENT,
    });
    ctx.destroyImage(transient.handle);
    const everyCoreBit = Object.values(BufferUsage)
      .filter((bit) => bit !== BufferUsage.SHADER_DEVICE_ADDRESS)
      .reduce((a, b) => a | b, 0);
    ctx.destroyBuffer(ctx.createBuffer(64, everyCoreBit).handle);
    ctx.close();
    (rawContext.close as Fn).call(rawContext);
  });

  test("the addon's usage/format tables and defaults are the TypeScript ones (vulkan-names.ts)", () => {
    const raw = createRequire(import.meta.url)(defaultAddonPath) as { argumentTables: ArgumentTables };
    expect(raw.argumentTables).toEqual({
      bufferUsage: BufferUsage,
      imageUsage: ImageUsage,
      maxCoreFormat,
      defaultBufferUsage: resourceDefaults.bufferUsage,
      defaultImageUsage: resourceDefaults.imageUsage,
      defaultImageFormat: resourceDefaults.imageFormat,
    });
  });

  test('after all of that, this process still enumerates, allocates and round-trips', () => {
    expect(enumerateDevices().length).toBeGreaterThan(0);
    const ctx = VulkanContext.open({ validation: true });
    const mem = ctx.allocateMemory(0, 65536, { map: true });
    // New device memory holds whatever it holds (Vulkan does not zero it; lavapipe's comes from the heap):
    // a known fill first, so the bytes either side show that the write stayed within its range.
    ctx.writeMemory(mem, 996, new Uint8Array(12).fill(0xa5));
    ctx.writeMemory(mem, 1000, new Uint8Array([7, 7, 7]));
    expect(Array.from(ctx.readMemory(mem, 999, 5))).toEqual([0xa5, 7, 7, 7, 0xa5]);
    ctx.freeMemory(mem);
    ctx.close();
    expect(ctx.takeMessages().filter((m) => m.severity === 'error')).toEqual([]);
  });

  test('exiting with open devices and live memory is clean (env cleanup hook), and so is GC of unclosed ones', () => {
    const script = `
      const addon = require(${JSON.stringify(defaultAddonPath)});
      // Dropped without close(): the finalizer releases it when collected.
      (() => { const c = new addon.VulkanContext(undefined, false); c.allocateMemory(0, 1 << 20, { map: true }); })();
      globalThis.gc(); globalThis.gc();
      // Left open at exit, with validation and live memory/buffers: the cleanup hook closes it.
      const kept = new addon.VulkanContext(undefined, true);
      const mem = kept.allocateMemory(0, 1 << 16, { map: true });
      const b = kept.createBuffer(1024, 0x20);
      kept.bindBufferMemory(b.handle, mem, 0);
      process.stdout.write('ok ' + JSON.stringify(kept.liveCounts()));
    `;
    const run = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('ok {"memory":1,"mapped":1,"buffers":1,"images":0}');
  });
});
