// Where the renderer's main thread spent a set of time windows (the slow input → frame intervals of
// scripts/bench-timeline.ts), from a Chromium trace (Chrome trace event format, as CDP's Tracing domain
// reports it). Pure: no browser, no I/O.
//
// Units: trace timestamps and durations are µs (`ts`, `dur`, `tdur` = thread time); results are ms.
// Attribution is by self time (an event's duration less its children's), clipped to each window, so the
// names add up to the main thread's busy time in the window; `idle` is the rest of the window (the main
// thread ran no traced task: it waited for the CPU between tasks, for another thread, or for a timer);
// `descheduled` is wall time inside tasks that was not thread time (the thread was runnable or blocked,
// not running: on a loaded machine, waiting for a CPU).

export interface TraceEvent {
  readonly name: string;
  readonly cat: string;
  readonly ph: string;
  readonly ts: number;
  readonly dur?: number;
  readonly tdur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly args?: { readonly name?: string };
}

/** A window in trace time, µs. */
export interface TraceWindow {
  readonly start: number;
  readonly end: number;
}

export interface Attribution {
  readonly windows: number;
  /** ms of self time per event name, summed over the windows. */
  readonly selfMs: ReadonlyMap<string, number>;
  /** ms of the windows in which the main thread ran no traced event. */
  readonly idleMs: number;
  /** ms of wall time inside top-level events that was not thread time. */
  readonly descheduledMs: number;
  /** Windows with a GC event (any name containing "GC") of their own. */
  readonly windowsWithGc: number;
  /**
   * Per window, the main thread's CPU time in it, ms: each task's overlap with the window times its
   * thread/wall ratio. What a frame cost whatever the machine's load (which stretches only wall time).
   */
  readonly cpuMs: number[];
}

interface Span {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly threadDur: number | null;
  /** Sorted, non-overlapping children (direct descendants). */
  readonly children: Span[];
}

/** The renderer main thread (pid, tid) whose process holds the mark named `markName`. */
export function rendererMainThread(
  events: readonly TraceEvent[],
  markName: string,
): { pid: number; tid: number } | null {
  const mark = events.find((e) => e.name === markName && e.cat.includes('blink.user_timing'));
  if (!mark) return null;
  const main = events.find(
    (e) =>
      e.ph === 'M' && e.name === 'thread_name' && e.pid === mark.pid && e.args?.name === 'CrRendererMain',
  );
  return main ? { pid: main.pid, tid: main.tid } : null;
}

/** The main thread's complete events as a forest of properly nested spans, in time order. */
function spansOf(events: readonly TraceEvent[], pid: number, tid: number): Span[] {
  const xs = events
    .filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && (e.dur ?? 0) > 0)
    .map((e) => ({
      name: e.name,
      start: e.ts,
      end: e.ts + (e.dur ?? 0),
      threadDur: e.tdur ?? null,
      children: [] as Span[],
    }))
    // Parents before their children: earlier start first, longer first on a tie.
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const roots: Span[] = [];
  const stack: Span[] = [];
  for (const s of xs) {
    while (stack.length > 0 && stack[stack.length - 1]!.end <= s.start) stack.pop();
    const parent = stack[stack.length - 1];
    // A span sticking out of its parent (clock rounding) is clipped to it by the overlap arithmetic below.
    (parent ? parent.children : roots).push(s);
    stack.push(s);
  }
  return roots;
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

/** Self time of `s` and its descendants inside [w0, w1), added to `into` (µs). */
function addSelf(s: Span, w0: number, w1: number, into: Map<string, number>): void {
  let own = overlap(s.start, s.end, w0, w1);
  if (own <= 0) return;
  for (const c of s.children) {
    own -= overlap(c.start, c.end, Math.max(w0, s.start), Math.min(w1, s.end));
    addSelf(c, w0, w1, into);
  }
  into.set(s.name, (into.get(s.name) ?? 0) + Math.max(0, own));
}

function hasGc(s: Span, w0: number, w1: number): boolean {
  if (overlap(s.start, s.end, w0, w1) <= 0) return false;
  return s.name.includes('GC') || s.children.some((c) => hasGc(c, w0, w1));
}

/** Where the main thread (pid, tid) spent the windows. */
export function attribute(
  events: readonly TraceEvent[],
  thread: { pid: number; tid: number },
  windows: readonly TraceWindow[],
): Attribution {
  const roots = spansOf(events, thread.pid, thread.tid);
  const self = new Map<string, number>();
  let idle = 0;
  let descheduled = 0;
  let withGc = 0;
  const cpuMs: number[] = [];
  for (const w of windows) {
    let busy = 0;
    let cpu = 0;
    let gc = false;
    for (const r of roots) {
      if (r.end <= w.start) continue;
      if (r.start >= w.end) break;
      const o = overlap(r.start, r.end, w.start, w.end);
      busy += o;
      addSelf(r, w.start, w.end, self);
      const running = r.threadDur === null ? 1 : Math.min(1, r.threadDur / (r.end - r.start));
      descheduled += o * (1 - running);
      cpu += o * running;
      gc ||= hasGc(r, w.start, w.end);
    }
    idle += Math.max(0, w.end - w.start - busy);
    cpuMs.push(cpu / 1000);
    if (gc) withGc++;
  }
  const selfMs = new Map([...self].map(([k, v]) => [k, v / 1000] as [string, number]));
  return {
    windows: windows.length,
    selfMs,
    idleMs: idle / 1000,
    descheduledMs: descheduled / 1000,
    windowsWithGc: withGc,
    cpuMs,
  };
}

/** One line: per-window averages (ms) of idle, descheduled and the `top` names with the most self time. */
export function formatAttribution(a: Attribution, top = 8): string {
  if (a.windows === 0) return 'windows=0';
  const per = (ms: number): string => (ms / a.windows).toFixed(2);
  const names = [...a.selfMs]
    .sort((x, y) => y[1] - x[1])
    .slice(0, top)
    .map(([k, v]) => `${k}=${per(v)}`)
    .join(' ');
  return (
    `windows=${a.windows} with_gc=${a.windowsWithGc} per_window_ms{idle=${per(a.idleMs)} ` +
    `descheduled=${per(a.descheduledMs)} ${names}}`
  );
}
