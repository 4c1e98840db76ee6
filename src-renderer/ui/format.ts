// Display formatting shared by every view: bytes always through allocator/format.ts (KiB/MiB/GiB, two
// decimals), flags spelled out, counts with thousands separators.
import { formatBytes, memoryHeapFlagNames, memoryPropertyFlagNames } from '../../allocator/index.ts';

export { formatBytes };

/** One formatter for every count: `toLocaleString` builds a new one per call (its cost shows per frame). */
const countFormat = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  return countFormat.format(n);
}

/** Property flags as "DEVICE_LOCAL | HOST_VISIBLE", or "none". */
export function propertyFlagsText(flags: number): string {
  const names = memoryPropertyFlagNames(flags);
  return names.length === 0 ? 'none' : names.join(' | ');
}

export function heapFlagsText(flags: number): string {
  const names = memoryHeapFlagNames(flags);
  return names.length === 0 ? 'none' : names.join(' | ');
}

/** Milliseconds as "850 ms", "12.40 s" or "3 min 05 s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (Math.abs(ms) < 1000) return `${ms.toFixed(ms < 10 ? 2 : ms < 100 ? 1 : 0)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(2)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.floor(s - m * 60)).padStart(2, '0')} s`;
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}

/** Parses "64 MiB", "1.5GiB", "4096", "12 k" into bytes; null when empty or not a size. */
export function parseBytes(text: string): number | null {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase();
  const pow = unit === '' ? 0 : unit === 'k' ? 1 : unit === 'm' ? 2 : unit === 'g' ? 3 : 4;
  const bytes = Math.round(Number(m[1]) * 1024 ** pow);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/**
 * Where an imported allocation lay in its source program: "address 0x7f3a00000000 · stream 7" (either part
 * alone when only one is recorded); null when the trace records neither (allocations of VRAMscope's own
 * allocator).
 */
export function sourcePlaceText(a: {
  readonly address?: number | null;
  readonly stream?: number | null;
}): string | null {
  const parts: string[] = [];
  if (a.address !== undefined && a.address !== null) parts.push(`address 0x${a.address.toString(16)}`);
  if (a.stream !== undefined && a.stream !== null) parts.push(`stream ${a.stream}`);
  return parts.length === 0 ? null : parts.join(' · ');
}
