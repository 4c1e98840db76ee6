// The API's per-allocation index over a source's events (AnalyzedSource's allocation table: allocate, free
// and rename events by allocation, ids to allocations through IdIndex): ids used again after a free,
// renames, ids that are no small integers, frees of unknown ids, and a stream that grows between queries.
import { describe, expect, test } from 'vitest';
import { EventLog } from '../../allocator/event-log.ts';
import { GrowingEvents, traceEventsOf } from '../../allocator/trace/index.ts';
import { reusableAllocateRecord } from '../../allocator/import/model.ts';
import type { AllocateEventFields } from '../../allocator/types.ts';
import { AnalyzedSource } from '../../src-main/api/analyzed-source.ts';
import { profileDescription } from '../support/profiles.ts';

function allocation(allocationId: number, name: string, size: number): AllocateEventFields {
  return { ...reusableAllocateRecord(), allocationId, blockId: 1, size, alignment: 256, name };
}

describe('allocation table', () => {
  test('an id used again names its latest allocation; each keeps its own free, name and history', () => {
    let now = 0;
    const log = new EventLog({ clock: () => (now += 1) });
    log.blockCreate({ blockId: 1, memoryTypeIndex: 0, size: 2 ** 30, dedicated: false });
    log.allocate(allocation(5, 'first', 100)); // event 1
    log.rename(5, 'first renamed'); // event 2
    log.free(5); // event 3
    log.allocate(allocation(5, 'second', 200)); // event 4: id 5 again
    log.allocate(allocation(2 ** 40, 'huge id', 300)); // event 5
    log.allocate(allocation(-3, 'negative id', 400)); // event 6
    log.free(77); // event 7: an id that was never allocated
    const events = traceEventsOf(log);
    const source = new AnalyzedSource({
      sourceId: 's',
      name: 'ids',
      device: profileDescription('lavapipe'),
      strategy: 'test',
      warnings: [],
      loadMs: 0,
      events: () => events,
    });
    const list = (status: 'all' | 'live' | 'freed'): string[] =>
      source
        .allocations({
          sourceId: 's',
          eventIndex: log.length,
          filter: { status },
          sort: { key: 'allocatedAt', dir: 'asc' },
          offset: 0,
          limit: 100,
        })
        .rows.map((r) => `${r.id}:${r.name}:${r.size}`);
    expect(list('all')).toEqual([
      '5:first renamed:100',
      '5:second:200',
      `${2 ** 40}:huge id:300`,
      '-3:negative id:400',
    ]);
    expect(list('freed')).toEqual(['5:first renamed:100']);
    expect(list('live')).toEqual(['5:second:200', `${2 ** 40}:huge id:300`, '-3:negative id:400']);

    const detail = source.detail({ sourceId: 's', allocationId: 5 });
    expect(detail.history.map((h) => h.kind)).toEqual(['allocate']);
    expect(detail.allocation.size).toBe(200);
    expect(source.detail({ sourceId: 's', allocationId: 2 ** 40 }).allocation.name).toBe('huge id');
    expect(source.detail({ sourceId: 's', allocationId: -3 }).allocation.size).toBe(400);
    expect(() => source.detail({ sourceId: 's', allocationId: 77 })).toThrow(/not found|No /i);
  });

  test('a stream that grows: the table is extended by the new events, past its first capacity', () => {
    let now = 0;
    const log = new EventLog({ clock: () => (now += 1) });
    log.blockCreate({ blockId: 1, memoryTypeIndex: 0, size: 2 ** 30, dedicated: false });
    // The events as a live source has them: one object, appended to (as the trace worker's liveAppend).
    const events = new GrowingEvents();
    let shipped = 0;
    let shippedStrings = 0;
    const ship = (): void => {
      events.append({
        start: shipped,
        columns: log.slice(shipped, log.length),
        stringsStart: shippedStrings,
        strings: log.strings.strings.slice(shippedStrings),
        decisions: [],
      });
      shipped = log.length;
      shippedStrings = log.strings.size;
    };
    const source = new AnalyzedSource({
      sourceId: 'g',
      name: 'growing',
      device: profileDescription('lavapipe'),
      strategy: 'test',
      warnings: [],
      loadMs: 0,
      events: () => events,
    });
    const count = (status: 'live' | 'freed'): number =>
      source.allocations({
        sourceId: 'g',
        eventIndex: events.length,
        filter: { status },
        sort: { key: 'id', dir: 'asc' },
        offset: 0,
        limit: 1,
      }).total;
    for (let id = 1; id <= 1500; id++) log.allocate(allocation(id, `a${id}`, 64));
    ship();
    expect(count('live')).toBe(1500);
    for (let id = 1; id <= 3000; id++) {
      if (id > 1500) log.allocate(allocation(id, `a${id}`, 64));
      if (id % 2 === 0) log.free(id);
    }
    ship();
    expect(count('live')).toBe(1500);
    expect(count('freed')).toBe(1500);
    expect(source.detail({ sourceId: 'g', allocationId: 2999 }).allocation.name).toBe('a2999');
    expect(source.detail({ sourceId: 'g', allocationId: 3000 }).history.map((h) => h.kind)).toEqual([
      'allocate',
      'free',
    ]);
  });
});
