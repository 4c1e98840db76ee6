// Generator of PyTorch CUDA memory snapshots modelled on a real training loop, for benchmarks and tests:
// what torch.cuda.memory._record_memory_history(stacks="all") + torch.cuda.memory._dump_snapshot() would
// write for a small transformer trained with Adam, data loading on a side stream and a gradient all-reduce
// on a communication stream.
//
//   node --import tsx scripts/pytorch-training-snapshot.ts --entries 1000000 --out snap.pickle [--json snap.json]
//        [--stacks all|python] [--seed N]
//
// The caching allocator is modelled closely enough that the snapshot looks like PyTorch's own:
// - requests are rounded to 512 bytes (min 512); small requests (<= 1 MiB) come from 2 MiB segments,
//   requests below 10 MiB from 20 MiB segments, larger ones from segments rounded up to 2 MiB;
// - a cached free block of the same stream and pool is reused best-fit and split when the rest is >= 512
//   bytes (small pool) or > 1 MiB (large pool); freed blocks merge with free neighbours; segments are only
//   given back by an empty_cache() after the first iteration (segment_free);
// - trace entries carry the *requested* size (alloc: the size asked for; free_requested / free_completed:
//   block->requested_size) while the segments snapshot lists blocks by their rounded size with
//   requested_size beside it — exactly the difference a like-with-like end-state check has to respect.
// The workload: weights (allocated once), Adam state (exp_avg, exp_avg_sq: allocated at the first step),
// per iteration a batch copied in on the data-loader stream, forward activations kept until backward and
// freed there in reverse order, temporaries freed right away, gradients (set_to_none: freed each step),
// gradient all-reduce buckets on the NCCL stream, optimizer temporaries; the sequence length varies per
// batch (dynamic padding), so sizes are not all multiples of 512.
// Stacks: innermost first, as PyTorch writes them: the allocator's own C++ frames, the ATen dispatch
// frames, then Python frames interleaved with the interpreter's C frames, down to main; backward
// allocations (autograd engine thread) have C++ frames only. With --stacks python only Python frames.
// Frame dicts are shared between stacks (PyTorch's py_symbolize builds one dict per distinct frame), so
// the pickle reads them back by memo reference as CPython's pickler writes it.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const KiB = 1024;
const MiB = 1024 * KiB;

// ---- Frames and stacks ------------------------------------------------------------------------------------

export interface Frame {
  readonly name: string;
  readonly filename: string;
  readonly line: number;
}

const ALLOCATOR_FRAMES: Frame[] = [
  { name: 'torch::unwind::unwind()', filename: '??', line: 0 },
  {
    name: 'torch::CapturedTraceback::gather(bool, bool, bool)',
    filename: '/pytorch/torch/csrc/profiler/combined_traceback.cpp',
    line: 79,
  },
  {
    name: 'c10::cuda::CUDACachingAllocator::Native::DeviceCachingAllocator::malloc(signed char, unsigned long, CUstream_st*)',
    filename: '/pytorch/c10/cuda/CUDACachingAllocator.cpp',
    line: 1301,
  },
  {
    name: 'c10::cuda::CUDACachingAllocator::Native::NativeCachingAllocator::malloc(void**, signed char, unsigned long, CUstream_st*)',
    filename: '/pytorch/c10/cuda/CUDACachingAllocator.cpp',
    line: 3261,
  },
  {
    name: 'c10::cuda::CUDACachingAllocator::Native::NativeCachingAllocator::allocate(unsigned long)',
    filename: '/pytorch/c10/cuda/CUDACachingAllocator.cpp',
    line: 3402,
  },
  {
    name: 'at::TensorBase at::detail::_empty_generic<long>(c10::ArrayRef<long>, c10::Allocator*, c10::DispatchKeySet, c10::ScalarType, std::optional<c10::MemoryFormat>)',
    filename: '/pytorch/aten/src/ATen/EmptyTensor.cpp',
    line: 46,
  },
  {
    name: 'at::detail::empty_cuda(c10::ArrayRef<long>, c10::ScalarType, std::optional<c10::Device>, std::optional<c10::MemoryFormat>)',
    filename: '/pytorch/aten/src/ATen/cuda/EmptyTensor.cpp',
    line: 23,
  },
];

const INTERPRETER_FRAMES: Frame[] = [
  { name: '_PyEval_EvalFrameDefault', filename: '??', line: 0 },
  { name: '_PyFunction_Vectorcall', filename: '??', line: 0 },
  { name: '_PyObject_MakeTpCall', filename: '??', line: 0 },
];

const PROGRAM_BOTTOM: Frame[] = [
  { name: 'main', filename: '/workspace/train.py', line: 212 },
  { name: '<module>', filename: '/workspace/train.py', line: 230 },
  { name: 'Py_RunMain', filename: '??', line: 0 },
  { name: '__libc_start_main', filename: '??', line: 0 },
  { name: '_start', filename: '??', line: 0 },
];

const ENGINE_BOTTOM: Frame[] = [
  {
    name: 'torch::autograd::Engine::evaluate_function(std::shared_ptr<torch::autograd::GraphTask>&, torch::autograd::Node*, torch::autograd::InputBuffer&, std::shared_ptr<torch::autograd::ReadyQueue> const&)',
    filename: '/pytorch/torch/csrc/autograd/engine.cpp',
    line: 1075,
  },
  {
    name: 'torch::autograd::Engine::thread_main(std::shared_ptr<torch::autograd::GraphTask> const&)',
    filename: '/pytorch/torch/csrc/autograd/engine.cpp',
    line: 614,
  },
  {
    name: 'torch::autograd::python::PythonEngine::thread_init(int, std::shared_ptr<torch::autograd::ReadyQueue> const&, bool)',
    filename: '/pytorch/torch/csrc/autograd/python_engine.cpp',
    line: 92,
  },
  { name: 'execute_native_thread_routine', filename: '??', line: 0 },
  { name: 'start_thread', filename: '??', line: 0 },
  { name: 'clone', filename: '??', line: 0 },
];

function aten(op: string): Frame[] {
  return [
    {
      name: `at::native::${op}_out_cuda(at::Tensor const&, at::Tensor const&, at::Tensor&)`,
      filename: `/pytorch/aten/src/ATen/native/cuda/${op}.cu`,
      line: 100 + op.length * 7,
    },
    {
      name: `at::(anonymous namespace)::wrapper_CUDA_${op}(at::Tensor const&, at::Tensor const&)`,
      filename: '/pytorch/build/aten/src/ATen/RegisterCUDA.cpp',
      line: 2000 + op.length * 31,
    },
    {
      name: `at::_ops::${op}::redispatch(c10::DispatchKeySet, at::Tensor const&, at::Tensor const&)`,
      filename: '/pytorch/build/aten/src/ATen/Operators_2.cpp',
      line: 3000 + op.length * 13,
    },
    {
      name: `torch::autograd::VariableType::(anonymous namespace)::${op}(c10::DispatchKeySet, at::Tensor const&, at::Tensor const&)`,
      filename: '/pytorch/torch/csrc/autograd/generated/VariableType_2.cpp',
      line: 9000 + op.length * 17,
    },
    {
      name: `at::_ops::${op}::call(at::Tensor const&, at::Tensor const&)`,
      filename: '/pytorch/build/aten/src/ATen/Operators_2.cpp',
      line: 2900 + op.length * 13,
    },
  ];
}

function py(name: string, file: string, line: number): Frame {
  return { name, filename: file, line };
}

const MODULE_PY = '/usr/lib/python3.11/site-packages/torch/nn/modules/module.py';

/** Python frames of a module call: the user's forward plus nn.Module's two call wrappers. */
function moduleCall(forward: Frame): Frame[] {
  return [forward, py('_call_impl', MODULE_PY, 1562), py('_wrapped_call_impl', MODULE_PY, 1553)];
}

/** Interleaves Python frames (innermost first) with the interpreter frames that run them. */
function withInterpreter(pyFrames: Frame[], stacks: 'all' | 'python'): Frame[] {
  if (stacks === 'python') return pyFrames;
  const out: Frame[] = [];
  pyFrames.forEach((f, i) => {
    out.push(f);
    out.push(INTERPRETER_FRAMES[0]!);
    if (i % 2 === 1) out.push(INTERPRETER_FRAMES[1 + (i % 2)]!);
  });
  return out;
}

/** The interned stacks of the workload: id -> frames (innermost first). */
class StackTable {
  readonly frames: Frame[] = [];
  private readonly frameIds = new Map<string, number>();
  readonly stacks: number[][] = [[]];
  private readonly stackIds = new Map<string, number>();
  constructor(readonly mode: 'all' | 'python') {}

  private frameId(f: Frame): number {
    const key = `${f.name}\u0000${f.filename}\u0000${f.line}`;
    let id = this.frameIds.get(key);
    if (id === undefined) {
      id = this.frames.length;
      this.frames.push(f);
      this.frameIds.set(key, id);
    }
    return id;
  }

  private intern(frames: Frame[]): number {
    const ids = frames.map((f) => this.frameId(f));
    const key = ids.join(',');
    let id = this.stackIds.get(key);
    if (id === undefined) {
      id = this.stacks.length;
      this.stacks.push(ids);
      this.stackIds.set(key, id);
    }
    return id;
  }

  /** An allocation made by `op` while running the given Python frames (innermost first). */
  python(op: string, pyFrames: Frame[]): number {
    const pyPart = withInterpreter([...pyFrames, ...PROGRAM_BOTTOM.slice(0, 2)], this.mode);
    if (this.mode === 'python') return this.intern(pyPart);
    const binding: Frame = {
      name: `torch::autograd::THPVariable_${op}(_object*, _object*, _object*)`,
      filename: '/pytorch/torch/csrc/autograd/generated/python_torch_functions_0.cpp',
      line: 4000 + op.length * 19,
    };
    return this.intern([...ALLOCATOR_FRAMES, ...aten(op), binding, ...pyPart, ...PROGRAM_BOTTOM.slice(2)]);
  }

  /** An allocation made in the autograd engine's thread (backward): C++ frames only. */
  backward(node: string, op: string): number {
    if (this.mode === 'python') return 0; // no Python frames: PyTorch records an empty list
    return this.intern([
      ...ALLOCATOR_FRAMES,
      ...aten(op),
      {
        name: `torch::autograd::generated::${node}::apply(std::vector<at::Tensor, std::allocator<at::Tensor> >&&)`,
        filename: '/pytorch/torch/csrc/autograd/generated/Functions.cpp',
        line: 5000 + node.length * 23,
      },
      {
        name: 'torch::autograd::Node::operator()(std::vector<at::Tensor, std::allocator<at::Tensor> >&&)',
        filename: '/pytorch/torch/csrc/autograd/function.h',
        line: 184,
      },
      ...ENGINE_BOTTOM,
    ]);
  }

  /** An allocation in a C++ library call without Python frames of its own (NCCL buckets). */
  native(frames: Frame[]): number {
    if (this.mode === 'python') return 0;
    return this.intern([...ALLOCATOR_FRAMES, ...frames]);
  }
}

// ---- The caching allocator model ----------------------------------------------------------------------------

export interface Block {
  addr: number;
  size: number;
  requested: number;
  allocated: boolean;
  stack: number;
  /** The trace entry that allocated it (while allocated). */
  allocEntry: number;
  readonly segment: Segment;
  prev: Block | null;
  next: Block | null;
}

export interface Segment {
  readonly addr: number;
  readonly size: number;
  readonly stream: number;
  readonly small: boolean;
  first: Block;
  stack: number;
}

export const enum EntryAction {
  Alloc = 0,
  FreeRequested,
  FreeCompleted,
  SegmentAlloc,
  SegmentFree,
}
export const entryActionNames = [
  'alloc',
  'free_requested',
  'free_completed',
  'segment_alloc',
  'segment_free',
];

/** Trace entries in columns (one row per entry). */
export class TraceColumns {
  length = 0;
  action = new Uint8Array(1 << 16);
  addr = new Float64Array(1 << 16);
  size = new Float64Array(1 << 16);
  stream = new Float64Array(1 << 16);
  stack = new Uint32Array(1 << 16);
  time = new Float64Array(1 << 16);

  push(action: EntryAction, addr: number, size: number, stream: number, stack: number, time: number): void {
    if (this.length === this.action.length) {
      const grow = <T extends Uint8Array | Uint32Array | Float64Array>(a: T, b: T): T => (b.set(a), b);
      const n = this.length * 2;
      this.action = grow(this.action, new Uint8Array(n));
      this.addr = grow(this.addr, new Float64Array(n));
      this.size = grow(this.size, new Float64Array(n));
      this.stream = grow(this.stream, new Float64Array(n));
      this.stack = grow(this.stack, new Uint32Array(n));
      this.time = grow(this.time, new Float64Array(n));
    }
    const i = this.length++;
    this.action[i] = action;
    this.addr[i] = addr;
    this.size[i] = size;
    this.stream[i] = stream;
    this.stack[i] = stack;
    this.time[i] = time;
  }
}

function roundSize(size: number): number {
  return size < 512 ? 512 : Math.ceil(size / 512) * 512;
}

class CachingAllocatorModel {
  readonly segments: Segment[] = [];
  /** Free blocks per pool ("stream/small|large"); linear best-fit search is fast enough at these counts. */
  private readonly free = new Map<string, Set<Block>>();
  private nextAddress = 0x7f3a_0000_0000;
  time = 1_733_000_000_000_000;

  constructor(readonly trace: TraceColumns) {}

  private pool(stream: number, small: boolean): Set<Block> {
    const key = `${stream}/${small ? 's' : 'l'}`;
    let set = this.free.get(key);
    if (set === undefined) this.free.set(key, (set = new Set()));
    return set;
  }

  private tick(us: number): number {
    this.time += us;
    return this.time;
  }

  malloc(requested: number, stream: number, stack: number): Block {
    const size = roundSize(requested);
    const small = size <= MiB;
    const pool = this.pool(stream, small);
    let best: Block | null = null;
    for (const b of pool) if (b.size >= size && (best === null || b.size < best.size)) best = b;
    if (best === null) {
      const segSize = small ? 2 * MiB : size < 10 * MiB ? 20 * MiB : Math.ceil(size / (2 * MiB)) * 2 * MiB;
      const addr = this.nextAddress;
      this.nextAddress += Math.ceil(segSize / (2 * MiB)) * 2 * MiB;
      const seg: Segment = { addr, size: segSize, stream, small, first: null as unknown as Block, stack };
      const block: Block = {
        addr,
        size: segSize,
        requested: 0,
        allocated: false,
        stack: 0,
        allocEntry: -1,
        segment: seg,
        prev: null,
        next: null,
      };
      seg.first = block;
      this.segments.push(seg);
      this.trace.push(EntryAction.SegmentAlloc, addr, segSize, stream, stack, this.tick(40));
      best = block;
    } else pool.delete(best);
    const rest = best.size - size;
    if (small ? rest >= 512 : rest > MiB) {
      const tail: Block = {
        addr: best.addr + size,
        size: rest,
        requested: 0,
        allocated: false,
        stack: 0,
        allocEntry: -1,
        segment: best.segment,
        prev: best,
        next: best.next,
      };
      if (best.next) best.next.prev = tail;
      best.next = tail;
      best.size = size;
      pool.add(tail);
    }
    best.allocated = true;
    best.requested = requested;
    best.stack = stack;
    best.allocEntry = this.trace.length;
    this.trace.push(EntryAction.Alloc, best.addr, requested, stream, stack, this.tick(3));
    return best;
  }

  release(b: Block): void {
    const seg = b.segment;
    this.trace.push(EntryAction.FreeRequested, b.addr, b.requested, seg.stream, b.stack, this.tick(2));
    this.trace.push(EntryAction.FreeCompleted, b.addr, b.requested, seg.stream, b.stack, this.tick(1));
    b.allocated = false;
    b.requested = 0;
    b.stack = 0;
    const pool = this.pool(seg.stream, seg.small);
    let block = b;
    const prev = block.prev;
    if (prev !== null && !prev.allocated) {
      pool.delete(prev);
      prev.size += block.size;
      prev.next = block.next;
      if (block.next) block.next.prev = prev;
      block = prev;
    }
    const next = block.next;
    if (next !== null && !next.allocated) {
      pool.delete(next);
      block.size += next.size;
      block.next = next.next;
      if (next.next) next.next.prev = block;
    }
    pool.add(block);
  }

  /** torch.cuda.empty_cache(): segments with nothing allocated are given back. */
  emptyCache(): void {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const seg = this.segments[i]!;
      if (seg.first.allocated || seg.first.next !== null) continue;
      this.pool(seg.stream, seg.small).delete(seg.first);
      this.trace.push(EntryAction.SegmentFree, seg.addr, seg.size, seg.stream, seg.stack, this.tick(30));
      this.segments.splice(i, 1);
    }
  }

  busy(us: number): void {
    this.tick(us);
  }
}

// ---- The training loop ------------------------------------------------------------------------------------

/** cudaStream_t values as PyTorch records them: 0 for the default stream, pointers for the others. */
export const STREAMS = { compute: 0, loader: 0x55d1_6a3c_2f10, nccl: 0x55d1_6a3c_7b40 } as const;

export interface TrainingOptions {
  /** Stop once the trace has at least this many entries (the iteration in progress is finished). */
  readonly entries: number;
  readonly stacks?: 'all' | 'python';
  readonly layers?: number;
  readonly hidden?: number;
  readonly batch?: number;
  readonly seed?: number;
}

export interface TrainingSnapshot {
  // Read-only for writers; tests may alter a simulated snapshot to make it inconsistent.
  readonly trace: TraceColumns;
  readonly segments: readonly Segment[];
  readonly table: StackTable;
  readonly iterations: number;
}

/** Runs the modelled training loop until the trace has `entries` entries. Deterministic for a seed. */
export function simulateTraining(o: TrainingOptions): TrainingSnapshot {
  const layers = o.layers ?? 12;
  const h = o.hidden ?? 1024;
  const batch = o.batch ?? 8;
  const table = new StackTable(o.stacks ?? 'all');
  const trace = new TraceColumns();
  const m = new CachingAllocatorModel(trace);
  let rng = (o.seed ?? 1) >>> 0;
  const rand = (): number => {
    rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0;
    return rng / 2 ** 32;
  };
  const F = '/workspace/model.py';
  const T = '/workspace/train.py';
  const ADAM = '/usr/lib/python3.11/site-packages/torch/optim/adam.py';
  const OPT = '/usr/lib/python3.11/site-packages/torch/optim/optimizer.py';
  const trainStep = py('train_step', T, 141);
  const blockFwd = py('forward', F, 88);
  const modelFwd = py('forward', F, 131);
  const attnFwd = py('forward', F, 41);
  const mlpFwd = py('forward', F, 67);
  const inModel = (inner: Frame[]): Frame[] => [
    ...inner,
    ...moduleCall(blockFwd),
    ...moduleCall(modelFwd),
    trainStep,
  ];
  const stack = {
    weight: (name: string, line: number) =>
      table.python('empty', [
        py('__init__', F, line),
        py(`build_${name}`, F, line + 150),
        py('build_model', T, 190),
      ]),
    input: table.python('to', [py('to_device', T, 62), py('__next__', T, 71), py('train_step', T, 118)]),
    lnOut: table.python('native_layer_norm', inModel([py('forward', F, 84)])),
    qkv: table.python('addmm', inModel([py('forward', F, 35), ...moduleCall(attnFwd)])),
    scores: table.python('bmm', inModel([py('forward', F, 38), ...moduleCall(attnFwd)])),
    softmax: table.python('_softmax', inModel([py('softmax', F, 39), ...moduleCall(attnFwd)])),
    attnOut: table.python('bmm', inModel([py('forward', F, 40), ...moduleCall(attnFwd)])),
    proj: table.python('addmm', inModel([py('forward', F, 42), ...moduleCall(attnFwd)])),
    up: table.python('addmm', inModel([py('forward', F, 64), ...moduleCall(mlpFwd)])),
    gelu: table.python('gelu', inModel([py('forward', F, 65), ...moduleCall(mlpFwd)])),
    down: table.python('addmm', inModel([py('forward', F, 66), ...moduleCall(mlpFwd)])),
    tmp: table.python('add', inModel([py('forward', F, 90)])),
    scalar: table.python('mean', [py('loss_fn', T, 98), trainStep]),
    logits: table.python('mm', [py('forward', F, 135), ...moduleCall(modelFwd), trainStep]),
    gradMm: table.backward('MmBackward0', 'mm'),
    gradAddmm: table.backward('AddmmBackward0', 'addmm'),
    gradSoftmax: table.backward('SoftmaxBackward0', '_softmax_backward_data'),
    gradGelu: table.backward('GeluBackward0', 'gelu_backward'),
    gradLn: table.backward('NativeLayerNormBackward0', 'native_layer_norm_backward'),
    gradAccumulate: table.backward('AccumulateGrad', 'add'),
    adamState: table.python('zeros_like', [
      py('_init_group', ADAM, 138),
      py('step', ADAM, 223),
      py('wrapper', OPT, 487),
      trainStep,
    ]),
    adamTmp: table.python('_foreach_sqrt', [
      py('_multi_tensor_adam', ADAM, 599),
      py('adam', ADAM, 354),
      py('step', ADAM, 246),
      py('wrapper', OPT, 487),
      trainStep,
    ]),
    bucket: table.native([
      {
        name: 'c10d::Reducer::initialize_buckets(std::vector<c10d::Reducer::BucketIndices, std::allocator<c10d::Reducer::BucketIndices> >)',
        filename: '/pytorch/torch/csrc/distributed/c10d/reducer.cpp',
        line: 1186,
      },
      {
        name: 'c10d::ProcessGroupNCCL::allreduce(std::vector<at::Tensor, std::allocator<at::Tensor> >&, c10d::AllreduceOptions const&)',
        filename: '/pytorch/torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp',
        line: 3840,
      },
      ...ENGINE_BOTTOM,
    ]),
  };
  // Weights (fp32), allocated once at model construction.
  const paramSizes: number[] = [];
  for (let l = 0; l < layers; l++)
    paramSizes.push(
      4 * 3 * h * h,
      4 * 3 * h,
      4 * h * h,
      4 * h,
      4 * 4 * h * h,
      4 * 4 * h,
      4 * 4 * h * h,
      4 * h,
      4 * h,
      4 * h,
    );
  paramSizes.push(4 * 32000 * h); // the output embedding
  const weights = paramSizes.map((s, i) =>
    m.malloc(s, STREAMS.compute, stack.weight(`param_${i % 10}`, 20 + (i % 10))),
  );
  let adam: Block[] | null = null;
  let iterations = 0;
  while (trace.length < o.entries) {
    iterations++;
    const seq = 448 + Math.floor(rand() * 64) + (rand() < 0.3 ? 1 : 0); // dynamic padding
    const tokens = batch * seq;
    // The batch arrives on the data-loader stream.
    const input = m.malloc(tokens * 8, STREAMS.loader, stack.input);
    const labels = m.malloc(tokens * 8, STREAMS.loader, stack.input);
    m.busy(200);
    // Forward: activations kept for backward, temporaries freed right away.
    const saved: Block[][] = [];
    for (let l = 0; l < layers; l++) {
      const keep: Block[] = [];
      keep.push(m.malloc(tokens * h * 2, STREAMS.compute, stack.lnOut));
      keep.push(m.malloc(tokens * 3 * h * 2, STREAMS.compute, stack.qkv));
      const scores = m.malloc(batch * 16 * seq * seq * 2, STREAMS.compute, stack.scores);
      keep.push(m.malloc(batch * 16 * seq * seq * 2, STREAMS.compute, stack.softmax));
      m.release(scores);
      keep.push(m.malloc(tokens * h * 2, STREAMS.compute, stack.attnOut));
      const proj = m.malloc(tokens * h * 2, STREAMS.compute, stack.proj);
      const resid = m.malloc(tokens * h * 2, STREAMS.compute, stack.tmp);
      m.release(proj);
      keep.push(resid);
      keep.push(m.malloc(tokens * h * 2, STREAMS.compute, stack.lnOut));
      keep.push(m.malloc(tokens * 4 * h * 2, STREAMS.compute, stack.up));
      keep.push(m.malloc(tokens * 4 * h * 2, STREAMS.compute, stack.gelu));
      const down = m.malloc(tokens * h * 2, STREAMS.compute, stack.down);
      const mask = m.malloc(4, STREAMS.compute, stack.scalar); // a 0-d tensor: rounded up to 512
      m.release(mask);
      keep.push(down);
      saved.push(keep);
      m.busy(900);
    }
    const logits = m.malloc(tokens * 32000 * 2, STREAMS.compute, stack.logits);
    const loss = m.malloc(4, STREAMS.compute, stack.scalar);
    m.release(input);
    // Backward: gradients of activations as temporaries, weight gradients kept until the step.
    const grads: Block[] = [];
    const gradLogits = m.malloc(tokens * 32000 * 2, STREAMS.compute, stack.gradMm);
    m.release(logits);
    grads.push(m.malloc(paramSizes[paramSizes.length - 1]!, STREAMS.compute, stack.gradAccumulate));
    let upstream = m.malloc(tokens * h * 2, STREAMS.compute, stack.gradMm);
    m.release(gradLogits);
    let bucket: Block | null = null;
    for (let l = layers - 1; l >= 0; l--) {
      const keep = saved[l]!;
      const g1 = m.malloc(tokens * 4 * h * 2, STREAMS.compute, stack.gradAddmm);
      const g2 = m.malloc(tokens * 4 * h * 2, STREAMS.compute, stack.gradGelu);
      m.release(g1);
      const g3 = m.malloc(tokens * h * 2, STREAMS.compute, stack.gradAddmm);
      m.release(g2);
      const g4 = m.malloc(tokens * h * 2, STREAMS.compute, stack.gradLn);
      m.release(g3);
      const g5 = m.malloc(batch * 16 * seq * seq * 2, STREAMS.compute, stack.gradSoftmax);
      const g6 = m.malloc(tokens * 3 * h * 2, STREAMS.compute, stack.gradAddmm);
      m.release(g5);
      const g7 = m.malloc(tokens * h * 2, STREAMS.compute, stack.gradLn);
      m.release(g6);
      m.release(g4);
      m.release(upstream);
      upstream = g7;
      for (let k = 9; k >= 0; k--)
        grads.push(m.malloc(paramSizes[l * 10 + k]!, STREAMS.compute, stack.gradAccumulate));
      for (let k = keep.length - 1; k >= 0; k--) m.release(keep[k]!);
      // Every fourth layer a gradient bucket is all-reduced on the NCCL stream.
      if (l % 4 === 0) {
        if (bucket) m.release(bucket);
        bucket = m.malloc(25 * MiB, STREAMS.nccl, stack.bucket);
      }
      m.busy(1500);
    }
    m.release(upstream);
    if (bucket) m.release(bucket);
    m.release(loss);
    m.release(labels);
    // Optimizer step: Adam state on the first step, temporaries every step; then zero_grad(set_to_none).
    if (adam === null)
      adam = paramSizes.flatMap((s) => [
        m.malloc(s, STREAMS.compute, stack.adamState),
        m.malloc(s, STREAMS.compute, stack.adamState),
      ]);
    for (let k = 0; k < paramSizes.length; k += 10) {
      const t = m.malloc(paramSizes[k]!, STREAMS.compute, stack.adamTmp);
      m.release(t);
    }
    for (const g of grads) m.release(g);
    m.busy(5000);
    if (iterations === 1) m.emptyCache(); // the warm-up iteration's odd sizes are given back
  }
  void weights;
  return { trace, segments: m.segments, table, iterations };
}

// ---- Pickle (protocol 4, as CPython's C pickler writes it) -------------------------------------------------

/** Buffered file output with CPython's protocol 4 framing (FRAME opcodes of about 64 KiB). */
class PickleFileWriter {
  private buf = Buffer.allocUnsafe(256 * KiB);
  private n = 0;
  private frameStart = 0;
  bytes = 0;
  private memo = 0;
  private readonly memoOfKey = new Map<string, number>();
  constructor(private readonly fd: number) {
    this.op(0x80, 4);
    this.startFrame();
  }
  private ensure(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(bigger, 0, 0, this.n);
    this.buf = bigger;
  }
  private startFrame(): void {
    this.ensure(9);
    this.buf[this.n] = 0x95;
    this.n += 9;
    this.frameStart = this.n;
  }
  /** Ends the current frame at an opcode boundary once it holds 64 KiB (CPython's _FRAME_SIZE_TARGET). */
  boundary(): void {
    if (this.n - this.frameStart < 64 * KiB) return;
    this.closeFrame();
    this.flushFile();
    this.startFrame();
  }
  private closeFrame(): void {
    const len = this.n - this.frameStart;
    this.buf.writeBigUInt64LE(BigInt(len), this.frameStart - 8);
  }
  private flushFile(): void {
    let d = 0;
    while (d < this.n) d += writeSync(this.fd, this.buf, d, this.n - d);
    this.bytes += this.n;
    this.n = 0;
  }
  op(...bytes: number[]): void {
    this.ensure(bytes.length);
    for (const b of bytes) this.buf[this.n++] = b;
  }
  memoize(): number {
    this.op(0x94);
    return this.memo++;
  }
  get(index: number): void {
    if (index < 256) this.op(0x68, index);
    else {
      this.ensure(5);
      this.buf[this.n++] = 0x6a;
      this.buf.writeUInt32LE(index, this.n);
      this.n += 4;
    }
  }
  /** A fresh str object (written and memoized). */
  str(s: string): void {
    const len = Buffer.byteLength(s);
    this.ensure(len + 9);
    if (len < 256) this.op(0x8c, len);
    else {
      this.buf[this.n++] = 0x58;
      this.buf.writeUInt32LE(len, this.n);
      this.n += 4;
    }
    this.n += this.buf.write(s, this.n);
    this.memoize();
  }
  /** A str object shared across the file (dict keys, action names): written once, then read back. */
  sharedStr(s: string): void {
    const m = this.memoOfKey.get(s);
    if (m !== undefined) return this.get(m);
    this.str(s);
    this.memoOfKey.set(s, this.memo - 1);
  }
  int(v: number): void {
    if (v >= 0 && v < 256) this.op(0x4b, v);
    else if (v >= 0 && v < 65536) this.op(0x4d, v & 0xff, v >> 8);
    else if (v >= -(2 ** 31) && v < 2 ** 31) {
      this.ensure(5);
      this.buf[this.n++] = 0x4a;
      this.buf.writeInt32LE(v, this.n);
      this.n += 4;
    } else {
      let x = BigInt(v);
      const bytes: number[] = [];
      for (;;) {
        bytes.push(Number(x & 0xffn));
        x >>= 8n;
        const top = bytes[bytes.length - 1]! & 0x80;
        if ((x === 0n && top === 0) || (x === -1n && top !== 0)) break;
      }
      this.op(0x8a, bytes.length, ...bytes);
    }
  }
  bool(v: boolean): void {
    this.op(v ? 0x88 : 0x89);
  }
  finish(): number {
    this.op(0x2e);
    this.closeFrame();
    this.flushFile();
    return this.bytes;
  }
}

/** Writes a list of `count` items the way CPython batches them: MARK up to 1000 items APPENDS. */
function pickleList(w: PickleFileWriter, count: number, item: (i: number) => void): number {
  w.op(0x5d);
  const slot = w.memoize();
  for (let start = 0; start < count; start += 1000) {
    const end = Math.min(count, start + 1000);
    if (end - start === 1) {
      item(start);
      w.op(0x61);
    } else {
      w.op(0x28);
      for (let i = start; i < end; i++) {
        item(i);
        w.boundary();
      }
      w.op(0x65);
    }
  }
  return slot;
}

function pickleDict(w: PickleFileWriter, items: [string, () => void][]): void {
  w.op(0x7d);
  w.memoize();
  if (items.length === 1) {
    w.sharedStr(items[0]![0]);
    items[0]![1]();
    w.op(0x73);
    return;
  }
  w.op(0x28);
  for (const [k, v] of items) {
    w.sharedStr(k);
    v();
  }
  w.op(0x75);
}

/**
 * For the benchmark scripts' `--file F | --entries N`: `file` when given, else a snapshot of `entries`
 * entries (the training loop's defaults) written into `dir`; its path.
 */
export function benchSnapshotFile(dir: string, entries: number, file?: string): string {
  if (file !== undefined) return file;
  const out = path.join(dir, `training-${entries}.pickle`);
  writeTrainingPickle(out, simulateTraining({ entries }));
  flushToDisk(out);
  return out;
}

/**
 * Waits until `file`'s bytes are on disk: a benchmark times nothing before, else the kernel writes a fresh
 * file back (hundreds of MB) during the first runs, on the same cores.
 */
export function flushToDisk(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Snapshot in the dictionary layout of torch.cuda.memory._snapshot(), streamed to `file` as a pickle. */
export function writeTrainingPickle(
  file: string,
  s: TrainingSnapshot,
  options: { requestedSize?: boolean } = {},
): number {
  /** PyTorch before 2.1 wrote no requested_size: blocks had their rounded size only. */
  const withRequested = options.requestedSize ?? true;
  const fd = openSync(file, 'w');
  try {
    const w = new PickleFileWriter(fd);
    const frameMemo = new Int32Array(s.table.frames.length).fill(-1);
    // One frames list per captured traceback: a live block in the segments and the alloc entry that made
    // it share the list object (PyTorch symbolizes each CapturedTraceback once), so the entry reads the
    // list back from the memo.
    const listOfAllocEntry = new Map<number, number>();
    const frames = (stackId: number): number => {
      const ids = s.table.stacks[stackId]!;
      return pickleList(w, ids.length, (k) => {
        const f = ids[k]!;
        if (frameMemo[f]! >= 0) return w.get(frameMemo[f]!);
        const fr = s.table.frames[f]!;
        w.op(0x7d);
        frameMemo[f] = w.memoize();
        w.op(0x28);
        w.sharedStr('name');
        w.str(fr.name);
        w.sharedStr('filename');
        w.str(fr.filename);
        w.sharedStr('line');
        w.int(fr.line);
        w.op(0x75);
      });
    };
    w.op(0x7d);
    w.memoize();
    w.op(0x28);
    w.sharedStr('segments');
    pickleList(w, s.segments.length, (i) => {
      const seg = s.segments[i]!;
      const blocks: Block[] = [];
      for (let b: Block | null = seg.first; b !== null; b = b.next) blocks.push(b);
      let allocated = 0;
      let requested = 0;
      for (const b of blocks)
        if (b.allocated) {
          allocated += b.size;
          requested += b.requested;
        }
      pickleDict(w, [
        ['device', () => w.int(0)],
        ['address', () => w.int(seg.addr)],
        ['total_size', () => w.int(seg.size)],
        ['allocated_size', () => w.int(allocated)],
        ['active_size', () => w.int(allocated)],
        ...(withRequested ? ([['requested_size', () => w.int(requested)]] as [string, () => void][]) : []),
        ['stream', () => w.int(seg.stream)],
        ['segment_type', () => w.sharedStr(seg.small ? 'small' : 'large')],
        ['segment_pool_id', () => (w.int(0), w.int(0), w.op(0x86), w.memoize())],
        ['is_expandable', () => w.bool(false)],
        ['frames', () => frames(seg.stack)],
        [
          'blocks',
          () =>
            pickleList(w, blocks.length, (k) => {
              const b = blocks[k]!;
              pickleDict(w, [
                ['address', () => w.int(b.addr)],
                ['size', () => w.int(b.size)],
                ...(withRequested
                  ? ([['requested_size', () => w.int(b.requested)]] as [string, () => void][])
                  : []),
                ['state', () => w.sharedStr(b.allocated ? 'active_allocated' : 'inactive')],
                [
                  'frames',
                  () => {
                    const slot = frames(b.allocated ? b.stack : 0);
                    if (b.allocated) listOfAllocEntry.set(b.allocEntry, slot);
                  },
                ],
              ]);
            }),
        ],
      ]);
    });
    w.sharedStr('device_traces');
    const t = s.trace;
    pickleList(w, 1, () =>
      pickleList(w, t.length, (i) =>
        pickleDict(w, [
          ['action', () => w.sharedStr(entryActionNames[t.action[i]!]!)],
          ['addr', () => w.int(t.addr[i]!)],
          ['size', () => w.int(t.size[i]!)],
          ['stream', () => w.int(t.stream[i]!)],
          ['time_us', () => w.int(t.time[i]!)],
          [
            'frames',
            () => {
              const shared = listOfAllocEntry.get(i);
              if (shared !== undefined) w.get(shared);
              else frames(t.stack[i]!);
            },
          ],
        ]),
      ),
    );
    w.sharedStr('allocator_settings');
    pickleDict(w, [
      ['PYTORCH_CUDA_ALLOC_CONF', () => w.str('')],
      ['max_split_size', () => w.int(-1)],
      ['garbage_collection_threshold', () => w.int(0)],
      ['expandable_segments', () => w.bool(false)],
      ['pinned_num_register_threads', () => w.int(1)],
      ['release_lock_on_cudamalloc', () => w.bool(false)],
      ['pinned_use_host_register', () => w.bool(false)],
      ['roundup_power2_divisions', () => (w.op(0x7d), w.memoize())],
    ]);
    w.op(0x75);
    return w.finish();
  } finally {
    closeSync(fd);
  }
}

/** The same snapshot as JSON (as `json.dump(torch.cuda.memory._snapshot(), f)` writes it). */
export function writeTrainingJson(file: string, s: TrainingSnapshot): number {
  const fd = openSync(file, 'w');
  let bytes = 0;
  let pending: string[] = [];
  let pendingLength = 0;
  const out = (text: string): void => {
    pending.push(text);
    pendingLength += text.length;
    if (pendingLength > 1 << 20) flush();
  };
  const flush = (): void => {
    const b = Buffer.from(pending.join(''));
    writeSync(fd, b);
    bytes += b.length;
    pending = [];
    pendingLength = 0;
  };
  const stackJson = s.table.stacks.map((ids) => JSON.stringify(ids.map((f) => s.table.frames[f]!)));
  try {
    out('{"segments": [');
    s.segments.forEach((seg, i) => {
      const blocks: Block[] = [];
      for (let b: Block | null = seg.first; b !== null; b = b.next) blocks.push(b);
      const allocated = blocks.reduce((x, b) => x + (b.allocated ? b.size : 0), 0);
      const requested = blocks.reduce((x, b) => x + (b.allocated ? b.requested : 0), 0);
      out(
        `${i ? ', ' : ''}{"device": 0, "address": ${seg.addr}, "total_size": ${seg.size}, "allocated_size": ${allocated}, "active_size": ${allocated}, "requested_size": ${requested}, "stream": ${seg.stream}, "segment_type": "${seg.small ? 'small' : 'large'}", "segment_pool_id": [0, 0], "is_expandable": false, "frames": ${stackJson[seg.stack]}, "blocks": [`,
      );
      blocks.forEach((b, k) =>
        out(
          `${k ? ', ' : ''}{"address": ${b.addr}, "size": ${b.size}, "requested_size": ${b.requested}, "state": "${b.allocated ? 'active_allocated' : 'inactive'}", "frames": ${stackJson[b.allocated ? b.stack : 0]}}`,
        ),
      );
      out(']}');
    });
    out('], "device_traces": [[');
    const t = s.trace;
    for (let i = 0; i < t.length; i++)
      out(
        `${i ? ', ' : ''}{"action": "${entryActionNames[t.action[i]!]}", "addr": ${t.addr[i]}, "size": ${t.size[i]}, "stream": ${t.stream[i]}, "time_us": ${t.time[i]}, "frames": ${stackJson[t.stack[i]!]}}`,
      );
    out(']], "allocator_settings": {"PYTORCH_CUDA_ALLOC_CONF": "", "expandable_segments": false}}\n');
    flush();
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** What the generated snapshot's segments add up to (the importer's summary line must print these). */
export function snapshotTotals(s: TrainingSnapshot): {
  blocks: number;
  blockBytes: number;
  allocations: number;
  allocatedBytes: number;
  requestedBytes: number;
} {
  let blockBytes = 0;
  let allocations = 0;
  let allocatedBytes = 0;
  let requestedBytes = 0;
  for (const seg of s.segments) {
    blockBytes += seg.size;
    for (let b: Block | null = seg.first; b !== null; b = b.next)
      if (b.allocated) {
        allocations++;
        allocatedBytes += b.size;
        requestedBytes += b.requested;
      }
  }
  return { blocks: s.segments.length, blockBytes, allocations, allocatedBytes, requestedBytes };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      entries: { type: 'string', default: '1000000' },
      out: { type: 'string' },
      json: { type: 'string' },
      stacks: { type: 'string', default: 'all' },
      seed: { type: 'string', default: '1' },
    },
  });
  if (!values.out && !values.json) {
    process.stderr.write(
      'usage: pytorch-training-snapshot.ts --entries N --out FILE.pickle [--json FILE.json]\n',
    );
    process.exit(2);
  }
  const stacks = values.stacks === 'python' ? 'python' : 'all';
  const t0 = performance.now();
  const s = simulateTraining({ entries: Number(values.entries), stacks, seed: Number(values.seed) });
  const totals = snapshotTotals(s);
  for (const [kind, file] of [
    ['pickle', values.out],
    ['json', values.json],
  ] as const) {
    if (!file) continue;
    const bytes = kind === 'pickle' ? writeTrainingPickle(file, s) : writeTrainingJson(file, s);
    console.log(
      `wrote ${file}: ${(bytes / MiB).toFixed(1)} MB ${kind}, ${s.trace.length} trace entries, ${s.iterations} iterations, ${s.table.stacks.length - 1} stacks of ${s.table.frames.length} frames; segments=${totals.blocks} block_bytes=${totals.blockBytes} allocations=${totals.allocations} allocated_bytes=${totals.allocatedBytes}`,
    );
  }
  console.log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
