// "Run on": the session a scenario runs in: which device (a real Vulkan device, a shipped or added profile,
// a built-in model: the Devices view's list), which placement strategy, whether tlsf relocates before
// growing (on by default), and gpu-allocator's block sizes (blank = the allocator's default). Changing any
// of them opens a new session for the next run.
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import type { DeviceChoice, LibraryEntry } from '../../src-main/api/contract.ts';
import { useApi } from '../api/api-context.ts';
import type { RunConfig } from '../data/source.ts';
import { refKey } from './devices.tsx';

const MiB = 1024 * 1024;

export interface RunConfigState {
  /** "" = the default device. */
  device: string;
  strategy: 'tlsf' | 'freelist';
  /** Relocation before growth (openSession's relocation); tlsf only, on by default. */
  relocation: boolean;
  /** MiB as typed; "" = default. */
  deviceMemblockMiB: string;
  hostMemblockMiB: string;
  deviceMaxMemblockMiB: string;
  hostMaxMemblockMiB: string;
}

export const defaultRunConfig: RunConfigState = {
  device: '',
  strategy: 'tlsf',
  relocation: true,
  deviceMemblockMiB: '',
  hostMemblockMiB: '',
  deviceMaxMemblockMiB: '',
  hostMaxMemblockMiB: '',
};

const sizeFields = [
  ['deviceMemblockMiB', 'deviceMemblockSize', 'device block', 256],
  ['hostMemblockMiB', 'hostMemblockSize', 'host block', 64],
  ['deviceMaxMemblockMiB', 'deviceMaxMemblockSize', 'device max block', 'the device block'],
  ['hostMaxMemblockMiB', 'hostMaxMemblockSize', 'host max block', 'the host block'],
] as const;

/** The openSession params for a form state, or the sentences saying what is wrong with it. */
export function runConfigFrom(
  state: RunConfigState,
  entries: readonly LibraryEntry[],
): { config: RunConfig | null; problems: string[] } {
  const problems: string[] = [];
  let device: DeviceChoice | undefined;
  if (state.device !== '') {
    device = entries.find((e) => refKey(e.ref) === state.device)?.ref;
    if (device === undefined) problems.push('The chosen device is no longer available.');
  }
  const sizes: Record<string, number> = {};
  for (const [field, key, label] of sizeFields) {
    const text = state[field].trim();
    if (text === '') continue;
    const mib = Number(text);
    if (!Number.isFinite(mib) || mib <= 0)
      problems.push(`The ${label} size must be a positive number of MiB.`);
    else sizes[key] = Math.round(mib * MiB);
  }
  if (problems.length > 0) return { config: null, problems };
  // freelist never relocates, so the setting only says something with tlsf.
  const relocationOff = state.strategy === 'tlsf' && !state.relocation;
  const isDefault =
    state.device === '' && state.strategy === 'tlsf' && !relocationOff && Object.keys(sizes).length === 0;
  if (isDefault) return { config: null, problems };
  return {
    config: {
      ...(device ? { device } : {}),
      strategy: state.strategy,
      ...(relocationOff ? { relocation: false } : {}),
      ...(Object.keys(sizes).length > 0 ? { allocationSizes: sizes } : {}),
    },
    problems,
  };
}

export function RunConfigForm(props: {
  state: RunConfigState;
  disabled: boolean;
  onChange: (state: RunConfigState, entries: readonly LibraryEntry[]) => void;
}): ReactNode {
  const api = useApi();
  const [entries, setEntries] = useState<readonly LibraryEntry[]>([]);
  useEffect(() => {
    if (!api) return;
    void api.request('deviceLibrary', {}).then(
      (lib) => setEntries(lib.entries.filter((e) => e.error === null)),
      () => setEntries([]),
    );
  }, [api]);
  const set = (patch: Partial<RunConfigState>): void => props.onChange({ ...props.state, ...patch }, entries);
  return (
    <fieldset className="run-config" disabled={props.disabled}>
      <legend>Run on</legend>
      <div className="param">
        <label htmlFor="run-device">device</label>
        <select id="run-device" value={props.state.device} onChange={(e) => set({ device: e.target.value })}>
          <option value="">default device</option>
          {entries.map((e) => (
            <option key={refKey(e.ref)} value={refKey(e.ref)}>
              {e.origin === 'vulkan' ? 'Vulkan: ' : e.origin === 'builtin' ? 'model: ' : 'profile: '}
              {e.label}
            </option>
          ))}
        </select>
        <span className="muted">a real device, a profile (simulated device) or a built-in heap model</span>
      </div>
      <div className="param">
        <label htmlFor="run-strategy">strategy</label>
        <select
          id="run-strategy"
          value={props.state.strategy}
          onChange={(e) => set({ strategy: e.target.value === 'freelist' ? 'freelist' : 'tlsf' })}
        >
          <option value="tlsf">tlsf</option>
          <option value="freelist">freelist</option>
        </select>
        <span className="muted">placement inside a block</span>
      </div>
      <div className="param">
        <label htmlFor="run-relocation">relocation</label>
        <input
          id="run-relocation"
          type="checkbox"
          checked={props.state.strategy === 'tlsf' && props.state.relocation}
          disabled={props.state.strategy !== 'tlsf'}
          onChange={(e) => set({ relocation: e.target.checked })}
        />
        <span className="muted">
          {props.state.strategy === 'tlsf'
            ? 'before growing, move a few movable allocations (bytes copied, buffers recreated) instead of creating a block'
            : 'freelist never moves allocations'}
        </span>
      </div>
      {sizeFields.map(([field, , label, def]) => (
        <div className="param" key={field}>
          <label htmlFor={`run-${field}`}>{label} (MiB)</label>
          <input
            id={`run-${field}`}
            type="number"
            min={1}
            step="any"
            placeholder={`default: ${def}`}
            value={props.state[field]}
            onChange={(e) => set({ [field]: e.target.value })}
          />
          <span className="muted">gpu-allocator rounds it to a multiple of 4 MiB within 4–256 MiB</span>
        </div>
      ))}
    </fieldset>
  );
}
