// @vitest-environment happy-dom
// The inspector's zustand slices over a real in-memory source: connecting, the cursor and its snapshot,
// selection with the decision record, bad files, view settings and keyboard bindings.
import { describe, expect, test } from 'vitest';
import { MemorySource } from '../../src-renderer/data/memory-source.ts';
import { handleKey } from '../../src-renderer/keyboard.ts';
import { createInspectorStore } from '../../src-renderer/store/store.ts';
import type { InspectorStore } from '../../src-renderer/store/store.ts';
import { buildWorkload } from '../support/ui-trace.ts';

const work = buildWorkload({ ops: 3000, seed: 3, frameEvery: 250 });

async function connected(): Promise<{ store: InspectorStore; source: MemorySource }> {
  const store = createInspectorStore();
  const source = new MemorySource({ title: 'store-test', device: work.device, data: work.log });
  await store.getState().connect(source);
  return { store, source };
}

/** Lets pending promise callbacks (snapshot answers) run. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

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
    await settle();
    expect(store.getState().snapshot?.at).toBe(work.log.length);
    expect(store.getState().snapshot?.allocatedBytes).toBe(
      source.snapshotSync(work.log.length).allocatedBytes,
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
    await settle();
    expect(store.getState().snapshot?.at).toBe(1000);
    expect(store.getState().snapshot?.committedBytes).toBe(source.snapshotSync(1000).committedBytes);
  });

  test('selecting an allocation fetches its decision record; an unknown id says so', async () => {
    const { store } = await connected();
    await store.getState().select(2);
    const sel = store.getState().selected;
    expect(sel?.allocation.id).toBe(2);
    expect(sel?.decision?.winner).toBe(sel?.allocation.memoryTypeIndex);
    await store.getState().select(987654);
    expect(store.getState().selected).toBeNull();
    expect(store.getState().detailError).toBe('Allocation 987654 is not in this trace.');
    await store.getState().select(null);
    expect(store.getState().selectedId).toBeNull();
  });

  test('opening bytes the source cannot decode leaves one clear error and the old trace', async () => {
    const { store } = await connected();
    await store.getState().openTrace('broken.trace', new Uint8Array([1, 2, 3]));
    const err = store.getState().loadError;
    expect(err?.name).toBe('broken.trace');
    expect(err?.message).toMatch(/^Cannot open "broken.trace"/);
    expect(store.getState().loading).toBeNull();
    expect(store.getState().overview?.eventCount).toBe(work.log.length);
    store.getState().dismissLoadError();
    expect(store.getState().loadError).toBeNull();
  });

  test('a live trace that grows keeps a cursor at the end at the end', async () => {
    const log = buildWorkload({ ops: 200, seed: 9 }).log;
    const store = createInspectorStore();
    const source = new MemorySource({ title: 'live', device: work.device, data: log, live: true });
    await store.getState().connect(source);
    const before = log.length;
    expect(store.getState().cursor).toBe(before);
    log.mark('more');
    log.mark('again');
    source.refresh();
    expect(store.getState().overview?.eventCount).toBe(before + 2);
    expect(store.getState().cursor).toBe(before + 2);
    store.getState().setCursor(10);
    log.mark('third');
    source.refresh();
    expect(store.getState().cursor).toBe(10);
  });

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
