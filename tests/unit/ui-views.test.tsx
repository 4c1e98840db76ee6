// @vitest-environment happy-dom
// The inspector's views rendered by React in happy-dom over the real backend (the workload's trace loaded
// by a `vramscope serve` child, answered by allocator/analysis): overview numbers with budgets and per-type
// counts, the allocation table, the decision panel, leaks, the error panel, scenarios form; and the
// block-map geometry as a pure function.
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import type { Root } from 'react-dom/client';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { formatBytes } from '../../allocator/index.ts';
import { App } from '../../src-renderer/app.tsx';
import type { ApiSource } from '../../src-renderer/data/api-source.ts';
import type { BlockSnapshot, ScenarioParam, TimelineMarker } from '../../src-renderer/data/source.ts';
import { StoreProvider, createInspectorStore } from '../../src-renderer/store/store.ts';
import type { InspectorStore } from '../../src-renderer/store/store.ts';
import { blockSegments, hitSegment, layoutBlocks } from '../../src-renderer/views/block-layout.ts';
import { defaultParams, paramProblem } from '../../src-renderer/views/scenarios.tsx';
import { sharedBackend, type SharedBackend } from '../support/ui-backend.ts';
import { buildWorkload } from '../support/ui-trace.ts';

let backend: SharedBackend;

beforeAll(async () => {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
  backend = await sharedBackend('web');
}, 60_000);

afterAll(async () => {
  await backend?.close();
});

const work = buildWorkload({ ops: 2000, seed: 11, frameEvery: 200 });
let root: Root | null = null;
let container: HTMLElement | null = null;

afterEach(() => {
  act(() => root?.unmount());
  container?.remove();
  root = null;
});

/** `prepare` sees the source before the store connects to it (and the views query it). */
async function mount(
  prepare?: (source: ApiSource) => void,
): Promise<{ store: InspectorStore; source: ApiSource; el: HTMLElement }> {
  const store = createInspectorStore();
  const source = await backend.source(work, 'views.trace');
  prepare?.(source);
  await store.getState().connect(source);
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
  await act(async () => {
    root?.render(
      <StoreProvider store={store}>
        <App />
      </StoreProvider>,
    );
  });
  return { store, source, el: container };
}

const text = (el: Element, testId: string): string =>
  el.querySelector(`[data-testid="${testId}"]`)?.textContent ?? '';

/** Lets React and the backend's answers run until `check` stops throwing (no fixed sleeps). */
async function eventually(check: () => void): Promise<void> {
  // Polled in short act() scopes, not one act() around the whole wait: React renders what an act() scope
  // queued when the scope ends, so an answer that arrived inside one long scope would not reach the DOM
  // before the wait gave up (seen on a loaded machine: a view left empty for the whole 20 s).
  const deadline = performance.now() + 20_000;
  for (;;) {
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    try {
      check();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
    }
  }
}

describe('inspector views', () => {
  test('overview shows the device, totals and peaks the source computed', async () => {
    const { el, source } = await mount();
    const o = await source.overview();
    if (!o) throw new Error('no overview');
    expect(text(el, 'device-name')).toBe(work.device.name);
    expect(text(el, 'stat-events')).toBe(o.eventCount.toLocaleString('en-US'));
    expect(text(el, 'stat-allocations')).toBe(o.allocationCount.toLocaleString('en-US'));
    expect(text(el, 'stat-peak-committed')).toBe(formatBytes(o.peakCommittedBytes));
    expect(text(el, 'stat-peak-allocated')).toBe(formatBytes(o.peakAllocatedBytes));
    expect(el.querySelectorAll('[data-testid="heaps"] tbody tr')).toHaveLength(work.device.heaps.length);
    expect(el.querySelectorAll('[data-testid="types"] tbody tr')).toHaveLength(work.device.types.length);
    // Flags are spelled out.
    expect(el.querySelector('[data-testid="types"]')?.textContent).toContain('DEVICE_LOCAL');
    expect(text(el, 'stat-retried')).toBe(work.retried.length.toLocaleString('en-US'));
    // The driver's budget and usage per heap, and allocations per memory type, from the engine.
    for (const h of o.heaps) {
      expect(h.budget).not.toBeNull();
      expect(text(el, `heap-${h.index}-budget`)).toBe(
        `${formatBytes(h.budget ?? 0)} / ${formatBytes(h.usage ?? 0)}`,
      );
    }
    const typeRows = [...el.querySelectorAll('[data-testid="types"] tbody tr')];
    expect(typeRows.map((r) => r.querySelector('[data-testid="type-count"]')?.textContent)).toEqual(
      o.types.map((t) => t.allocationCount.toLocaleString('en-US')),
    );
  });

  test('the allocation table is virtualised and a click selects the decision record', async () => {
    const { el, store } = await mount();
    await act(async () => store.getState().setView('allocations'));
    const total = store.getState().overview?.allocationCount ?? 0;
    await eventually(() =>
      expect(text(el, 'allocations-total')).toBe(`${total.toLocaleString('en-US')} allocations`),
    );
    const rows = el.querySelectorAll('[data-testid="allocations-body"] [role="row"]');
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(80); // only the rows in view plus a margin
    const first = rows[0] as HTMLElement;
    expect(first.dataset['id']).toBe('1');
    await act(async () => first.click());
    await eventually(() => expect(store.getState().selected?.allocation.id).toBe(1));
    await eventually(() =>
      expect(text(el, 'decision-name')).toBe(store.getState().selected?.allocation.name),
    );
    // VRAMscope's own allocations have no address or stream in a source program: nothing is shown for them.
    expect(el.querySelector('[data-testid="decision-source-place"]')).toBeNull();
    const winner = store.getState().selected?.decision?.winner;
    expect(text(el, 'decision-winner')).toBe(`type ${winner}`);
    expect(text(el, 'decision-reason')).toBe(store.getState().selected?.decision?.reason);
    expect(el.querySelectorAll('[data-testid="decision-record"] table.candidates tbody tr')).toHaveLength(
      work.device.types.length,
    );
  });

  test('filtering the table by "alive at cursor" follows the cursor', async () => {
    const { el, store, source } = await mount();
    await act(async () => {
      store.getState().setView('allocations');
      store.getState().setLiveAtCursor(true);
      store.getState().setCursor(700);
    });
    const live = (await source.snapshot(700)).blocks.reduce((s, b) => s + b.allocations.length, 0);
    await eventually(() =>
      expect(text(el, 'allocations-total')).toBe(
        `${live.toLocaleString('en-US')} allocations alive at event 700`,
      ),
    );
  });

  test('the timeline gets a leak marker per leaked allocation, asked for after its first buckets', async () => {
    const asked: string[] = [];
    let leakMarkers: () => Promise<readonly TimelineMarker[]> = () => Promise.resolve([]);
    const { el } = await mount((source) => {
      const timeline = source.timeline.bind(source);
      leakMarkers = source.leakMarkers.bind(source);
      vi.spyOn(source, 'timeline').mockImplementation((q) => {
        asked.push('timeline');
        return timeline(q);
      });
      vi.spyOn(source, 'leakMarkers').mockImplementation(() => {
        asked.push('leakMarkers');
        return leakMarkers();
      });
    });
    const canvas = (): Element | null => el.querySelector('[data-testid="timeline-canvas"]');
    // Each act() lets React commit and run the effects of the answers that came meanwhile (the markers
    // are asked for by an effect of the buckets' arrival, so one waitFor inside one act would not see them).
    const shown = (): number => Number(canvas()?.getAttribute('data-leak-markers') ?? 0);
    for (let i = 0; i < 400 && shown() === 0; i++)
      await act(async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
      });
    expect(shown()).toBe(Math.min(2000, work.leaked.length));
    expect(asked.indexOf('timeline')).toBeGreaterThanOrEqual(0);
    expect(asked.indexOf('leakMarkers')).toBeGreaterThan(asked.indexOf('timeline'));
  });

  test('leaks view lists exactly the leaked allocations', async () => {
    const { el, store } = await mount();
    await act(async () => store.getState().setView('leaks'));
    await eventually(() => expect(text(el, 'leaks-summary') || text(el, 'leaks-error')).not.toBe(''));
    expect(text(el, 'leaks-error')).toBe('');
    const summary = text(el, 'leaks-summary');
    expect(summary.startsWith(`${work.leaked.length} allocations`)).toBe(true);
    const ids = [...el.querySelectorAll('[data-testid="leak-groups"] .ids button')].map((b) =>
      Number((b.textContent ?? '').slice(1)),
    );
    // Groups show at most 8 ids each; every shown id is a leak.
    for (const id of ids) expect(work.leaked).toContain(id);
  });

  test('a bad file shows the error panel with the file name and the reason', async () => {
    const { el, store } = await mount();
    await act(async () => store.getState().openTrace('garbage.trace', new Uint8Array([0xde, 0xad])));
    const panel = el.querySelector('[data-testid="load-error"]');
    expect(panel?.textContent).toContain('Could not open garbage.trace');
    expect(panel?.getAttribute('role')).toBe('alert');
  });
});

describe('block map geometry', () => {
  const block: BlockSnapshot = {
    id: 1,
    memoryTypeIndex: 0,
    heapIndex: 0,
    size: 1000,
    dedicated: false,
    allocations: [
      { id: 1, name: 'a', offset: 0, size: 100, kind: 'linear' },
      { id: 2, name: 'b', offset: 128, size: 72, kind: 'nonLinear' },
      { id: 3, name: 'c', offset: 180, size: 20, kind: 'linear' },
    ],
    allocatedBytes: 192,
    freeRanges: [
      { offset: 100, size: 20 },
      { offset: 200, size: 800 },
    ],
  };

  test('segments show allocations, padding that is not free, and overlaps as aliasing', () => {
    const segs = blockSegments(block, 1000);
    expect(segs.map((s) => [s.kind, s.offset, s.size])).toEqual([
      ['allocation', 0, 100],
      ['padding', 120, 8],
      ['allocation', 128, 72],
      ['allocation', 180, 20],
      ['alias', 180, 20],
    ]);
    const rows = layoutBlocks(
      {
        at: 5,
        blocks: [block, { ...block, id: 2, size: 100, allocations: [], freeRanges: [] }],
        committedBytes: 1100,
        allocatedBytes: 192,
      },
      500,
    );
    expect(rows[0]?.barWidth).toBe(500);
    expect(rows[1]?.barWidth).toBe(50);
    const row = rows[0];
    if (!row) throw new Error('no row');
    expect(hitSegment(row, 10)?.allocation?.id).toBe(1);
    expect(hitSegment(row, 70)?.allocation?.id).toBe(2);
    expect(hitSegment(row, 400)).toBeNull();
  });
});

describe('scenario form', () => {
  const params: ScenarioParam[] = [
    { name: 'frames', type: 'integer', description: 'frames to run', default: 100, min: 1, max: 1000 },
    { name: 'mode', type: 'choice', description: 'how', choices: ['fast', 'slow'] },
    { name: 'verbose', type: 'boolean', description: 'log more' },
  ];
  test('defaults come from the parameters and values are checked against their ranges', () => {
    expect(defaultParams({ id: 'x', name: 'x', description: '', builtin: true, params })).toEqual({
      frames: 100,
      mode: 'fast',
      verbose: false,
    });
    const frames = params[0] as ScenarioParam;
    expect(paramProblem(frames, 0)).toBe('frames must be at least 1.');
    expect(paramProblem(frames, 2.5)).toBe('frames must be a whole number.');
    expect(paramProblem(frames, 10)).toBeNull();
    expect(paramProblem(params[1] as ScenarioParam, 'medium')).toBe('mode must be one of fast, slow.');
  });
});
