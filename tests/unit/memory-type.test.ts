// Memory-type choice against gpu-allocator 0.28's rules (gpu-allocator-spec.md), on the real H100 and
// lavapipe profiles and the built-in D3D12/Metal models. Expected tables are written from the rules.
import { describe, expect, test } from 'vitest';
import {
  MemoryPropertyFlags,
  MemoryTypeDecisionCache,
  builtinD3D12Description,
  builtinMetalDescription,
  chooseMemoryType,
  describeFlags,
  memoryLocations,
  memoryTypeKeyCode,
  parseVulkaninfo,
} from '../../allocator/index.ts';
import type {
  AllocationSchemeKind,
  DeviceDescription,
  MemoryLocation,
  MemoryTypeDecision,
  ResourceCategory,
} from '../../allocator/index.ts';
import { profileText } from '../support/profiles.ts';

const h100Text = profileText('h100');
const h100 = parseVulkaninfo(h100Text, 'h100');
const lavapipe = parseVulkaninfo(profileText('lavapipe'), 'lavapipe');
/**
 * The H100 profile with type 3 made HOST_VISIBLE|HOST_CACHED without HOST_COHERENT (what Adreno/Mali
 * expose): edited in the vulkaninfo text, then parsed.
 */
const h100NonCoherent = parseVulkaninfo(
  h100Text.replace('propertyFlags = 0x000e: count = 3', 'propertyFlags = 0x000a: count = 2'),
  'h100-noncoherent',
);

const { DEVICE_LOCAL, HOST_VISIBLE, HOST_COHERENT, HOST_CACHED } = MemoryPropertyFlags;
const schemes: AllocationSchemeKind[] = ['managed', 'dedicatedBuffer', 'dedicatedImage'];
const linears = [true, false];

function choose(
  d: DeviceDescription,
  memoryTypeBits: number,
  location: MemoryLocation,
  extra: { linear?: boolean; scheme?: AllocationSchemeKind; resourceCategory?: ResourceCategory } = {},
): MemoryTypeDecision {
  return chooseMemoryType(
    d,
    { memoryTypeBits, location, linear: extra.linear ?? true, scheme: extra.scheme ?? 'managed', ...extra },
    7,
  );
}

/** Runs `check` for every location × linear × scheme. */
function everyKey(
  check: (location: MemoryLocation, linear: boolean, scheme: AllocationSchemeKind) => void,
): void {
  for (const location of memoryLocations)
    for (const linear of linears) for (const scheme of schemes) check(location, linear, scheme);
}

describe('Vulkan: H100 profile (types 0 none/heap1, 1 DL, 2 HV|HC, 3 HV|HC|HC, 4 DL|HV|HC ReBAR)', () => {
  // From the rules: GpuOnly → lowest DEVICE_LOCAL = 1; CpuToGpu → lowest HV|HC|DL = 4 (retry: lowest
  // HV|HC = 2); GpuToCpu → lowest HV|HC|HOST_CACHED = 3; Unknown → lowest allowed = 0.
  const table: Record<MemoryLocation, { winner: number; retry: number | null }> = {
    Unknown: { winner: 0, retry: null },
    GpuOnly: { winner: 1, retry: null },
    CpuToGpu: { winner: 4, retry: 2 },
    GpuToCpu: { winner: 3, retry: null },
  };

  test('all types allowed: every location × linear × scheme', () => {
    everyKey((location, linear, scheme) => {
      const d = choose(h100, 0x1f, location, { linear, scheme });
      expect(d.winner, `${location} ${linear} ${scheme}`).toBe(table[location].winner);
      expect(d.retryTypeIndex).toBe(table[location].retry);
      expect(d.fallbacks).toEqual([]);
      expect(d.location).toBe(location);
      expect(d.linear).toBe(linear);
      expect(d.scheme).toBe(scheme);
      expect(d.api).toBe('vulkan');
      expect(d.id).toBe(7);
    });
  });

  test('bits beyond the type count are ignored (0xffffffff behaves like 0x1f)', () => {
    everyKey((location, linear, scheme) => {
      expect(choose(h100, 0xffffffff, location, { linear, scheme }).winner).toBe(table[location].winner);
    });
  });

  test('memoryTypeBits without the ReBAR type: CpuToGpu falls back to HV|HC type 2', () => {
    // 0xf = types 0..3.
    const expected: Record<MemoryLocation, number> = { Unknown: 0, GpuOnly: 1, CpuToGpu: 2, GpuToCpu: 3 };
    everyKey((location, linear, scheme) => {
      const d = choose(h100, 0xf, location, { linear, scheme });
      expect(d.winner).toBe(expected[location]);
      expect(d.retryTypeIndex).toBeNull();
      expect(d.fallbacks).toHaveLength(location === 'CpuToGpu' ? 1 : 0);
    });
    const d = choose(h100, 0xf, 'CpuToGpu');
    expect(d.attempts.map((a) => a.typeIndex)).toEqual([null, 2]);
    expect(d.fallbacks[0]).toContain('DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT');
    expect(d.fallbacks[0]).toContain('0xf');
    expect(d.reason).toMatch(/^type 2 \(HOST_VISIBLE\|HOST_COHERENT, heap 1: 94\.40 GiB host\)/);
  });

  test('memoryTypeBits without the cached type: GpuToCpu falls back to uncached HV|HC type 2', () => {
    // 0x17 = types 0, 1, 2, 4.
    const d = choose(h100, 0x17, 'GpuToCpu');
    expect(d.attempts.map((a) => a.requiredFlags)).toEqual([
      HOST_VISIBLE | HOST_COHERENT | HOST_CACHED,
      HOST_VISIBLE | HOST_COHERENT,
    ]);
    expect(d.attempts.map((a) => a.typeIndex)).toEqual([null, 2]);
    expect(d.winner).toBe(2);
    expect(d.fallbacks).toHaveLength(1);
    expect(d.fallbacks[0]).toContain('HOST_CACHED');
  });

  test('only the ReBAR type allowed: every location lands on type 4', () => {
    // GpuOnly: 4 is DL. CpuToGpu: preferred matches 4; the HV|HC retry is also 4, so no retry.
    // GpuToCpu: 4 lacks HOST_CACHED → fallback HV|HC → 4. Unknown: lowest allowed → 4.
    for (const location of memoryLocations) {
      const d = choose(h100, 0x10, location);
      expect(d.winner).toBe(4);
      expect(d.retryTypeIndex).toBeNull();
      expect(d.fallbacks).toHaveLength(location === 'GpuToCpu' ? 1 : 0);
    }
  });

  test('only type 0 (no flags) allowed: only Unknown finds a type', () => {
    const expected: Record<MemoryLocation, number | null> = {
      Unknown: 0,
      GpuOnly: null,
      CpuToGpu: null,
      GpuToCpu: null,
    };
    for (const location of memoryLocations)
      expect(choose(h100, 0x1, location).winner).toBe(expected[location]);
    expect(choose(h100, 0x1, 'GpuOnly').reason).toContain('no compatible memory type');
  });

  test('memoryTypeBits 0: NoCompatibleMemoryTypeFound everywhere', () => {
    everyKey((location, linear, scheme) => {
      const d = choose(h100, 0, location, { linear, scheme });
      expect(d.winner).toBeNull();
      expect(d.retryTypeIndex).toBeNull();
      expect(d.attempts.every((a) => a.typeIndex === null)).toBe(true);
      expect(d.reason).toContain('memoryTypeBits 0x0 allows none');
    });
  });

  test('every memoryTypeBits mask agrees with the rules, written independently', () => {
    // The rule, spelled out: lowest allowed type containing the flags of attempt 1, else attempt 2.
    const lowest = (bits: number, flags: number): number | null => {
      const t = h100.types.find((t) => (bits & (1 << t.index)) !== 0 && (t.propertyFlags & flags) === flags);
      return t === undefined ? null : t.index;
    };
    const rules: Record<MemoryLocation, number[]> = {
      Unknown: [0],
      GpuOnly: [DEVICE_LOCAL],
      CpuToGpu: [HOST_VISIBLE | HOST_COHERENT | DEVICE_LOCAL, HOST_VISIBLE | HOST_COHERENT],
      GpuToCpu: [HOST_VISIBLE | HOST_COHERENT | HOST_CACHED, HOST_VISIBLE | HOST_COHERENT],
    };
    for (let bits = 0; bits < 32; bits++) {
      for (const location of memoryLocations) {
        let want: number | null = null;
        for (const flags of rules[location]) {
          want = lowest(bits, flags);
          if (want !== null) break;
        }
        expect(choose(h100, bits, location).winner, `bits ${bits} ${location}`).toBe(want);
      }
    }
  });

  test('the decision record of a ReBAR upload', () => {
    const d = choose(h100, 0x1f, 'CpuToGpu');
    expect(d.memoryTypeBits).toBe(0x1f);
    expect(d.resourceCategory).toBeNull();
    expect(d.attempts).toHaveLength(2);
    expect(d.attempts[0]).toMatchObject({
      requiredFlags: HOST_VISIBLE | HOST_COHERENT | DEVICE_LOCAL,
      typeIndex: 4,
    });
    expect(d.attempts[1]).toMatchObject({ requiredFlags: HOST_VISIBLE | HOST_COHERENT, typeIndex: 2 });
    expect(d.attempts[0].label).toContain('ReBAR');
    expect(d.attempts[1].label).toContain('fallback');
    expect(d.candidates.map((c) => [c.typeIndex, c.propertyFlags, c.heapIndex, c.allowedByBits])).toEqual([
      [0, 0, 1, true],
      [1, DEVICE_LOCAL, 0, true],
      [2, HOST_VISIBLE | HOST_COHERENT, 1, true],
      [3, HOST_VISIBLE | HOST_COHERENT | HOST_CACHED, 1, true],
      [4, DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT, 0, true],
    ]);
    expect(d.candidates.map((c) => c.matchesAttempt)).toEqual([
      [false, false],
      [false, false],
      [false, true],
      [false, true],
      [true, true],
    ]);
    expect(d.reason).toBe(
      'type 4 (DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT, heap 0: 79.65 GiB device-local): lowest type allowed by ' +
        'memoryTypeBits 0x1f with DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT (ReBAR upload memory)',
    );
    expect(d.fallbacks).toEqual([]);
    expect(d.retryTypeIndex).toBe(2);
  });

  test('candidates record which bits allowed each type', () => {
    const d = choose(h100, 0b10110, 'GpuOnly');
    expect(d.candidates.map((c) => c.allowedByBits)).toEqual([false, true, true, false, true]);
    expect(d.candidates.map((c) => c.matchesAttempt)).toEqual([[false], [true], [false], [false], [true]]);
    expect(d.attempts).toEqual([{ requiredFlags: DEVICE_LOCAL, typeIndex: 1, label: expect.any(String) }]);
  });
});

describe('Vulkan: lavapipe profile (one DL|HV|HC|HOST_CACHED type)', () => {
  test('every location × linear × scheme picks type 0, without fallbacks', () => {
    everyKey((location, linear, scheme) => {
      const d = choose(lavapipe, 0x1, location, { linear, scheme });
      expect(d.winner).toBe(0);
      expect(d.fallbacks).toEqual([]);
      // CpuToGpu's retry type would be type 0 again: no retry.
      expect(d.retryTypeIndex).toBeNull();
      expect(d.attempts[0].typeIndex).toBe(0);
    });
  });

  test('memoryTypeBits 0 finds nothing', () => {
    for (const location of memoryLocations) expect(choose(lavapipe, 0, location).winner).toBeNull();
  });
});

describe('Vulkan: non-coherent host memory is never chosen', () => {
  // h100NonCoherent: type 3 = HOST_VISIBLE|HOST_CACHED (no HOST_COHERENT).
  test('GpuToCpu skips the non-coherent cached type and takes uncached coherent type 2', () => {
    const d = choose(h100NonCoherent, 0x1f, 'GpuToCpu');
    expect(d.winner).toBe(2);
    expect(d.candidates[3].matchesAttempt).toEqual([false, false]);
    expect(d.fallbacks).toHaveLength(1);
  });

  test('a mask allowing only the non-coherent type: no location finds a type', () => {
    for (const location of memoryLocations) {
      const d = choose(h100NonCoherent, 0x8, location);
      expect(d.winner, location).toBeNull();
      expect(d.reason).toContain('not HOST_COHERENT');
    }
  });

  test('Unknown skips a lower non-coherent type for the next allowed one', () => {
    // 0x18 = types 3 (HV|HOST_CACHED, non-coherent) and 4 (DL|HV|HC): the crate would take 3.
    const d = choose(h100NonCoherent, 0x18, 'Unknown');
    expect(d.winner).toBe(4);
    expect(d.candidates[3].matchesAttempt).toEqual([false]);
    // On the unmodified profile type 3 is coherent and wins.
    expect(choose(h100, 0x18, 'Unknown').winner).toBe(3);
  });
});

describe('D3D12 and Metal heap models', () => {
  const locIndex: Record<Exclude<MemoryLocation, 'Unknown'>, number> = {
    GpuOnly: 0,
    CpuToGpu: 1,
    GpuToCpu: 2,
  };
  const catIndex: Record<ResourceCategory, number> = { buffer: 0, rtvDsvTexture: 1, otherTexture: 2 };
  const effective = (l: MemoryLocation): Exclude<MemoryLocation, 'Unknown'> =>
    l === 'Unknown' ? 'GpuOnly' : l;

  test('tier 1: type = 3 × location + category; default category buffer (linear) / otherTexture', () => {
    const d3d = builtinD3D12Description(1);
    everyKey((location, linear, scheme) => {
      const d = choose(d3d, 0xffffffff, location, { linear, scheme });
      const category: ResourceCategory = linear ? 'buffer' : 'otherTexture';
      expect(d.winner, `${location} ${linear}`).toBe(3 * locIndex[effective(location)] + catIndex[category]);
      expect(d.resourceCategory).toBe(category);
      expect(d.api).toBe('d3d12');
      expect(d.retryTypeIndex).toBeNull();
      for (const resourceCategory of ['buffer', 'rtvDsvTexture', 'otherTexture'] as const) {
        const e = choose(d3d, 0xffffffff, location, { linear, scheme, resourceCategory });
        expect(e.winner).toBe(3 * locIndex[effective(location)] + catIndex[resourceCategory]);
        expect(e.resourceCategory).toBe(resourceCategory);
      }
    });
  });

  test('tier 2: GpuOnly 0, CpuToGpu 1, GpuToCpu 2, Unknown 0; category ignored', () => {
    const d3d = builtinD3D12Description(2);
    everyKey((location, linear, scheme) => {
      for (const resourceCategory of [undefined, 'rtvDsvTexture'] as const) {
        const d = choose(d3d, 0xffffffff, location, {
          linear,
          scheme,
          ...(resourceCategory ? { resourceCategory } : {}),
        });
        expect(d.winner).toBe(locIndex[effective(location)]);
      }
    });
  });

  test('Metal: GpuOnly → Private, CpuToGpu → Shared WC, GpuToCpu → Shared cached, Unknown → Private', () => {
    const metal = builtinMetalDescription();
    everyKey((location, linear, scheme) => {
      const d = choose(metal, 0xffffffff, location, { linear, scheme });
      expect(d.winner).toBe(locIndex[effective(location)]);
      expect(d.api).toBe('metal');
    });
    expect(choose(metal, 1, 'Unknown').reason).toContain('latent bug');
    expect(choose(metal, 1, 'CpuToGpu').reason).toContain('Shared write-combined');
  });

  test('the heap models ignore memoryTypeBits, as the crate does', () => {
    for (const d of [builtinD3D12Description(1), builtinD3D12Description(2), builtinMetalDescription()]) {
      for (const location of memoryLocations) {
        const r = choose(d, 0, location);
        expect(r.winner).toBe(choose(d, 0xffffffff, location).winner);
        expect(r.candidates.every((c) => c.allowedByBits)).toBe(true);
      }
    }
  });

  test('tier-1 decision record: one attempt, matches only the location × category type', () => {
    const d = choose(builtinD3D12Description(1), 0, 'CpuToGpu', { resourceCategory: 'rtvDsvTexture' });
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0].requiredFlags).toBe(HOST_VISIBLE | HOST_COHERENT);
    expect(d.attempts[0].typeIndex).toBe(4);
    expect(d.candidates.map((c) => c.matchesAttempt[0])).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(d.reason).toContain('CUSTOM write-combine L0');
    expect(d.reason).toContain('type 4');
  });
});

describe('describeFlags', () => {
  test('names in bit order, none for 0, unknown bits in hex', () => {
    expect(describeFlags(DEVICE_LOCAL | HOST_VISIBLE)).toBe('DEVICE_LOCAL|HOST_VISIBLE');
    expect(describeFlags(0xf)).toBe('DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT|HOST_CACHED');
    expect(describeFlags(0)).toBe('none');
    expect(describeFlags(0x1 | 0x1000)).toBe('DEVICE_LOCAL|0x1000');
  });
});

describe('MemoryTypeDecisionCache', () => {
  test('the same key returns the same object; new keys get sequential ids', () => {
    const cache = new MemoryTypeDecisionCache(h100);
    const key = { memoryTypeBits: 0x1f, location: 'CpuToGpu', linear: true, scheme: 'managed' } as const;
    const a = cache.get(key);
    expect(a.id).toBe(0);
    expect(cache.get({ ...key })).toBe(a);
    expect(cache.lookup(0x1f, 'CpuToGpu', true, 'managed')).toBe(a);
    const b = cache.get({ ...key, linear: false });
    const c = cache.get({ ...key, scheme: 'dedicatedBuffer' });
    const d = cache.get({ ...key, memoryTypeBits: 0xf });
    const e = cache.get({ ...key, location: 'GpuOnly' });
    const f = cache.get({ ...key, resourceCategory: 'rtvDsvTexture' });
    expect([a, b, c, d, e, f].map((x) => x.id)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(cache.size).toBe(6);
    expect(cache.get(3)).toBe(d);
    expect(cache.get(6)).toBeUndefined();
    expect(cache.all()).toEqual([a, b, c, d, e, f]);
    expect(d.winner).toBe(2);
    expect(e.winner).toBe(1);
  });

  test('the cached record equals a fresh computation', () => {
    const cache = new MemoryTypeDecisionCache(builtinD3D12Description(1));
    const got = cache.lookup(0xffffffff, 'GpuToCpu', false, 'dedicatedImage', 'rtvDsvTexture');
    const fresh = chooseMemoryType(
      builtinD3D12Description(1),
      {
        memoryTypeBits: 0xffffffff,
        location: 'GpuToCpu',
        linear: false,
        scheme: 'dedicatedImage',
        resourceCategory: 'rtvDsvTexture',
      },
      0,
    );
    expect(got).toEqual(fresh);
    expect(got.winner).toBe(7);
  });

  test('numeric keys are distinct for every field combination and stay safe integers', () => {
    const seen = new Set<number>();
    const cats = [null, 'buffer', 'rtvDsvTexture', 'otherTexture'] as const;
    for (const bits of [0, 1, 0x1f, 0x80000000, 0xffffffff]) {
      everyKey((location, linear, scheme) => {
        for (const cat of cats) {
          const code = memoryTypeKeyCode(bits, location, linear, scheme, cat);
          expect(Number.isSafeInteger(code)).toBe(true);
          seen.add(code);
        }
      });
    }
    expect(seen.size).toBe(5 * 4 * 2 * 3 * 4);
  });
});
