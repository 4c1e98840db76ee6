// The selected allocation and its memory-type decision record (allocator/types.ts MemoryTypeDecision):
// what was asked (memoryTypeBits, location, linear, scheme), each attempt's required flags and the type it
// picked, every candidate type with its flags, heap, whether the bits allowed it and which attempts it
// matched, the winner with the reason in one sentence, and the fallbacks taken.
import type { ReactNode } from 'react';
import type { MemoryTypeDecision } from '../../allocator/index.ts';
import type { AllocationRecord } from '../data/source.ts';
import { useInspector, useInspectorStore } from '../store/store.ts';
import { formatBytes, formatCount, propertyFlagsText, sourcePlaceText } from '../ui/format.ts';
import { StackView } from '../ui/stack-view.tsx';

export function DecisionPanel(): ReactNode {
  const store = useInspectorStore();
  const selectedId = useInspector((s) => s.selectedId);
  const selected = useInspector((s) => s.selected);
  const error = useInspector((s) => s.detailError);
  if (selectedId === null) {
    return (
      <aside className="decision" aria-label="Selected allocation">
        <h2>Selected allocation</h2>
        <p className="empty">
          Click an allocation in the block map or the table to see why its memory type was chosen.
        </p>
      </aside>
    );
  }
  return (
    <aside className="decision" aria-label="Selected allocation" data-testid="decision-panel">
      <h2>
        Allocation #{selectedId}{' '}
        <button
          type="button"
          className="link"
          onClick={() => void store.getState().select(null)}
          aria-label="Clear selection"
        >
          ✕
        </button>
      </h2>
      {error && <p className="error">{error}</p>}
      {selected && selected.allocation.id === selectedId && (
        <>
          <AllocationFacts
            a={selected.allocation}
            stack={selected.stack}
            onJump={(at) => store.getState().setCursor(at)}
          />
          {selected.blockDetails && (
            <p data-testid="decision-block-details">
              Block #{selected.allocation.blockId} was allocated with: {selected.blockDetails}
            </p>
          )}
          {selected.decision ? (
            <DecisionRecord
              decision={selected.decision}
              usedRetry={selected.allocation.usedRetry}
              budgetRefusal={selected.allocation.budgetRefusal ?? null}
            />
          ) : (
            <p className="empty">This trace has no decision record for this allocation.</p>
          )}
        </>
      )}
    </aside>
  );
}

function AllocationFacts(props: {
  a: AllocationRecord;
  stack: string | null;
  onJump: (at: number) => void;
}): ReactNode {
  const a = props.a;
  const stack = props.stack ?? a.origin;
  const sourcePlace = sourcePlaceText(a);
  return (
    <dl className="facts">
      <dt>name</dt>
      <dd data-testid="decision-name">{a.name || '(unnamed)'}</dd>
      <dt>size</dt>
      <dd>
        {formatBytes(a.size)} ({formatCount(a.size)} B), alignment {formatBytes(a.alignment)}
      </dd>
      {a.driverTypeBits !== undefined && a.driverTypeBits !== null && (
        <>
          <dt>requirements</dt>
          <dd data-testid="decision-requirements">
            from the driver (a real {a.kind === 'linear' ? 'buffer' : 'image'}): {formatBytes(a.size)},
            alignment {formatBytes(a.alignment)}, memoryTypeBits 0x{a.driverTypeBits.toString(16)} (types{' '}
            {bitsList(a.driverTypeBits)})
          </dd>
        </>
      )}
      <dt>placed</dt>
      <dd>
        block #{a.blockId} at offset {formatCount(a.offset)} · type {a.memoryTypeIndex} (heap {a.heapIndex}) ·{' '}
        {a.kind === 'nonLinear' ? 'non-linear' : a.kind}
      </dd>
      {sourcePlace !== null && (
        <>
          <dt>in the source</dt>
          <dd data-testid="decision-source-place">{sourcePlace}</dd>
        </>
      )}
      <dt>lifetime</dt>
      <dd>
        <button type="button" className="link" onClick={() => props.onJump(a.allocatedAt + 1)}>
          allocated at #{formatCount(a.allocatedAt)}
        </button>
        {' · '}
        {a.freedAt === null ? (
          <span className="warn">never freed</span>
        ) : (
          <button type="button" className="link" onClick={() => props.onJump(a.freedAt ?? 0)}>
            freed at #{formatCount(a.freedAt)}
          </button>
        )}
      </dd>
      {stack && (
        <>
          <dt>origin</dt>
          <dd>
            <StackView stack={stack} testId="decision-stack" />
          </dd>
        </>
      )}
    </dl>
  );
}

function bitsList(bits: number): string {
  const allowed: number[] = [];
  for (let i = 0; i < 32; i++) if ((bits >>> i) & 1) allowed.push(i);
  return allowed.length === 0 ? 'none' : allowed.join(', ');
}

export function DecisionRecord(props: {
  decision: MemoryTypeDecision;
  usedRetry: boolean;
  budgetRefusal?: AllocationRecord['budgetRefusal'];
}): ReactNode {
  const refusal = props.budgetRefusal ?? null;
  const d = props.decision;
  return (
    <div className="decision-record" data-testid="decision-record">
      <h3>Memory-type decision</h3>
      <p className="reason" data-testid="decision-reason">
        {d.winner === null ? <strong className="error">No compatible memory type. </strong> : null}
        {d.reason}
      </p>
      <dl className="facts">
        <dt>asked</dt>
        <dd>
          {d.location}, {d.linear ? 'linear' : 'non-linear'}, {d.scheme}
          {d.resourceCategory ? `, ${d.resourceCategory}` : ''} ({d.api})
        </dd>
        <dt>memoryTypeBits</dt>
        <dd>
          <code>0x{(d.memoryTypeBits >>> 0).toString(16)}</code> → types {bitsList(d.memoryTypeBits)}
        </dd>
        <dt>winner</dt>
        <dd data-testid="decision-winner">{d.winner === null ? 'none' : `type ${d.winner}`}</dd>
      </dl>
      <h4>Attempts, in order</h4>
      <table className="attempts">
        <thead>
          <tr>
            <th>#</th>
            <th>why</th>
            <th>required flags</th>
            <th>picks</th>
          </tr>
        </thead>
        <tbody>
          {d.attempts.map((at, i) => (
            <tr key={i} className={at.typeIndex !== null && at.typeIndex === d.winner ? 'win' : ''}>
              <td>{i === 0 ? 'first' : `fallback ${i}`}</td>
              <td>{at.label}</td>
              <td>
                <code>{propertyFlagsText(at.requiredFlags)}</code>
              </td>
              <td>{at.typeIndex === null ? 'no type' : `type ${at.typeIndex}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Candidates</h4>
      <table className="candidates">
        <thead>
          <tr>
            <th>type</th>
            <th>heap</th>
            <th>flags</th>
            <th>bits allow</th>
            {d.attempts.map((_, i) => (
              <th key={i}>{i === 0 ? 'first' : `fb ${i}`}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {d.candidates.map((c) => (
            <tr
              key={c.typeIndex}
              className={c.typeIndex === d.winner ? 'win' : c.allowedByBits ? '' : 'disallowed'}
            >
              <td>
                {c.typeIndex}
                {c.typeIndex === d.winner ? ' ★' : ''}
              </td>
              <td>{c.heapIndex}</td>
              <td>
                <code>{propertyFlagsText(c.propertyFlags)}</code>
              </td>
              <td>{c.allowedByBits ? '✓ yes' : '✗ no'}</td>
              {d.attempts.map((_, i) => (
                <td key={i}>{c.matchesAttempt[i] ? '✓' : '✗'}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Fallbacks</h4>
      {d.fallbacks.length === 0 && d.retryTypeIndex === null ? (
        <p>none: the first attempt found a type.</p>
      ) : (
        <ul>
          {d.fallbacks.map((f, i) => (
            <li key={i}>{f}</li>
          ))}
          {d.retryTypeIndex !== null && (
            <li>
              if allocating from type {d.winner} fails, retry with type {d.retryTypeIndex}
              {props.usedRetry ? ' — this allocation needed that retry.' : '.'}
            </li>
          )}
          {refusal !== null && (
            <li className="budget-refusal" data-testid="budget-refusal">
              The retry was the budget&apos;s doing (budget mode strict): a new block of type {d.winner} would
              have taken heap {refusal.heapIndex} to {formatBytes(refusal.usage)}, past its budget of{' '}
              {formatBytes(refusal.budget)}, so the next type, {d.retryTypeIndex}, was tried.
            </li>
          )}
        </ul>
      )}
    </div>
  );
}
