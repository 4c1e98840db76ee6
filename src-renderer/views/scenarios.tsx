// Scenarios: pick a built-in, fill the form generated from its parameters (types, defaults, ranges),
// run it and pause / step / resume / cancel; the timeline and block map follow the live run.
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import type { ScenarioInfo, ScenarioParam, ScenarioParamValue } from '../data/source.ts';
import { useInspector, useInspectorStore } from '../store/store.ts';
import { formatCount } from '../ui/format.ts';
import type { LibraryEntry } from '../../src-main/api/contract.ts';
import { RunConfigForm, defaultRunConfig, runConfigFrom } from './run-config.tsx';

export function defaultParams(s: ScenarioInfo | undefined): Record<string, ScenarioParamValue> {
  const out: Record<string, ScenarioParamValue> = {};
  for (const p of s?.params ?? []) out[p.name] = p.default ?? emptyValue(p);
  return out;
}

function emptyValue(p: ScenarioParam): ScenarioParamValue {
  if (p.type === 'boolean') return false;
  if (p.type === 'number' || p.type === 'integer') return p.min ?? 0;
  if (p.type === 'choice') return p.choices?.[0] ?? '';
  return '';
}

/** Checks one value against its parameter; returns one sentence when it is not acceptable. */
export function paramProblem(p: ScenarioParam, v: ScenarioParamValue): string | null {
  if (p.type === 'number' || p.type === 'integer') {
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${p.name} must be a number.`;
    if (p.type === 'integer' && !Number.isSafeInteger(v)) return `${p.name} must be a whole number.`;
    if (p.min !== undefined && v < p.min) return `${p.name} must be at least ${p.min}.`;
    if (p.max !== undefined && v > p.max) return `${p.name} must be at most ${p.max}.`;
  }
  if (p.type === 'choice' && p.choices && !p.choices.includes(String(v)))
    return `${p.name} must be one of ${p.choices.join(', ')}.`;
  return null;
}

export function Scenarios(): ReactNode {
  const store = useInspectorStore();
  const scenarios = useInspector((s) => s.scenarios);
  const run = useInspector((s) => s.runStatus);
  const error = useInspector((s) => s.sessionError);
  const [chosenId, setChosenId] = useState<string>('');
  const chosen = scenarios.find((s) => s.id === chosenId) ?? scenarios[0];
  const [params, setParams] = useState<Record<string, ScenarioParamValue>>({});
  useEffect(() => setParams(defaultParams(chosen)), [chosen]);
  const [runOn, setRunOn] = useState(defaultRunConfig);
  const [entries, setEntries] = useState<readonly LibraryEntry[]>([]);
  const runConfig = runConfigFrom(runOn, entries);

  if (scenarios.length === 0)
    return (
      <p className="empty">
        This source offers no scenarios (open VRAMscope with `vramscope serve` to run them).
      </p>
    );
  const problems = [
    ...(chosen?.params ?? [])
      .map((p) => paramProblem(p, params[p.name] ?? p.default ?? emptyValue(p)))
      .filter((x): x is string => x !== null),
    ...runConfig.problems,
  ];
  const state = run?.state ?? null;
  const running = state === 'running' || state === 'paused';
  return (
    <section className="scenarios" aria-label="Scenarios">
      <div className="toolbar">
        <strong>Scenario</strong>
        <select
          aria-label="Scenario"
          value={chosen?.id ?? ''}
          onChange={(e) => setChosenId(e.target.value)}
          disabled={running}
        >
          {scenarios.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
              {s.builtin ? '' : ' (file)'}
            </option>
          ))}
        </select>
      </div>
      {chosen && <p className="muted">{chosen.description}</p>}
      <form
        className="params"
        onSubmit={(e) => {
          e.preventDefault();
          if (chosen && problems.length === 0)
            void store.getState().runScenario(chosen.id, params, runConfig.config ?? undefined);
        }}
      >
        {(chosen?.params ?? []).map((p) => (
          <ParamField
            key={p.name}
            param={p}
            value={params[p.name] ?? p.default ?? emptyValue(p)}
            disabled={running}
            onChange={(v) => setParams({ ...params, [p.name]: v })}
          />
        ))}
        <RunConfigForm
          state={runOn}
          disabled={running}
          onChange={(state, list) => {
            setRunOn(state);
            setEntries(list);
          }}
        />
        {problems.map((m) => (
          <p key={m} className="error">
            {m}
          </p>
        ))}
        <div className="run-controls">
          <button type="submit" disabled={running || problems.length > 0}>
            Run
          </button>
          <button
            type="button"
            disabled={state !== 'running'}
            onClick={() => void store.getState().controlRun('pause')}
          >
            Pause
          </button>
          <button
            type="button"
            disabled={state !== 'paused'}
            onClick={() => void store.getState().controlRun('step')}
          >
            Step
          </button>
          <button
            type="button"
            disabled={state !== 'paused'}
            onClick={() => void store.getState().controlRun('resume')}
          >
            Resume
          </button>
          <button
            type="button"
            disabled={!running}
            onClick={() => void store.getState().controlRun('cancel')}
          >
            Cancel
          </button>
        </div>
      </form>
      <p data-testid="run-status" className={`run-state run-${state ?? 'idle'}`}>
        {run ? `${run.scenario}: ${run.state} · ${formatCount(run.opsDone)} operations` : 'no run yet'}
      </p>
      {run?.error && (
        <p className="error">
          {run.error.message}
          {run.error.file
            ? ` (${run.error.file}${run.error.line !== undefined ? `:${run.error.line}` : ''})`
            : ''}
        </p>
      )}
      {error && <p className="error">{error}</p>}
    </section>
  );
}

function ParamField(props: {
  param: ScenarioParam;
  value: ScenarioParamValue;
  disabled: boolean;
  onChange: (v: ScenarioParamValue) => void;
}): ReactNode {
  const p = props.param;
  const id = `param-${p.name}`;
  let input: ReactNode;
  if (p.type === 'boolean') {
    input = (
      <input
        id={id}
        type="checkbox"
        checked={props.value === true}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.target.checked)}
      />
    );
  } else if (p.type === 'choice') {
    input = (
      <select
        id={id}
        value={String(props.value)}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.target.value)}
      >
        {(p.choices ?? []).map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    );
  } else if (p.type === 'number' || p.type === 'integer') {
    input = (
      <input
        id={id}
        type="number"
        value={Number.isFinite(props.value as number) ? String(props.value) : ''}
        min={p.min}
        max={p.max}
        step={p.type === 'integer' ? 1 : 'any'}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.target.value === '' ? Number.NaN : Number(e.target.value))}
      />
    );
  } else if (p.type === 'file') {
    input = <FileParamInput id={id} disabled={props.disabled} onChange={props.onChange} />;
  } else {
    input = (
      <input
        id={id}
        type="text"
        value={String(props.value)}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.target.value)}
      />
    );
  }
  return (
    <div className="param">
      <label htmlFor={id}>{p.name}</label>
      {input}
      <span className="muted">
        {p.description}
        {p.min !== undefined || p.max !== undefined ? ` (${p.min ?? '…'}–${p.max ?? '…'})` : ''}
      </span>
    </div>
  );
}

/**
 * A "file" parameter: the page uploads the chosen file to VRAMscope (uploadFile) and the parameter
 * carries the fileId it gets back. The server never takes a path from the page.
 */
function FileParamInput(props: {
  id: string;
  disabled: boolean;
  onChange: (fileId: string) => void;
}): ReactNode {
  const store = useInspectorStore();
  const [status, setStatus] = useState<string>('no file chosen');
  return (
    <span className="file-param">
      <input
        id={props.id}
        type="file"
        data-testid={`${props.id}-file`}
        disabled={props.disabled}
        onChange={(e) => {
          const file = e.target.files?.[0];
          const upload = store.getState().source?.uploadFile?.bind(store.getState().source);
          if (!file) return;
          if (!upload) {
            setStatus('this source cannot take files');
            return;
          }
          setStatus(`uploading ${file.name}…`);
          void file
            .arrayBuffer()
            .then((buffer) => upload(file.name, new Uint8Array(buffer)))
            .then(
              (fileId) => {
                props.onChange(fileId);
                setStatus(`${file.name} uploaded`);
              },
              (error: unknown) => setStatus(`upload failed: ${(error as Error).message}`),
            );
        }}
      />
      <span className="muted" data-testid={`${props.id}-status`}>
        {status}
      </span>
    </span>
  );
}
