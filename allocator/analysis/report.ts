// The report of one source (a loaded trace or a session's recording): what `vramscope report --json` prints
// and what the API's `getReport` answers (the contract's traceReportSchema is checked against this type).
// One function builds it, so the two cannot drift.
import type { DeviceDescription } from '../device.ts';
import type { AnalysisSummary, TraceAnalysis } from './analyze.ts';
import type { FragmentationReport, LeakReport } from './reports.ts';

export interface TraceReport {
  /** The file's base name, or the session's label. */
  readonly name: string;
  readonly device: DeviceDescription;
  /** Placement strategy the recording's allocator used ("tlsf", "freelist"; "imported" for dumps). */
  readonly strategy: string;
  /** Non-fatal problems met while loading, one sentence each. */
  readonly warnings: readonly string[];
  readonly summary: AnalysisSummary;
  /** At the end of the analyzed events. */
  readonly fragmentation: FragmentationReport;
  /** Allocations live at the end of the analyzed events. */
  readonly leaks: LeakReport;
}

export interface ReportSource {
  readonly name: string;
  readonly strategy: string;
  readonly warnings: readonly string[];
}

export function traceReport(analysis: TraceAnalysis, source: ReportSource): TraceReport {
  return {
    name: source.name,
    device: analysis.device,
    strategy: source.strategy,
    warnings: [...source.warnings],
    summary: analysis.summary,
    fragmentation: analysis.fragmentationAt(),
    leaks: analysis.leaksAt(),
  };
}
