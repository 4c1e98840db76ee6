// Captured applications (docs/capture.md): the layer's stream format, its incremental reader, call-order
// reassembly and the mapping to trace events. Pure: no Node APIs.
export * from './stream-format.ts';
export * from './stream-reader.ts';
export * from './ordering.ts';
export * from './mapper.ts';
export * from './vulkan-names.ts';
export * from './decoder.ts';
