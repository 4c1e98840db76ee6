// Holds the timeline's arriving level-of-detail answers back while wheel zoom input is arriving, and applies
// them in idle time instead (after a frame, when the browser has time to spare before the next one); the
// same for the store's range update that asks for a new answer when the zoom ran past the one here.
//
// Why: applying an answer (or a range update: useSyncExternalStore renders synchronously, at the end of
// the wheel event's task) re-renders the Timeline (React) and draws it again; done in the middle of a
// burst of wheel steps, that work shares the frame of the step's input and delays it. Meanwhile the
// frames draw from the answer already here (an answer covers the view and one view width either side).
//
// Invariants: the newest update per kind wins (an older held one never overwrites a newer one applied or
// held); an update held is applied at the latest `maxHoldMs` after it came (idle or not), so the view never
// waits long for data it lacks; outside a burst updates apply at once.

/** Wheel steps closer together than this (ms) are one burst. */
export const wheelBurstQuietMs = 150;

/** An idle callback applies held answers only when at least this much of its idle time is left (ms). */
const minIdleMs = 8;

/** The longest an answer is held (ms): the idle callback's timeout. */
const maxHoldMs = 120;

/** The clock and idle scheduling the gate uses (the browser's; a test passes its own). */
export interface GateEnv {
  now(): number;
  requestIdle(
    run: (deadline: { didTimeout: boolean; timeRemaining(): number }) => void,
    timeoutMs: number,
  ): number;
  cancelIdle(handle: number): void;
}

const browserEnv = (): GateEnv | null =>
  typeof requestIdleCallback === 'function'
    ? {
        now: () => performance.now(),
        requestIdle: (run, timeout) => requestIdleCallback(run, { timeout }),
        cancelIdle: (h) => cancelIdleCallback(h),
      }
    : null;

export class AnswerGate {
  private lastWheel = -Infinity;
  private readonly held = new Map<string, () => void>();
  /** When the oldest held answer came (ms, env.now()). */
  private heldSince = 0;
  private idle: number | null = null;
  private readonly env: GateEnv | null;
  /** Updates applied from an idle callback, not at once (read by the benchmark through the canvas). */
  appliedLater = 0;

  /** Without `env`, the browser's; where there is no requestIdleCallback, answers always apply at once. */
  constructor(env: GateEnv | null = browserEnv()) {
    this.env = env;
  }

  /** A wheel step arrived now. */
  noteWheel(): void {
    if (this.env) this.lastWheel = this.env.now();
  }

  /** Whether wheel steps are arriving (the last one within `wheelBurstQuietMs`). */
  inWheelBurst(): boolean {
    return this.env !== null && this.env.now() - this.lastWheel < wheelBurstQuietMs;
  }

  /** Applies `apply` (the update of kind `kind`) now, or holds it for idle time during a wheel burst. */
  apply(kind: string, apply: () => void): void {
    if (!this.env || !this.inWheelBurst()) {
      this.held.delete(kind);
      apply();
      return;
    }
    if (this.held.size === 0) this.heldSince = this.env.now();
    this.held.set(kind, apply);
    if (this.idle === null) this.schedule(this.env);
  }

  /** Drops held answers (a different source or trace). */
  reset(): void {
    this.held.clear();
    if (this.idle !== null) this.env?.cancelIdle(this.idle);
    this.idle = null;
  }

  private schedule(env: GateEnv): void {
    const waited = env.now() - this.heldSince;
    this.idle = env.requestIdle(
      (deadline) => {
        this.idle = null;
        const overdue = deadline.didTimeout || env.now() - this.heldSince >= maxHoldMs;
        if (!overdue && this.inWheelBurst() && deadline.timeRemaining() < minIdleMs) {
          this.schedule(env);
          return;
        }
        const all = [...this.held.values()];
        this.held.clear();
        this.appliedLater += all.length;
        for (const a of all) a();
      },
      Math.max(1, maxHoldMs - waited),
    );
  }
}
