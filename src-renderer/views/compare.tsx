// Compare: "Replay on…" a loaded trace on another device (a profile, a real device, a built-in model)
// and/or strategy, or put two loaded traces side by side. Shows both timelines one above the other on a
// shared time axis and byte scale, and a difference table (peak committed, peak blocks, blocks created,
// failures, allocations, the memory type per location and tiling), largest differences first, with the
// numbers `vramscope replay` prints.
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import type {
  LibraryEntry,
  ReplayReportDto,
  ReplaySideDto,
  RequestResult,
  TimelineResult,
  TraceSummary,
} from '../../src-main/api/contract.ts';
import { useApi } from '../api/api-context.ts';
import { formatBytes, formatCount } from '../ui/format.ts';
import { refKey } from './devices.tsx';

interface Comparison {
  readonly a: TraceSummary;
  readonly b: TraceSummary;
  readonly aSide: ReplaySideDto;
  readonly bSide: ReplaySideDto;
  /** Present for a replay: the report `vramscope replay --json` prints. */
  readonly report: ReplayReportDto | null;
}

export interface DiffRow {
  readonly metric: string;
  readonly a: string;
  readonly b: string;
  readonly difference: string;
  /** Size of the difference for sorting: relative change for numbers, share of requests for types. */
  readonly score: number;
}

/** "832.00 MiB → 806.04 MiB (-25.96 MiB)" as `vramscope replay` prints it. */
export function delta(a: number, b: number, bytes: boolean): string {
  const d = b - a;
  const f = (n: number): string => (bytes ? formatBytes(n) : String(n));
  return d === 0 ? 'same' : `${d > 0 ? '+' : '-'}${f(Math.abs(d))}`;
}

function typeText(side: ReplaySideDto, location: string, linear: boolean): string {
  const uses = side.typeUse.filter((u) => u.location === location && u.linear === linear);
  if (uses.length === 0) return '—';
  return uses
    .map(
      (u) =>
        `${u.typeIndex < 0 ? u.what : `type ${u.typeIndex} (${u.what}, heap ${u.heapIndex})`}: ${u.count}`,
    )
    .join('; ');
}

/** The difference table's rows, largest differences first (ties keep the order below). */
export function diffRows(a: ReplaySideDto, b: ReplaySideDto): DiffRow[] {
  const numeric = (metric: string, x: number, y: number, bytes: boolean): DiffRow => ({
    metric,
    a: bytes ? formatBytes(x) : formatCount(x),
    b: bytes ? formatBytes(y) : formatCount(y),
    difference: delta(x, y, bytes),
    score: x === y ? 0 : Math.abs(y - x) / Math.max(Math.abs(x), 1),
  });
  const rows: DiffRow[] = [
    numeric('peak committed', a.peakCommittedBytes, b.peakCommittedBytes, true),
    numeric('peak blocks', a.peakBlocks, b.peakBlocks, false),
    numeric('blocks created', a.blocksCreated, b.blocksCreated, false),
    numeric('failures', a.failures, b.failures, false),
    numeric('allocations', a.allocations, b.allocations, false),
  ];
  const classes = new Map<string, { location: string; linear: boolean }>();
  for (const u of [...a.typeUse, ...b.typeUse]) classes.set(`${u.location}|${u.linear}`, u);
  const total = Math.max(a.allocations, b.allocations, 1);
  for (const { location, linear } of classes.values()) {
    const ta = typeText(a, location, linear);
    const tb = typeText(b, location, linear);
    // Requests of this class whose type differs: the part of the counts that does not match per type.
    const countOf = (s: ReplaySideDto, what: string): number =>
      s.typeUse.find((u) => u.location === location && u.linear === linear && u.what === what)?.count ?? 0;
    const whats = new Set(
      [...a.typeUse, ...b.typeUse]
        .filter((u) => u.location === location && u.linear === linear)
        .map((u) => u.what),
    );
    let changed = 0;
    for (const w of whats) changed += Math.abs(countOf(a, w) - countOf(b, w));
    rows.push({
      metric: `memory type: ${location} ${linear ? 'linear' : 'non-linear'}`,
      a: ta,
      b: tb,
      difference: ta === tb ? 'same' : 'different type',
      score: changed / 2 / total,
    });
  }
  return rows
    .map((r, i) => ({ r, i }))
    .sort((x, y) => y.r.score - x.r.score || x.i - y.i)
    .map((x) => x.r);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function Compare(): ReactNode {
  const api = useApi();
  const [traces, setTraces] = useState<readonly TraceSummary[]>([]);
  const [entries, setEntries] = useState<readonly LibraryEntry[]>([]);
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const [device, setDevice] = useState('');
  const [strategy, setStrategy] = useState<'' | 'tlsf' | 'freelist'>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [comparison, setComparison] = useState<Comparison | null>(null);

  useEffect(() => {
    if (!api) return;
    const refresh = (): void => {
      void api.request('getState', {}).then((s) => setTraces(s.traces));
    };
    refresh();
    void api
      .request('deviceLibrary', {})
      .then((lib) => setEntries(lib.entries.filter((e) => e.error === null)));
    return api.on('stateChanged', (s) => setTraces(s.traces));
  }, [api]);
  useEffect(() => {
    if (a === '' && traces.length > 0) setA(traces[0]?.sourceId ?? '');
  }, [traces, a]);

  if (!api) return <p className="empty">Comparing needs a connection to VRAMscope.</p>;

  const replay = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const ref = entries.find((e) => refKey(e.ref) === device)?.ref;
      const r: RequestResult<'replayTrace'> = await api.request('replayTrace', {
        sourceId: a,
        ...(ref ? { device: ref } : {}),
        ...(strategy !== '' ? { strategy } : {}),
      });
      setComparison({
        a: r.baseline,
        b: r.replay,
        aSide: r.report.baseline,
        bSide: r.report.replay,
        report: r.report,
      });
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  const compare = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.request('compareSources', { a, b });
      setComparison({ a: r.a.summary, b: r.b.summary, aSide: r.a.side, bSide: r.b.side, report: null });
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="compare" aria-label="Compare" data-testid="compare-view">
      <div className="toolbar">
        <label>
          trace{' '}
          <select aria-label="Trace to compare" value={a} onChange={(e) => setA(e.target.value)}>
            {traces.length === 0 && <option value="">(load a trace first)</option>}
            {traces.map((t) => (
              <option key={t.sourceId} value={t.sourceId}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="toolbar">
        <strong>Replay on…</strong>
        <select aria-label="Replay device" value={device} onChange={(e) => setDevice(e.target.value)}>
          <option value="">the trace's own device</option>
          {entries.map((e) => (
            <option key={refKey(e.ref)} value={refKey(e.ref)}>
              {e.origin === 'vulkan' ? 'Vulkan: ' : e.origin === 'builtin' ? 'model: ' : 'profile: '}
              {e.label}
            </option>
          ))}
        </select>
        <select
          aria-label="Replay strategy"
          value={strategy}
          onChange={(e) =>
            setStrategy(e.target.value === 'tlsf' || e.target.value === 'freelist' ? e.target.value : '')
          }
        >
          <option value="">the trace's strategy</option>
          <option value="tlsf">tlsf</option>
          <option value="freelist">freelist</option>
        </select>
        <button type="button" disabled={busy || a === ''} onClick={() => void replay()}>
          Replay
        </button>
      </div>
      <div className="toolbar">
        <strong>or compare with</strong>
        <select aria-label="Second trace" value={b} onChange={(e) => setB(e.target.value)}>
          <option value="">(a loaded trace)</option>
          {traces
            .filter((t) => t.sourceId !== a)
            .map((t) => (
              <option key={t.sourceId} value={t.sourceId}>
                {t.name}
              </option>
            ))}
        </select>
        <button type="button" disabled={busy || a === '' || b === ''} onClick={() => void compare()}>
          Compare
        </button>
      </div>
      {busy && <p className="muted">Working…</p>}
      {error && (
        <p className="error" role="alert" data-testid="compare-error">
          {error}
        </p>
      )}
      {comparison && <ComparisonView comparison={comparison} />}
    </section>
  );
}

function ComparisonView(props: { comparison: Comparison }): ReactNode {
  const api = useApi();
  const c = props.comparison;
  const [lanes, setLanes] = useState<readonly TimelineResult[] | null>(null);
  const width = 900;
  useEffect(() => {
    if (!api) return;
    let live = true;
    const end = Math.max(c.a.durationMs, c.b.durationMs);
    // One time range and bucket count for both: the lanes share the x axis.
    void Promise.all(
      [c.a, c.b].map((s) =>
        api.request('queryTimeline', { sourceId: s.sourceId, startTime: 0, endTime: end, buckets: width }),
      ),
    ).then((r) => live && setLanes(r));
    return () => {
      live = false;
    };
  }, [api, c]);
  const rows = diffRows(c.aSide, c.bSide);
  const top = Math.max(1, ...(lanes ?? []).flatMap((l) => l.series.flatMap((s) => s.committedMax)));
  return (
    <div data-testid="comparison">
      {c.report && (
        <p data-testid="compare-requests">{formatCount(c.report.requests)} allocation requests replayed</p>
      )}
      <div className="compare-lanes">
        {[c.a, c.b].map((s, k) => (
          <div className="compare-lane" key={s.sourceId} data-testid={`compare-lane-${k === 0 ? 'a' : 'b'}`}>
            <h3>
              {k === 0 ? (c.report ? 'recorded' : 'A') : c.report ? 'replayed' : 'B'}: {s.device.name},{' '}
              {s.strategy}
              <span className="muted"> · {s.name}</span>
            </h3>
            {lanes?.[k] ? (
              <Lane timeline={lanes[k]} top={top} width={width} />
            ) : (
              <p className="muted">reading the timeline…</p>
            )}
          </div>
        ))}
        {lanes && (
          <p className="muted">
            shared axis: 0–{lanes[0] ? `${lanes[0].endTime.toFixed(1)} ms` : ''} · scale 0–{formatBytes(top)}{' '}
            committed
          </p>
        )}
      </div>
      <h3>Differences, largest first</h3>
      <table className="compare-diff" data-testid="compare-diff">
        <thead>
          <tr>
            <th>what</th>
            <th>{c.report ? 'recorded' : 'A'}</th>
            <th>{c.report ? 'replayed' : 'B'}</th>
            <th>difference</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.metric} data-metric={r.metric}>
              <td>{r.metric}</td>
              <td className="num">{r.a}</td>
              <td className="num">{r.b}</td>
              <td className="num">{r.difference}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {c.report && c.report.newlyFailed.count > 0 && (
        <p className="error">
          {c.report.newlyFailed.count} requests that succeeded in the recording fail in the replay:{' '}
          {c.report.newlyFailed.names.map((n) => n || '(unnamed)').join(', ')}
        </p>
      )}
    </div>
  );
}

/** Committed (filled) and allocated (line) bytes of the whole source, on the shared scale. */
function Lane(props: { timeline: TimelineResult; top: number; width: number }): ReactNode {
  const height = 80;
  const series = props.timeline.series[0];
  if (!series) return <p className="muted">no events</p>;
  const y = (v: number): number => height - (v / props.top) * height;
  const points = (values: readonly number[]): string =>
    values.map((v, i) => `${((i + 0.5) * props.width) / values.length},${y(v)}`).join(' ');
  const committed = `0,${height} ${points(series.committedMax)} ${props.width},${height}`;
  return (
    <svg
      className="compare-timeline"
      width="100%"
      viewBox={`0 0 ${props.width} ${height}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`committed bytes over time, peak ${formatBytes(Math.max(0, ...series.committedMax))}`}
    >
      <polygon points={committed} fill="var(--accent)" opacity="0.35" />
      <polyline points={points(series.allocatedMax)} fill="none" stroke="var(--fg)" strokeWidth="1" />
    </svg>
  );
}
