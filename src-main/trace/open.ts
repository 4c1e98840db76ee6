// Load + analyse in one call: what the main-process API hands the UI when a trace is opened.
import { analyzeTrace, type AnalyzeOptions, type TraceAnalysis } from '../../allocator/analysis/index.ts';
import type { LoadedTrace } from '../../allocator/trace/index.ts';
import { loadTrace, type LoadTraceOptions } from './reader.ts';

export interface OpenedTrace {
  readonly trace: LoadedTrace;
  readonly analysis: TraceAnalysis;
  /** Milliseconds spent loading and analysing. */
  readonly loadMs: number;
  readonly analysisMs: number;
}

export async function openTrace(
  pathOrBytes: string | Uint8Array,
  options: LoadTraceOptions & { readonly analysis?: AnalyzeOptions } = {},
): Promise<OpenedTrace> {
  const t0 = performance.now();
  const trace = await loadTrace(pathOrBytes, options);
  const t1 = performance.now();
  const analysis = analyzeTrace(trace.events, trace.header.device, options.analysis ?? {});
  return { trace, analysis, loadMs: t1 - t0, analysisMs: performance.now() - t1 };
}
