// Trace I/O for the main process, the CLI and workers: write (TraceWriter / TraceRecorder), read (loadTrace),
// headers. The format itself and analysis are pure: allocator/trace/ and allocator/analysis/.
export { TraceWriter, type TraceWriterOptions } from './writer.ts';
export {
  TraceRecorder,
  startRecording,
  type TraceRecorderOptions,
  type RecordableAllocator,
} from './recorder.ts';
export { loadTrace, loadTraceSync, type LoadTraceOptions, type TraceInput } from './reader.ts';
export { fileTraceBytes, TraceFileShrankError } from './file-bytes.ts';
export { openTrace, type OpenedTrace } from './open.ts';
export { createTraceHeader, toolVersion, type TraceHeaderInit } from './header.ts';
export { nodeDeflate, nodeInflate } from './codec.ts';
export {
  TraceFormatError,
  traceEventsOf,
  type LoadedTrace,
  type LoadedEvents,
  type TraceWarning,
  type DecodeProgress,
  type TraceHeader,
  type TraceEvents,
} from '../../allocator/trace/index.ts';
