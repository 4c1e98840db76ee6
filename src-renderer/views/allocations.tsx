// Allocations table: virtualised (only the rows in view plus a margin exist in the DOM), paged from the
// source 200 rows at a time, with filters (name, type, location, size range, alive at the cursor) and
// sorting by clicking a column header. A click on a row selects the allocation.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { memoryLocations } from '../../allocator/index.ts';
import type { MemoryLocation } from '../../allocator/index.ts';
import type { AllocationQuery, AllocationRecord, AllocationSortKey } from '../data/source.ts';
import { useInspector, useInspectorStore } from '../store/store.ts';
import { formatBytes, formatCount, parseBytes } from '../ui/format.ts';

export const tableRowHeight = 24;
const pageSize = 200;
const viewport = 440;
const overscan = 10;

interface Column {
  /** The API's sort key, null for columns that do not sort. */
  readonly key: AllocationSortKey | null;
  readonly id: string;
  readonly label: string;
  readonly width: string;
  readonly cell: (a: AllocationRecord, aliveAtCursor: boolean) => string;
}

const columns: readonly Column[] = [
  { key: 'id', id: 'id', label: 'id', width: '70px', cell: (a) => String(a.id) },
  { key: 'name', id: 'name', label: 'name', width: 'minmax(160px, 2fr)', cell: (a) => a.name || '(unnamed)' },
  { key: 'size', id: 'size', label: 'size', width: '100px', cell: (a) => formatBytes(a.size) },
  { key: 'memoryType', id: 'type', label: 'type', width: '56px', cell: (a) => String(a.memoryTypeIndex) },
  { key: null, id: 'location', label: 'location', width: '86px', cell: (a) => a.location },
  {
    key: 'offset',
    id: 'offset',
    label: 'block:offset',
    width: '130px',
    cell: (a) => `#${a.blockId}:${formatCount(a.offset)}`,
  },
  {
    key: 'allocatedAt',
    id: 'allocatedAt',
    label: 'allocated at',
    width: '100px',
    cell: (a) => `#${formatCount(a.allocatedAt)}`,
  },
  {
    key: null,
    id: 'freedAt',
    label: 'freed at',
    width: '90px',
    // Rows listed "alive at the cursor" have no free index yet (it lies after the cursor).
    cell: (a, aliveAtCursor) =>
      a.freedAt === null ? (aliveAtCursor ? '—' : 'never') : `#${formatCount(a.freedAt)}`,
  },
];
const gridTemplate = `${columns.map((c) => c.width).join(' ')} minmax(120px, 1fr)`;

export function Allocations(): ReactNode {
  const store = useInspectorStore();
  const source = useInspector((s) => s.source);
  const overview = useInspector((s) => s.overview);
  const filter = useInspector((s) => s.filter);
  const liveAtCursor = useInspector((s) => s.liveAtCursor);
  const cursor = useInspector((s) => s.cursor);
  const selectedId = useInspector((s) => s.selectedId);
  const [scrollTop, setScrollTop] = useState(0);
  const [total, setTotal] = useState(0);
  const [pages, setPages] = useState<ReadonlyMap<number, readonly AllocationRecord[]>>(new Map());
  const requested = useRef(new Set<number>());
  const scrollRef = useRef<HTMLDivElement | null>(null);

  const query = useMemo(
    () => ({ ...filter, liveAt: liveAtCursor ? cursor : null }),
    [filter, liveAtCursor, cursor],
  );
  const queryKey = JSON.stringify(query) + `|${overview?.eventCount ?? 0}|${overview?.title ?? ''}`;

  // A new query: forget cached pages.
  const generation = useRef(0);
  useEffect(() => {
    generation.current++;
    requested.current = new Set();
    setPages(new Map());
    setTotal(0);
  }, [queryKey]);

  const first = Math.max(0, Math.floor(scrollTop / tableRowHeight) - overscan);
  const last = Math.ceil((scrollTop + viewport) / tableRowHeight) + overscan;
  useEffect(() => {
    if (!source || !overview) return;
    const gen = generation.current;
    for (let p = Math.floor(first / pageSize); p <= Math.floor(last / pageSize); p++) {
      if (requested.current.has(p)) continue;
      if (p > 0 && p * pageSize >= total) continue;
      requested.current.add(p);
      const q: AllocationQuery = { ...query, offset: p * pageSize, limit: pageSize };
      source.allocations(q).then(
        (page) => {
          if (gen !== generation.current) return;
          setTotal(page.total);
          setPages((prev) => new Map(prev).set(p, page.rows));
        },
        () => requested.current.delete(p),
      );
    }
  }, [source, overview, query, first, last, total, queryKey]);

  const rows: ReactNode[] = [];
  for (let i = first; i < Math.min(total, last); i++) {
    const a = pages.get(Math.floor(i / pageSize))?.[i % pageSize];
    rows.push(
      <div
        key={i}
        role="row"
        className={`row${a && a.id === selectedId ? ' selected' : ''}`}
        style={{ top: i * tableRowHeight, gridTemplateColumns: gridTemplate }}
        data-id={a?.id}
        onClick={() => a && void store.getState().select(a.id)}
      >
        {a ? (
          <>
            {columns.map((c) => (
              <span key={c.id} role="cell" className={`cell cell-${c.id}`}>
                {c.cell(a, liveAtCursor)}
              </span>
            ))}
            <span role="cell" className="cell cell-origin" title={a.origin ?? ''}>
              {a.origin ?? ''}
            </span>
          </>
        ) : (
          <span className="cell loading">…</span>
        )}
      </div>,
    );
  }

  const setSort = (key: AllocationSortKey): void => {
    const f = store.getState().filter;
    store
      .getState()
      .setFilter(f.sort === key ? { descending: !f.descending } : { sort: key, descending: false });
  };

  return (
    <section className="allocations" aria-label="Allocations">
      <AllocationFilters />
      <div className="table-summary" data-testid="allocations-total">
        {formatCount(total)} allocations{liveAtCursor ? ` alive at event ${formatCount(cursor)}` : ''}
      </div>
      <div role="table" aria-rowcount={total} className="vtable">
        <div role="row" className="row header" style={{ gridTemplateColumns: gridTemplate }}>
          {columns.map((c) => (
            <button
              key={c.id}
              type="button"
              role="columnheader"
              className="cell"
              disabled={c.key === null}
              aria-sort={filter.sort === c.key ? (filter.descending ? 'descending' : 'ascending') : 'none'}
              onClick={() => c.key && setSort(c.key)}
            >
              {c.label}
              {filter.sort === c.key ? (filter.descending ? ' ▼' : ' ▲') : ''}
            </button>
          ))}
          <span className="cell" role="columnheader">
            origin
          </span>
        </div>
        <div
          ref={scrollRef}
          className="vtable-body"
          style={{ height: viewport }}
          onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
          data-testid="allocations-body"
        >
          <div style={{ height: total * tableRowHeight, position: 'relative' }}>{rows}</div>
        </div>
      </div>
    </section>
  );
}

function AllocationFilters(): ReactNode {
  const store = useInspectorStore();
  const filter = useInspector((s) => s.filter);
  const liveAtCursor = useInspector((s) => s.liveAtCursor);
  const overview = useInspector((s) => s.overview);
  const [minText, setMinText] = useState('');
  const [maxText, setMaxText] = useState('');
  const set = store.getState().setFilter;
  return (
    <div className="toolbar filters">
      <strong>Allocations</strong>
      <input
        type="search"
        placeholder="name contains…"
        aria-label="Filter by name"
        value={filter.name}
        onChange={(e) => set({ name: e.target.value })}
      />
      <select
        aria-label="Filter by memory type"
        value={filter.memoryTypeIndex === null ? '' : String(filter.memoryTypeIndex)}
        onChange={(e) => set({ memoryTypeIndex: e.target.value === '' ? null : Number(e.target.value) })}
      >
        <option value="">any type</option>
        {(overview?.types ?? []).map((t) => (
          <option key={t.index} value={t.index}>
            type {t.index}
          </option>
        ))}
      </select>
      <select
        aria-label="Filter by location"
        value={filter.location ?? ''}
        onChange={(e) => set({ location: e.target.value === '' ? null : (e.target.value as MemoryLocation) })}
      >
        <option value="">any location</option>
        {memoryLocations.map((l) => (
          <option key={l} value={l}>
            {l}
          </option>
        ))}
      </select>
      <input
        aria-label="Minimum size"
        placeholder="min size (e.g. 1 MiB)"
        value={minText}
        className={minText !== '' && parseBytes(minText) === null ? 'invalid' : ''}
        onChange={(e) => {
          setMinText(e.target.value);
          set({ minSize: parseBytes(e.target.value) });
        }}
      />
      <input
        aria-label="Maximum size"
        placeholder="max size"
        value={maxText}
        className={maxText !== '' && parseBytes(maxText) === null ? 'invalid' : ''}
        onChange={(e) => {
          setMaxText(e.target.value);
          set({ maxSize: parseBytes(e.target.value) });
        }}
      />
      <label>
        <input
          type="checkbox"
          aria-label="Alive at cursor"
          checked={liveAtCursor}
          onChange={(e) => store.getState().setLiveAtCursor(e.target.checked)}
        />{' '}
        alive at cursor
      </label>
    </div>
  );
}
