// The event batcher: however fast events come, at most one frame per interval (≤ 30 frames/s), nothing
// lost, keyed events coalesced, pulled sources read once per frame. Time is a fake clock (vitest's fake
// timers drive both the batcher's setTimeout and its injected clock): no sleeps, no wall-clock luck.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { EventBatcher } from '../../src-main/api/event-batcher.ts';
import type { AnyEvent, EventBatchFrame } from '../../src-main/api/contract.ts';

const log = (message: string): AnyEvent => ({
  name: 'log',
  payload: { sessionId: null, level: 'info', message },
});

/** The fake clock's time, ms (vi.useFakeTimers fakes Date.now; advanceTimersByTime moves it). */
const now = (): number => Date.now();

function collect(batcher: EventBatcher): { at: number; frame: EventBatchFrame }[] {
  const frames: { at: number; frame: EventBatchFrame }[] = [];
  batcher.subscribe((frame) => frames.push({ at: now(), frame }));
  return frames;
}

/** A batcher on the fake clock, with the contract's interval. */
const fakeClockBatcher = (): EventBatcher => new EventBatcher(undefined, now);

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('EventBatcher', () => {
  test('an event storm for 1.2 s yields at most 30 frames in any 1 s window and loses nothing', () => {
    const batcher = fakeClockBatcher();
    const frames = collect(batcher);
    let sent = 0;
    // 100 events every 0.5 ms of fake time for 1.2 s.
    for (let t = 0; t < 2400; t++) {
      for (let i = 0; i < 100; i++) batcher.emit(log(String(sent++)));
      vi.advanceTimersByTime(0.5);
    }
    vi.advanceTimersByTime(100);
    const received = frames.flatMap((f) =>
      f.frame.events.map((e) => (e.payload as { message: string }).message),
    );
    expect(received.length).toBe(sent);
    expect(received[received.length - 1]).toBe(String(sent - 1));
    expect(new Set(received).size).toBe(sent);
    for (let i = 0; i < frames.length; i++) {
      const inWindow = frames.filter((f) => f.at >= frames[i]!.at && f.at < frames[i]!.at + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(30);
    }
    // One frame per 34 ms interval: 1.2 s of storm is 35 or 36 frames, not fewer.
    expect(frames.length).toBeGreaterThanOrEqual(35);
    batcher.dispose();
  });

  test('keyed events keep only the latest per key, in the position of the first', () => {
    const batcher = fakeClockBatcher();
    const frames = collect(batcher);
    batcher.emit(log('a'));
    batcher.emit(log('p1'), 'task');
    batcher.emit(log('b'));
    batcher.emit(log('p2'), 'task');
    batcher.emit(log('p3'), 'task');
    vi.advanceTimersByTime(60);
    expect(frames.length).toBe(1);
    expect(frames[0]!.frame.events.map((e) => (e.payload as { message: string }).message)).toEqual([
      'a',
      'p3',
      'b',
    ]);
    batcher.dispose();
  });

  test('a dirty source is pulled once per frame however often it is marked', () => {
    const batcher = fakeClockBatcher();
    const frames = collect(batcher);
    let pulls = 0;
    let pending = 0;
    batcher.addSource('s', {
      pull: () => {
        pulls++;
        if (pending === 0) return null;
        const event = log(`n=${pending}`);
        pending = 0;
        return event;
      },
    });
    for (let i = 0; i < 10_000; i++) {
      pending++;
      batcher.markDirty('s');
    }
    vi.advanceTimersByTime(60);
    expect(pulls).toBe(1);
    expect(frames.map((f) => f.frame.events.map((e) => (e.payload as { message: string }).message))).toEqual([
      ['n=10000'],
    ]);
    pending = 5;
    batcher.removeSource('s');
    vi.advanceTimersByTime(60);
    expect(frames.at(-1)!.frame.events.map((e) => (e.payload as { message: string }).message)).toEqual([
      'n=5',
    ]);
    batcher.dispose();
  });

  test('no events, no frames', () => {
    const batcher = fakeClockBatcher();
    const frames = collect(batcher);
    batcher.addSource('s', { pull: () => null });
    batcher.markDirty('s');
    vi.advanceTimersByTime(80);
    expect(frames.length).toBe(0);
    batcher.dispose();
  });
});
