// The inspector's frame: header (views, cursor, theme), the timeline on top, the active view below, the
// selected allocation's decision on the side. Drag-and-drop of a trace works anywhere in the window.
import { useEffect, useState } from 'react';
import type { DragEvent, ReactNode } from 'react';
import { handleKey, isTypingTarget, keyHelp } from './keyboard.ts';
import { useInspector, useInspectorStore } from './store/store.ts';
import { viewNames } from './store/view-slice.ts';
import type { ViewName } from './store/view-slice.ts';
import { formatBytes, formatCount } from './ui/format.ts';
import { Allocations } from './views/allocations.tsx';
import { BlockMap } from './views/block-map.tsx';
import { Capture } from './views/capture.tsx';
import { Compare } from './views/compare.tsx';
import { DecisionPanel } from './views/decision.tsx';
import { Devices } from './views/devices.tsx';
import { Leaks } from './views/leaks.tsx';
import { LoadStatus, OpenView } from './views/open.tsx';
import { Overview } from './views/overview.tsx';
import { Scenarios } from './views/scenarios.tsx';
import { Timeline } from './views/timeline.tsx';

const viewLabels: Record<ViewName, string> = {
  overview: 'Overview',
  blocks: 'Block map',
  allocations: 'Allocations',
  leaks: 'Leaks',
  scenarios: 'Scenarios',
  devices: 'Devices',
  compare: 'Compare',
  open: 'Open',
  capture: 'Capture',
};

export function App(): ReactNode {
  const store = useInspectorStore();
  const theme = useInspector((s) => s.theme);
  const view = useInspector((s) => s.view);
  const overview = useInspector((s) => s.overview);
  const sessionError = useInspector((s) => s.sessionError);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (isTypingTarget(e.target)) return;
      if (handleKey(store.getState(), e)) e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store]);

  const onDrop = (e: DragEvent<HTMLDivElement>): void => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (file) void store.getState().openPickedFile(file);
  };

  return (
    <div
      className="app"
      data-theme={theme}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
      data-testid="app"
    >
      <header className="topbar">
        <span className="brand">VRAMscope</span>
        <nav className="tabs" role="tablist">
          {viewNames.map((v, i) => (
            <button
              key={v}
              type="button"
              role="tab"
              aria-selected={view === v}
              className={view === v ? 'active' : ''}
              onClick={() => store.getState().setView(v)}
              title={`${viewLabels[v]} (${i + 1})`}
            >
              {viewLabels[v]}
            </button>
          ))}
        </nav>
        <span className="title" data-testid="trace-title">
          {overview ? `${overview.title}${overview.live ? ' (live)' : ''}` : 'nothing loaded'}
        </span>
        <button type="button" onClick={() => store.getState().toggleTheme()} aria-label="Toggle theme">
          {theme === 'dark' ? '☀ light' : '☾ dark'}
        </button>
      </header>
      {sessionError && (
        <div className="banner" role="alert" data-testid="session-error">
          {sessionError}
        </div>
      )}
      {overview?.warnings && overview.warnings.length > 0 && (
        <LoaderWarnings title={overview.title} warnings={overview.warnings} />
      )}
      {view !== 'open' && <LoadStatus />}
      {overview && (
        <>
          <CursorBar />
          <Timeline />
        </>
      )}
      <div className="main">
        <main className="view">
          {view === 'overview' && (overview ? <Overview /> : <OpenView />)}
          {view === 'blocks' && <BlockMap />}
          {view === 'allocations' && <Allocations />}
          {view === 'leaks' && <Leaks />}
          {view === 'scenarios' && <Scenarios />}
          {view === 'devices' && <Devices />}
          {view === 'compare' && <Compare />}
          {view === 'open' && <OpenView />}
          {view === 'capture' && <Capture />}
        </main>
        <DecisionPanel />
      </div>
      <footer className="keys">
        {keyHelp.map(([k, what]) => (
          <span key={k}>
            <kbd>{k}</kbd> {what}
          </span>
        ))}
      </footer>
      {dragging && <div className="drop-overlay">Drop the trace to open it</div>}
    </div>
  );
}

/**
 * What the loader said about the open file (torn or incomplete trace, dropped events, an import's fix-ups),
 * beside its name, in the same words as `vramscope report` / `vramscope import`. Long lists fold.
 */
function LoaderWarnings(props: { title: string; warnings: readonly string[] }): ReactNode {
  const [open, setOpen] = useState(false);
  const shown = open ? props.warnings : props.warnings.slice(0, 3);
  return (
    <div className="banner warning-banner" role="status" data-testid="loader-warnings">
      <strong>
        {props.title}: {props.warnings.length} warning{props.warnings.length === 1 ? '' : 's'} while loading
      </strong>
      <ul>
        {shown.map((w, i) => (
          <li key={i}>{w}</li>
        ))}
      </ul>
      {props.warnings.length > 3 && (
        <button type="button" onClick={() => setOpen(!open)}>
          {open ? 'fewer' : `all ${props.warnings.length}`}
        </button>
      )}
    </div>
  );
}

/** The cursor: where it is, the time there and the bytes at that point; a slider to scrub. */
function CursorBar(): ReactNode {
  const store = useInspectorStore();
  const cursor = useInspector((s) => s.cursor);
  const snapshot = useInspector((s) => s.snapshot);
  const eventCount = useInspector((s) => s.overview?.eventCount ?? 0);
  const brush = useInspector((s) => s.brush);
  return (
    <div className="cursorbar">
      <label>
        cursor{' '}
        <input
          type="range"
          min={0}
          max={eventCount}
          value={cursor}
          aria-label="Cursor"
          onChange={(e) => store.getState().setCursor(Number(e.target.value))}
        />
      </label>
      <span data-testid="cursor-readout">
        event {formatCount(cursor)} of {formatCount(eventCount)}
      </span>
      {snapshot && snapshot.at === cursor && (
        <span data-testid="cursor-bytes">
          {formatBytes(snapshot.committedBytes)} committed · {formatBytes(snapshot.allocatedBytes)} allocated
          · {formatCount(snapshot.blocks.length)} blocks
        </span>
      )}
      {brush && (
        <span className="muted">
          brush {formatCount(brush.start)}–{formatCount(brush.end)} ({formatCount(brush.end - brush.start)}{' '}
          events)
        </span>
      )}
    </div>
  );
}
