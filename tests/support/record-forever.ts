// Child process of the crash-safety test: records a deterministic event stream into a trace until killed.
// Events come in groups of four: blockCreate(g), allocate(2g) and allocate(2g + 1) in block g, free(2g).
// Prints "recording" once the first flush has reached the file.
import { EventLog } from '../../allocator/event-log.ts';
import { AllocationKind } from '../../allocator/types.ts';
import { TraceRecorder } from '../../src-main/trace/recorder.ts';
import { testHeader } from './trace-fixtures.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: record-forever.ts <trace>');
const log = new EventLog();
const recorder = new TraceRecorder({ path: file, header: testHeader(), log, maxEventsPerChunk: 4096 });
let group = 0;
let announced = false;
for (;;) {
  for (let k = 0; k < 250; k++, group++) {
    log.blockCreate({ blockId: group, memoryTypeIndex: 1, size: 1 << 20, dedicated: false });
    log.allocate({
      allocationId: 2 * group,
      blockId: group,
      memoryTypeIndex: 1,
      offset: 0,
      size: 256,
      alignment: 256,
      kind: AllocationKind.Linear,
      location: 'GpuOnly',
      name: `a${group % 100}`,
      decisionId: -1,
      usedRetry: false,
      stack: 'child.ts:1',
    });
    log.allocate({
      allocationId: 2 * group + 1,
      blockId: group,
      memoryTypeIndex: 1,
      offset: 256,
      size: 512,
      alignment: 256,
      kind: AllocationKind.Linear,
      location: 'GpuOnly',
      name: `b${group % 100}`,
      decisionId: -1,
      usedRetry: false,
      stack: null,
    });
    log.free(2 * group);
    recorder.tick();
  }
  if (!announced && recorder.writer.eventsWritten > 0) {
    announced = true;
    process.stdout.write('recording\n');
  }
  await new Promise((resolve) => setTimeout(resolve, 2));
}
