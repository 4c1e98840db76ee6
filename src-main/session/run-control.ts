// Pause / step / resume / cancel of a scenario run, shared between the main thread (writer) and the worker
// (reader) through a SharedArrayBuffer, so the worker can block synchronously between allocator ops
// (Atomics.wait) while a script runs a tight synchronous loop, and main never waits.
//
// Layout (Int32Array): [STATE] RunState, [PERMITS] steps granted while paused, [SEQ] bumped on every change
// (the worker waits on SEQ, so a change between its check and its wait is never missed).

export const RunState = { Running: 0, Paused: 1, Cancelled: 2 } as const;
export type RunStateValue = (typeof RunState)[keyof typeof RunState];

const STATE = 0;
const PERMITS = 1;
const SEQ = 2;
const SLOTS = 3;

export class CancelledError extends Error {
  constructor() {
    super('the run was cancelled');
    this.name = 'CancelledError';
  }
}

export function createControlBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
}

/** Main-thread side: never blocks. */
export class RunController {
  private readonly cells: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer) {
    this.cells = new Int32Array(buffer);
  }

  private change(): void {
    Atomics.add(this.cells, SEQ, 1);
    Atomics.notify(this.cells, SEQ);
  }

  get state(): RunStateValue {
    return Atomics.load(this.cells, STATE) as RunStateValue;
  }

  pause(): void {
    if (this.state === RunState.Cancelled) return;
    Atomics.store(this.cells, STATE, RunState.Paused);
    this.change();
  }

  resume(): void {
    if (this.state === RunState.Cancelled) return;
    Atomics.store(this.cells, PERMITS, 0);
    Atomics.store(this.cells, STATE, RunState.Running);
    this.change();
  }

  /** While paused: lets exactly one more allocator op through. */
  step(): void {
    if (this.state !== RunState.Paused) return;
    Atomics.add(this.cells, PERMITS, 1);
    this.change();
  }

  cancel(): void {
    Atomics.store(this.cells, STATE, RunState.Cancelled);
    this.change();
  }
}

/** Worker side: `gate()` before each allocator op. */
export class RunGate {
  private readonly cells: Int32Array;
  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Int32Array(buffer);
  }

  get cancelled(): boolean {
    return Atomics.load(this.cells, STATE) === RunState.Cancelled;
  }

  get paused(): boolean {
    return Atomics.load(this.cells, STATE) === RunState.Paused;
  }

  throwIfCancelled(): void {
    if (this.cancelled) throw new CancelledError();
  }

  /**
   * Returns when the next op may run: at once while running, after a step or resume while paused.
   * `onBlock` runs once before the first wait (to flush events and report "paused"). Throws CancelledError.
   */
  gate(onBlock: () => void): void {
    let announced = false;
    for (;;) {
      const seq = Atomics.load(this.cells, SEQ);
      const state = Atomics.load(this.cells, STATE);
      if (state === RunState.Cancelled) throw new CancelledError();
      if (state === RunState.Running) return;
      // Paused: only this thread decrements PERMITS, so a positive value cannot vanish under us.
      if (Atomics.load(this.cells, PERMITS) > 0) {
        Atomics.sub(this.cells, PERMITS, 1);
        return;
      }
      if (!announced) {
        announced = true;
        onBlock();
        continue;
      }
      Atomics.wait(this.cells, SEQ, seq);
    }
  }
}
