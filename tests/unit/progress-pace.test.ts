// The progress bar's pace (src-renderer/store/progress-pace.ts): first update and phase changes at once,
// otherwise at most one per interval, the newest, and nothing held back for good.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { paceProgress, progressIntervalMs } from '../../src-renderer/store/progress-pace.ts';

interface Update {
  readonly loaded: number;
  readonly phase?: string;
}

function paced(): { shown: Update[]; push: (u: Update) => void; cancel: () => void } {
  const shown: Update[] = [];
  const pace = paceProgress(
    (u: Update) => shown.push(u),
    (u) => u.phase,
  );
  return { shown, push: (u) => pace.push(u), cancel: () => pace.cancel() };
}

describe('paceProgress', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows the first update at once and holds the next ones to the interval, showing the newest', () => {
    const p = paced();
    p.push({ loaded: 1 });
    expect(p.shown).toEqual([{ loaded: 1 }]);
    vi.advanceTimersByTime(10);
    p.push({ loaded: 2 });
    vi.advanceTimersByTime(10);
    p.push({ loaded: 3 });
    expect(p.shown).toEqual([{ loaded: 1 }]);
    vi.advanceTimersByTime(progressIntervalMs - 21);
    expect(p.shown).toHaveLength(1);
    vi.advanceTimersByTime(1);
    // Update 2 was replaced by 3 while held: the bar jumps to what arrived last.
    expect(p.shown).toEqual([{ loaded: 1 }, { loaded: 3 }]);
    vi.advanceTimersByTime(10 * progressIntervalMs);
    expect(p.shown).toHaveLength(2);
  });

  it('never shows more than one update per interval under a burst, and ends on the last one', () => {
    const p = paced();
    // 1,000 updates over one second (one a millisecond).
    for (let i = 1; i <= 1000; i++) {
      p.push({ loaded: i });
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(progressIntervalMs);
    expect(p.shown.length).toBeGreaterThanOrEqual(8);
    expect(p.shown.length).toBeLessThanOrEqual(Math.ceil(1000 / progressIntervalMs) + 1);
    expect(p.shown.at(-1)).toEqual({ loaded: 1000 });
    const loaded = p.shown.map((u) => u.loaded);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
  });

  it('shows a change of phase at once, dropping an older update held back', () => {
    const p = paced();
    p.push({ loaded: 10, phase: 'uploading' });
    vi.advanceTimersByTime(5);
    p.push({ loaded: 20, phase: 'uploading' });
    vi.advanceTimersByTime(5);
    p.push({ loaded: 0, phase: 'reading' });
    expect(p.shown).toEqual([
      { loaded: 10, phase: 'uploading' },
      { loaded: 0, phase: 'reading' },
    ]);
    vi.advanceTimersByTime(10 * progressIntervalMs);
    // The held upload update is not shown after the phase moved on.
    expect(p.shown).toHaveLength(2);
  });

  it('shows nothing more after cancel', () => {
    const p = paced();
    p.push({ loaded: 1 });
    p.push({ loaded: 2 });
    p.cancel();
    vi.advanceTimersByTime(10 * progressIntervalMs);
    expect(p.shown).toEqual([{ loaded: 1 }]);
    // A later push (a new load's pace would be a new object; this one still works) is shown.
    p.push({ loaded: 3 });
    expect(p.shown).toEqual([{ loaded: 1 }, { loaded: 3 }]);
  });
});
