// How much of an upload has reached its file, shared between main (which writes the chunks, uploads.ts)
// and the trace worker (which parses the file while it arrives, issue 11). One SharedArrayBuffer of 16
// bytes per upload:
//   Int32 [0]     state: 0 arriving, 1 dropped (cancelled, timed out, or the server shut down);
//   BigInt64 [1]  bytes written to the file so far (bytes 8-15).
// Main stores the count only after those bytes are written, so a reader never reads past what is on
// disk; the count only grows, and stops at the declared size.
import type { Arrival } from './file-source.ts';

const STATE = 0;
const DROPPED = 1;
/** How often a reader waiting for bytes looks again, ms (a 4 MiB chunk takes tens of ms to arrive). */
const POLL_MS = 3;
/** A reader gives up when no byte arrived for this long, ms: a page that went away mid-upload. */
export const arrivalStallMs = 60_000;

/** Main's side: advanced after each chunk is written, dropped with the upload. */
export class ArrivalBoard {
  readonly shared = new SharedArrayBuffer(16);
  private readonly state = new Int32Array(this.shared, 0, 2);
  private readonly received = new BigInt64Array(this.shared, 8, 1);

  /** `bytes` are on disk (a total, not an increment). */
  advance(bytes: number): void {
    Atomics.store(this.received, 0, BigInt(bytes));
  }

  drop(): void {
    Atomics.store(this.state, STATE, DROPPED);
  }
}

/**
 * The worker's side: an Arrival (file-source.ts) over the board's shared memory, for an upload of
 * `bytes` declared bytes.
 */
export function arrivalOf(
  shared: SharedArrayBuffer,
  bytes: number,
  stallMs: number = arrivalStallMs,
): Arrival {
  const state = new Int32Array(shared, 0, 2);
  const received = new BigInt64Array(shared, 8, 1);
  return {
    bytes,
    dropped: () => Atomics.load(state, STATE) === DROPPED,
    async beyond(position, isCancelled) {
      let lastChange = performance.now();
      let seen = -1;
      for (;;) {
        if (Atomics.load(state, STATE) === DROPPED || isCancelled?.()) return 'dropped';
        const now = Number(Atomics.load(received, 0));
        if (now > position || now >= bytes) return now;
        if (now !== seen) {
          seen = now;
          lastChange = performance.now();
        } else if (performance.now() - lastChange > stallMs) return 'stalled';
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
  };
}
