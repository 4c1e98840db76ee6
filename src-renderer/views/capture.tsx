// Capture: watch an unmodified Vulkan application (issue 10). Start a command under the capture layer
// (the desktop app; web mode only with `vramscope serve --allow-capture`) after confirming the exact
// command line, or attach to a `vramscope capture --live` of the same user. Each device of the program is
// a live source: "Show" puts it in the timeline, block map and the other views, which grow as it runs.
import { useCallback, useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import type { CaptureInfo, RequestResult } from '../../src-main/api/contract.ts';
import { useApi } from '../api/api-context.ts';
import { useInspector, useInspectorStore } from '../store/store.ts';
import { formatCount } from '../ui/format.ts';

type CaptureList = RequestResult<'listCaptures'>;

/**
 * Splits a command line into the program and its arguments the way a POSIX shell splits words, without
 * anything else a shell does (no variables, globs, pipes or redirections): whitespace separates words;
 * '…' keeps everything literally; "…" keeps everything but \" and \\; a backslash outside quotes escapes
 * the next character. Throws an Error with one sentence for an unterminated quote.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('The command line has an unterminated single quote.');
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) j++;
        word += line[j]!;
      }
      if (j >= line.length) throw new Error('The command line has an unterminated double quote.');
      inWord = true;
      i = j;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i]!;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function stateText(c: CaptureInfo): string {
  if (c.state === 'running') return c.pid !== null ? `running (pid ${c.pid})` : 'running';
  if (c.state === 'exited')
    return c.signal
      ? `ended by ${c.signal} (exit ${c.exitCode ?? '?'})`
      : `exited with code ${c.exitCode ?? '?'}`;
  if (c.state === 'failed') return `failed: ${c.error ?? 'unknown error'}`;
  return 'detached';
}

export function Capture(): ReactNode {
  const api = useApi();
  const store = useInspectorStore();
  const overviewTitle = useInspector((s) => s.overview?.title ?? null);
  const [list, setList] = useState<CaptureList | null>(null);
  const [captures, setCaptures] = useState<readonly CaptureInfo[]>([]);
  const [line, setLine] = useState('');
  const [stacks, setStacks] = useState(false);
  /** The command awaiting the user's confirmation. */
  const [confirming, setConfirming] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** The capture started or attached from this view: its first device is shown when it appears. */
  const [following, setFollowing] = useState<string | null>(null);

  const refresh = useCallback(async (): Promise<void> => {
    if (!api) return;
    try {
      const l = await api.request('listCaptures', {});
      setList(l);
      setCaptures(l.captures);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, [api]);

  useEffect(() => {
    void refresh();
    if (!api) return;
    return api.on('captureState', (info) => {
      setCaptures((old) => {
        const at = old.findIndex((c) => c.captureId === info.captureId);
        return at < 0 ? [...old, info] : old.map((c, i) => (i === at ? info : c));
      });
    });
  }, [api, refresh]);

  // Show the followed capture's first device as soon as the program created it.
  useEffect(() => {
    if (following === null) return;
    const c = captures.find((x) => x.captureId === following);
    const track = c?.tracks[0];
    if (!track) return;
    setFollowing(null);
    void store.getState().showSource(track.sourceId);
  }, [captures, following, store]);

  if (!api) return <p className="empty">Capturing needs a connection to VRAMscope.</p>;

  const review = (): void => {
    setError(null);
    try {
      const command = splitCommandLine(line);
      if (command.length === 0) {
        setError('Type the command to run, e.g. vkcube --c 100.');
        return;
      }
      setConfirming(command);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const start = async (command: string[]): Promise<void> => {
    setConfirming(null);
    setError(null);
    try {
      const info = await api.request('startCapture', { command, ...(stacks ? { stacks: true } : {}) });
      setCaptures((old) => (old.some((c) => c.captureId === info.captureId) ? old : [...old, info]));
      setFollowing(info.captureId);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const attach = async (liveId: string): Promise<void> => {
    setError(null);
    try {
      const info = await api.request('attachCapture', { liveId });
      setCaptures((old) => (old.some((c) => c.captureId === info.captureId) ? old : [...old, info]));
      setFollowing(info.captureId);
      void refresh();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const stop = async (captureId: string): Promise<void> => {
    try {
      await api.request('stopCapture', { captureId });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const canStart = list?.canStart === true;
  return (
    <section className="capture" aria-label="Capture" data-testid="capture-view">
      <h2>Start a Vulkan program under the capture layer</h2>
      {list && !canStart && (
        <p className="muted" data-testid="capture-refusal">
          {list.startRefusal}
        </p>
      )}
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          review();
        }}
      >
        <input
          type="text"
          aria-label="Command line"
          placeholder="vkcube --c 100"
          value={line}
          onChange={(e) => setLine(e.target.value)}
          disabled={!canStart}
          size={60}
        />
        <label>
          <input
            type="checkbox"
            checked={stacks}
            onChange={(e) => setStacks(e.target.checked)}
            disabled={!canStart}
          />{' '}
          call stacks
        </label>
        <button type="submit" disabled={!canStart || line.trim() === ''}>
          Start…
        </button>
      </form>
      {confirming && (
        <div className="confirm" role="dialog" aria-label="Confirm the command" data-testid="capture-confirm">
          <p>
            <strong>Run this program as you?</strong> It runs with your permissions on the machine VRAMscope
            runs on. Program and arguments, exactly as it will receive them:
          </p>
          <ol className="argv" data-testid="capture-argv">
            {confirming.map((a, i) => (
              <li key={i}>
                <code>{a}</code>
              </li>
            ))}
          </ol>
          <button type="button" onClick={() => void start(confirming)}>
            Run it
          </button>{' '}
          <button type="button" onClick={() => setConfirming(null)}>
            Cancel
          </button>
        </div>
      )}
      {error && (
        <p className="error" role="alert" data-testid="capture-error">
          {error}
        </p>
      )}

      <h2>Running live captures</h2>
      <p className="muted">
        Started in a terminal with <code>vramscope capture --live -- &lt;command&gt;</code> by this user.{' '}
        <button type="button" className="link" onClick={() => void refresh()}>
          Refresh
        </button>
      </p>
      {list && list.live.length === 0 && <p className="muted">None running.</p>}
      {list && list.live.length > 0 && (
        <ul data-testid="capture-live-list">
          {list.live.map((l) => (
            <li key={l.liveId}>
              <code>{l.command.join(' ')}</code> ({l.liveId}, since {l.startedAt}){' '}
              <button type="button" onClick={() => void attach(l.liveId)}>
                Attach
              </button>
            </li>
          ))}
        </ul>
      )}

      <h2>Captures</h2>
      {captures.length === 0 && <p className="muted">None yet.</p>}
      {captures.length > 0 && (
        <table className="captures" data-testid="capture-list">
          <thead>
            <tr>
              <th>command</th>
              <th>state</th>
              <th>devices</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {[...captures].reverse().map((c) => (
              <tr key={c.captureId} data-testid="capture-row" data-state={c.state}>
                <td>
                  <code>{c.command.join(' ')}</code>
                  {c.origin === 'attached' ? ` (attached to ${c.liveId ?? '?'})` : ''}
                </td>
                <td data-testid="capture-state">{stateText(c)}</td>
                <td>
                  {c.tracks.length === 0 && <span className="muted">none yet</span>}
                  {c.tracks.map((t) => (
                    <button
                      key={t.sourceId}
                      type="button"
                      className="link"
                      title={`Show ${t.device.name} in every view`}
                      onClick={() => void store.getState().showSource(t.sourceId)}
                    >
                      device {t.index}: {t.device.name} ({formatCount(t.eventCount)} events)
                    </button>
                  ))}
                </td>
                <td>
                  {c.state === 'running' && (
                    <button type="button" onClick={() => void stop(c.captureId)}>
                      {c.origin === 'started' ? 'Stop' : 'Detach'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {captureWarnings(captures)}
      {overviewTitle && <p className="muted">Shown now: {overviewTitle}</p>}
    </section>
  );
}

/** The decoders' warnings of ended captures (no clean exit, records lost), one line each. */
function captureWarnings(captures: readonly CaptureInfo[]): ReactNode {
  const lines = captures.flatMap((c) => c.warnings.map((w) => `${c.captureId}: ${w}`));
  if (lines.length === 0) return null;
  return (
    <ul className="warnings" data-testid="capture-warnings">
      {lines.map((w, i) => (
        <li key={i}>{w}</li>
      ))}
    </ul>
  );
}
