// Colours for canvas drawing. Canvas cannot use CSS variables, so the palette is read from the theme's
// custom properties once per draw (getComputedStyle) with these fallbacks.
import type { AllocationKindName } from '../data/source.ts';

/** Eight distinguishable hues for heaps / memory types (colour-blind-friendly Okabe-Ito order). */
export const seriesColors: readonly string[] = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#cc79a7',
  '#56b4e9',
  '#d55e00',
  '#f0e442',
  '#999999',
];

export function seriesColor(i: number): string {
  return seriesColors[((i % seriesColors.length) + seriesColors.length) % seriesColors.length] ?? '#888';
}

export const kindColors: Record<AllocationKindName, string> = {
  linear: '#2f80ed',
  nonLinear: '#27ae60',
  dedicated: '#9b51e0',
};

export const markerColors = {
  frame: '#8892a0',
  mark: '#2f80ed',
  failure: '#eb3b3b',
  leak: '#f2994a',
  budget: '#b5179e',
} as const;

/** The dashed budget line of each heap (VK_EXT_memory_budget) on the timeline. */
export const budgetLineColor = '#b5179e';

export interface CanvasTheme {
  readonly background: string;
  readonly foreground: string;
  readonly muted: string;
  readonly grid: string;
  readonly cursor: string;
  readonly free: string;
  readonly padding: string;
}

export function readCanvasTheme(el: Element): CanvasTheme {
  const style = getComputedStyle(el);
  const v = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  return {
    background: v('--canvas-bg', '#1b1e23'),
    foreground: v('--fg', '#e6e6e6'),
    muted: v('--muted', '#9aa3ad'),
    grid: v('--grid', 'rgba(128,128,128,0.25)'),
    cursor: v('--cursor', '#ff5370'),
    free: v('--free', 'rgba(128,128,128,0.12)'),
    padding: v('--padding', 'rgba(255,200,0,0.55)'),
  };
}

/** A colour with alpha applied (accepts #rrggbb). */
export function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1] ?? '0', 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}
