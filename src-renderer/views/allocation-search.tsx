// Search allocations by address ("block 3 + 0x1000", "3:4096", a bare offset) and by stack-frame text; the
// engine answers (searchAllocations). Selecting a result selects the allocation, puts the cursor right
// after its allocate event and zooms the timeline to its lifetime.
import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { stackOrigin } from '../../allocator/analysis/stack-frames.ts';
import { useInspector, useInspectorStore } from '../store/store.ts';
import { formatBytes, formatCount } from '../ui/format.ts';

export function AllocationSearch(): ReactNode {
  const store = useInspectorStore();
  const search = useInspector((s) => s.search);
  const selectedId = useInspector((s) => s.selectedId);
  const [address, setAddress] = useState(search.address);
  const [text, setText] = useState(search.text);
  const onSubmit = (e: FormEvent): void => {
    e.preventDefault();
    void store.getState().searchAllocations(address, text);
  };
  return (
    <div className="allocation-search" data-testid="allocation-search">
      <form className="toolbar" onSubmit={onSubmit}>
        <strong>Find allocations</strong>
        <input
          type="search"
          placeholder="address: block 3 + 0x1000"
          value={address}
          onChange={(e) => setAddress(e.target.value)}
          aria-label="Search address"
        />
        <input
          type="search"
          placeholder="stack frame: model.py:42, forward"
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-label="Search frame text"
        />
        <button type="submit" disabled={search.pending}>
          Find
        </button>
        <span className="muted" data-testid="search-summary">
          {search.pending
            ? 'searching…'
            : search.error
              ? search.error
              : search.total === null
                ? ''
                : `${formatCount(search.total)} allocation${search.total === 1 ? '' : 's'} found${search.total > search.rows.length ? ` (first ${formatCount(search.rows.length)} listed)` : ''}`}
        </span>
      </form>
      {search.rows.length > 0 && (
        <ul className="search-results" data-testid="search-results">
          {search.rows.map((r) => (
            <li key={r.id}>
              <button
                type="button"
                className={`link${r.id === selectedId ? ' selected' : ''}`}
                data-testid="search-result"
                data-id={r.id}
                onClick={() => store.getState().jumpToAllocation(r)}
              >
                #{r.id} {formatBytes(r.size)} · block {r.blockId} + 0x{r.offset.toString(16)} · events{' '}
                {formatCount(r.allocatedAt)}–{r.freedAt === null ? 'end' : formatCount(r.freedAt)}
                {r.origin ? ` · ${stackOrigin(r.origin)}` : r.name ? ` · ${r.name}` : ''}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
