// @vitest-environment happy-dom
// The inspector's zustand slices over the real backend (the workload's trace loaded by the AppBackend of
// a `vramscope serve` child, answered by allocator/analysis): connecting, the cursor and its snapshot, selection with the
// decision record, bad files, a live run that grows, two stores side by side, view settings and keys.
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { ApiSource } from '../../src-renderer/data/api-source.ts';
import { handleKey } from '../../src-renderer/keyboard.ts';
import { createInspectorStore } from '../../src-renderer/store/store.ts';
import type { InspectorStore } from '../../src-renderer/store/store.ts';
import { sharedBackend, type SharedBackend } from '../support/ui-backend.ts';
import { buildWorkload } from '../support/ui-trace.ts';

const work = buildWorkload({ ops: 3000, seed: 3, frameEvery: 250 });
let backend: SharedBackend;

beforeAll(async () => {
  backend = await sharedBackend('web');
}, 60_000);

afterAll(async () => {
  await backend?.close();
});

async function connected(): Promise<{ store: InspectorStore; source: ApiSource }> {
  const source = await backend.source(work, 'store-test.trace');
  const store = createInspectorStore();
  await store.getState().connect(source);
  return { store, source };
}

/** Waits until the store satisfies `done` (answers come from the backend, asynchronously). */
async function until(store: InspectorStore, done: (s: ReturnType<InspectorStore['getState']>) => boolean) {
  await vi.waitFor(
    () => {
      if (!done(store.getState())) throw new Error('not yet');
    },
    { timeout: 20_000, interval: 5 },
  );
}

const key = (k: string, shiftKey = false) => ({
  key: k,
  shiftKey,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
});

describe('inspector store', () => {
  test('connecting loads the overview, puts the cursor at the end and fetches its snapshot', async () => {
    const { store, source } = await connected();
    const s = store.getState();
    expect(s.overview?.eventCount).toBe(work.log.length);
    expect(s.cursor).toBe(work.log.length);
    expect(s.range).toEqual({ start: 0, end: work.log.length });
    await until(store, (st) => st.snapshot !== null);
    expect(store.getState().snapshot?.at).toBe(work.log.length);
    expect(store.getState().snapshot?.allocatedBytes).toBe(
      (await source.snapshot(work.log.length)).allocatedBytes,
    );
  });

  test('the cursor is clamped, stepped, and only the newest snapshot is kept', async () => {
    const { store, source } = await connected();
    store.getState().setCursor(-5);
    expect(store.getState().cursor).toBe(0);
    store.getState().setCursor(1e12);
    expect(store.getState().cursor).toBe(work.log.length);
    store.getState().setCursor(100);
    store.getState().setCursor(1200);
    store.getState().stepCursor(-200);
    expect(store.getState().cursor).toBe(1000);
    await until(store, (st) => st.snapshot?.at === 1000);
    expect(store.getState().snapshot?.committedBytes).toBe((await source.snapshot(1000)).committedBytes);
  });

  test('a burst of cursor steps asks for one snapshot now and one where the cursor ends', async () => {
    const { store, source } = await connected();
    await until(store, (st) => st.snapshot !== null && !st.snapshotWindowOpen);
    const asked: number[] = [];
    const original = source.snapshot.bind(source);
    source.snapshot = (at) => {
      asked.push(at);
      return original(at);
    };
    store.getState().setCursor(500);
    for (let i = 0; i < 40; i++) store.getState().stepCursor(1);
    expect(store.getState().cursor).toBe(540);
    await until(store, (st) => st.snapshot?.at === 540);
    expect(asked).toEqual([500, 540]);
  });

  test('selecting an allocation fetches its decision record; an unknown id says so', async () => {
    const { store } = await connected();
    await store.getState().select(2);
    const sel = store.getState().selected;
    expect(sel?.allocation.id).toBe(2);
    expect(sel?.decision?.winner).toBe(sel?.allocation.memoryTypeIndex);
    await store.getState().select(987654);
    expect(store.getState().selected).toBeNull();
    expect(store.getState().detailError).toMatch(/987654/);
    await store.getState().select(null);
    expect(store.getState().selectedId).toBeNull();
  });

  test('opening bytes the source cannot decode leaves one clear error and the old trace', async () => {
    const { store } = await connected();
    await store.getState().openTrace('broken.trace', new Uint8Array([1, 2, 3]));
    const err = store.getState().loadError;
    expect(err?.name).toBe('broken.trace');
    expect(err?.message).toMatch(/^broken\.trace is not a readable trace: .*\(at byte 0\)\.$/);
    expect(store.getState().loading).toBeNull();
    expect(store.getState().overview?.eventCount).toBe(work.log.length);
    store.getState().dismissLoadError();
    expect(store.getState().loadError).toBeNull();
  });

  test('a live run that grows keeps a cursor at the end at the end, and a moved cursor where it is', async () => {
    const store = createInspectorStore();
    await store.getState().connect(await backend.source());
    await store.getState().runScenario('streaming', { frames: 40 });
    expect(store.getState().sessionError).toBeNull();
    await store.getState().controlRun('pause');
    await until(store, (st) => (st.overview?.eventCount ?? 0) > 0 && st.runStatus?.state === 'paused');
    const before = store.getState().overview?.eventCount ?? 0;
    expect(store.getState().cursor).toBe(before);
    await store.getState().controlRun('step');
    await until(store, (st) => (st.overview?.eventCount ?? 0) > before);
    const grown = store.getState().overview?.eventCount ?? 0;
    expect(store.getState().cursor).toBe(grown);
    store.getState().setCursor(1);
    await store.getState().controlRun('resume');
    await until(store, (st) => st.runStatus?.state === 'finished' && (st.overview?.eventCount ?? 0) > grown);
    await until(store, (st) => st.overview?.live === false);
    expect(store.getState().cursor).toBe(1);
  }, 60_000);

  test('two stores over two sources keep their own subscriptions', async () => {
    const a = await connected();
    const b = await connected();
    // Connecting b must not have unsubscribed a: a still hears its own source's run state.
    await a.store.getState().runScenario('streaming', { frames: 5 });
    await until(a.store, (st) => st.runStatus?.state === 'finished');
    expect(b.store.getState().runStatus).toBeNull();
  }, 60_000);

  test('view settings and keyboard bindings drive the same actions', async () => {
    const { store } = await connected();
    const st = () => store.getState();
    expect(st().theme).toBe('dark');
    expect(handleKey(st(), key('t'))).toBe(true);
    expect(st().theme).toBe('light');
    st().setCursor(500);
    handleKey(st(), key('ArrowRight'));
    expect(st().cursor).toBe(501);
    handleKey(st(), key('ArrowLeft'));
    handleKey(st(), key('ArrowLeft'));
    expect(st().cursor).toBe(499);
    handleKey(st(), key('ArrowRight', true));
    expect(st().cursor).toBe(499 + Math.round(work.log.length / 100));
    handleKey(st(), key('Home'));
    expect(st().cursor).toBe(0);
    handleKey(st(), key('End'));
    expect(st().cursor).toBe(work.log.length);
    handleKey(st(), key('3'));
    expect(st().view).toBe('allocations');
    handleKey(st(), key('d'));
    expect(st().diffFrom).toBe(work.log.length);
    expect(handleKey(st(), key('x'))).toBe(false);
    st().setFilter({ name: 'tex', minSize: 1024 });
    expect(st().filter.name).toBe('tex');
    expect(st().filter.minSize).toBe(1024);
    st().setGroupBy('type');
    expect(st().groupBy).toBe('type');
    st().setRange({ start: -10, end: 1e9 });
    expect(st().range).toEqual({ start: 0, end: work.log.length });
  });
});
