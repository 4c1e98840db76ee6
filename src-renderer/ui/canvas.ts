// Canvas plumbing shared by the canvas views (timeline, block map): following a container's width, and
// sizing a canvas's backing store to its CSS size times devicePixelRatio so drawing stays sharp.
import { useEffect, useState } from 'react';
import type { RefObject } from 'react';

/**
 * The width of `ref`'s element in CSS pixels (floored, at least `min`), followed with a ResizeObserver where
 * there is one; `initial` (a value, or a function asked once) until the element is mounted.
 */
export function useElementWidth(
  ref: RefObject<HTMLElement | null>,
  initial: number | (() => number),
  min: number,
): number {
  const [width, setWidth] = useState(initial);
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    setWidth(Math.max(min, Math.floor(el.clientWidth)));
    if (typeof ResizeObserver === 'undefined') return undefined;
    const ro = new ResizeObserver(() => setWidth(Math.max(min, Math.floor(el.clientWidth))));
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref, min]);
  return width;
}

/**
 * Sizes the backing store of `ctx`'s canvas to `width` x `height` CSS pixels times devicePixelRatio (only
 * when it changed: resizing clears the canvas) and sets the transform so that drawing is in CSS pixels.
 */
export function fitCanvas(ctx: CanvasRenderingContext2D, width: number, height: number): void {
  const canvas = ctx.canvas;
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
}
