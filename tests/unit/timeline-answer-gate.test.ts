// The timeline's answer gate (src-renderer/views/timeline-answer-gate.ts) on a hand-driven clock and idle
// queue: answers apply at once between wheel bursts, are held during one and applied in idle time with
// enough time left (or once held too long), the newest per kind winning.
import { describe, expect, test } from 'vitest';
import { AnswerGate, wheelBurstQuietMs } from '../../src-renderer/views/timeline-answer-gate.ts';
import type { GateEnv } from '../../src-renderer/views/timeline-answer-gate.ts';

/** A clock moved by hand and idle callbacks run by hand, each with the idle time it is given. */
function fakeEnv(): GateEnv & { t: number; runIdle(remainingMs: number, didTimeout?: boolean): number } {
  let queue: { handle: number; run: Parameters<GateEnv['requestIdle']>[0]; timeout: number }[] = [];
  let next = 1;
  const env = {
    t: 0,
    now: () => env.t,
    requestIdle: (run: Parameters<GateEnv['requestIdle']>[0], timeout: number): number => {
      queue.push({ handle: next, run, timeout });
      return next++;
    },
    cancelIdle: (h: number): void => {
      queue = queue.filter((q) => q.handle !== h);
    },
    /** Runs the callbacks queued now; returns how many ran. */
    runIdle: (remainingMs: number, didTimeout = false): number => {
      const now = queue;
      queue = [];
      for (const q of now) q.run({ didTimeout, timeRemaining: () => remainingMs });
      return now.length;
    },
  };
  return env;
}

describe('AnswerGate', () => {
  test('outside a wheel burst an answer applies at once', () => {
    const env = fakeEnv();
    const gate = new AnswerGate(env);
    const got: string[] = [];
    gate.apply('totals', () => got.push('a'));
    expect(got).toEqual(['a']);
    gate.noteWheel();
    env.t += wheelBurstQuietMs;
    expect(gate.inWheelBurst()).toBe(false);
    gate.apply('totals', () => got.push('b'));
    expect(got).toEqual(['a', 'b']);
    expect(gate.appliedLater).toBe(0);
  });

  test('during a burst answers wait for an idle callback with time to spare; the newest per kind wins', () => {
    const env = fakeEnv();
    const gate = new AnswerGate(env);
    const got: string[] = [];
    gate.noteWheel();
    gate.apply('totals', () => got.push('t1'));
    env.t += 10;
    gate.noteWheel();
    gate.apply('totals', () => got.push('t2'));
    gate.apply('bands', () => got.push('b1'));
    expect(got).toEqual([]);
    // Little idle time left while the wheel is still turning: held on.
    env.t += 16;
    expect(env.runIdle(2)).toBe(1);
    expect(got).toEqual([]);
    // Enough idle time: both kinds apply, only the newest totals answer.
    env.t += 16;
    expect(env.runIdle(12)).toBe(1);
    expect(got).toEqual(['t2', 'b1']);
    expect(gate.appliedLater).toBe(2);
    expect(env.runIdle(12)).toBe(0);
  });

  test('an answer held too long applies even without idle time', () => {
    const env = fakeEnv();
    const gate = new AnswerGate(env);
    const got: string[] = [];
    gate.noteWheel();
    gate.apply('totals', () => got.push('t'));
    for (let i = 0; i < 20 && got.length === 0; i++) {
      env.t += 16;
      gate.noteWheel(); // the burst goes on
      env.runIdle(0);
    }
    expect(got).toEqual(['t']);
    expect(env.t).toBeLessThanOrEqual(160);
  });

  test('a held answer is dropped by reset, and one applied at once replaces a held one', () => {
    const env = fakeEnv();
    const gate = new AnswerGate(env);
    const got: string[] = [];
    gate.noteWheel();
    gate.apply('totals', () => got.push('old'));
    gate.reset();
    expect(env.runIdle(50)).toBe(0);
    gate.apply('totals', () => got.push('held'));
    env.t += wheelBurstQuietMs;
    gate.apply('totals', () => got.push('now'));
    env.runIdle(50);
    expect(got).toEqual(['now']);
  });
});
