// Overview: the device, each heap with its size, budget and usage bars, the memory types with their
// flags spelled out, and the trace's totals, peaks and failures.
import { useState } from 'react';
import type { ReactNode } from 'react';
import type { HeapSummary, TraceOverview } from '../data/source.ts';
import { useInspector, useInspectorStore } from '../store/store.ts';
import { seriesColor } from '../ui/colors.ts';
import { formatBytes, formatCount, formatMs, heapFlagsText, propertyFlagsText } from '../ui/format.ts';

export function Overview(): ReactNode {
  const overview = useInspector((s) => s.overview);
  const store = useInspectorStore();
  if (!overview) return <p className="empty">Nothing loaded yet: open a trace or run a scenario.</p>;
  const d = overview.device;
  const jump = (at: number): void => store.getState().setCursor(at);
  return (
    <section className="overview" aria-label="Overview">
      <h2 data-testid="device-name">{d.name}</h2>
      <p className="muted">
        {d.api} · {d.deviceType} · driver {d.driverVersion} · API {d.apiVersion} · {d.source}
      </p>
      <ExportReportButton />
      <div className="stats" data-testid="totals">
        <Stat label="events" value={formatCount(overview.eventCount)} testId="stat-events" />
        <Stat label="duration" value={formatMs(overview.durationMs)} />
        <Stat label="allocations" value={formatCount(overview.allocationCount)} testId="stat-allocations" />
        <Stat label="frees" value={formatCount(overview.freeCount)} testId="stat-frees" />
        <Stat
          label="failures"
          value={formatCount(overview.failureCount)}
          testId="stat-failures"
          warn={overview.failureCount > 0}
        />
        <Stat label="blocks created" value={formatCount(overview.blockCount)} testId="stat-blocks" />
        <Stat
          label="retried"
          value={formatCount(overview.retriedAllocations)}
          testId="stat-retried"
          hint="allocations placed in their decision's allocation-time retry type (the first choice failed)"
        />
        <Stat
          label="peak committed"
          value={formatBytes(overview.peakCommittedBytes)}
          testId="stat-peak-committed"
          onClick={() => jump(overview.peakCommittedAt)}
          hint={`at event ${formatCount(overview.peakCommittedAt)}; click to move the cursor there`}
        />
        <Stat
          label="peak allocated"
          value={formatBytes(overview.peakAllocatedBytes)}
          testId="stat-peak-allocated"
          onClick={() => jump(overview.peakAllocatedAt)}
          hint={`at event ${formatCount(overview.peakAllocatedAt)}; click to move the cursor there`}
        />
        <Stat
          label="alive at end"
          value={`${formatCount(overview.liveAllocationsAtEnd)} (${formatBytes(overview.liveBytesAtEnd)})`}
          testId="stat-live-end"
          warn={overview.liveAllocationsAtEnd > 0 && !overview.live}
        />
      </div>
      <h3>Heaps</h3>
      <table className="heaps" data-testid="heaps">
        <thead>
          <tr>
            <th>heap</th>
            <th>flags</th>
            <th>size</th>
            <th>peak committed</th>
            <th>at end</th>
            <th>budget / usage (driver)</th>
            <th className="bar-col">use of heap</th>
          </tr>
        </thead>
        <tbody>
          {overview.heaps.map((h) => (
            <tr key={h.index} data-heap={h.index}>
              <td>
                <span className="swatch" style={{ background: seriesColor(h.index) }} /> {h.index}
              </td>
              <td>{heapFlagsText(h.flags)}</td>
              <td>{formatBytes(h.size)}</td>
              <td className="num" data-testid={`heap-${h.index}-peak`}>
                {formatBytes(h.peakCommittedBytes)}
              </td>
              <td className="num">{formatBytes(h.committedBytesAtEnd)}</td>
              <td data-testid={`heap-${h.index}-budget`}>
                {h.budget === null
                  ? 'not reported'
                  : `${formatBytes(h.budget)} / ${formatBytes(h.usage ?? 0)}`}
              </td>
              <td className="bar-col">
                <HeapBar heap={h} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Memory types</h3>
      <TypesTable overview={overview} />
    </section>
  );
}

function Stat(props: {
  label: string;
  value: string;
  testId?: string;
  warn?: boolean;
  hint?: string;
  onClick?: () => void;
}): ReactNode {
  const content = (
    <>
      <span className="stat-value" data-testid={props.testId}>
        {props.value}
      </span>
      <span className="stat-label">{props.label}</span>
    </>
  );
  return props.onClick ? (
    <button
      type="button"
      className={`stat${props.warn ? ' warn' : ''}`}
      title={props.hint}
      onClick={props.onClick}
    >
      {content}
    </button>
  ) : (
    <div className={`stat${props.warn ? ' warn' : ''}`} title={props.hint}>
      {content}
    </div>
  );
}

/** Bars against the heap size: peak committed (light), committed at end (solid), budget (a tick). */
export function HeapBar(props: { heap: HeapSummary }): ReactNode {
  const h = props.heap;
  const pct = (v: number): string => `${Math.min(100, (v / Math.max(1, h.size)) * 100).toFixed(2)}%`;
  return (
    <div
      className="heapbar"
      role="meter"
      aria-valuemin={0}
      aria-valuemax={h.size}
      aria-valuenow={h.committedBytesAtEnd}
      aria-label={`heap ${h.index}: peak ${formatBytes(h.peakCommittedBytes)} of ${formatBytes(h.size)}`}
    >
      <div className="heapbar-peak" style={{ width: pct(h.peakCommittedBytes) }} />
      <div className="heapbar-now" style={{ width: pct(h.committedBytesAtEnd) }} />
      {h.usage !== null && <div className="heapbar-usage" style={{ width: pct(h.usage) }} />}
      {h.budget !== null && <div className="heapbar-budget" style={{ left: pct(h.budget) }} title="budget" />}
      <span className="heapbar-text">
        {((h.peakCommittedBytes / Math.max(1, h.size)) * 100).toFixed(2)} % peak
      </span>
    </div>
  );
}

function TypesTable(props: { overview: TraceOverview }): ReactNode {
  return (
    <table className="types" data-testid="types">
      <thead>
        <tr>
          <th>type</th>
          <th>heap</th>
          <th>property flags</th>
          <th>allocations</th>
          <th>peak committed</th>
          <th>peak allocated</th>
        </tr>
      </thead>
      <tbody>
        {props.overview.types.map((t) => (
          <tr key={t.index} data-type={t.index}>
            <td>
              <span className="swatch" style={{ background: seriesColor(t.index) }} /> {t.index}
            </td>
            <td>{t.heapIndex}</td>
            <td>
              <code>{propertyFlagsText(t.propertyFlags)}</code>
            </td>
            <td className="num" data-testid="type-count">
              {formatCount(t.allocationCount)}
            </td>
            <td className="num">{formatBytes(t.peakCommittedBytes)}</td>
            <td className="num">{formatBytes(t.peakAllocatedBytes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Downloads the server's text report of the shown source. The server returns content only (it never
 * writes a file for a page); the page saves it as a Blob under the server's safe file name.
 */
function ExportReportButton(): ReactNode {
  const source = useInspector((s) => s.source);
  const [problem, setProblem] = useState<string | null>(null);
  if (!source?.exportReport) return null;
  const exportReport = source.exportReport.bind(source);
  return (
    <p>
      <button
        type="button"
        data-testid="export-report"
        onClick={() => {
          setProblem(null);
          exportReport().then(
            ({ fileName, content }) => {
              const url = URL.createObjectURL(new Blob([content], { type: 'text/plain;charset=utf-8' }));
              const link = document.createElement('a');
              link.href = url;
              link.download = fileName;
              link.click();
              setTimeout(() => URL.revokeObjectURL(url), 60_000);
            },
            (error: unknown) => setProblem((error as Error).message),
          );
        }}
      >
        Export report
      </button>
      {problem && <span className="error"> {problem}</span>}
    </p>
  );
}
