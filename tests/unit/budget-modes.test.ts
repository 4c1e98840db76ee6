// Heap budgets made visible: a session's emulated heap budget (HeapLimitedDevice.setHeapBudget), the three
// budget modes as the event stream records them (flagged budget samples), and what the analysis and the API
// make of them (budget line, budget markers, the allocation row that says a retry was the budget's doing).
import { describe, expect, test } from 'vitest';
import {
  AllocationError,
  createSimulatedDevice,
  FlagBits,
  TraceEventKind,
  type AllocationCreateDesc,
  type BudgetMode,
} from '../../allocator/index.ts';
import { analyzeTrace } from '../../allocator/analysis/index.ts';
import { traceEventsOf } from '../../allocator/trace/index.ts';
import { AnalyzedSource } from '../../src-main/api/analyzed-source.ts';
import { HeapLimitedDevice } from '../../src-main/session/heap-limit.ts';
import { Session } from '../../src-main/session/session.ts';
import { profileDescription } from '../support/profiles.ts';

const MiB = 1024 * 1024;

function chunk(i: number, location: AllocationCreateDesc['location'] = 'CpuToGpu'): AllocationCreateDesc {
  return {
    name: `chunk-${i}`,
    requirements: { size: 16 * MiB, alignment: 256, memoryTypeBits: 0xffffffff },
    location,
    linear: true,
    stack: `test:chunk-${i}`,
  };
}

interface Flagged {
  index: number;
  heap: number;
  budget: number;
  usage: number;
  flags: number;
}

function flaggedSamples(session: Session): Flagged[] {
  const c = session.log.columns;
  const out: Flagged[] = [];
  for (let i = 0; i < session.log.length; i++) {
    if (c.kind[i] !== TraceEventKind.BudgetSample || c.flags[i] === 0) continue;
    out.push({ index: i, heap: c.id[i]!, budget: c.offset[i]!, usage: c.size[i]!, flags: c.flags[i]! });
  }
  return out;
}

/** 20 chunks of 16 MiB in `location` memory with heap 0's budget at 128 MiB; returns the session, open. */
function fill(
  profile: 'h100' | 'lavapipe',
  budget: BudgetMode,
): { session: Session; failures: AllocationError[] } {
  const session = new Session({ device: createSimulatedDevice(profileDescription(profile)), budget });
  session.device.setHeapBudget(0, 128 * MiB);
  session.sampleBudgets();
  const failures: AllocationError[] = [];
  for (let i = 0; i < 20; i++) {
    try {
      session.allocate(chunk(i));
    } catch (error) {
      if (!(error instanceof AllocationError)) throw error;
      failures.push(error);
    }
  }
  return { session, failures };
}

describe('HeapLimitedDevice.setHeapBudget', () => {
  test('reports the emulated budget with the session’s own blocks as usage, and never fails a block', () => {
    const device = new HeapLimitedDevice(createSimulatedDevice(profileDescription('h100')));
    device.setHeapBudget(0, 32 * MiB);
    const a = device.allocateBlock({ memoryTypeIndex: 1, size: 64 * MiB, deviceAddress: false, map: false });
    expect(device.budgets()?.find((b) => b.heapIndex === 0)).toEqual({
      heapIndex: 0,
      budget: 32 * MiB,
      usage: 64 * MiB,
    });
    // Heap 1 keeps the device's budget.
    expect(device.budgets()?.find((b) => b.heapIndex === 1)?.budget).toBeGreaterThan(32 * MiB);
    device.setHeapBudget(0, null);
    expect(device.budgets()?.find((b) => b.heapIndex === 0)?.budget).toBeGreaterThan(32 * MiB);
    device.freeBlock(a);
    expect(() => device.setHeapBudget(9, 1)).toThrow(/heap 9 does not exist/);
    expect(() => device.setHeapBudget(0, -1)).toThrow(/safe integer/);
  });
});

describe('budget modes in the event stream', () => {
  test('ignore: blocks go past the budget with no flag', () => {
    const { session, failures } = fill('h100', 'ignore');
    expect(failures).toEqual([]);
    expect(session.device.heapUsage(0)).toBeGreaterThan(128 * MiB);
    expect(flaggedSamples(session)).toEqual([]);
    expect(session.state().budgetCrossings).toBe(0);
    session.close();
  });

  test('warn: the block that pushes the heap past its budget is followed by a sample flagged crossed', () => {
    const { session, failures } = fill('h100', 'warn');
    expect(failures).toEqual([]);
    const flagged = flaggedSamples(session);
    expect(flagged.length).toBeGreaterThan(0);
    const c = session.log.columns;
    for (const f of flagged) {
      expect(f.flags).toBe(FlagBits.budgetCrossed);
      expect(f.heap).toBe(0);
      expect(f.usage).toBeGreaterThan(f.budget);
      // Right after the block it is about.
      expect(c.kind[f.index - 1]).toBe(TraceEventKind.BlockCreate);
    }
    expect(session.state().budgetCrossings).toBe(flagged.length);
    session.close();
  });

  test('strict on the H100: requests past the budget take the fallback type, each after a refusal', () => {
    const { session, failures } = fill('h100', 'strict');
    expect(failures).toEqual([]);
    // Heap 0 never goes past its budget.
    expect(session.device.heapUsage(0)).toBeLessThanOrEqual(128 * MiB);
    const c = session.log.columns;
    const refusals = flaggedSamples(session);
    expect(refusals.length).toBeGreaterThan(0);
    for (const f of refusals) expect(f.flags).toBe(FlagBits.budgetRefused);
    let retried = 0;
    for (let i = 0; i < session.log.length; i++) {
      if (c.kind[i] !== TraceEventKind.Allocate) continue;
      if ((c.flags[i]! & FlagBits.usedRetry) === 0) {
        expect(c.type[i]).toBe(4); // ReBAR (DEVICE_LOCAL | HOST_VISIBLE), heap 0
        continue;
      }
      retried++;
      expect(c.type[i]).toBe(2); // HOST_VISIBLE | HOST_COHERENT, heap 1
    }
    expect(retried).toBe(20 - 128 / 16);

    // The API's allocation row says the retry was the budget's doing; the timeline draws the budget line
    // (128 MiB from the emulation on) and flags each refusal.
    const source = new AnalyzedSource({
      sourceId: 's',
      name: 'strict',
      device: session.device.description,
      strategy: 'tlsf',
      warnings: [],
      loadMs: 0,
      events: () => traceEventsOf(session.log),
    });
    const rows = source.allocations({
      sourceId: 's',
      eventIndex: session.log.length,
      filter: { status: 'all' },
      sort: { key: 'id', dir: 'asc' },
      offset: 0,
      limit: 100,
    }).rows;
    const fellBack = rows.filter((r) => r.usedRetry);
    expect(fellBack).toHaveLength(retried);
    for (const r of fellBack)
      expect(r.budgetRefusal).toEqual({ heapIndex: 0, budget: 128 * MiB, usage: 144 * MiB });
    for (const r of rows.filter((x) => !x.usedRetry)) expect(r.budgetRefusal).toBeNull();
    const t = source.timeline({
      sourceId: 's',
      buckets: 50,
      groupBy: 'heap',
      maxMarkers: 1000,
      boundariesOnly: false,
    });
    const heap0 = t.budgets.find((b) => b.heapIndex === 0);
    expect(heap0?.points.at(-1)?.budget).toBe(128 * MiB);
    expect(t.markers.filter((m) => m.kind === 'budget')).toHaveLength(refusals.length);
    session.close();
  });

  test('strict on lavapipe (one heap): the request fails with OutOfMemory naming the budget', () => {
    const { session, failures } = fill('lavapipe', 'strict');
    expect(failures).toHaveLength(20 - 128 / 16);
    for (const f of failures) {
      expect(f.code).toBe('OutOfMemory');
      expect(f.message).toMatch(/past its budget: usage 128\.00 MiB \+ 16\.00 MiB > budget 128\.00 MiB/);
    }
    expect(session.state().budgetRefusals).toBe(failures.length);
    const a = analyzeTrace(traceEventsOf(session.log), session.device.description);
    expect(a.summary.budgetRefusals).toBe(failures.length);
    expect(a.summary.budgetCrossings).toBe(0);
    session.close();
  });
});

describe('budget line in the analysis', () => {
  test('steps where the budget changes, and the value in force at the start of a range', () => {
    const session = new Session({ device: createSimulatedDevice(profileDescription('h100')) });
    const before = session.device.budgets()!.find((b) => b.heapIndex === 0)!.budget;
    session.frame();
    session.device.setHeapBudget(0, 64 * MiB);
    const changedAt = session.log.length;
    session.sampleBudgets();
    session.frame();
    session.device.setHeapBudget(0, null);
    const restoredAt = session.log.length;
    session.sampleBudgets();
    const a = analyzeTrace(traceEventsOf(session.log), session.device.description);
    expect(a.budgetHeaps).toEqual([0, 1]);
    expect(a.budgetLine(0, 0, session.log.length)).toEqual([
      { eventIndex: 0, budget: before },
      { eventIndex: changedAt, budget: 64 * MiB },
      { eventIndex: restoredAt, budget: before },
    ]);
    // From inside the 64 MiB stretch: the value in force first, then the change back.
    expect(a.budgetLine(0, changedAt + 1, session.log.length)).toEqual([
      { eventIndex: changedAt + 1, budget: 64 * MiB },
      { eventIndex: restoredAt, budget: before },
    ]);
    session.close();
  });
});
