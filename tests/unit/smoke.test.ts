import { test, expect } from 'vitest';
import { formatBytes } from '../../allocator/index.ts';

test('formatBytes uses powers of 1024 with two decimals', () => {
  expect(formatBytes(1536)).toBe('1.50 KiB');
});
