/**
 * The VRAMscope API contract (DESIGN.md contract 4): every request between the UI and main, and every
 * event stream from main to the UI, declared once. Both transports carry exactly this:
 *
 * - Electron: the preload exposes `window.vramscope` ({@link PreloadBridge}); the renderer wraps it with
 *   `createIpcClient()` from `src-renderer/api/ipc-client.ts`.
 * - Web mode (`vramscope serve`): a WebSocket on 127.0.0.1; the renderer uses `createWsClient()` from
 *   `src-renderer/api/ws-client.ts`.
 *
 * Both give an {@link ApiClient}:
 *
 * ```ts
 * const api: ApiClient = createWsClient();            // or createIpcClient()
 * const { devices } = await api.request('listDevices', {});
 * const session = await api.request('openSession', { device: { kind: 'profile', name: 'nvidia-h100-80gb-hbm3' } });
 * const off = api.on('sessionEvents', (batch) => { ... });   // returns the unsubscribe function
 * await api.request('runScenario', { sessionId: session.sessionId, scenario: 'streaming', params: {} });
 * ```
 *
 * A failed request rejects with {@link ApiRequestError} (`code` is one of {@link apiErrorCodes}). Main
 * validates every request's params against the zod schemas below before anything reaches the engine.
 *
 * Units (everywhere in this file): sizes and offsets are bytes as safe integers; times are milliseconds
 * since the start of the session or trace (monotonic, fractional); an "event index" is the 0-based
 * position of an event in a source's event stream (allocator/event-log.ts), and a state "at index i"
 * means after events [0, i) have been applied (so i = 0 is the empty state and i = eventCount the end).
 *
 * Sources: every query names a `sourceId`: a loaded trace ("trace-N") or a live session's recording
 * ("session-N"; equal to its sessionId). Both answer the same queries.
 *
 * Events are batched: main sends at most ~30 messages per second (one wire frame carries every event
 * of one 34 ms tick), however fast the allocator runs. `sessionEvents` carries the new events of a live
 * session as typed-array columns (the EventLog layout), never one message per allocation.
 *
 * This module is free of Node and Electron imports: the renderer may import it at run time.
 */
import { z } from 'zod';

// In a page (the renderer) the CSP forbids eval; zod would probe `new Function` once to decide whether
// to compile its parsers, which the browser reports as a CSP violation. Main keeps the compiled parsers.
if (typeof document !== 'undefined') z.config({ jitless: true });

// ---- Primitives ----------------------------------------------------------------------------------------

/** Bytes (or a count): a non-negative safe integer. */
export const bytesSchema = z.int().nonnegative();
const countSchema = z.int().nonnegative();
const indexSchema = z.int().nonnegative();
/** Milliseconds (fractional), non-negative and finite. */
const msSchema = z.number().nonnegative().finite();
const idSchema = z.string().min(1).max(200);

/** A typed array of one class (any backing buffer). */
function typedArraySchema<T>(ctor: abstract new (...args: never[]) => T, name: string): z.ZodType<T> {
  return z.custom<T>((value) => value instanceof ctor, { message: `expected a ${name}` });
}
const u8 = typedArraySchema<Uint8Array>(Uint8Array, 'Uint8Array');
const i16 = typedArraySchema<Int16Array>(Int16Array, 'Int16Array');
const u32 = typedArraySchema<Uint32Array>(Uint32Array, 'Uint32Array');
const i32 = typedArraySchema<Int32Array>(Int32Array, 'Int32Array');
const f64 = typedArraySchema<Float64Array>(Float64Array, 'Float64Array');

export const memoryLocationSchema = z.enum(['Unknown', 'GpuOnly', 'CpuToGpu', 'GpuToCpu']);
export const strategySchema = z.enum(['tlsf', 'freelist']);
export const graphicsApiSchema = z.enum(['vulkan', 'd3d12', 'metal']);
export const deviceTypeSchema = z.enum(['discrete', 'integrated', 'virtual', 'cpu', 'other']);

// ---- Devices -------------------------------------------------------------------------------------------

/** Mirrors allocator/device.ts DeviceDescription. Flags are Vulkan bit masks (MemoryPropertyFlags). */
export const deviceDescriptionSchema = z.object({
  name: z.string(),
  api: graphicsApiSchema,
  deviceType: deviceTypeSchema,
  vendorId: z.int(),
  deviceId: z.int(),
  driverVersion: z.string(),
  apiVersion: z.string(),
  heaps: z.array(z.object({ index: indexSchema, size: bytesSchema, flags: z.int() })),
  types: z.array(
    z.object({
      index: indexSchema,
      propertyFlags: z.int(),
      heapIndex: indexSchema,
      heapKind: z.string().optional(),
      resourceCategory: z.enum(['buffer', 'rtvDsvTexture', 'otherTexture']).optional(),
    }),
  ),
  limits: z.object({
    bufferImageGranularity: bytesSchema,
    nonCoherentAtomSize: bytesSchema,
    maxMemoryAllocationCount: countSchema,
    maxMemoryAllocationSize: bytesSchema,
  }),
  extensions: z.object({
    memoryBudget: z.boolean(),
    dedicatedAllocation: z.boolean(),
    bufferDeviceAddress: z.boolean(),
  }),
  resourceHeapTier: z.union([z.literal(1), z.literal(2)]).optional(),
  source: z.string(),
});
export type DeviceDescriptionDto = z.infer<typeof deviceDescriptionSchema>;

export const heapBudgetSchema = z.object({ heapIndex: indexSchema, budget: bytesSchema, usage: bytesSchema });

/** A real Vulkan device the host offers (index = its position in vkEnumeratePhysicalDevices). */
export const deviceEntrySchema = z.object({
  index: indexSchema,
  description: deviceDescriptionSchema,
  budgets: z.array(heapBudgetSchema).nullable(),
});

/** A device profile the simulated device can be built from (assets/profiles/*.vulkaninfo.txt). */
export const profileEntrySchema = z.object({
  /** File name without ".vulkaninfo.txt", e.g. "nvidia-h100-80gb-hbm3". */
  name: z.string(),
  deviceName: z.string(),
});

/** Built-in heap models without a profile file. */
export const builtinModelSchema = z.enum(['d3d12-tier1', 'd3d12-tier2', 'metal']);

/** Where a session's device comes from. Default: the default real device (discrete > integrated > cpu). */
export const deviceChoiceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('vulkan'), index: indexSchema.optional() }),
  z.strictObject({ kind: z.literal('profile'), name: z.string().min(1).max(200) }),
  z.strictObject({ kind: z.literal('builtin'), model: builtinModelSchema }),
]);
export type DeviceChoice = z.infer<typeof deviceChoiceSchema>;

// ---- Sessions ------------------------------------------------------------------------------------------

export const debugSettingsSchema = z.strictObject({
  logMemoryInformation: z.boolean().optional(),
  logLeaksOnShutdown: z.boolean().optional(),
  storeStackTraces: z.boolean().optional(),
  logAllocations: z.boolean().optional(),
  logFrees: z.boolean().optional(),
  logStackTraces: z.boolean().optional(),
});

/** A block size in bytes: a positive safe integer. */
const memblockBytesSchema = z.int().positive();

/**
 * Bytes; gpu-allocator's AllocationSizes (each optional: the allocator's defaults apply, 256 MiB device and
 * 64 MiB host blocks). Like gpu-allocator, the allocator rounds each size up to a multiple of 4 MiB within
 * [4 MiB, 256 MiB] and says so in a `log` warning; the trace header records the sizes it used. A max below
 * its min is refused here.
 */
export const allocationSizesSchema = z
  .strictObject({
    deviceMemblockSize: memblockBytesSchema.optional(),
    hostMemblockSize: memblockBytesSchema.optional(),
    deviceMaxMemblockSize: memblockBytesSchema.optional(),
    hostMaxMemblockSize: memblockBytesSchema.optional(),
  })
  .refine(
    (s) =>
      s.deviceMaxMemblockSize === undefined ||
      s.deviceMaxMemblockSize >= (s.deviceMemblockSize ?? 256 * 1024 * 1024),
    {
      message: 'deviceMaxMemblockSize must be at least deviceMemblockSize (default 256 MiB)',
      path: ['deviceMaxMemblockSize'],
    },
  )
  .refine(
    (s) =>
      s.hostMaxMemblockSize === undefined ||
      s.hostMaxMemblockSize >= (s.hostMemblockSize ?? 64 * 1024 * 1024),
    {
      message: 'hostMaxMemblockSize must be at least hostMemblockSize (default 64 MiB)',
      path: ['hostMaxMemblockSize'],
    },
  );

export const sessionConfigSchema = z.strictObject({
  device: deviceChoiceSchema.default({ kind: 'vulkan' }),
  strategy: strategySchema.default('tlsf'),
  allocationSizes: allocationSizesSchema.optional(),
  debugSettings: debugSettingsSchema.optional(),
  /** Flag every block for buffer device addresses; the device must offer them (else InvalidRequest). */
  bufferDeviceAddress: z.boolean().optional(),
  /**
   * Heap budgets (VK_EXT_memory_budget) when a block is created: ignore, warn (default: a budget sample
   * past the budget in the event stream) or strict (the fallback memory type, else OutOfMemory).
   */
  budget: z.enum(['ignore', 'warn', 'strict']).optional(),
  /**
   * real (default on a vulkan device): each allocation creates its buffer/image, uses the driver's
   * requirements, binds it and destroys it on free; none (the only choice on a profile device, else
   * InvalidRequest): the scenario's sizes with every memory type allowed.
   */
  resources: z.enum(['real', 'none']).optional(),
  /**
   * Relocation before growth (tlsf only; default: on with tlsf, on every device): a request that fits no
   * free range while its memory type has the free bytes moves a few live allocations (move events) instead
   * of creating a block. The session owns every allocation, so it copies their bytes (on a real device with
   * vkCmdCopyBuffer, or through a HOST_CACHED mapping) and, with resources real, recreates each moved
   * allocation's buffer at its new place; allocations marked movable: false (images by default) stay.
   * false: allocate never moves anything. true with strategy freelist: InvalidRequest.
   */
  relocation: z.boolean().optional(),
  /**
   * Enable the Khronos validation layer (device.kind "vulkan" only, else InvalidRequest); its messages
   * arrive as `log` events of the session's runs.
   */
  validation: z.boolean().optional(),
});
export type SessionConfig = z.output<typeof sessionConfigSchema>;

export const runStateSchema = z.enum(['running', 'paused', 'finished', 'cancelled', 'failed']);
export type RunState = z.infer<typeof runStateSchema>;

export const runInfoSchema = z.object({
  runId: idSchema,
  sessionId: idSchema,
  scenario: z.string(),
  state: runStateSchema,
  /** Allocator operations done so far. */
  opsDone: countSchema,
  /** Set when state is "failed": one sentence, with file:line for script errors. */
  error: z.object({ message: z.string(), file: z.string().optional(), line: z.int().optional() }).optional(),
});
export type RunInfo = z.infer<typeof runInfoSchema>;

export const sessionInfoSchema = z.object({
  sessionId: idSchema,
  /** Queries on the session's recording use this id (equal to sessionId). */
  sourceId: idSchema,
  device: deviceDescriptionSchema,
  strategy: strategySchema,
  /** Events recorded so far. */
  eventCount: countSchema,
  run: runInfoSchema.nullable(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

// ---- Scenarios -----------------------------------------------------------------------------------------

export const scenarioParamSchema = z.object({
  name: z.string(),
  type: z.enum(['integer', 'number', 'boolean', 'string', 'file', 'choice']),
  description: z.string(),
  default: z.union([z.number(), z.string(), z.boolean()]).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  choices: z.array(z.string()).optional(),
});
export type ScenarioParam = z.infer<typeof scenarioParamSchema>;

export const scenarioMetaSchema = z.object({
  /** The name to run it by ("streaming", ...) or its file path for user scripts. */
  id: z.string(),
  name: z.string(),
  description: z.string(),
  builtin: z.boolean(),
  params: z.array(scenarioParamSchema),
});
export type ScenarioMeta = z.infer<typeof scenarioMetaSchema>;

const paramValueSchema = z.union([z.number().finite(), z.string().max(10_000), z.boolean()]);

// ---- Traces --------------------------------------------------------------------------------------------

/**
 * Largest raw file that may be sent as bytes in one loadTrace/importFile/uploadFile request. Bigger files
 * are opened through a file grant (see {@link fileIdSchema}) — the web transport's message limit is
 * {@link maxMessageBytes}.
 */
export const maxInlineTraceBytes = 48 * 1024 * 1024;
/** Largest single wire message either transport accepts (an inline trace + framing, even as base64). */
export const maxMessageBytes = 68 * 1024 * 1024;
/**
 * Longest name a client may give (a dropped file's name). Names are data: main escapes control
 * characters wherever it prints or writes one (allocator/text/printable.ts).
 */
export const maxNameLength = 255;

/**
 * A file main granted to clients (src-main/api/file-grants.ts): a sample trace, a file the user picked in
 * a main-process dialog, a trace given on the command line, or an upload. Clients never send paths; they
 * get fileIds from getState (samples, recent files), uploadFile, or the app (appCommand).
 */
export const fileIdSchema = z.string().regex(/^file-[A-Za-z0-9_-]{1,64}$/, {
  message: 'expected a fileId ("file-…") from getState or uploadFile; paths are not accepted',
});

/** A file by bytes (dropped or picked in the page). Its name is only shown, never used as a path. */
const inlineFileSchema = z.strictObject({
  kind: z.literal('bytes'),
  name: z.string().min(1).max(maxNameLength),
  /** The file's bytes (a Uint8Array; the web transport sends it as a binary frame: encodeBinaryFrame). */
  data: u8.refine((d) => d.byteLength <= maxInlineTraceBytes, {
    message: `inline data must be at most ${maxInlineTraceBytes} bytes; upload big files or open them in the app`,
  }),
});

// ---- Uploads: files of any size from the page, in chunks (issue 11) -------------------------------------
// beginUpload -> uploadChunk* (in order) -> finishUpload, which grants the file a fileId; then loadTrace /
// importFile with {kind: 'file', fileId}; cancelUpload at any point. Main writes the chunks to a private
// temporary file (src-main/api/uploads.ts), parses it from disk and deletes it once loaded (or cancelled,
// left idle, or at shutdown); a failed open keeps it so that another format can be tried. No message is
// much larger than a chunk: maxUploadChunkBytes, sent as raw bytes in one binary WebSocket message
// (encodeBinaryFrame) or structured-cloned over IPC, stays far below maxMessageBytes.
// uploadFile is the same in one message, for files up to maxInlineTraceBytes.
// To parse while the bytes still arrive, loadTrace / importFile take {kind: 'arriving', uploadId} right
// after beginUpload (no finishUpload): main reads the file as its chunks are written, waiting for the
// next ones, and answers once the last byte is parsed; the upload is then deleted like an opened one.
// cancelUpload (or the upload timing out) stops that read with a "cancelled" failure.

/**
 * Largest chunk one uploadChunk carries. Measured in Chromium on the loaded 2-core machine (File slices
 * sent as Blobs, same 32 MiB in flight): 16 MiB chunks, 2 in flight, 76-84 MB/s against 38-63 MB/s for
 * 4 MiB chunks, 8 in flight (fewer messages, acknowledgements and file writes per byte).
 */
export const maxUploadChunkBytes = 16 * 1024 * 1024;
/**
 * Chunks the page sends before waiting for the oldest one's answer, so at most this many chunks of an
 * upload (32 MiB) sit in the server's buffers at once.
 */
export const uploadChunksInFlight = 2;
/**
 * Web mode sends an upload's bytes without WebSocket messages: `PUT ${uploadPathPrefix}<uploadId>?offset=N`
 * with the raw bytes (Content-Type application/octet-stream) of an upload begun with beginUpload, streamed
 * by the server into the upload like uploadChunk's (src-main/web/upload-route.ts); finishUpload and
 * cancelUpload stay API requests. The page sends a picked file as one PUT of all its bytes (offset 0; the
 * route takes any offset where the upload stands, for clients that send it in parts).
 */
export const uploadPathPrefix = '/upload/';
/** An upload's opaque id, handed out by beginUpload. */
export const uploadIdSchema = z.string().regex(/^upload-[A-Za-z0-9_-]{1,64}$/, {
  message: 'expected an uploadId ("upload-…") from beginUpload',
});
const uploadRef = { uploadId: uploadIdSchema };
const uploadRequests = {
  /** Starts an upload of `bytes` bytes; `name` is only shown (never used as a path). */
  beginUpload: {
    params: z.strictObject({ name: z.string().min(1).max(maxNameLength), bytes: bytesSchema }),
    result: z.object({ ...uploadRef, chunkBytes: bytesSchema }),
  },
  /** The bytes at `offset`, which must be where the previous chunk ended. */
  uploadChunk: {
    params: z.strictObject({
      ...uploadRef,
      offset: bytesSchema,
      data: u8.refine((d) => d.byteLength >= 1 && d.byteLength <= maxUploadChunkBytes, {
        message: `a chunk must hold 1 to ${maxUploadChunkBytes} bytes`,
      }),
    }),
    result: z.object({ received: bytesSchema }),
  },
  /**
   * Every byte arrived: the upload is granted a fileId, to open with loadTrace or importFile. Its file is
   * deleted once opened successfully (the trace is then in memory).
   */
  finishUpload: {
    params: z.strictObject(uploadRef),
    result: z.object({ ...uploadRef, fileId: fileIdSchema, name: z.string(), bytes: bytesSchema }),
  },
  /**
   * Drops the upload (finished or not) and its temporary file, and revokes its fileId; false when there
   * was no such upload any more.
   */
  cancelUpload: {
    params: z.strictObject(uploadRef),
    result: z.object({ cancelled: z.boolean() }),
  },
} as const;

export const fileSourceSchema = z.discriminatedUnion('kind', [
  /** A file main granted (samples, dialogs, command line, uploads). */
  z.strictObject({ kind: z.literal('file'), fileId: fileIdSchema }),
  inlineFileSchema,
  /** An upload begun and not yet finished, read as its chunks arrive (see Uploads above). */
  z.strictObject({ kind: z.literal('arriving'), ...uploadRef }),
]);
export type FileSource = z.infer<typeof fileSourceSchema>;

export const traceSummarySchema = z.object({
  sourceId: idSchema,
  /** File name or "session-N". */
  name: z.string(),
  device: deviceDescriptionSchema,
  strategy: z.string(),
  eventCount: countSchema,
  durationMs: msSchema,
  allocationCount: countSchema,
  failureCount: countSchema,
  peakCommittedBytes: bytesSchema,
  peakAllocatedBytes: bytesSchema,
  /** Non-fatal problems met while loading (e.g. "torn final chunk at byte 1234 dropped"). */
  warnings: z.array(z.string()),
  loadMs: msSchema,
});
export type TraceSummary = z.infer<typeof traceSummarySchema>;

// ---- Analysis results ----------------------------------------------------------------------------------

export const timelineGroupBySchema = z.enum(['total', 'heap', 'type']);

/**
 * One series of a timeline: per bucket, committed (sum of live block sizes) and allocated (sum of live
 * requested sizes) bytes as min / max / last value within the bucket. All arrays have `buckets` entries.
 */
export const timelineSeriesSchema = z.object({
  /** Heap or memory-type index; -1 for "total". */
  key: z.int(),
  label: z.string(),
  committedMin: z.array(z.number()),
  committedMax: z.array(z.number()),
  committedLast: z.array(z.number()),
  allocatedMin: z.array(z.number()),
  allocatedMax: z.array(z.number()),
  allocatedLast: z.array(z.number()),
});

export const timelineMarkerSchema = z.object({
  eventIndex: indexSchema,
  time: msSchema,
  /**
   * budget: a block pushed a heap past its budget (mode warn) or the budget refused one (strict).
   * defrag: the first move of an applied defragmentation pass (a run of consecutive move events).
   */
  kind: z.enum(['frame', 'mark', 'failure', 'budget', 'defrag']),
  label: z.string(),
});

/** One move of a defragmentation plan (allocator/defragment.ts DefragmentationMove). Bytes. */
export const defragMoveSchema = z.object({
  allocationId: z.int(),
  name: z.string(),
  memoryTypeIndex: z.int(),
  size: bytesSchema,
  fromBlock: z.int(),
  fromOffset: bytesSchema,
  toBlock: z.int(),
  toOffset: bytesSchema,
});

/** A defragmentation plan for the state at an event index, computed by allocator/analysis. */
export const defragPlanSchema = z.object({
  eventIndex: indexSchema,
  algorithm: z.enum(['fast', 'full']),
  /** Every move, in the order it would be applied; at most `limit` of them (moveCount has them all). */
  moves: z.array(defragMoveSchema),
  moveCount: countSchema,
  bytesMoved: bytesSchema,
  /** Blocks left without allocations. */
  emptiedBlocks: z.array(z.int()),
  blocksBefore: countSchema,
  blocksAfter: countSchema,
  liveBytes: bytesSchema,
  /** 0..1. */
  fragmentationBefore: z.number().min(0).max(1),
  fragmentationAfter: z.number().min(0).max(1),
  /** false when a budget stopped the plan early. */
  complete: z.boolean(),
});

/** A heap's budget over the range, as steps: each point holds from its event on. Bytes. */
export const timelineBudgetSchema = z.object({
  heapIndex: indexSchema,
  label: z.string(),
  points: z.array(z.object({ eventIndex: indexSchema, time: msSchema, budget: bytesSchema })),
});

export const timelineResultSchema = z.object({
  /** The range actually covered (clamped to the source). */
  startTime: msSchema,
  endTime: msSchema,
  buckets: countSchema,
  /** Start time of each bucket, ms. */
  bucketStart: z.array(z.number()),
  /** First event index at or after each bucket's start (for turning a click into an event index). */
  bucketFirstEvent: z.array(z.number()),
  series: z.array(timelineSeriesSchema),
  /** Frames, marks and failures in range; at most `maxMarkers` (evenly thinned). */
  markers: z.array(timelineMarkerSchema),
  /** Each heap's budget line (heaps with budget samples only). */
  budgets: z.array(timelineBudgetSchema),
  eventCount: countSchema,
  durationMs: msSchema,
});
export type TimelineResult = z.infer<typeof timelineResultSchema>;

export const allocationKindSchema = z.enum(['linear', 'nonLinear', 'dedicated']);

export const snapshotAllocationSchema = z.object({
  id: z.int(),
  name: z.string(),
  /** Bytes from the block start where the caller's data starts. */
  offset: bytesSchema,
  size: bytesSchema,
  kind: allocationKindSchema,
});

export const snapshotBlockSchema = z.object({
  id: z.int(),
  memoryTypeIndex: z.int(),
  heapIndex: z.int(),
  size: bytesSchema,
  dedicated: z.boolean(),
  allocatedBytes: bytesSchema,
  /** Sorted by offset. */
  allocations: z.array(snapshotAllocationSchema),
  /**
   * Free ranges, sorted by offset. Bytes neither allocated nor free are alignment padding: a gap in front
   * of an allocation smaller than its alignment (allocator/analysis/snapshot.ts freeRangesOf).
   */
  freeRanges: z.array(z.object({ offset: bytesSchema, size: bytesSchema })),
});

export const snapshotResultSchema = z.object({
  eventIndex: indexSchema,
  time: msSchema,
  blocks: z.array(snapshotBlockSchema),
  committedBytes: bytesSchema,
  allocatedBytes: bytesSchema,
  allocationCount: countSchema,
});
export type SnapshotResult = z.infer<typeof snapshotResultSchema>;

export const allocationRowSchema = z.object({
  id: z.int(),
  name: z.string(),
  size: bytesSchema,
  alignment: bytesSchema,
  offset: bytesSchema,
  blockId: z.int(),
  memoryTypeIndex: z.int(),
  heapIndex: z.int(),
  location: memoryLocationSchema,
  kind: allocationKindSchema,
  decisionId: z.int(),
  /** Event index and time of the allocate event. */
  allocatedAt: indexSchema,
  allocatedTime: msSchema,
  /** Event index of the free event, or null while live (at the queried index). */
  freedAt: z.int().nullable(),
  /** Where the scenario asked for it (file:line and tags), when recorded. */
  origin: z.string().nullable(),
  /** true when the decision's allocation-time retry type was needed (the first choice failed). */
  usedRetry: z.boolean(),
  /**
   * When the retry was the budget's doing (budget mode strict): the refused heap with its budget and the
   * usage the refused block would have made (bytes); null otherwise.
   */
  budgetRefusal: z.object({ heapIndex: indexSchema, budget: bytesSchema, usage: bytesSchema }).nullable(),
  /**
   * The driver's memoryTypeBits for the bound resource, when the trace has them (a scenario run with
   * resources real, or a captured application); its size and alignment are then the driver's too. Else null.
   */
  driverTypeBits: z.int().nullable(),
  /**
   * Imported dumps: the allocation's device address in the source program (PyTorch: the block's CUDA
   * address) and the stream it was made on (PyTorch: the CUDA stream); null when the trace has none.
   */
  address: z.int().min(0).nullable(),
  stream: z.int().min(0).nullable(),
});
export type AllocationRow = z.infer<typeof allocationRowSchema>;

export const allocationSortKeySchema = z.enum(['id', 'name', 'size', 'offset', 'memoryType', 'allocatedAt']);

/** Mirrors allocator/types.ts MemoryTypeDecision. */
export const decisionRecordSchema = z.object({
  id: z.int(),
  api: graphicsApiSchema,
  memoryTypeBits: z.int(),
  location: memoryLocationSchema,
  linear: z.boolean(),
  scheme: z.enum(['managed', 'dedicatedBuffer', 'dedicatedImage']),
  resourceCategory: z.enum(['buffer', 'rtvDsvTexture', 'otherTexture']).nullable(),
  candidates: z.array(
    z.object({
      typeIndex: z.int(),
      propertyFlags: z.int(),
      heapIndex: z.int(),
      allowedByBits: z.boolean(),
      matchesAttempt: z.array(z.boolean()),
    }),
  ),
  attempts: z.array(z.object({ requiredFlags: z.int(), typeIndex: z.int().nullable(), label: z.string() })),
  winner: z.int().nullable(),
  reason: z.string(),
  fallbacks: z.array(z.string()),
  retryTypeIndex: z.int().nullable(),
});
export type DecisionRecord = z.infer<typeof decisionRecordSchema>;

// ---- The report (allocator/analysis/report.ts TraceReport; checked in contract-shapes.ts) -----------------

const usageSchema = z.object({ committed: bytesSchema, allocated: bytesSchema });
const peakValueSchema = z.object({
  bytes: bytesSchema,
  /** The event after which the peak was first reached (-1: never above 0). */
  eventIndex: z.int().min(-1),
  time: z.number(),
});
export const seriesSummarySchema = z.object({
  /** Heap or memory type index; -1 for the total. */
  index: z.int(),
  final: usageSchema,
  peakCommitted: peakValueSchema,
  peakAllocated: peakValueSchema,
  allocationCount: countSchema,
});
export const analysisSummarySchema = z.object({
  eventCount: countSchema,
  durationMs: z.number(),
  counts: z.object({
    allocations: countSchema,
    frees: countSchema,
    failures: countSchema,
    blocksCreated: countSchema,
    blocksDestroyed: countSchema,
    renames: countSchema,
    budgetSamples: countSchema,
    frames: countSchema,
    marks: countSchema,
  }),
  heaps: z.array(seriesSummarySchema),
  types: z.array(seriesSummarySchema),
  total: seriesSummarySchema,
  /** The driver's last budget/usage sample per heap that has one. */
  budgets: z.array(
    z.object({ heapIndex: indexSchema, budget: bytesSchema, usage: bytesSchema, eventIndex: indexSchema }),
  ),
  retriedAllocations: countSchema,
  /** Blocks created past a heap's budget (budget mode warn) / refused by it (strict), as flagged. */
  budgetCrossings: countSchema,
  budgetRefusals: countSchema,
  liveAllocations: countSchema,
  liveBlocks: countSchema,
  failures: z.array(
    z.object({
      eventIndex: indexSchema,
      time: z.number(),
      name: z.string(),
      size: bytesSchema,
      alignment: bytesSchema,
      location: memoryLocationSchema,
      linear: z.boolean(),
      code: z.string(),
      message: z.string(),
      decision: z.int(),
      stack: z.string(),
    }),
  ),
  anomalies: countSchema,
});
const reportLeakGroupSchema = z.object({
  key: z.string(),
  /** The full stack of the group's first allocation ("" = none recorded). */
  stack: z.string(),
  count: countSchema,
  bytes: bytesSchema,
  allocationIds: z.array(z.int()),
  examples: z.array(z.string()),
});
export const traceReportSchema = z.object({
  name: z.string(),
  device: deviceDescriptionSchema,
  strategy: z.string(),
  warnings: z.array(z.string()),
  summary: analysisSummarySchema,
  fragmentation: z.object({
    eventIndex: indexSchema,
    blocks: z.array(
      z.object({
        blockId: z.int(),
        memoryTypeIndex: z.int(),
        heapIndex: z.int(),
        size: bytesSchema,
        dedicated: z.boolean(),
        usedBytes: bytesSchema,
        freeBytes: bytesSchema,
        largestFreeRange: bytesSchema,
        freeRangeCount: countSchema,
        fragmentation: z.number().min(0).max(1),
      }),
    ),
    freeBytes: bytesSchema,
    largestFreeRange: bytesSchema,
    freeRangeCount: countSchema,
    fragmentation: z.number().min(0).max(1),
  }),
  leaks: z.object({
    eventIndex: indexSchema,
    count: countSchema,
    bytes: bytesSchema,
    byOrigin: z.array(reportLeakGroupSchema),
    byName: z.array(reportLeakGroupSchema),
    byNamePattern: z.array(reportLeakGroupSchema),
  }),
});
export type TraceReportDto = z.infer<typeof traceReportSchema>;

export const allocationHistoryEntrySchema = z.object({
  eventIndex: indexSchema,
  time: msSchema,
  kind: z.enum(['allocate', 'rename', 'free']),
  name: z.string(),
});

export const leakGroupBySchema = z.enum(['origin', 'name', 'type']);

export const leakGroupSchema = z.object({
  /** The origin (file:line), the allocation name or "type N", by groupBy. */
  key: z.string(),
  count: countSchema,
  bytes: bytesSchema,
  /** At most 100, oldest first. */
  allocationIds: z.array(z.int()),
});

/** A problem of a captured application (allocator/analysis/capture.ts, docs/capture.md). */
export const captureProblemSchema = z.object({
  kind: z.enum([
    'memory-not-freed',
    'resource-not-destroyed',
    'freed-while-bound',
    'bind-out-of-bounds',
    'bind-misaligned',
    'bind-type-not-allowed',
    'memory-type-mismatch',
    'incomplete-capture',
  ]),
  message: z.string(),
  /** The event that shows it; -1 for the whole capture. */
  eventIndex: z.int().min(-1),
  /** Resource (allocation) ids and block ids involved, at most 100 each. */
  resources: z.array(z.int()),
  blocks: z.array(z.int()),
  bytes: bytesSchema,
  stack: z.string().nullable(),
});
export type CaptureProblemDto = z.infer<typeof captureProblemSchema>;

export const diffTypeDeltaSchema = z.object({
  memoryTypeIndex: z.int(),
  /** Signed byte deltas (to - from). */
  committedDelta: z.int(),
  allocatedDelta: z.int(),
});

export const apiErrorCodes = [
  /** Params failed the schema (the message names the field). */
  'InvalidRequest',
  /** No such request name. */
  'UnknownRequest',
  /** A session, source, run, scenario, allocation or file that does not exist. */
  'NotFound',
  /** The request is valid but the state does not allow it (e.g. resume a finished run). */
  'InvalidState',
  /** The feature has not landed yet. */
  'NotImplemented',
  /** The device, trace or script failed (the message says what and where). */
  'Failed',
  /** A message over the transport's size limit, or a file over the size VRAMscope reads for its kind. */
  'TooLarge',
  /** The sender may not use the API (an IPC message from a frame main did not create). */
  'Forbidden',
  'Internal',
] as const;
export const apiErrorCodeSchema = z.enum(apiErrorCodes);
export type ApiErrorCode = (typeof apiErrorCodes)[number];

export const apiErrorSchema = z.object({ code: apiErrorCodeSchema, message: z.string() });
export type ApiError = z.infer<typeof apiErrorSchema>;

// ---- Requests ------------------------------------------------------------------------------------------

const sourceRef = { sourceId: idSchema };
/** Most allocations one allocationBands answer draws individually. */
export const maxAllocationBands = 50_000;
/** Most buckets one timeline or allocationBands request may ask for. */
export const maxTimelineBuckets = 20_000;
const empty = z.strictObject({});
const ok = z.object({ ok: z.literal(true) });
const runRef = z.strictObject({ runId: idSchema });

// ---- Device library and what-if (issue 12: Devices view, added profiles, Replay on…) ------------------
// One block for everything issue 12 adds; the requests are spread into `requests` below.

/** Most bytes a dropped profile file may have (the largest real vulkaninfo reports are a few MB). */
export const maxProfileBytes = 16 * 1024 * 1024;

/** Mirrors src-main/session/device-report.ts DeviceReport: one device with its memory-type choices. */
export const deviceDetailSchema = z.object({
  /** "GPU<n>" of a vulkaninfo text file; 0 otherwise. */
  gpuIndex: indexSchema,
  description: deviceDescriptionSchema,
  heapFlagNames: z.array(z.array(z.string())),
  typeFlagNames: z.array(z.array(z.string())),
  /** Driver-reported budgets (real devices with VK_EXT_memory_budget); null for profiles and models. */
  budgets: z.array(heapBudgetSchema).nullable(),
  /** memoryTypeBits of the choice table: every type allowed. */
  memoryTypeBits: z.int(),
  /** 4 locations × linear (true, false) × 3 schemes, each with gpu-allocator's decision record. */
  choices: z.array(
    z.object({
      location: memoryLocationSchema,
      linear: z.boolean(),
      scheme: z.enum(['managed', 'dedicatedBuffer', 'dedicatedImage']),
      decision: decisionRecordSchema,
    }),
  ),
});
export type DeviceDetailDto = z.infer<typeof deviceDetailSchema>;

/** One entry of the Devices view's list. `ref` is what openSession's `device` and describeDevice take. */
export const libraryEntrySchema = z.object({
  ref: deviceChoiceSchema,
  /** vulkan: a real device; shipped: assets/profiles; user: added by the user; builtin: a heap model. */
  origin: z.enum(['vulkan', 'shipped', 'user', 'builtin']),
  /** Device name(s) ("A + B" for a file with two GPUs). */
  label: z.string(),
  /** Profile file name (no folder); null for devices and models. */
  file: z.string().nullable(),
  formatLabel: z.string().nullable(),
  /** Why a profile file cannot be read (line or JSON path); null when it reads. */
  error: z.string().nullable(),
});
export type LibraryEntry = z.infer<typeof libraryEntrySchema>;

/** A dropped file's name: a name, never a path (no separators, no NUL). */
const droppedFileNameSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^/\\\0]+$/, 'a file name without folders')
  .refine((n) => n !== '.' && n !== '..', 'a file name');

/** Mirrors src-main/session/replay.ts ReplaySide: one side of a comparison (`vramscope replay` prints it). */
export const replaySideSchema = z.object({
  device: z.string(),
  strategy: z.string(),
  allocations: countSchema,
  failures: countSchema,
  failuresByCode: z.record(z.string(), countSchema),
  peakCommittedBytes: bytesSchema,
  peakBlocks: countSchema,
  blocksCreated: countSchema,
  /** Which memory type each (location, tiling) class of request got; typeIndex -1 = failed. */
  typeUse: z.array(
    z.object({
      location: memoryLocationSchema,
      linear: z.boolean(),
      typeIndex: z.int(),
      what: z.string(),
      heapIndex: z.int(),
      count: countSchema,
      bytes: bytesSchema,
    }),
  ),
});
export type ReplaySideDto = z.infer<typeof replaySideSchema>;

/** Mirrors ReplayReport: the JSON `vramscope replay --json` prints. */
export const replayReportSchema = z.object({
  requests: countSchema,
  baseline: replaySideSchema,
  replay: replaySideSchema,
  typeChanges: z.array(
    z.object({
      location: memoryLocationSchema,
      linear: z.boolean(),
      from: z.string(),
      to: z.string(),
      count: countSchema,
    }),
  ),
  newlyFailed: z.object({ count: countSchema, names: z.array(z.string()) }),
  newlySucceeded: z.object({ count: countSchema, names: z.array(z.string()) }),
  leftAlive: countSchema,
  inferredLocations: countSchema,
});
export type ReplayReportDto = z.infer<typeof replayReportSchema>;

const deviceLibraryRequests = {
  /** Every device the Devices view lists: real devices, shipped and added profiles, built-in models. */
  deviceLibrary: {
    params: empty,
    result: z.object({
      entries: z.array(libraryEntrySchema),
      /** Why there is no real device, when there is none. */
      unavailableReason: z.string().nullable(),
      /**
       * Whether added profiles can be kept (main has a user profile folder). The folder's path is not
       * sent: clients see no paths of the machine main runs on.
       */
      canAddProfiles: z.boolean(),
    }),
  },
  /** One entry described: heaps, types, limits, budgets and the choice table (every GPU of a profile file). */
  describeDevice: {
    params: z.strictObject({ device: deviceChoiceSchema }),
    result: z.object({ entry: libraryEntrySchema, devices: z.array(deviceDetailSchema).min(1) }),
  },
  /**
   * Adds a profile file the user dropped: its bytes are parsed in main (any format parseDeviceProfile
   * reads; a problem is an InvalidRequest naming the line or JSON path) and kept in the user's data folder
   * under a name made from the file name. A file of the same name is replaced.
   */
  addDeviceProfile: {
    params: z.strictObject({
      name: droppedFileNameSchema,
      data: u8.refine((d) => d.byteLength > 0 && d.byteLength <= maxProfileBytes, {
        message: `a profile must have 1 to ${maxProfileBytes} bytes`,
      }),
    }),
    result: libraryEntrySchema,
  },
  /** Forgets an added profile (shipped ones stay). */
  removeDeviceProfile: {
    params: z.strictObject({ name: z.string().min(1).max(200) }),
    result: ok,
  },
  /**
   * "Replay on…": re-issues a loaded trace's allocation requests on another device and/or strategy (as
   * `vramscope replay` does; absent device = the trace's own). The replay becomes a new loaded source
   * ("trace-N") whose clock follows the recording's request times, so both timelines share an axis.
   */
  replayTrace: {
    params: z.strictObject({
      ...sourceRef,
      device: deviceChoiceSchema.optional(),
      strategy: strategySchema.optional(),
    }),
    result: z.object({
      report: replayReportSchema,
      baseline: traceSummarySchema,
      replay: traceSummarySchema,
    }),
  },
  /** Two loaded sources' own numbers side by side, in the replay report's shape (compare two traces). */
  compareSources: {
    params: z.strictObject({ a: idSchema, b: idSchema }),
    result: z.object({
      a: z.object({ side: replaySideSchema, summary: traceSummarySchema }),
      b: z.object({ side: replaySideSchema, summary: traceSummarySchema }),
    }),
  },
} as const;

// ---- Capture: watch a Vulkan application (issue 10, docs/capture.md) -------------------------------------
// startCapture runs a program under the capture layer: code execution, so main refuses it (Forbidden)
// unless the user allowed it (the desktop app; `vramscope serve --allow-capture`), and the UI shows the
// exact command line for confirmation first. attachCapture watches a `vramscope capture --live` of the same
// user. Each VkDevice of the program is a live source ("capture-N-dK") that answers every source query,
// grows through `sessionEvents` (sessionId = that sourceId, runId = the captureId) and `analysisChanged`,
// and the capture's state comes as `captureState`.

/** One argument of a command line: no NUL byte (it could not reach the program intact). */
const commandArgSchema = z
  .string()
  .max(4096)
  .refine((a) => !a.includes('\0'), { message: 'an argument may not contain a NUL byte' });
/** A program and its arguments, as the program will receive them (no shell). */
export const captureCommandSchema = z
  .array(commandArgSchema)
  .min(1)
  .max(256)
  .refine((c) => (c[0] ?? '').trim() !== '', { message: 'the program name is empty' });
/** A running `vramscope capture --live` of the same user: "live-<pid>". */
export const liveIdSchema = z.string().regex(/^live-[0-9]{1,10}$/, {
  message: 'expected a live capture id ("live-<pid>") from listCaptures',
});
export const captureStateSchema = z.enum(['running', 'exited', 'failed', 'detached']);
export const captureTrackSchema = z.object({
  /** Device number over the whole capture, in creation order. */
  index: indexSchema,
  /** The source its recording answers queries under. */
  sourceId: idSchema,
  /** Process that created the device. */
  pid: z.int(),
  device: deviceDescriptionSchema,
  /** Events recorded so far. */
  eventCount: countSchema,
});
export const captureInfoSchema = z.object({
  captureId: idSchema,
  /** started: this server runs the program; attached: a `capture --live` elsewhere runs it. */
  origin: z.enum(['started', 'attached']),
  liveId: liveIdSchema.nullable(),
  command: z.array(z.string()),
  /** running; exited (exitCode, signal); failed (error: it could not start or the capture broke); detached. */
  state: captureStateSchema,
  /** The program's process id (started only; null before it started). */
  pid: z.int().nullable(),
  /** The program's exit code (128 + signal number when a signal ended it). */
  exitCode: z.int().nullable(),
  signal: z.string().nullable(),
  error: z.string().optional(),
  tracks: z.array(captureTrackSchema),
  /** The decoders' warnings (no clean exit, records lost, ...). */
  warnings: z.array(z.string()),
});
export type CaptureInfo = z.infer<typeof captureInfoSchema>;
export const liveCaptureEntrySchema = z.object({
  liveId: liveIdSchema,
  pid: z.int(),
  command: z.array(z.string()),
  startedAt: z.string(),
});

const captureRequests = {
  /** Whether this server may start programs, its captures, and the `capture --live` runs to attach to. */
  listCaptures: {
    params: empty,
    result: z.object({
      canStart: z.boolean(),
      /** Why starting is refused here (null when allowed). */
      startRefusal: z.string().nullable(),
      captures: z.array(captureInfoSchema),
      live: z.array(liveCaptureEntrySchema),
    }),
  },
  /** Starts `command` under the capture layer (Forbidden unless allowed, see above). */
  startCapture: {
    params: z.strictObject({ command: captureCommandSchema, stacks: z.boolean().optional() }),
    result: captureInfoSchema,
  },
  attachCapture: { params: z.strictObject({ liveId: liveIdSchema }), result: captureInfoSchema },
  /** Started: sends SIGTERM to the program. Attached: detaches (the capture itself goes on). */
  stopCapture: { params: z.strictObject({ captureId: idSchema }), result: captureInfoSchema },
} as const;

/**
 * Every request: name → { params, result }. Params are strict (unknown keys are an InvalidRequest).
 * Callers pass the schema's input type (defaults may be omitted); handlers get the output type.
 */
export const requests = {
  /** Real Vulkan devices (empty when the native addon is not built) and the simulated-device profiles. */
  listDevices: {
    params: empty,
    result: z.object({
      devices: z.array(deviceEntrySchema),
      /** Index of the device a default session opens; null when there is no real device. */
      defaultIndex: z.int().nullable(),
      profiles: z.array(profileEntrySchema),
      builtinModels: z.array(builtinModelSchema),
      /** Why `devices` is empty, when it is (e.g. "the native addon is not built"). */
      unavailableReason: z.string().nullable(),
    }),
  },
  /** Everything a newly connected client (a second tab) needs to catch up. */
  getState: {
    params: empty,
    result: z.object({
      sessions: z.array(sessionInfoSchema),
      traces: z.array(traceSummarySchema),
      /** Sample traces shipped in assets/traces/, ready to open with loadTrace by fileId. */
      sampleTraces: z.array(z.object({ name: z.string(), fileId: fileIdSchema, bytes: bytesSchema })),
      /** Recently opened trace files, newest first (names for display; no paths). */
      recentTraces: z.array(z.object({ name: z.string(), fileId: fileIdSchema })),
    }),
  },
  openSession: { params: sessionConfigSchema, result: sessionInfoSchema },
  closeSession: { params: z.strictObject({ sessionId: idSchema }), result: ok },

  listScenarios: { params: empty, result: z.object({ scenarios: z.array(scenarioMetaSchema) }) },
  /** Starts a run; returns at once (progress and state come as `runState` / `sessionEvents` events). */
  runScenario: {
    params: z.strictObject({
      sessionId: idSchema,
      /** A built-in scenario id ("streaming", ...; see listScenarios). Scripts run from the CLI only. */
      scenario: z.string().min(1).max(200),
      /** A parameter of type "file" takes a fileId (uploadFile, getState); never a path. */
      params: z.record(z.string().max(200), paramValueSchema).default({}),
      /** Unsigned 32-bit; absent: a random seed (reported in the run's trace header). */
      seed: z.int().min(0).max(0xffff_ffff).optional(),
      /** Start paused (then step/resume). */
      startPaused: z.boolean().optional(),
    }),
    result: runInfoSchema,
  },
  pauseRun: { params: runRef, result: runInfoSchema },
  /** Runs `ops` more allocator operations (default 1), then pauses again. */
  stepRun: {
    params: z.strictObject({ runId: idSchema, ops: z.int().min(1).max(1_000_000).optional() }),
    result: runInfoSchema,
  },
  resumeRun: { params: runRef, result: runInfoSchema },
  cancelRun: { params: runRef, result: runInfoSchema },
  /**
   * Stops a loadTrace/importFile task (by the taskId it was given) even mid-read; the request then fails
   * with Failed ("cancelled"). `cancelled` is false when no such task is running.
   */
  cancelTask: {
    params: z.strictObject({ taskId: idSchema }),
    result: z.object({ cancelled: z.boolean() }),
  },

  /**
   * Stores a file's bytes on the server (a private folder, removed on exit) and grants it: the fileId
   * then opens it (loadTrace, importFile) or feeds a scenario's "file" parameter (replay-workload). One
   * message of at most maxInlineTraceBytes: the chunked upload (beginUpload ...) done in one step, with
   * the same temporary file and cleanup. Bigger files go in chunks.
   */
  uploadFile: {
    params: z.strictObject({ source: inlineFileSchema }),
    result: z.object({ fileId: fileIdSchema, name: z.string(), bytes: bytesSchema }),
  },

  /**
   * Loads a trace file. Long work: `progress` events with this taskId (client-chosen, or generated)
   * arrive while it loads; other requests are answered meanwhile.
   */
  loadTrace: {
    params: z.strictObject({ source: fileSourceSchema, taskId: idSchema.optional() }),
    result: traceSummarySchema,
  },
  /** Imports a foreign dump (VMA / D3D12MA JSON, PyTorch memory snapshot) as a trace. */
  importFile: {
    params: z.strictObject({
      source: fileSourceSchema,
      /** vma: vmaBuildStatsString JSON; d3d12ma: BuildStatsString JSON; pytorch: memory snapshot pickle/JSON; rmv: Radeon Memory Visualizer trace. */
      format: z.enum(['auto', 'vma', 'd3d12ma', 'pytorch', 'rmv']).default('auto'),
      taskId: idSchema.optional(),
    }),
    result: traceSummarySchema,
  },
  /**
   * Tells main which source the UI shows (the app menu's "Export Report" exports it). Per client; the
   * latest call from any client wins.
   */
  setActiveSource: { params: z.strictObject(sourceRef), result: ok },
  /** Forgets a loaded trace (sessions are closed with closeSession). */
  closeTrace: { params: z.strictObject(sourceRef), result: ok },

  /** Committed/allocated bytes over time at a resolution, from the source's level-of-detail pyramid. */
  queryTimeline: {
    params: z.strictObject({
      ...sourceRef,
      /** ms; default: the whole source. */
      startTime: msSchema.optional(),
      endTime: msSchema.optional(),
      /** How many buckets (usually the view's width in pixels). */
      buckets: z.int().min(1).max(maxTimelineBuckets),
      groupBy: timelineGroupBySchema.default('total'),
      maxMarkers: z.int().min(0).max(10_000).default(2_000),
      /**
       * true: only where the buckets start (bucketStart, bucketFirstEvent, and the totals around them);
       * series, markers and budgets come back empty. A time index at 20,000 buckets without the cost of
       * aggregating and sending 20,000 buckets of every series.
       */
      boundariesOnly: z.boolean().default(false),
    }),
    result: timelineResultSchema,
  },
  /** Blocks with their allocations and free gaps after events [0, eventIndex). */
  snapshotAt: {
    params: z.strictObject({
      ...sourceRef,
      eventIndex: indexSchema,
      /** Only these blocks (default: all). */
      blockIds: z.array(z.int()).max(100_000).optional(),
    }),
    result: snapshotResultSchema,
  },
  /**
   * What defragmenting the state after events [0, eventIndex) would do (default: the end): the same plan
   * `vramscope report --defrag --at N` prints. A trace records data ranges only, so every non-dedicated
   * allocation counts as movable.
   */
  defragmentPlan: {
    params: z.strictObject({
      ...sourceRef,
      eventIndex: indexSchema.optional(),
      algorithm: z.enum(['fast', 'full']).default('full'),
      maxMovesPerPass: countSchema.optional(),
      maxBytesPerPass: bytesSchema.optional(),
      memoryTypes: z.array(z.int().nonnegative()).max(64).optional(),
      /** Moves returned (moveCount is always complete). */
      limit: z.int().min(0).max(100_000).default(10_000),
    }),
    result: defragPlanSchema,
  },
  /** Allocations at an index (default: the end), filtered, sorted and paged. */
  listAllocations: {
    params: z.strictObject({
      ...sourceRef,
      eventIndex: indexSchema.optional(),
      filter: z
        .strictObject({
          /** Case-insensitive substring of the name. */
          nameContains: z.string().max(1000).optional(),
          memoryTypeIndex: z.int().optional(),
          heapIndex: z.int().optional(),
          location: memoryLocationSchema.optional(),
          minSize: bytesSchema.optional(),
          maxSize: bytesSchema.optional(),
          /** live: alive at the index; freed: freed before it; all: every allocation up to it. */
          status: z.enum(['live', 'freed', 'all']).default('live'),
        })
        .default({ status: 'live' }),
      sort: z
        .strictObject({ key: allocationSortKeySchema, dir: z.enum(['asc', 'desc']).default('asc') })
        .default({ key: 'id', dir: 'asc' }),
      offset: countSchema.default(0),
      limit: z.int().min(1).max(5_000).default(200),
    }),
    result: z.object({ total: countSchema, rows: z.array(allocationRowSchema) }),
  },
  /** One allocation: its row, the decision record that placed it, its stack and its history. */
  allocationDetail: {
    params: z.strictObject({ ...sourceRef, allocationId: z.int() }),
    result: z.object({
      allocation: allocationRowSchema,
      decision: decisionRecordSchema.nullable(),
      stack: z.string().nullable(),
      history: z.array(allocationHistoryEntrySchema),
      /**
       * A captured resource: what its block's vkAllocateMemory chained beyond dedicated (priority,
       * export/import handle types, allocate flags), in words; absent when nothing (docs/capture.md).
       */
      blockDetails: z.string().optional(),
    }),
  },
  /**
   * Individual allocations over an event window, as PyTorch's memory_viz draws them (issue 11): the
   * allocations alive after any event of [startIndex, endIndex), the largest `limit` of them (the detail
   * control; every one when fewer are alive), largest first (ties: the earlier allocation first), each with
   * its lifetime [from, to) on the event axis (allocate event, free event or the source's event count when
   * never freed), so that a view can stack them; every other allocation alive in the window is summed in
   * the rest series: restMax[j] = the most bytes they held together after any event of
   * [restBoundaries[j], restBoundaries[j + 1]). Computed by the engine (allocator/analysis/allocation-bands.ts)
   * in the trace worker.
   */
  allocationBands: {
    params: z.strictObject({
      ...sourceRef,
      startIndex: indexSchema,
      endIndex: indexSchema,
      limit: z.int().min(1).max(maxAllocationBands).default(2_000),
      /** Buckets of the rest series, usually the plot's width in pixels over the window. */
      buckets: z.int().min(1).max(maxTimelineBuckets).default(1_000),
    }),
    result: z.object({
      startIndex: indexSchema,
      endIndex: indexSchema,
      eventCount: countSchema,
      /** Allocations alive in the window, shown or not. */
      alive: countSchema,
      /** One entry per band, largest first: id, requested bytes, lifetime, block id, offset in it (bytes). */
      id: f64,
      size: f64,
      from: f64,
      to: f64,
      block: f64,
      offset: f64,
      restBoundaries: f64,
      restMax: f64,
    }),
  },
  /**
   * Allocations by address and/or stack-frame text, in allocation order (every allocation of the source,
   * freed or not). `address`: "block 3 + 0x1000", "3:4096" (block id and byte offset) or a bare offset in
   * any block; it matches the allocations whose bytes hold it. `text`: a case-insensitive substring of the
   * stack as recorded, of one of its frames as shown ("file:line function"), or of the name. Both given:
   * both must match. An address that cannot be read is InvalidRequest.
   */
  searchAllocations: {
    params: z
      .strictObject({
        ...sourceRef,
        address: z.string().min(1).max(200).optional(),
        text: z.string().min(1).max(1000).optional(),
        limit: z.int().min(1).max(1_000).default(100),
      })
      .refine((p) => p.address !== undefined || p.text !== undefined, {
        message: 'give an address, a text or both',
      }),
    result: z.object({ total: countSchema, rows: z.array(allocationRowSchema) }),
  },
  /** Allocations alive at an index (default: the end), grouped. */
  leaks: {
    params: z.strictObject({
      ...sourceRef,
      eventIndex: indexSchema.optional(),
      groupBy: leakGroupBySchema.default('origin'),
    }),
    result: z.object({
      eventIndex: indexSchema,
      count: countSchema,
      bytes: bytesSchema,
      groups: z.array(leakGroupSchema),
      /** Captured applications only: what the application did wrong (at most 1000, in event order). */
      problems: z.array(captureProblemSchema).optional(),
    }),
  },
  /** What changed between two event indices (from < to). */
  diff: {
    params: z.strictObject({
      ...sourceRef,
      fromIndex: indexSchema,
      toIndex: indexSchema,
      /** Rows of allocated/freed lists returned (the counts are always complete). */
      limit: z.int().min(0).max(5_000).default(200),
    }),
    result: z.object({
      fromIndex: indexSchema,
      toIndex: indexSchema,
      allocated: z.object({ count: countSchema, bytes: bytesSchema, rows: z.array(allocationRowSchema) }),
      freed: z.object({ count: countSchema, bytes: bytesSchema, rows: z.array(allocationRowSchema) }),
      blocksCreated: countSchema,
      blocksDestroyed: countSchema,
      perType: z.array(diffTypeDeltaSchema),
    }),
  },
  ...uploadRequests,
  /**
   * The report of a source: device, summary (per heap/type totals, peaks, allocation counts, budgets,
   * failures), fragmentation and leaks. The same JSON `vramscope report --json` prints for the file (which
   * adds only the CLI's own `file`, `header`, `complete` and `performance` fields).
   */
  getReport: { params: z.strictObject(sourceRef), result: traceReportSchema },
  /**
   * A report of the source as text, or as getReport's JSON (format "json"), as content: main never writes
   * a file for a client (the desktop app saves it through its own save dialog; the web UI downloads it).
   * `fileName` is a suggestion made safe for any file system.
   */
  exportReport: {
    params: z.strictObject({
      ...sourceRef,
      format: z.enum(['json', 'text']).default('text'),
    }),
    result: z.object({
      format: z.enum(['json', 'text']),
      content: z.string(),
      fileName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
    }),
  },
  ...deviceLibraryRequests,
  ...captureRequests,
} as const;

export type Requests = typeof requests;
export type RequestName = keyof Requests;
export const requestNames = Object.keys(requests) as RequestName[];
/** What a caller passes (defaults optional). */
export type RequestParams<N extends RequestName> = z.input<Requests[N]['params']>;
/** What a handler receives (defaults applied). */
export type ValidatedParams<N extends RequestName> = z.output<Requests[N]['params']>;
export type RequestResult<N extends RequestName> = z.output<Requests[N]['result']>;

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.hasOwn(requests, name);
}

// ---- Events --------------------------------------------------------------------------------------------

/**
 * A contiguous slice [start, start + count) of a live session's event stream, in the EventLog column
 * layout (allocator/event-log.ts: kind, time, id, block, type, offset, size, alignment, flags, name,
 * decision, stack, code, message). String ids refer to the session's string table, which grows by
 * `newStrings` (ids from `stringsStart`); `newDecisions` are decision records first seen in this slice.
 */
export const eventColumnsSchema = z.object({
  kind: u8,
  time: f64,
  id: f64,
  block: f64,
  type: i16,
  offset: f64,
  size: f64,
  alignment: f64,
  flags: u8,
  name: u32,
  decision: i32,
  stack: u32,
  code: u32,
  message: u32,
  /** Captured applications (docs/capture.md): OS thread, usage flags, memoryTypeBits, VkFormat. */
  thread: u32,
  usage: f64,
  typeBits: f64,
  format: u32,
  /** Imported dumps: device address (Allocate, BlockCreate), stream + 1 (Allocate); 0 = not recorded. */
  address: f64,
  stream: f64,
});

export const progressPhaseSchema = z.enum(['start', 'progress', 'done', 'failed']);

export const events = {
  /** Progress of long work (trace load, import, export). `done`/`total` in `unit`. */
  progress: z.object({
    taskId: idSchema,
    kind: z.enum(['loadTrace', 'importFile', 'runScenario', 'exportReport']),
    phase: progressPhaseSchema,
    done: z.number().nonnegative(),
    total: z.number().nonnegative(),
    unit: z.enum(['bytes', 'events', 'ops']),
    message: z.string().optional(),
  }),
  /**
   * New events of a live session, coalesced per 34 ms tick. Each run of a scenario records afresh: the
   * first slice of a run has start 0 (drop what you kept of the session's earlier run). A client that
   * connects mid-run gets slices from then on; everything before is queryable through the session's
   * sourceId (getState says how many events there are).
   */
  sessionEvents: z.object({
    sessionId: idSchema,
    runId: idSchema,
    start: indexSchema,
    count: countSchema,
    columns: eventColumnsSchema,
    stringsStart: indexSchema,
    newStrings: z.array(z.string()),
    newDecisions: z.array(decisionRecordSchema),
    /** Allocator totals after the slice. */
    stats: z.object({
      committedBytes: bytesSchema,
      allocatedBytes: bytesSchema,
      blockCount: countSchema,
      allocationCount: countSchema,
    }),
  }),
  /** A scenario run changed state (or its op count advanced; at most once per tick). */
  runState: runInfoSchema,
  /** A capture started, changed (a device appeared, the program exited) or ended. */
  captureState: captureInfoSchema,
  /**
   * A live source's analysis grew (pushed, at most once per flush per source): its summary over the events
   * analysed so far (failures: the latest 100). The UI updates its overview from this, without polling.
   */
  analysisChanged: z.object({ sourceId: idSchema, summary: analysisSummarySchema }),
  /** Log lines from scenarios, the allocator's debug logging and the Vulkan debug messenger. */
  log: z.object({
    sessionId: idSchema.nullable(),
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error']),
    message: z.string(),
  }),
  /** Sessions or traces were opened or closed: the same payload as getState's result. */
  stateChanged: requests.getState.result,
  /**
   * The app menu or the command line asks the UI to do something: show a source that main opened (a
   * trace from File > Open or the command line), or open the run form of a scenario.
   */
  appCommand: z.discriminatedUnion('command', [
    z.object({ command: z.literal('showSource'), sourceId: idSchema }),
    z.object({ command: z.literal('showScenario'), scenario: z.string() }),
  ]),
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export const eventNames = Object.keys(events) as EventName[];
export type EventPayload<E extends EventName> = z.output<Events[E]>;
/** One event as it travels inside a batch. */
export type AnyEvent = {
  [E in EventName]: { readonly name: E; readonly payload: EventPayload<E> };
}[EventName];

// ---- Wire frames (both transports) ---------------------------------------------------------------------

/** Client → main. `id` is chosen by the client and echoed in the response. */
export const requestFrameSchema = z.strictObject({
  t: z.literal('req'),
  id: z.int().nonnegative(),
  name: z.string().max(100),
  params: z.unknown(),
});
export type RequestFrame = z.infer<typeof requestFrameSchema>;

export type ResponseFrame =
  | { readonly t: 'res'; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly t: 'res'; readonly id: number; readonly ok: false; readonly error: ApiError };

/** Main → client: every event of one tick in one frame (so ≤ ~30 frames/s). */
export interface EventBatchFrame {
  readonly t: 'evt';
  readonly events: readonly AnyEvent[];
}

export type ServerFrame = ResponseFrame | EventBatchFrame;

/** Path of the web mode's API WebSocket on the server (ws://127.0.0.1:PORT/api). */
export const webSocketPath = '/api';

/** Milliseconds between event flushes: 34 ms keeps any 1 s window at ≤ 30 event frames per client. */
export const eventFlushIntervalMs = 34;

// ---- Client interface ----------------------------------------------------------------------------------

/** The error a failed request rejects with. */
export class ApiRequestError extends Error {
  readonly code: ApiErrorCode;
  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiRequestError';
    this.code = code;
  }
}

/** What the UI talks to, whatever the transport. */
export interface ApiClient {
  /** Resolves with the result or rejects with ApiRequestError. */
  request<N extends RequestName>(name: N, params: RequestParams<N>): Promise<RequestResult<N>>;
  /** Listens to one event stream; returns the function that stops listening. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** Drops the connection (web) or the subscription (IPC); pending requests reject. */
  close(): void;
  /**
   * Web transport only: bytes of an upload begun with beginUpload, at `offset` (where the upload stands),
   * sent as one HTTP PUT body (uploadPathPrefix) that the browser streams from the Blob (a slice of a
   * picked File) without reading it into the page. Aborting `signal` aborts the PUT. `onSent` hears how
   * many bytes of this body have gone out so far, while it is sent. Rejects with ApiRequestError like
   * request; absent, send uploadChunk requests.
   */
  uploadBody?(
    uploadId: string,
    offset: number,
    data: Blob,
    signal?: AbortSignal,
    onSent?: (bytes: number) => void,
  ): Promise<RequestResult<'uploadChunk'>>;
}

/** The JSON a PUT to the upload route answers (src-main/web/upload-route.ts). */
export const uploadAnswerSchema = z.union([
  z.strictObject({ received: bytesSchema }),
  z.strictObject({ error: apiErrorSchema }),
]);

/**
 * What the Electron preload exposes as `window.vramscope` (contextBridge): frames in, frames out,
 * nothing else. Frames are structured-cloned, so typed arrays arrive as typed arrays.
 */
export interface PreloadBridge {
  /** Sends one request frame; resolves with its response frame. */
  request(frame: RequestFrame): Promise<ResponseFrame>;
  /** Receives every event batch; returns the unsubscribe function. */
  subscribe(listener: (frame: EventBatchFrame) => void): () => void;
  /**
   * Opens a File the user dropped or picked in place, without a copy (issue 11): the preload finds its path
   * (Electron's webUtils; the page never sees it) and main grants it a fileId after checking it is a
   * regular file (src-main/api/local-files.ts). Null when the File has no path (made by the page).
   * Optional: bridges of older builds (and test fakes) lack it, and the page then uploads.
   */
  grantLocalFile?(file: File): Promise<LocalFileGrant | null>;
}

/** Main's answer to grantLocalFile: the grant, or one sentence saying why not (no path in it). */
export type LocalFileGrant =
  | { readonly ok: true; readonly fileId: string; readonly name: string; readonly bytes: number }
  | { readonly ok: false; readonly message: string };

// ---- JSON codec for the web transport ------------------------------------------------------------------

const typedArrayCtors = {
  Uint8Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float64Array,
} as const;
type TypedArrayName = keyof typeof typedArrayCtors;

/** Node's Buffer when this runs in main (no import: the renderer loads this module too). */
const nodeBuffer = (
  globalThis as {
    Buffer?: {
      from(b: ArrayBufferLike, offset: number, length: number): { toString(enc: 'base64'): string };
    };
  }
).Buffer;

function bytesToBase64(bytes: Uint8Array): string {
  // Main encodes every live batch for the WebSocket: Node's native encoder is ~20x faster than btoa.
  if (nodeBuffer) return nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * JSON with typed arrays: a typed array becomes {"$ta": "<ctor name>", "b64": "<little-endian bytes>"}.
 * Used by the WebSocket transport in both directions (the IPC transport structured-clones instead).
 */
export function encodeFrame(frame: unknown): string {
  // No replacer: JSON.stringify with a replacer calls back into JS for every value (a 2,000-bucket timeline
  // is ~30,000 numbers), which made encoding answers the largest cost on main during a live run. Typed
  // arrays are swapped for their {$ta, b64} form first, copying only the objects on the way to one.
  return JSON.stringify(withEncodedTypedArrays(frame));
}

/** A typed array of a known kind as {"$ta", "b64"}; anything else unchanged. */
function typedArrayToJson(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name;
    if (name in typedArrayCtors) {
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      return { $ta: name, b64: bytesToBase64(bytes) };
    }
  }
  return value;
}

/** `value` with every typed array of a known kind replaced by {$ta, b64}; `value` itself when it has none. */
function withEncodedTypedArrays(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value)) return typedArrayToJson(value);
  // toJSON (Date, ...) decides its own form, as JSON.stringify would.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== 'object' || item === null) continue;
      const encoded = withEncodedTypedArrays(item);
      if (encoded !== item) {
        out ??= value.slice();
        out[i] = encoded;
      }
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | null = null;
  for (const key of Object.keys(value)) {
    const item: unknown = (value as Record<string, unknown>)[key];
    if (typeof item !== 'object' || item === null) continue;
    const encoded = withEncodedTypedArrays(item);
    if (encoded !== item) {
      out ??= { ...(value as Record<string, unknown>) };
      out[key] = encoded;
    }
  }
  return out ?? value;
}

/** Inverse of encodeFrame. Throws SyntaxError on malformed JSON or a malformed typed array. */
export function decodeFrame(text: string): unknown {
  // No reviver: JSON.parse with one calls back into JS for every value (a timeline answer's ~1,000 markers
  // made decoding it in the page ~20x slower than parsing it, a frame's worth of time while zooming).
  // Typed arrays are restored afterwards by one walk over the objects, bottom-up as a reviver would.
  return withDecodedTypedArrays(JSON.parse(text) as unknown);
}

/** `value` (parsed JSON) with every {$ta, b64} object replaced by its typed array, children first. */
function withDecodedTypedArrays(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) value[i] = withDecodedTypedArrays(item);
    }
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item !== 'object' || item === null) continue;
    const decoded = withDecodedTypedArrays(item);
    // defineProperty, not assignment: a "__proto__" key stays an own property, as JSON.parse made it.
    if (decoded !== item)
      Object.defineProperty(record, key, {
        value: decoded,
        writable: true,
        enumerable: true,
        configurable: true,
      });
  }
  return typedArrayFromJson(record);
}

/** Inverse of typedArrayToJson. Throws SyntaxError on a malformed typed array. */
function typedArrayFromJson(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && '$ta' in value && 'b64' in value) {
    const { $ta, b64 } = value as { $ta: unknown; b64: unknown };
    if (typeof $ta !== 'string' || typeof b64 !== 'string' || !Object.hasOwn(typedArrayCtors, $ta)) {
      throw new SyntaxError('malformed typed array in frame');
    }
    const Ctor = typedArrayCtors[$ta as TypedArrayName];
    const bytes = base64ToBytes(b64);
    if (bytes.byteLength % Ctor.BYTES_PER_ELEMENT !== 0) {
      throw new SyntaxError(
        `typed array ${$ta} has ${bytes.byteLength} bytes, not a multiple of its element`,
      );
    }
    return new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
  }
  return value;
}

// ---- Binary request frames for the web transport (issue 11) --------------------------------------------
// A request that carries bytes (an uploadChunk, an inline file) travels as ONE binary WebSocket message
// instead of base64 inside JSON (which ran uploads at about 1 MB/s):
//
//   [u32 little-endian H] [H bytes: UTF-8 JSON of the request frame] [N bytes: the payload]
//
// In the JSON head, the frame's first Uint8Array is replaced by {"$bin": N} (N: its byte length, which
// must equal what follows the head); any other typed array stays {"$ta", "b64"}. The decoded frame is an
// ordinary request frame: the dispatcher checks it against the request's params schema like any other
// (so an uploadChunk still holds 1 to maxUploadChunkBytes bytes), and the whole message is within
// maxMessageBytes (the server's frame limit). The head is at most maxBinaryHeadBytes. Main answers with
// ordinary text frames. Electron IPC needs none of this: frames are structured-cloned there, so a
// Uint8Array crosses as bytes.

/** Largest JSON head of a binary request frame (bytes). */
export const maxBinaryHeadBytes = 64 * 1024;

/**
 * The binary form of a request frame that holds a Uint8Array; null when it holds none (send it as text
 * with encodeFrame) or its head would exceed maxBinaryHeadBytes.
 */
export function encodeBinaryFrame(frame: RequestFrame): Uint8Array<ArrayBuffer> | null {
  const parts = encodeBinaryFrameParts(frame);
  if (parts === null) return null;
  const [head, payload] = parts;
  const message = new Uint8Array(head.byteLength + payload.byteLength);
  message.set(head, 0);
  message.set(payload, head.byteLength);
  return message;
}

/**
 * encodeBinaryFrame in two pieces, [length + JSON head, payload], to be sent as one message without
 * copying the payload (a page sends `new Blob(parts)`).
 */
export function encodeBinaryFrameParts(frame: RequestFrame): [Uint8Array<ArrayBuffer>, Uint8Array] | null {
  const found: { bytes: Uint8Array | null } = { bytes: null };
  const head = JSON.stringify(frame, (_key, value: unknown) => {
    if (found.bytes === null && value instanceof Uint8Array) {
      found.bytes = value;
      return { $bin: value.byteLength };
    }
    return typedArrayToJson(value);
  });
  const payload = found.bytes;
  if (payload === null) return null;
  const prefix = binaryHead(head);
  return prefix === null ? null : [prefix, payload];
}

/** [u32 LE length][UTF-8 of `json`]; null when longer than maxBinaryHeadBytes. */
function binaryHead(json: string): Uint8Array<ArrayBuffer> | null {
  const headBytes = new TextEncoder().encode(json);
  if (headBytes.byteLength > maxBinaryHeadBytes) return null;
  const prefix = new Uint8Array(4 + headBytes.byteLength);
  new DataView(prefix.buffer).setUint32(0, headBytes.byteLength, true);
  prefix.set(headBytes, 4);
  return prefix;
}

/**
 * Inverse of encodeBinaryFrame. The payload is a view into `message` (no copy). Throws SyntaxError when
 * the head's length, its UTF-8 or JSON, or the single {"$bin": N} marker (exactly one, N equal to the
 * payload's length, no other keys) is wrong.
 */
export function decodeBinaryFrame(message: Uint8Array): unknown {
  if (message.byteLength < 4) throw new SyntaxError('binary frame shorter than its head length');
  const headLength = new DataView(message.buffer, message.byteOffset, 4).getUint32(0, true);
  if (headLength > maxBinaryHeadBytes || 4 + headLength > message.byteLength)
    throw new SyntaxError('binary frame head length out of range');
  let head: string;
  try {
    head = new TextDecoder('utf-8', { fatal: true }).decode(message.subarray(4, 4 + headLength));
  } catch {
    throw new SyntaxError('binary frame head is not UTF-8');
  }
  const start = 4 + headLength;
  const payload = new Uint8Array(message.buffer, message.byteOffset + start, message.byteLength - start);
  let markers = 0;
  const frame: unknown = JSON.parse(head, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && '$bin' in value) {
      const { $bin } = value as { $bin: unknown };
      if (markers > 0 || Object.keys(value).length !== 1 || $bin !== payload.byteLength)
        throw new SyntaxError('malformed binary payload marker in frame');
      markers++;
      return payload;
    }
    return typedArrayFromJson(value);
  });
  if (markers !== 1) throw new SyntaxError('binary frame without its payload marker');
  return frame;
}
