// endState / EndStateReplay: what is live at the end of a log, for ids an importer numbers densely and for
// ids of any other form (large, negative, fractional: kept apart, same answers), replayed at once or in steps.
import { describe, expect, test } from 'vitest';
import { EventLog } from '../../allocator/event-log.ts';
import { EndStateReplay, endState } from '../../allocator/import/end-state.ts';
import { reusableAllocateRecord } from '../../allocator/import/model.ts';

/** A log with two memory types: blocks and allocations by the given ids, some freed, one free unknown. */
function logWith(ids: readonly number[]): EventLog {
  const log = new EventLog({ clock: () => 0 });
  log.blockCreate({ blockId: ids[0]!, memoryTypeIndex: 0, size: 1000, dedicated: false });
  log.blockCreate({ blockId: ids[1]!, memoryTypeIndex: 1, size: 3000, dedicated: false });
  log.blockCreate({ blockId: ids[2]!, memoryTypeIndex: 1, size: 5000, dedicated: false });
  log.blockDestroy(ids[2]!);
  const record = reusableAllocateRecord();
  for (const [k, id] of ids.entries()) {
    record.allocationId = id;
    record.blockId = ids[k % 2]!;
    record.memoryTypeIndex = k % 2;
    record.size = 10 * (k + 1);
    log.allocate(record);
  }
  log.free(ids[0]!); // size 10, type 0
  log.free(ids[3]!); // size 40, type 1
  log.free(7.5); // never allocated
  log.blockDestroy(-3); // never created
  return log;
}

describe('end state', () => {
  for (const [name, ids] of [
    ['dense ids', [1, 2, 3, 4, 5, 6]],
    ['large, negative and fractional ids', [2 ** 40, 5_000_000, -2, 0.25, 2 ** 24, 2 ** 24 - 1]],
  ] as const) {
    test(`${name}: totals per type, unknown ids counted, the same replayed in steps`, () => {
      const log = logWith(ids);
      const end = endState(log);
      // Blocks: 1000 (type 0) and 3000 (type 1) live. Allocations 20, 30, 50, 60 live (10 and 40 freed).
      expect(end.totals).toEqual({ blocks: 2, blockBytes: 4000, allocations: 4, allocatedBytes: 160 });
      expect(end.perType[0]).toEqual({ blocks: 1, blockBytes: 1000, allocations: 2, allocatedBytes: 80 });
      expect(end.perType[1]).toEqual({ blocks: 1, blockBytes: 3000, allocations: 2, allocatedBytes: 80 });
      expect(end.unknownIds).toBe(2);
      const replay = new EndStateReplay();
      for (let upTo = 0; upTo <= log.length; upTo += 2) replay.advance(log.columns, upTo);
      replay.advance(log.columns, log.length);
      expect(replay.result()).toEqual(end);
    });
  }
});
