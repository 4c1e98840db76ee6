// Keyboard navigation: one table from keys to store actions, so the bindings are listed in one place
// (shown in the help line) and testable without a DOM.
import type { InspectorState } from './store/store.ts';
import { viewNames } from './store/view-slice.ts';

export interface KeyInput {
  readonly key: string;
  readonly shiftKey: boolean;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly altKey: boolean;
}

export const keyHelp: readonly [string, string][] = [
  ['← →', 'cursor ±1 event'],
  ['Shift+← →', 'cursor ±1% of the view'],
  ['PgUp PgDn', 'cursor ±10% of the view'],
  ['Home End', 'start / end'],
  ['1–9', 'switch view'],
  ['D', 'diff from here'],
  ['T', 'theme'],
  ['Esc', 'clear selection'],
];

/** Applies the binding for `e`; returns true when the key was used (the caller then prevents default). */
export function handleKey(state: InspectorState, e: KeyInput): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey) return false;
  const visible = Math.max(1, state.range.end - state.range.start);
  const end = state.overview?.eventCount ?? 0;
  switch (e.key) {
    case 'ArrowLeft':
      state.stepCursor(e.shiftKey ? -Math.max(1, Math.round(visible / 100)) : -1);
      return true;
    case 'ArrowRight':
      state.stepCursor(e.shiftKey ? Math.max(1, Math.round(visible / 100)) : 1);
      return true;
    case 'PageUp':
      state.stepCursor(-Math.max(1, Math.round(visible / 10)));
      return true;
    case 'PageDown':
      state.stepCursor(Math.max(1, Math.round(visible / 10)));
      return true;
    case 'Home':
      state.setCursor(0);
      return true;
    case 'End':
      state.setCursor(end);
      return true;
    case 't':
    case 'T':
      state.toggleTheme();
      return true;
    case 'd':
    case 'D':
      state.setDiffFrom(state.cursor);
      return true;
    case 'Escape':
      void state.select(null);
      state.setBrush(null);
      return true;
    default: {
      const n = Number(e.key);
      if (Number.isInteger(n) && n >= 1 && n <= viewNames.length) {
        state.setView(viewNames[n - 1] ?? 'overview');
        return true;
      }
      return false;
    }
  }
}

/** Keys typed into form fields belong to the field. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false;
  const tag = (target as Element).tagName;
  return (
    tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (target as HTMLElement).isContentEditable
  );
}
