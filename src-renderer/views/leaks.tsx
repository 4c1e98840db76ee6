// Leaks: allocations alive at the end of the trace (or at the cursor) grouped by origin and name, with
// counts and bytes; and a diff between two cursor positions (what appeared, what disappeared).
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import type { DiffSide, LeakGroupBy, LeakReport, SnapshotDiff } from '../data/source.ts';
import { useInspector, useInspectorStore } from '../store/store.ts';
import { formatBytes, formatCount } from '../ui/format.ts';
import { StackView } from '../ui/stack-view.tsx';

export function Leaks(): ReactNode {
  const store = useInspectorStore();
  const source = useInspector((s) => s.source);
  const overview = useInspector((s) => s.overview);
  const cursor = useInspector((s) => s.cursor);
  const diffFrom = useInspector((s) => s.diffFrom);
  const [atCursor, setAtCursor] = useState(false);
  const [groupBy, setGroupBy] = useState<LeakGroupBy>('origin');
  const [report, setReport] = useState<LeakReport | null>(null);
  /** Why the last leaks request failed (shown instead of an empty view), null when it did not. */
  const [failure, setFailure] = useState<string | null>(null);
  const [diff, setDiff] = useState<SnapshotDiff | null>(null);
  const end = overview?.eventCount ?? 0;
  const at = atCursor ? cursor : end;
  // What the leak report depends on. The overview object is replaced whenever the store refreshes it (state
  // pushes, live batches); asking again on every new object would cancel a slow answer before it arrives
  // and leave the view empty, so the requests follow this key instead.
  const loadedKey = overview
    ? `${overview.title}\u0000${overview.eventCount}\u0000${overview.durationMs}`
    : null;

  useEffect(() => {
    if (!source || loadedKey === null) return undefined;
    let current = true;
    source.leaks(at, groupBy).then(
      (r) => {
        if (!current) return;
        setReport(r);
        setFailure(null);
      },
      (e: unknown) => {
        if (!current) return;
        setReport(null);
        setFailure(e instanceof Error ? e.message : String(e));
      },
    );
    return () => {
      current = false;
    };
  }, [source, loadedKey, at, groupBy]);

  useEffect(() => {
    if (!source || loadedKey === null || diffFrom === null) {
      setDiff(null);
      return undefined;
    }
    let current = true;
    source.diff(diffFrom, cursor).then(
      (d) => current && setDiff(d),
      () => current && setDiff(null),
    );
    return () => {
      current = false;
    };
  }, [source, loadedKey, diffFrom, cursor]);

  if (!overview) return <p className="empty">Nothing loaded yet.</p>;
  const live = overview.live;
  return (
    <section className="leaks" aria-label="Leaks">
      <div className="toolbar">
        <strong>
          {atCursor
            ? 'Alive at the cursor'
            : live
              ? 'Alive now (the run goes on)'
              : 'Leaked: alive at the end'}
        </strong>
        <label>
          <input type="checkbox" checked={atCursor} onChange={(e) => setAtCursor(e.target.checked)} /> at the
          cursor (event {formatCount(cursor)}) instead of the end
        </label>
        <label>
          group by{' '}
          <select
            aria-label="Group leaks by"
            value={groupBy}
            onChange={(e) =>
              setGroupBy(e.target.value === 'name' ? 'name' : e.target.value === 'type' ? 'type' : 'origin')
            }
          >
            <option value="origin">origin (stack)</option>
            <option value="name">name</option>
            <option value="type">memory type</option>
          </select>
        </label>
      </div>
      {failure && (
        <p className="error" role="alert" data-testid="leaks-error">
          The leak report could not be computed: {failure}
        </p>
      )}
      {report && (
        <>
          <p data-testid="leaks-summary">
            {formatCount(report.count)} allocations, {formatBytes(report.bytes)} in{' '}
            {formatCount(report.groups.length)} groups at event {formatCount(report.at)}
          </p>
          <table className="leak-groups" data-testid="leak-groups">
            <thead>
              <tr>
                <th>{groupBy === 'origin' ? 'origin' : groupBy === 'name' ? 'name' : 'memory type'}</th>
                <th>count</th>
                <th>bytes</th>
                <th>ids</th>
              </tr>
            </thead>
            <tbody>
              {report.groups.slice(0, 500).map((g) => (
                <tr key={g.key}>
                  <td className="leak-key">
                    <code>{g.key || '(unnamed)'}</code>
                    {groupBy === 'origin' && g.allocationIds[0] !== undefined && (
                      <GroupStack firstId={g.allocationIds[0]} />
                    )}
                  </td>
                  <td className="num">{formatCount(g.count)}</td>
                  <td className="num">{formatBytes(g.bytes)}</td>
                  <td className="ids">
                    {g.allocationIds.slice(0, 8).map((id) => (
                      <button
                        key={id}
                        type="button"
                        className="link"
                        onClick={() => void store.getState().select(id)}
                      >
                        #{id}
                      </button>
                    ))}
                    {g.allocationIds.length > 8 ? ` +${g.allocationIds.length - 8}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {report.groups.length > 500 && (
            <p className="muted">First 500 groups of {formatCount(report.groups.length)}.</p>
          )}
        </>
      )}
      <h3>Diff between two cursor positions</h3>
      <div className="toolbar">
        <button type="button" onClick={() => store.getState().setDiffFrom(cursor)}>
          Set “from” to the cursor (event {formatCount(cursor)})
        </button>
        {diffFrom !== null && (
          <button type="button" onClick={() => store.getState().setDiffFrom(null)}>
            Clear
          </button>
        )}
        <span className="muted">
          {diffFrom === null
            ? 'Pick a “from” position, then move the cursor: the diff compares the two.'
            : `from event ${formatCount(diffFrom)} to the cursor at event ${formatCount(cursor)}`}
        </span>
      </div>
      {diff && (
        <div className="diff" data-testid="diff">
          <DiffList title="Appeared" side={diff.appeared} sign="+" />
          <DiffList title="Disappeared" side={diff.disappeared} sign="−" />
        </div>
      )}
    </section>
  );
}

function DiffList(props: { title: string; side: DiffSide; sign: string }): ReactNode {
  const store = useInspectorStore();
  const { rows, count, bytes } = props.side;
  return (
    <div className="diff-list">
      <h4>
        {props.title}: {formatCount(count)} ({props.sign}
        {formatBytes(bytes)})
      </h4>
      <ul>
        {rows.map((r) => (
          <li key={r.id}>
            <button type="button" className="link" onClick={() => void store.getState().select(r.id)}>
              #{r.id} {r.name || '(unnamed)'}
            </button>{' '}
            {formatBytes(r.size)} · type {r.memoryTypeIndex}
          </li>
        ))}
        {count > rows.length && <li className="muted">… {formatCount(count - rows.length)} more</li>}
      </ul>
    </div>
  );
}

/** The full stack of a group's first allocation, fetched when asked for (Python first, C++ folded). */
function GroupStack(props: { firstId: number }): ReactNode {
  const source = useInspector((s) => s.source);
  const [stack, setStack] = useState<string | null | undefined>(undefined);
  if (stack === undefined)
    return (
      <button
        type="button"
        className="link"
        data-testid="leak-stack-show"
        onClick={() => {
          setStack(null);
          source?.allocation(props.firstId).then(
            (d) => setStack(d?.stack ?? ''),
            () => setStack(''),
          );
        }}
      >
        stack
      </button>
    );
  if (stack === null) return <span className="muted"> …</span>;
  return stack === '' ? (
    <span className="muted"> (no stack recorded)</span>
  ) : (
    <StackView stack={stack} testId="leak-stack" />
  );
}
