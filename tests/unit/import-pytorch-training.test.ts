// The PyTorch importer on snapshots of a modelled training loop (scripts/pytorch-training-snapshot.ts):
// requested sizes in the trace, rounded block sizes in the segments, several streams, segments given back.
// A consistent snapshot must import without a warning; one whose trace and segments disagree must warn.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { endState, importSource } from '../../allocator/import/index.ts';
import { Writable } from 'node:stream';
import { main } from '../../src-main/cli/main.ts';
import { fileSource } from '../../src-main/import/file-source.ts';
import { writeImportedTrace } from '../../src-main/import/write-imported.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { TraceEventKind } from '../../allocator/event-log.ts';
import { PickleStreamReader, type PickleValue } from '../../allocator/import/pickle.ts';
import { eventRows } from '../support/import-fixtures.ts';
import {
  EntryAction,
  STREAMS,
  simulateTraining,
  snapshotTotals,
  writeTrainingJson,
  writeTrainingPickle,
  type Block,
  type TrainingSnapshot,
} from '../../scripts/pytorch-training-snapshot.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-training-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
async function importSnapshot(s: TrainingSnapshot, options: { requestedSize?: boolean } = {}) {
  const file = path.join(dir, `s${fileNo++}.pickle`);
  writeTrainingPickle(file, s, options);
  return importSource(await fileSource(file));
}

function liveBlocks(s: TrainingSnapshot): Block[] {
  const out: Block[] = [];
  for (const seg of s.segments)
    for (let b: Block | null = seg.first; b; b = b.next) if (b.allocated) out.push(b);
  return out;
}

describe('PyTorch snapshots of a training loop', () => {
  const small = { entries: 6000, layers: 2, hidden: 128, batch: 2 };

  test('the generated snapshot really has requests smaller than their rounded blocks', () => {
    const s = simulateTraining(small);
    const t = snapshotTotals(s);
    expect(t.requestedBytes).toBeLessThan(t.allocatedBytes);
    const streams = new Set(Array.from(s.trace.stream.subarray(0, s.trace.length)));
    expect(streams.size).toBe(3);
    expect(Array.from(s.trace.action.subarray(0, s.trace.length))).toContain(EntryAction.SegmentFree);
  });

  for (const requestedSize of [true, false]) {
    test(`a consistent snapshot imports without a warning (${requestedSize ? 'with' : 'without'} requested_size)`, async () => {
      const s = simulateTraining(small);
      const r = await importSnapshot(s, { requestedSize });
      expect(r.warnings).toEqual([]);
      const t = snapshotTotals(s);
      expect(r.totals).toEqual({
        blocks: t.blocks,
        blockBytes: t.blockBytes,
        allocations: t.allocations,
        allocatedBytes: t.allocatedBytes,
      });
      // The timeline ends with every live block, at the requested sizes the trace recorded.
      const end = endState(r.log);
      expect(end.unknownIds).toBe(0);
      expect(end.totals).toEqual({ ...r.totals, allocatedBytes: t.requestedBytes });
      expect(end.totals).toEqual(r.timelineEnd);
    });
  }

  test('allocations and segments keep their CUDA address and stream, through the written trace', async () => {
    const s = simulateTraining(small);
    const r = await importSnapshot(s);
    const file = path.join(dir, 'placed.trace');
    writeImportedTrace(r, file);
    const { events } = loadTraceSync(file);
    const c = events.columns;
    // Every (address, stream) the generator recorded for an alloc entry, and every segment address.
    const recorded = new Set<string>();
    for (let i = 0; i < s.trace.length; i++)
      if (s.trace.action[i] === EntryAction.Alloc) recorded.add(`${s.trace.addr[i]}@${s.trace.stream[i]}`);
    const blockAddress = new Map<number, number>();
    const streams = new Set<number>();
    let allocations = 0;
    for (let i = 0; i < events.length; i++) {
      if (c.kind[i] === TraceEventKind.BlockCreate) {
        expect(c.address[i]).toBeGreaterThan(0);
        blockAddress.set(c.id[i]!, c.address[i]!);
      } else if (c.kind[i] === TraceEventKind.Allocate) {
        allocations++;
        // The address is the block's address plus the offset, and a stream is recorded (stored + 1).
        expect(c.address[i]).toBe(blockAddress.get(c.block[i]!)! + c.offset[i]!);
        expect(c.stream[i]).toBeGreaterThan(0);
        const stream = c.stream[i]! - 1;
        streams.add(stream);
        // Allocations made during the trace are the generator's own (address, stream) pairs.
        if (c.time[i]! > 0) expect(recorded.has(`${c.address[i]}@${stream}`)).toBe(true);
      }
    }
    expect(allocations).toBeGreaterThan(1000);
    expect([...streams].sort((a, b) => a - b)).toEqual(Object.values(STREAMS).sort((a, b) => a - b));
  });

  test('stacks="python": the events and stacks of its JSON form, every entry read with a list id', async () => {
    // Allocations without Python frames (backward, NCCL) have an empty frames list, one of its own per
    // entry in the pickle; the alloc entry of a live block reads that block's frames list back by memo
    // reference. JSON has neither: every entry writes its own list.
    const s = simulateTraining({ ...small, stacks: 'python' });
    const pickle = path.join(dir, 'python.pickle');
    const json = path.join(dir, 'python.json');
    writeTrainingPickle(pickle, s);
    writeTrainingJson(json, s);
    const fromPickle = await importSource(await fileSource(pickle));
    const fromJson = await importSource(await fileSource(json));
    expect(fromPickle.header.importedFrom.version).toBe('pickle-4');
    expect(fromJson.header.importedFrom.version).toBe('json');
    expect(fromPickle.warnings).toEqual([]);
    const rows = eventRows(fromPickle);
    expect(rows.length).toBeGreaterThan(s.trace.length / 2);
    expect(rows).toEqual(eventRows(fromJson));
    // The reader as the importer runs it: the entries take the fast path, and their frames lists (empty
    // ones included) come with a list id, the importer's stack cache key.
    let records = 0;
    let withId = 0;
    let empty = 0;
    let emptyWithId = 0;
    const reader = new PickleStreamReader({
      referencedMemo: 'prune-streamed',
      internReferenceLists: true,
      streamItems: (p) =>
        (p.length === 1 && p[0] === 'segments') || (p.length === 2 && p[0] === 'device_traces'),
      maxPathLength: 2,
      onItem: () => {},
      record: {
        lists: (p) => p[0] === 'device_traces',
        fields: ['frames'],
        onRecord: (_p, _i, rec) => {
          records++;
          const hasId = rec.listId[0]! >= 0;
          if (hasId) withId++;
          if ((rec.get(0) as PickleValue[]).length === 0) {
            empty++;
            if (hasId) emptyWithId++;
          }
        },
      },
    });
    reader.feed(new Uint8Array(readFileSync(pickle)));
    reader.end();
    expect(records).toBe(reader.fastItemsRead);
    expect(records).toBeGreaterThan(s.trace.length * 0.99);
    expect(empty).toBeGreaterThan(records / 4);
    expect(emptyWithId).toBe(empty);
    expect(withId).toBeGreaterThan(records * 0.99);
  });

  test('a snapshot whose requested_size disagrees with the trace still warns', async () => {
    const s = simulateTraining(small);
    liveBlocks(s)[0]!.requested += 8;
    const r = await importSnapshot(s);
    expect(r.warnings.join('\n')).toMatch(/does not lead to the segments snapshot: 2 blocks\/allocations/);
    // The timeline is put right: it ends with the snapshot's requested sizes.
    expect(endState(r.log).totals.allocatedBytes).toBe(snapshotTotals(s).requestedBytes);
  });

  test('an allocation live in the trace but not in the snapshot still warns', async () => {
    const s = simulateTraining(small);
    liveBlocks(s)[1]!.allocated = false;
    const r = await importSnapshot(s);
    expect(r.warnings.join('\n')).toMatch(/does not lead to the segments snapshot: 1 blocks\/allocations/);
  });

  test('without requested_size, a block smaller than the traced request still warns', async () => {
    const s = simulateTraining(small);
    const b = liveBlocks(s).find((x) => x.size >= 1024)!;
    b.size = 512; // the request recorded in the trace no longer fits the block
    const r = await importSnapshot(s, { requestedSize: false });
    expect(r.warnings.join('\n')).toMatch(/does not lead to the segments snapshot/);
  });

  test('report groups the leaks by the innermost user frame, and --stacks shows Python first, C++ folded', async () => {
    const s = simulateTraining(small);
    const r = await importSnapshot(s);
    const trace = path.join(dir, 'leaks.trace');
    writeImportedTrace(r, trace);
    let text = '';
    const stdout = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    const code = await main(['report', trace, '--stacks'], { stdout, stderr: stdout, cwd: dir });
    expect(code).toBe(0);
    const leaks = text.slice(text.indexOf('by origin:'));
    // Adam's state is the biggest group; its origin is the Python frame that allocated it.
    expect(leaks).toMatch(
      /by origin:\n {4}\/usr\/lib\/python3\.11\/site-packages\/torch\/optim\/adam\.py:138 _init_group: \d+ allocations/,
    );
    expect(leaks).toMatch(/ {8}\/workspace\/train\.py:141 train_step\n/);
    expect(leaks).toMatch(
      / {8}\[\d+ C\+\+ frames folded: \d+ native, \d+ allocator, \d+ interpreter\/runtime\]/,
    );
    // No raw C++ allocator frame is printed as an origin.
    expect(leaks.split('by name:')[0]).not.toContain('CUDACachingAllocator');
  });
});
