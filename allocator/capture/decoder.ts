// The whole capture pipeline in one object: stream bytes in (any chunking) -> records -> call order ->
// trace events in one EventLog per VkDevice. Used by `vramscope capture` (socket), by tests, and for
// capture files written with VRAMSCOPE_CAPTURE_FILE.
import { CaptureMapper, type CaptureMapperOptions } from './mapper.ts';
import { SequenceOrderer } from './ordering.ts';
import { CaptureStreamReader } from './stream-reader.ts';

export class CaptureDecoder {
  readonly reader = new CaptureStreamReader();
  readonly orderer = new SequenceOrderer();
  readonly mapper: CaptureMapper;
  private headerSeen = false;
  private ended = false;

  constructor(options: CaptureMapperOptions = {}) {
    this.mapper = new CaptureMapper(options);
  }

  /** Feeds bytes; events for the records released so far are in the tracks' logs afterwards. */
  push(chunk: Uint8Array): void {
    const records = this.reader.push(chunk);
    if (!this.headerSeen && this.reader.header !== null) {
      this.headerSeen = true;
      this.mapper.header(this.reader.header);
    }
    this.mapper.map(this.orderer.push(records));
  }

  /** The stream is over: maps what is still held and returns every warning (empty for a clean capture). */
  end(): string[] {
    if (this.ended) throw new Error('CaptureDecoder.end called twice');
    this.ended = true;
    const warnings = [...this.reader.end()];
    this.mapper.map(this.orderer.end());
    const p = this.mapper.process;
    if (this.reader.header !== null && !p.endedCleanly)
      warnings.push(
        'the application did not exit cleanly (no ProcessEnd record: killed, crashed or _exit); the capture holds what the layer sent until then',
      );
    if (p.recordsDropped > 0)
      warnings.push(
        `the layer dropped ${p.recordsDropped} records (its buffers overflowed); the trace misses them`,
      );
    warnings.push(...this.mapper.notes);
    if (this.mapper.recordsWithoutDevice > 0)
      warnings.push(
        `${this.mapper.recordsWithoutDevice} records named a VkDevice the capture never saw created`,
      );
    return warnings;
  }
}
