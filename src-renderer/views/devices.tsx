// Devices: the device library. On the left every device VRAMscope can run on: the real Vulkan devices main
// sees, the profiles shipped in assets/profiles/, the profiles the user added (drop a vulkaninfo output or a
// vulkan.gpuinfo.org report here: its bytes go to main, which validates and keeps it) and the built-in
// D3D12/Metal models. On the right the selected one: heaps and types with flags spelled out, limits, budget
// support, and the memory type gpu-allocator's rule picks for every location × tiling × scheme with the
// decision record of the row you open.
import { useCallback, useEffect, useState } from 'react';
import type { DragEvent, ReactNode } from 'react';
import type {
  DeviceChoice,
  DeviceDetailDto,
  LibraryEntry,
  RequestResult,
} from '../../src-main/api/contract.ts';
import { maxProfileBytes } from '../../src-main/api/contract.ts';
import { useApi } from '../api/api-context.ts';
import { formatBytes, formatCount } from '../ui/format.ts';
import { DecisionRecord } from './decision.tsx';

type Library = RequestResult<'deviceLibrary'>;
type Described = RequestResult<'describeDevice'>;

const originTitles: Record<LibraryEntry['origin'], string> = {
  vulkan: 'Vulkan devices on this machine',
  shipped: 'Shipped profiles',
  user: 'Your profiles',
  builtin: 'Built-in heap models',
};

export function refKey(ref: DeviceChoice): string {
  if (ref.kind === 'vulkan') return `vulkan:${ref.index ?? 'default'}`;
  if (ref.kind === 'profile') return `profile:${ref.name}`;
  return `builtin:${ref.model}`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function Devices(): ReactNode {
  const api = useApi();
  const [library, setLibrary] = useState<Library | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [described, setDescribed] = useState<Described | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [dropping, setDropping] = useState(false);

  const refresh = useCallback(async (): Promise<Library | null> => {
    if (!api) return null;
    try {
      const lib = await api.request('deviceLibrary', {});
      setLibrary(lib);
      return lib;
    } catch (e) {
      setError(`Could not list the devices: ${message(e)}`);
      return null;
    }
  }, [api]);

  useEffect(() => {
    void refresh().then((lib) => {
      const first = lib?.entries.find((e) => e.error === null);
      if (first) setSelected((s) => s ?? refKey(first.ref));
    });
  }, [refresh]);

  const entry = library?.entries.find((e) => refKey(e.ref) === selected) ?? null;
  useEffect(() => {
    if (!api || !entry || entry.error !== null) {
      setDescribed(null);
      return;
    }
    let live = true;
    setDescribed(null);
    api.request('describeDevice', { device: entry.ref }).then(
      (d) => live && setDescribed(d),
      (e: unknown) => live && setError(message(e)),
    );
    return () => {
      live = false;
    };
    // Re-read when the selection or the library (after an add or remove) changes.
  }, [api, selected, library]);

  if (!api) return <p className="empty">The device library needs a connection to VRAMscope.</p>;

  const addFiles = async (files: FileList | readonly File[]): Promise<void> => {
    setError(null);
    setNotice(null);
    for (const file of Array.from(files)) {
      if (file.size > maxProfileBytes) {
        setError(
          `${file.name} is ${formatBytes(file.size)}; a profile may have at most ${formatBytes(maxProfileBytes)}.`,
        );
        continue;
      }
      try {
        const data = new Uint8Array(await file.arrayBuffer());
        const added = await api.request('addDeviceProfile', { name: file.name, data });
        setNotice(
          `Added ${added.label} (${added.formatLabel ?? 'profile'}) as "${added.file ?? file.name}".`,
        );
        await refresh();
        setSelected(refKey(added.ref));
      } catch (e) {
        setError(`${file.name} was not added: ${message(e)}`);
      }
    }
  };

  const onDrop = (e: DragEvent<HTMLElement>): void => {
    // Keep the app-wide drop (open a trace) out of it: a file dropped here is a profile.
    e.preventDefault();
    e.stopPropagation();
    setDropping(false);
    void addFiles(e.dataTransfer.files);
  };

  const remove = async (name: string): Promise<void> => {
    try {
      await api.request('removeDeviceProfile', { name });
      setSelected(null);
      await refresh();
    } catch (e) {
      setError(message(e));
    }
  };

  const groups = (['vulkan', 'shipped', 'user', 'builtin'] as const).map((origin) => ({
    origin,
    entries: library?.entries.filter((e) => e.origin === origin) ?? [],
  }));

  return (
    <section className="devices" aria-label="Devices" data-testid="devices-view">
      <div className="device-list">
        {groups.map(({ origin, entries }) => (
          <div key={origin} className="device-group">
            <h3>{originTitles[origin]}</h3>
            {origin === 'vulkan' && entries.length === 0 && library?.unavailableReason && (
              <p className="muted">None: {library.unavailableReason}.</p>
            )}
            {origin === 'user' && entries.length === 0 && (
              <p className="muted">None yet: drop a file below.</p>
            )}
            <ul>
              {entries.map((e) => (
                <li key={refKey(e.ref)}>
                  <button
                    type="button"
                    className={`link device-entry${refKey(e.ref) === selected ? ' active' : ''}${e.error ? ' broken' : ''}`}
                    onClick={() => setSelected(refKey(e.ref))}
                    title={e.file ?? undefined}
                  >
                    {e.label}
                  </button>
                  {e.error && <span className="error"> unreadable</span>}
                  {origin === 'user' && e.ref.kind === 'profile' && (
                    <button
                      type="button"
                      className="link"
                      aria-label={`Remove ${e.label}`}
                      onClick={() => void remove(e.ref.kind === 'profile' ? e.ref.name : '')}
                    >
                      ✕
                    </button>
                  )}
                </li>
              ))}
            </ul>
          </div>
        ))}
        <div
          className={`profile-drop${dropping ? ' over' : ''}`}
          data-testid="profile-drop"
          onDragOver={(e) => {
            e.preventDefault();
            e.stopPropagation();
            setDropping(true);
          }}
          onDragLeave={() => setDropping(false)}
          onDrop={onDrop}
        >
          <p>
            Drop a device profile here: <code>vulkaninfo</code> text output (any version), a
            vulkan.gpuinfo.org report JSON or <code>vulkaninfo --json</code> of SDK 1.3.204 or older.
          </p>
          <label>
            or choose a file{' '}
            <input
              type="file"
              aria-label="Add a device profile"
              onChange={(e) => {
                if (e.target.files) void addFiles(e.target.files);
                e.target.value = '';
              }}
            />
          </label>
          {library && (
            <p className="muted">
              {library.canAddProfiles
                ? 'Added profiles are kept in VRAMscope’s data folder, on the machine it runs on.'
                : 'This VRAMscope has no folder to keep added profiles in.'}
            </p>
          )}
        </div>
        {notice && <p data-testid="devices-notice">{notice}</p>}
        {error && (
          <p className="error" role="alert" data-testid="devices-error">
            {error}
          </p>
        )}
      </div>
      <div className="device-detail">
        {entry?.error && (
          <p className="error" data-testid="device-error">
            {entry.file}: {entry.error}
          </p>
        )}
        {entry && !entry.error && !described && <p className="muted">Reading {entry.label}…</p>}
        {described && (
          <>
            <p className="muted">
              {described.entry.file
                ? `${described.entry.file} · ${described.entry.formatLabel ?? ''}`
                : originTitles[described.entry.origin]}
            </p>
            {described.devices.map((d) => (
              <DeviceDetail key={d.gpuIndex} detail={d} several={described.devices.length > 1} />
            ))}
          </>
        )}
      </div>
    </section>
  );
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

function DeviceDetail(props: { detail: DeviceDetailDto; several: boolean }): ReactNode {
  const { detail } = props;
  const d = detail.description;
  const [open, setOpen] = useState<number | null>(null);
  const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
  return (
    <article className="device-card" data-testid="device-card">
      <h2>
        {props.several ? `GPU${detail.gpuIndex}: ` : ''}
        {d.name}
      </h2>
      <p>
        {d.deviceType} · vendor {hex(d.vendorId)} · device {hex(d.deviceId)} · driver {d.driverVersion} ·{' '}
        {d.api === 'vulkan' ? 'Vulkan' : d.api} {d.apiVersion}
      </p>
      <h3>Memory heaps</h3>
      <table className="device-heaps" data-testid="device-heaps">
        <thead>
          <tr>
            <th>heap</th>
            <th>size</th>
            <th>flags</th>
            <th>budget</th>
            <th>usage</th>
          </tr>
        </thead>
        <tbody>
          {d.heaps.map((h, k) => {
            const b = detail.budgets?.find((x) => x.heapIndex === h.index);
            return (
              <tr key={h.index}>
                <td>{h.index}</td>
                <td title={`${formatCount(h.size)} B`}>{formatBytes(h.size)}</td>
                <td>{detail.heapFlagNames[k]?.join(' | ') || 'none'}</td>
                <td>{b ? formatBytes(b.budget) : '—'}</td>
                <td>{b ? formatBytes(b.usage) : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3>Memory types</h3>
      <table className="device-types" data-testid="device-types">
        <thead>
          <tr>
            <th>type</th>
            <th>heap</th>
            <th>property flags</th>
          </tr>
        </thead>
        <tbody>
          {d.types.map((t, k) => (
            <tr key={t.index}>
              <td>{t.index}</td>
              <td>{t.heapIndex}</td>
              <td>
                {detail.typeFlagNames[k]?.join(' | ') || 'none'}
                {t.heapKind ? ` (${t.heapKind})` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Limits and extensions</h3>
      <dl className="facts">
        <dt>bufferImageGranularity</dt>
        <dd>{formatCount(d.limits.bufferImageGranularity)} B</dd>
        <dt>nonCoherentAtomSize</dt>
        <dd>{formatCount(d.limits.nonCoherentAtomSize)} B</dd>
        <dt>maxMemoryAllocationCount</dt>
        <dd>{formatCount(d.limits.maxMemoryAllocationCount)}</dd>
        <dt>maxMemoryAllocationSize</dt>
        <dd>{formatBytes(d.limits.maxMemoryAllocationSize)}</dd>
        <dt>memory budget</dt>
        <dd data-testid="device-budget">
          {yesNo(d.extensions.memoryBudget)}
          {d.extensions.memoryBudget && detail.budgets === null
            ? ' (a profile has no live budget; the simulated device reports 80% of each heap)'
            : ''}
          {!d.extensions.memoryBudget ? ' (no VK_EXT_memory_budget: budgets are not reported)' : ''}
        </dd>
        <dt>dedicated allocation</dt>
        <dd>{yesNo(d.extensions.dedicatedAllocation)}</dd>
        <dt>buffer device address</dt>
        <dd>{yesNo(d.extensions.bufferDeviceAddress)}</dd>
      </dl>
      <h3>Memory type chosen (gpu-allocator's rule)</h3>
      <p className="muted">
        memoryTypeBits <code>0x{detail.memoryTypeBits.toString(16)}</code> (every type allowed). Open a row
        for its decision record.
      </p>
      <table className="device-choices" data-testid="device-choices">
        <thead>
          <tr>
            <th>location</th>
            <th>tiling</th>
            <th>scheme</th>
            <th>type</th>
            <th>why</th>
          </tr>
        </thead>
        <tbody>
          {detail.choices.map((c, k) => (
            <ChoiceRow key={k} choice={c} open={open === k} onToggle={() => setOpen(open === k ? null : k)} />
          ))}
        </tbody>
      </table>
    </article>
  );
}

function ChoiceRow(props: {
  choice: DeviceDetailDto['choices'][number];
  open: boolean;
  onToggle: () => void;
}): ReactNode {
  const c = props.choice;
  return (
    <>
      <tr
        className={`choice${props.open ? ' open' : ''}`}
        onClick={props.onToggle}
        data-location={c.location}
      >
        <td>{c.location}</td>
        <td>{c.linear ? 'linear' : 'optimal'}</td>
        <td>{c.scheme}</td>
        <td data-testid="choice-winner">{c.decision.winner === null ? 'none' : c.decision.winner}</td>
        <td className="choice-reason">{c.decision.reason}</td>
      </tr>
      {props.open && (
        <tr className="choice-record">
          <td colSpan={5}>
            <DecisionRecord decision={c.decision} usedRetry={false} />
          </td>
        </tr>
      )}
    </>
  );
}
