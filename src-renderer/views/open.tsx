// Open: a file picker and a drop zone for traces, a progress bar while loading, and an error panel that
// says which file was wrong and what was wrong with it.
import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { useInspector, useInspectorStore } from '../store/store.ts';
import { formatBytes } from '../ui/format.ts';

export function OpenView(): ReactNode {
  const store = useInspectorStore();
  const inputRef = useRef<HTMLInputElement | null>(null);
  return (
    <section className="open" aria-label="Open a trace">
      <div className="dropzone" data-testid="dropzone">
        <p>
          Drop a VRAMscope trace (or a VMA / D3D12MA JSON dump, a PyTorch memory snapshot, an RMV trace) here,
          or
        </p>
        <button type="button" onClick={() => inputRef.current?.click()}>
          Choose a file…
        </button>
        <input
          ref={inputRef}
          type="file"
          data-testid="file-input"
          accept=".trace,.json,.pickle,.pkl,.rmv,application/octet-stream"
          style={{ display: 'none' }}
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void store.getState().openPickedFile(f);
            e.target.value = '';
          }}
        />
      </div>
      <LoadStatus />
      <Samples />
    </section>
  );
}

function Samples(): ReactNode {
  const store = useInspectorStore();
  const source = useInspector((s) => s.source);
  const [samples, setSamples] = useState<{ name: string; fileId: string; bytes: number }[]>([]);
  useEffect(() => {
    let current = true;
    source?.samples?.().then(
      (list) => current && setSamples(list),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [source]);
  if (samples.length === 0) return null;
  return (
    <div className="samples">
      <h3>Sample traces</h3>
      <ul>
        {samples.map((s) => (
          <li key={s.fileId}>
            <button
              type="button"
              className="link"
              onClick={() => void store.getState().openTraceFile(s.name, s.fileId)}
            >
              {s.name}
            </button>{' '}
            <span className="muted">{formatBytes(s.bytes)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Progress bar and the error panel; shown in the Open view and over every other view. */
export function LoadStatus(): ReactNode {
  const store = useInspectorStore();
  const loading = useInspector((s) => s.loading);
  const error = useInspector((s) => s.loadError);
  return (
    <>
      {loading && (
        <div className="progress" data-testid="load-progress">
          <span>
            {loading.phase === 'uploading' ? 'Uploading' : 'Loading'} {loading.name}:{' '}
            {formatBytes(loading.loaded)}
            {loading.total > 0 ? ` of ${formatBytes(loading.total)}` : ''}
          </span>
          <progress max={loading.total || 1} value={loading.total ? loading.loaded : 0} />
          {loading.cancellable && (
            <button type="button" data-testid="cancel-load" onClick={() => store.getState().cancelLoad()}>
              Cancel
            </button>
          )}
        </div>
      )}
      {error && (
        <div className="error-panel" role="alert" data-testid="load-error">
          <strong>Could not open {error.name}</strong>
          <p>{error.message}</p>
          <button type="button" onClick={() => store.getState().dismissLoadError()}>
            Dismiss
          </button>
        </div>
      )}
    </>
  );
}
