// Stacks as frames: what the origin of an allocation is, and how a long mixed Python / C++ stack reads.
//
// A stack is text, one frame per line, innermost first. Imported PyTorch stacks have lines
// "<function> <file>:<line>" (allocator/import/pytorch.ts); with stacks="all" they mix the caching
// allocator's own C++ frames, ATen dispatch, Python frames and the interpreter's C frames, often 60 deep.
// Stacks of other sources (VMA / D3D12MA origins, captured programs) are kept as they are: a stack none of
// whose lines is a "<function> <file>:<line>" frame is its own origin.
//
// Origin = the innermost user frame: the innermost Python frame ("<file>:<line> <function>"), else the
// innermost C++ frame that is not allocator machinery, the interpreter or the C runtime.

export type FrameKind = 'python' | 'native' | 'allocator' | 'runtime';

export interface StackFrame {
  readonly name: string;
  /** "??" where the symbolizer had no file. */
  readonly file: string;
  readonly line: number;
  readonly kind: FrameKind;
}

const FRAME_LINE = /^(.*\S)\s+(\S+):(\d+)$/;

/** Frames of the allocator itself (PyTorch's caching allocator, traceback capture, empty-tensor creation). */
const ALLOCATOR_NAME =
  /(CUDACachingAllocator|CachingAllocator|CachingDeviceAllocator|CapturedTraceback|torch::unwind|gather_with_cpp|at::detail::_?empty_|at::detail::empty|at::native::empty_|c10::alloc_cpu|c10::Allocator|c10::StorageImpl|at::empty_like|at::empty\b|at::_ops::empty)/;
const ALLOCATOR_FILE =
  /(CUDACachingAllocator\.cpp|CachingAllocator|combined_traceback\.cpp|EmptyTensor\.cpp|unwind\.cpp)/;
/** The Python interpreter's C frames, thread start and the C runtime. */
const RUNTIME_NAME =
  /^(_?Py[A-Z_]\w*|_?PyEval|_?PyObject|_?PyFunction|_?PyVectorcall|method_vectorcall|cfunction_call|slot_tp_call|pymain_|Py_RunMain|Py_BytesMain|__libc_start|_start$|start_thread$|clone3?$|execute_native_thread_routine|std::thread|_PyRun|run_mod|run_eval_code_obj|builtin_exec|__GI_|\?\?$)/;

function kindOf(name: string, file: string): FrameKind {
  if (/\.pyx?$/.test(file) || (file.startsWith('<') && file.endsWith('>'))) return 'python';
  if (ALLOCATOR_NAME.test(name) || ALLOCATOR_FILE.test(file)) return 'allocator';
  if (RUNTIME_NAME.test(name)) return 'runtime';
  return 'native';
}

/** The frames of a stack text; null when no line is a "<function> <file>:<line>" frame. */
export function parseStack(stack: string): StackFrame[] | null {
  if (stack === '') return null;
  const frames: StackFrame[] = [];
  let recognised = 0;
  for (const line of stack.split('\n')) {
    const m = FRAME_LINE.exec(line);
    if (m === null) {
      if (line.trim() !== '') frames.push({ name: line.trim(), file: '??', line: 0, kind: 'native' });
      continue;
    }
    recognised++;
    frames.push({ name: m[1]!, file: m[2]!, line: Number(m[3]), kind: kindOf(m[1]!, m[2]!) });
  }
  return recognised === 0 ? null : frames;
}

/** "file:line function" for Python frames, "function (file:line)" for C++ frames. */
export function frameText(f: StackFrame): string {
  if (f.kind === 'python') return `${f.file}:${f.line} ${f.name}`;
  return f.file === '??' ? f.name : `${f.name} (${f.file}:${f.line})`;
}

/** The innermost Python frame, else the innermost C++ frame that is neither allocator nor runtime. */
export function userFrame(frames: readonly StackFrame[]): StackFrame | null {
  const py = frames.find((f) => f.kind === 'python');
  if (py !== undefined) return py;
  return frames.find((f) => f.kind === 'native') ?? null;
}

/**
 * The origin to group allocations by: the innermost user frame's text; a stack without recognisable
 * frames is its own origin; '' stays '' (no stack recorded).
 */
export function stackOrigin(stack: string): string {
  const frames = parseStack(stack);
  if (frames === null) return stack;
  const f = userFrame(frames);
  return f === null ? (frames[0] ? frameText(frames[0]) : stack) : frameText(f);
}

/** Caches stackOrigin by stack text (stacks repeat: one parse per distinct stack). */
export class OriginCache {
  private readonly cache = new Map<string, string>();
  originOf(stack: string): string {
    let o = this.cache.get(stack);
    if (o === undefined) {
      o = stackOrigin(stack);
      this.cache.set(stack, o);
    }
    return o;
  }
}

export interface FoldedStack {
  /** Python frames, innermost first ("file:line function"). */
  readonly python: readonly string[];
  /** C++ frames that are neither allocator nor runtime, innermost first. */
  readonly native: readonly string[];
  /** How many allocator and runtime (interpreter, C runtime) frames the stack has. */
  readonly allocatorFrames: number;
  readonly runtimeFrames: number;
  /** Every frame, innermost first, as frameText writes it. */
  readonly all: readonly string[];
}

/** A stack split for display: Python frames first, C++ frames folded. Null for a stack without frames. */
export function foldStack(stack: string): FoldedStack | null {
  const frames = parseStack(stack);
  if (frames === null) return null;
  const python: string[] = [];
  const native: string[] = [];
  let allocatorFrames = 0;
  let runtimeFrames = 0;
  for (const f of frames) {
    if (f.kind === 'python') python.push(frameText(f));
    else if (f.kind === 'native') native.push(frameText(f));
    else if (f.kind === 'allocator') allocatorFrames++;
    else runtimeFrames++;
  }
  return { python, native, allocatorFrames, runtimeFrames, all: frames.map(frameText) };
}

/**
 * Lines for a terminal or a text report: the Python frames, then one folded line for the C++ frames (a
 * stack without Python frames shows its three innermost user C++ frames first); every frame with `full`.
 * Stacks without frames are printed as they are.
 */
export function formatStack(stack: string, options: { full?: boolean; indent?: string } = {}): string[] {
  const indent = options.indent ?? '';
  const folded = foldStack(stack);
  if (folded === null) return stack.split('\n').map((l) => `${indent}${l}`);
  if (options.full) return folded.all.map((l) => `${indent}${l}`);
  const shown = folded.python.length > 0 ? folded.python : folded.native.slice(0, 3);
  const nativeLeft = folded.python.length > 0 ? folded.native.length : folded.native.length - shown.length;
  const lines = shown.map((l) => `${indent}${l}`);
  const cxx = nativeLeft + folded.allocatorFrames + folded.runtimeFrames;
  if (cxx > 0)
    lines.push(
      `${indent}[${cxx} ${shown.length > 0 && folded.python.length === 0 ? 'more ' : ''}C++ frame${cxx === 1 ? '' : 's'} folded: ${nativeLeft} native, ${folded.allocatorFrames} allocator, ${folded.runtimeFrames} interpreter/runtime]`,
    );
  return lines;
}
