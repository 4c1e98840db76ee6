import { describe, expect, test } from 'vitest';
import {
  foldStack,
  formatStack,
  groupLeaks,
  parseStack,
  stackOrigin,
  type Snapshot,
} from '../../allocator/analysis/index.ts';

// A PyTorch stacks="all" stack as the importer writes it ("<function> <file>:<line>", innermost first).
const pythonStack = [
  'torch::unwind::unwind() ??:0',
  'torch::CapturedTraceback::gather(bool, bool, bool) /pytorch/torch/csrc/profiler/combined_traceback.cpp:79',
  'c10::cuda::CUDACachingAllocator::Native::DeviceCachingAllocator::malloc(signed char, unsigned long, CUstream_st*) /pytorch/c10/cuda/CUDACachingAllocator.cpp:1301',
  'at::detail::empty_cuda(c10::ArrayRef<long>, c10::ScalarType) /pytorch/aten/src/ATen/cuda/EmptyTensor.cpp:23',
  'at::native::addmm_out_cuda(at::Tensor const&, at::Tensor const&, at::Tensor&) /pytorch/aten/src/ATen/native/cuda/Blas.cpp:290',
  'torch::autograd::THPVariable_addmm(_object*, _object*, _object*) /pytorch/torch/csrc/autograd/generated/python_torch_functions_0.cpp:4100',
  'forward /workspace/model.py:35',
  '_PyEval_EvalFrameDefault ??:0',
  '_call_impl /usr/lib/python3.11/site-packages/torch/nn/modules/module.py:1562',
  '_PyFunction_Vectorcall ??:0',
  'train_step /workspace/train.py:141',
  '__libc_start_main ??:0',
].join('\n');

// The autograd engine's thread: C++ frames only.
const backwardStack = [
  'torch::unwind::unwind() ??:0',
  'c10::cuda::CUDACachingAllocator::Native::NativeCachingAllocator::allocate(unsigned long) /pytorch/c10/cuda/CUDACachingAllocator.cpp:3402',
  'at::TensorBase at::detail::_empty_generic<long>(c10::ArrayRef<long>) /pytorch/aten/src/ATen/EmptyTensor.cpp:46',
  'at::native::mm_out_cuda(at::Tensor const&, at::Tensor const&, at::Tensor&) /pytorch/aten/src/ATen/native/cuda/mm.cu:121',
  'torch::autograd::generated::MmBackward0::apply(std::vector<at::Tensor>&&) /pytorch/torch/csrc/autograd/generated/Functions.cpp:5230',
  'start_thread ??:0',
  'clone ??:0',
].join('\n');

describe('stacks as frames', () => {
  test('frames are classified: Python, user C++, allocator, interpreter/runtime', () => {
    const kinds = parseStack(pythonStack)!.map((f) => f.kind);
    expect(kinds).toEqual([
      'allocator',
      'allocator',
      'allocator',
      'allocator',
      'native',
      'native',
      'python',
      'runtime',
      'python',
      'runtime',
      'python',
      'runtime',
    ]);
  });

  test('the origin is the innermost Python frame, else the first C++ frame that is not the allocator', () => {
    expect(stackOrigin(pythonStack)).toBe('/workspace/model.py:35 forward');
    expect(stackOrigin(backwardStack)).toBe(
      'at::native::mm_out_cuda(at::Tensor const&, at::Tensor const&, at::Tensor&) (/pytorch/aten/src/ATen/native/cuda/mm.cu:121)',
    );
    // Stacks without frames (VMA origins, captured programs' own text) are their own origin.
    expect(stackOrigin('pool "textures", dedicated')).toBe('pool "textures", dedicated');
    expect(stackOrigin('load.mjs:10')).toBe('load.mjs:10');
    expect(stackOrigin('')).toBe('');
  });

  test('folded for display: Python frames first, C++ frames folded into one line, or every frame', () => {
    expect(formatStack(pythonStack)).toEqual([
      '/workspace/model.py:35 forward',
      '/usr/lib/python3.11/site-packages/torch/nn/modules/module.py:1562 _call_impl',
      '/workspace/train.py:141 train_step',
      '[9 C++ frames folded: 2 native, 4 allocator, 3 interpreter/runtime]',
    ]);
    expect(formatStack(backwardStack)).toEqual([
      'at::native::mm_out_cuda(at::Tensor const&, at::Tensor const&, at::Tensor&) (/pytorch/aten/src/ATen/native/cuda/mm.cu:121)',
      'torch::autograd::generated::MmBackward0::apply(std::vector<at::Tensor>&&) (/pytorch/torch/csrc/autograd/generated/Functions.cpp:5230)',
      '[5 more C++ frames folded: 0 native, 3 allocator, 2 interpreter/runtime]',
    ]);
    expect(formatStack(pythonStack, { full: true })).toHaveLength(12);
    const folded = foldStack(pythonStack)!;
    expect(folded.python).toHaveLength(3);
    expect(folded.native).toHaveLength(2);
  });

  test('leaks are grouped by origin: stacks that differ below the user frame fall in one group', () => {
    const alloc = (id: number, size: number, stack: string) => ({ id, size, stack, name: '' });
    const otherCaller = pythonStack.replace(
      'train_step /workspace/train.py:141',
      'evaluate /workspace/train.py:170',
    );
    const snapshot = {
      eventIndex: 10,
      allocations: [alloc(1, 100, pythonStack), alloc(2, 50, otherCaller), alloc(3, 10, backwardStack)],
    } as unknown as Snapshot;
    const leaks = groupLeaks(snapshot);
    expect(leaks.byOrigin.map((g) => [g.key, g.count, g.bytes])).toEqual([
      ['/workspace/model.py:35 forward', 2, 150],
      [stackOrigin(backwardStack), 1, 10],
    ]);
    expect(leaks.byOrigin[0]!.stack).toBe(pythonStack);
  });
});
