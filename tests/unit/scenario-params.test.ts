// Scenario metadata and parameter checks, origins from stacks, and the seeded random generator.
import { describe, expect, test } from 'vitest';
import {
  checkMeta,
  parseParamAssignments,
  resolveParams,
  ScenarioParamError,
} from '../../src-main/session/scenario-params.ts';
import { formatOrigin, scriptLine } from '../../src-main/session/origin.ts';
import { createRandom, normalizeSeed } from '../../src-main/session/rng.ts';
import { builtinScenarioCatalog, builtinScenarioNames } from '../../src-main/session/scenario-loader.ts';
import type { ScenarioMeta } from '../../src-main/session/scenario-types.ts';

const meta: ScenarioMeta = checkMeta(
  {
    name: 'demo',
    description: 'd',
    parameters: {
      frames: { type: 'integer', default: 10, min: 1, max: 100, description: 'f' },
      share: { type: 'number', default: 0.5, min: 0, max: 1, description: 's' },
      verbose: { type: 'boolean', default: false, description: 'v' },
      file: { type: 'string', default: '', description: 'p' },
    },
  },
  'demo.mjs',
);

describe('scenario parameters', () => {
  test('defaults fill what is not given; CLI strings convert by declared type', () => {
    expect(resolveParams(meta, {})).toEqual({ frames: 10, share: 0.5, verbose: false, file: '' });
    expect(resolveParams(meta, { frames: '42', share: '0.25', verbose: 'true', file: '7' })).toEqual({
      frames: 42,
      share: 0.25,
      verbose: true,
      file: '7',
    });
  });

  test('wrong types, ranges and unknown names are one clear sentence each', () => {
    expect(() => resolveParams(meta, { frames: '1.5' })).toThrow(
      /parameter "frames" must be an integer, got 1.5/,
    );
    expect(() => resolveParams(meta, { frames: '0' })).toThrow(/"frames" must be at least 1, got 0/);
    expect(() => resolveParams(meta, { frames: 101 })).toThrow(/at most 100/);
    expect(() => resolveParams(meta, { share: 'lots' })).toThrow(/"share" must be a number, got "lots"/);
    expect(() => resolveParams(meta, { verbose: 'yes' })).toThrow(/true or false/);
    expect(() => resolveParams(meta, { nope: '1' })).toThrow(
      /no parameter "nope" \(it has: frames, share, verbose, file\)/,
    );
    expect(() => resolveParams(meta, { file: 3 })).toThrow(ScenarioParamError);
  });

  test('meta is checked: types, defaults within ranges', () => {
    expect(() =>
      checkMeta({ name: 'x', description: '', parameters: { a: { type: 'float', default: 1 } } }, 'x.mjs'),
    ).toThrow(/x.mjs: parameter "a" needs a type/);
    expect(() =>
      checkMeta(
        { name: 'x', description: '', parameters: { a: { type: 'integer', default: 5, max: 3 } } },
        'x.mjs',
      ),
    ).toThrow(/default of parameter "a" must be at most 3/);
    expect(() => checkMeta(undefined, 'x.mjs')).toThrow(/does not export a `meta` object/);
  });

  test('k=v assignments', () => {
    expect(parseParamAssignments(['a=1', 'b=x=y'])).toEqual({ a: '1', b: 'x=y' });
    expect(() => parseParamAssignments(['a'])).toThrow(/key=value/);
    expect(() => parseParamAssignments(['a=1', 'a=2'])).toThrow(/given twice/);
  });
});

describe('origins', () => {
  test('the first frame in the script file gives the line', () => {
    const url = 'file:///x/scenarios/my%20scene.mjs';
    const stack = [
      'Error',
      '    at captureScriptLine (file:///repo/src-main/session/origin.ts:30:17)',
      `    at helper (${url}:12:9)`,
      `    at run (${url}:40:3)`,
    ].join('\n');
    expect(scriptLine(stack, url)).toBe(12);
    expect(scriptLine(stack, 'file:///x/other.mjs')).toBeNull();
    expect(formatOrigin('my scene.mjs', 12, ['texture', ' level load '])).toBe(
      'my scene.mjs:12 [texture level-load]',
    );
    expect(formatOrigin('a.mjs', null)).toBe('a.mjs');
  });
});

describe('seeded random', () => {
  test('same seed, same sequence; different seeds differ; ints stay in range', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const sa = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(sa);
    expect(sa.every((x) => x >= 0 && x < 1)).toBe(true);
    const r = createRandom(7);
    const ints = Array.from({ length: 1000 }, () => r.int(3, 5));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]));
    expect(normalizeSeed(-1)).toBe(0xffffffff);
  });
});

describe('built-in catalog', () => {
  test('every built-in has a valid meta named like its file, with defaults that pass its own checks', async () => {
    const catalog = await builtinScenarioCatalog();
    expect(catalog.map((c) => c.name)).toEqual(builtinScenarioNames());
    expect(catalog).toHaveLength(7);
    for (const entry of catalog) {
      expect(entry.meta.name).toBe(entry.name);
      expect(entry.meta.description.length).toBeGreaterThan(10);
      const defaults = resolveParams(entry.meta, {});
      expect(Object.keys(defaults).sort()).toEqual(Object.keys(entry.meta.parameters).sort());
      for (const spec of Object.values(entry.meta.parameters)) expect(spec.description).not.toBe('');
    }
  });
});
