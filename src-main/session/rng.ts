// Seeded pseudo-random numbers for scenarios: sfc32 seeded through splitmix32, so the same seed always gives
// the same sequence on every machine (runs with a seed are reproducible). Not for cryptography.

/** A seed is an unsigned 32-bit integer; other safe integers are reduced modulo 2^32. */
export function normalizeSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  return ((seed % 0x1_0000_0000) + 0x1_0000_0000) % 0x1_0000_0000;
}

/** A seed picked from the clock and Math.random, for runs without --seed (the summary prints it). */
export function randomSeed(): number {
  return (Math.floor(Math.random() * 0x1_0000_0000) ^ Date.now()) >>> 0;
}

export interface Random {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
}

export function createRandom(seed: number): Random {
  let s = normalizeSeed(seed) | 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Warm up so nearby seeds diverge.
  for (let i = 0; i < 12; i++) next32();
  const next = (): number => next32() / 0x1_0000_0000;
  return {
    next,
    int(min: number, max: number): number {
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min)
        throw new RangeError(`randomInt needs integers min <= max, got ${min} and ${max}`);
      return min + Math.floor(next() * (max - min + 1));
    },
  };
}
