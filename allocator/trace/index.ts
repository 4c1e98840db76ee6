// Trace format v1 (docs/trace-format.md): pure encoder/decoder; compression is injected by the host.
export * from './format.ts';
export * from './events.ts';
export * from './growing-events.ts';
export { ByteReader, ByteWriter, ByteFault } from './bytes.ts';
export { crc32 } from './crc32.ts';
export {
  TraceEncoder,
  frameRecord,
  encodePreambleAndHeader,
  type Deflate,
  type ChunkIndexEntry,
  type TraceEncoderOptions,
} from './encoder.ts';
export {
  TraceDecoder,
  decodeTrace,
  decodeTraceAsync,
  type AsyncInflate,
  type AsyncDecodeOptions,
  type Inflate,
  type TraceWarning,
  type LoadedEvents,
  type LoadedTrace,
  type DecodeOptions,
  type DecodeProgress,
} from './decoder.ts';
export { webInflate } from './web-inflate.ts';
export { memoryTraceBytes, type TraceBytes } from './trace-bytes.ts';
