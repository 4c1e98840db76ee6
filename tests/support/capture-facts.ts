// Checks that a captured trace holds every fact the layer's test program printed about itself
// (native/layer/test-app: its JSON report): devices, threads, every vkAllocateMemory, every buffer and
// image, and the call counts. Used on a live capture (tests/integration/capture-cli.test.ts) and on the
// stream recorded on an NVIDIA H200 (tests/unit/capture-fixture.test.ts).
import { expect } from 'vitest';
import { FlagBits, TraceEventKind } from '../../allocator/event-log.ts';
import type { LoadedTrace } from '../../allocator/trace/index.ts';

/** Every event of `kind` as a list of records built by `pick`. */
export function eventsOf<T>(t: LoadedTrace, kind: number, pick: (i: number) => T): T[] {
  const out: T[] = [];
  for (let i = 0; i < t.events.length; i++) if (t.events.columns.kind[i] === kind) out.push(pick(i));
  return out;
}

export interface AppMemory {
  handle: string;
  size: number;
  typeIndex: number;
  name: string;
  dedicated: string;
  thread: number;
  freed: boolean;
  mapped: boolean;
}
export interface AppResource {
  kind: 'buffer' | 'image';
  handle: string;
  size: number;
  usage: number;
  format: number;
  tiling: number;
  width: number;
  height: number;
  memory: string | null;
  offset: number;
  name: string;
  thread: number;
  destroyed: boolean;
}
export interface AppReport {
  device: { name: string; heapCount: number; typeCount: number };
  memory: AppMemory[];
  resources: AppResource[];
  counts: Record<string, number>;
  threads: { count: number; tids: number[] };
  pid: number;
}

export function checkDeviceAndThreads(app: AppReport, trace: LoadedTrace): void {
  expect(trace.warnings).toEqual([]);
  expect(trace.header.device.name).toBe(app.device.name);
  expect(trace.header.device.heaps).toHaveLength(app.device.heapCount);
  expect(trace.header.device.types).toHaveLength(app.device.typeCount);
  expect(trace.header.capture?.pid).toBe(app.pid);
  const threads = new Set(trace.events.columns.thread);
  for (const tid of app.threads.tids) expect(threads.has(tid), `thread ${tid}`).toBe(true);
  expect(app.threads.count).toBe(8);
}

export function checkMemory(app: AppReport, trace: LoadedTrace): void {
  const c = trace.events.columns;
  const s = trace.events.strings;
  // Block ids by the handle in their first name ("VkDeviceMemory 0x…"); handles may be reused after a
  // free, so each handle maps to its blocks in creation order.
  const byHandle = new Map<string, number[]>();
  const names = new Map<number, string>();
  for (let i = 0; i < trace.events.length; i++) {
    if (c.kind[i] !== TraceEventKind.ObjectName || (c.flags[i]! & FlagBits.memory) === 0) continue;
    const name = s[c.name[i]!]!;
    const m = /^VkDeviceMemory (0x[0-9a-f]+)$/.exec(name);
    if (m && !names.has(c.id[i]!)) byHandle.set(m[1]!, [...(byHandle.get(m[1]!) ?? []), c.id[i]!]);
    names.set(c.id[i]!, name);
  }
  const created = new Map(eventsOf(trace, TraceEventKind.BlockCreate, (i) => [c.id[i]!, i] as const));
  const destroyed = new Set(eventsOf(trace, TraceEventKind.BlockDestroy, (i) => c.id[i]!));
  const mapped = new Set(eventsOf(trace, TraceEventKind.MemoryMap, (i) => c.id[i]!));
  expect(created.size).toBe(app.memory.length);
  const seen = new Map<string, number>();
  for (const m of app.memory) {
    const k = seen.get(m.handle) ?? 0;
    seen.set(m.handle, k + 1);
    const id = byHandle.get(m.handle)?.[k];
    expect(id, `block for ${m.handle}`).toBeDefined();
    const at = created.get(id!)!;
    expect([c.size[at], c.type[at], c.thread[at]], m.name).toEqual([m.size, m.typeIndex, m.thread]);
    expect((c.flags[at]! & FlagBits.dedicated) !== 0, m.name).toBe(m.dedicated !== '');
    expect(names.get(id!), m.handle).toBe(m.name);
    expect(destroyed.has(id!), m.name).toBe(m.freed);
    expect(mapped.has(id!), m.name).toBe(m.mapped);
  }
}

export function checkResources(app: AppReport, trace: LoadedTrace): void {
  const c = trace.events.columns;
  const s = trace.events.strings;
  const created = eventsOf(trace, TraceEventKind.ResourceCreate, (i) => i);
  expect(created).toHaveLength(app.resources.length);
  const finalName = new Map<number, string>();
  const bound = new Map<number, number>();
  const gone = new Set<number>();
  const blockHandle = new Map<number, string>();
  for (let i = 0; i < trace.events.length; i++) {
    const kind = c.kind[i];
    if (kind === TraceEventKind.Allocate) bound.set(c.id[i]!, i);
    if (kind === TraceEventKind.Allocate || kind === TraceEventKind.Rename)
      finalName.set(c.id[i]!, s[c.name[i]!]!);
    if (kind === TraceEventKind.ObjectName && (c.flags[i]! & FlagBits.memory) === 0)
      finalName.set(c.id[i]!, s[c.name[i]!]!);
    if (kind === TraceEventKind.ObjectName && (c.flags[i]! & FlagBits.memory) !== 0) {
      const m = /^VkDeviceMemory (0x[0-9a-f]+)$/.exec(s[c.name[i]!]!);
      if (m) blockHandle.set(c.id[i]!, m[1]!);
    }
    if (kind === TraceEventKind.Free || kind === TraceEventKind.ResourceDestroy) gone.add(c.id[i]!);
  }
  const byHandle = new Map<string, number[]>();
  for (const at of created) {
    const details = JSON.parse(s[c.message[at]!]!) as {
      handle: string;
      tiling?: number;
      extent?: number[];
    };
    byHandle.set(details.handle, [...(byHandle.get(details.handle) ?? []), at]);
  }
  const seen = new Map<string, number>();
  for (const r of app.resources) {
    const k = seen.get(r.handle) ?? 0;
    seen.set(r.handle, k + 1);
    const at = byHandle.get(r.handle)?.[k];
    expect(at, `${r.kind} ${r.handle}`).toBeDefined();
    const id = c.id[at!]!;
    const details = JSON.parse(s[c.message[at!]!]!) as { tiling?: number; extent?: number[] };
    expect((c.flags[at!]! & FlagBits.image) !== 0, r.name).toBe(r.kind === 'image');
    expect([c.usage[at!], c.thread[at!]], r.name).toEqual([r.usage, r.thread]);
    if (r.kind === 'buffer') expect(c.size[at!], r.name).toBe(r.size);
    else {
      expect(c.format[at!], r.name).toBe(r.format);
      expect(details.tiling, r.name).toBe(r.tiling);
      expect(details.extent?.slice(0, 2), r.name).toEqual([r.width, r.height]);
    }
    const b = bound.get(id);
    if (r.memory === null) expect(b, `${r.name} is not bound`).toBeUndefined();
    else {
      expect(b, `${r.name} is bound`).toBeDefined();
      expect(blockHandle.get(c.block[b!]!), r.name).toBe(r.memory);
      expect(c.offset[b!], r.name).toBe(r.offset);
    }
    expect(finalName.get(id) ?? s[c.name[at!]!], r.handle).toBe(r.name);
    expect(gone.has(id), r.name).toBe(r.destroyed);
  }
}

export function checkCounts(app: AppReport, trace: LoadedTrace): void {
  const count = (kind: number, pred: (i: number) => boolean = () => true): number =>
    eventsOf(trace, kind, (i) => i).filter(pred).length;
  const c = trace.events.columns;
  const image = (i: number): boolean => (c.flags[i]! & FlagBits.image) !== 0;
  const resourceIsImage = new Map(
    eventsOf(trace, TraceEventKind.ResourceCreate, (i) => [c.id[i]!, image(i)] as const),
  );
  expect(count(TraceEventKind.BlockCreate) + count(TraceEventKind.Failure)).toBe(app.counts.allocateMemory);
  expect(count(TraceEventKind.BlockDestroy)).toBe(app.counts.freeMemory);
  expect(count(TraceEventKind.ResourceCreate, (i) => !image(i))).toBe(app.counts.createBuffer);
  expect(count(TraceEventKind.ResourceCreate, image)).toBe(app.counts.createImage);
  const destroys = [
    ...eventsOf(trace, TraceEventKind.Free, (i) => c.id[i]!),
    ...eventsOf(trace, TraceEventKind.ResourceDestroy, (i) => c.id[i]!),
  ];
  expect(destroys.filter((id) => !resourceIsImage.get(id))).toHaveLength(app.counts.destroyBuffer);
  expect(destroys.filter((id) => resourceIsImage.get(id))).toHaveLength(app.counts.destroyImage);
  const binds = eventsOf(trace, TraceEventKind.Allocate, (i) => c.id[i]!);
  expect(binds.filter((id) => !resourceIsImage.get(id))).toHaveLength(app.counts.bindBuffer);
  expect(binds.filter((id) => resourceIsImage.get(id))).toHaveLength(app.counts.bindImage);
  expect(count(TraceEventKind.MemoryMap)).toBe(app.counts.mapMemory);
  expect(count(TraceEventKind.MemoryUnmap)).toBe(app.counts.unmapMemory);
  // Names the program set: renames of bound resources and names of blocks and unbound resources (the
  // handle names the capture gives each block first are not the program's).
  const s = trace.events.strings;
  const appNames =
    count(TraceEventKind.Rename) +
    count(TraceEventKind.ObjectName, (i) => !/^VkDeviceMemory 0x[0-9a-f]+$/.test(s[c.name[i]!]!));
  expect(appNames).toBe(app.counts.objectNames);
}
