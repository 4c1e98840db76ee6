// scripts/frame-attribution.ts on a hand-made trace: self time per name clipped to the windows, idle time,
// descheduled time (wall minus thread time inside tasks) and GC detection.
import { describe, expect, it } from 'vitest';
import { attribute, rendererMainThread } from '../../scripts/frame-attribution.ts';
import type { TraceEvent } from '../../scripts/frame-attribution.ts';

const main = { pid: 7, tid: 1 };
const x = (name: string, ts: number, dur: number, tdur = dur, tid = 1): TraceEvent => ({
  name,
  cat: 'devtools.timeline',
  ph: 'X',
  ts,
  dur,
  tdur,
  pid: 7,
  tid,
});

const events: TraceEvent[] = [
  {
    name: 'thread_name',
    cat: '__metadata',
    ph: 'M',
    ts: 0,
    pid: 7,
    tid: 1,
    args: { name: 'CrRendererMain' },
  },
  { name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid: 7, tid: 2, args: { name: 'Compositor' } },
  { name: 'vs-in-0', cat: 'blink.user_timing', ph: 'R', ts: 1000, pid: 7, tid: 1 },
  // A task of 6 ms wall, 3 ms thread: a script of 2 ms holding a 0.5 ms GC, then a 3 ms commit.
  x('RunTask', 1000, 6000, 3000),
  x('FunctionCall', 1000, 2000),
  x('MinorGC', 1500, 500),
  x('Commit', 3000, 3000, 1000),
  // Another thread's work never counts.
  x('Raster', 1000, 9000, 9000, 2),
  // A later task, partly inside the window.
  x('RunTask', 9000, 2000),
  x('Layout', 9000, 2000),
];

describe('frame attribution', () => {
  it('finds the main thread of the process that holds the mark', () => {
    expect(rendererMainThread(events, 'vs-in-0')).toEqual(main);
    expect(rendererMainThread(events, 'no-such-mark')).toBeNull();
  });

  it('splits a window into self time per name, idle and descheduled', () => {
    const a = attribute(events, main, [{ start: 1000, end: 10000 }]);
    expect(a.windows).toBe(1);
    expect(a.selfMs.get('FunctionCall')).toBeCloseTo(1.5);
    expect(a.selfMs.get('MinorGC')).toBeCloseTo(0.5);
    expect(a.selfMs.get('Commit')).toBeCloseTo(3);
    expect(a.selfMs.get('RunTask')).toBeCloseTo(1); // 6 ms less 2 + 3 of children, and 0 of the second
    expect(a.selfMs.get('Layout')).toBeCloseTo(1); // clipped: 1 of its 2 ms is in the window
    expect(a.selfMs.has('Raster')).toBe(false);
    expect(a.idleMs).toBeCloseTo(2); // 7000-9000 µs
    expect(a.descheduledMs).toBeCloseTo(3); // the first task: 6 wall, 3 thread
    expect(a.windowsWithGc).toBe(1);
    expect(a.cpuMs).toHaveLength(1);
    expect(a.cpuMs[0]).toBeCloseTo(4); // 3 of the first task, 1 of the second
  });

  it('sums over windows and sees no GC where there is none', () => {
    const a = attribute(events, main, [
      { start: 3000, end: 4000 },
      { start: 8000, end: 9500 },
    ]);
    expect(a.selfMs.get('Commit')).toBeCloseTo(1);
    expect(a.selfMs.get('Layout')).toBeCloseTo(0.5);
    expect(a.idleMs).toBeCloseTo(1);
    expect(a.windowsWithGc).toBe(0);
  });
});
