// Plain-text rendering of a run's summary for the CLI: totals, peak, failures by code and leaks grouped by
// origin (the script line and tags that asked for them).
import { formatBytes } from '../../allocator/index.ts';
import type { RunSummary } from './run-protocol.ts';
import type { LeakRecord } from './session.ts';

export interface LeakGroup {
  readonly origin: string;
  readonly count: number;
  /** Bytes requested. */
  readonly bytes: number;
  readonly names: readonly string[];
}

/** Leaks grouped by origin (stack), largest group first, then by origin text. */
export function groupLeaks(leaks: readonly LeakRecord[]): LeakGroup[] {
  const groups = new Map<string, { count: number; bytes: number; names: string[] }>();
  for (const l of leaks) {
    const key = l.stack ?? '(unknown origin)';
    const g = groups.get(key) ?? { count: 0, bytes: 0, names: [] };
    g.count++;
    g.bytes += l.size;
    g.names.push(l.name);
    groups.set(key, g);
  }
  return [...groups.entries()]
    .map(([origin, g]) => ({ origin, ...g }))
    .sort((a, b) => b.count - a.count || a.origin.localeCompare(b.origin));
}

function listNames(names: readonly string[], max = 4): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … ${names.length - max} more` : shown;
}

/** "device 256 MiB, host 64 MiB" (growing sizes as "min..max"), plus the device options that are on. */
function blockSizesText(s: RunSummary): string {
  const z = s.allocationSizes;
  const range = (min: number, max: number): string =>
    min === max ? formatBytes(min) : `${formatBytes(min)}..${formatBytes(max)}`;
  const extra = [
    ...(s.bufferDeviceAddress ? ['buffer device addresses'] : []),
    ...(s.validation ? ['validation'] : []),
  ];
  return `device ${range(z.deviceMemblockSize, z.deviceMaxMemblockSize)}, host ${range(z.hostMemblockSize, z.hostMaxMemblockSize)}${extra.length > 0 ? `; ${extra.join(', ')}` : ''}`;
}

export function formatSummary(s: RunSummary, outcome: string): string {
  const lines: string[] = [];
  const row = (k: string, v: string): void => {
    lines.push(`${k.padEnd(10)} ${v}`);
  };
  row('scenario', `${s.scenario} (seed ${s.seed}) — ${outcome}`);
  row('device', s.device);
  row('strategy', s.strategy);
  row('blocks', blockSizesText(s));
  row(
    'resources',
    s.resources === 'real'
      ? "real (buffers and images created, bound and destroyed; the driver's requirements)"
      : "none (the scenario's sizes, every memory type allowed)",
  );
  row(
    'relocation',
    s.relocation
      ? `on: ${s.relocationMoves} move${s.relocationMoves === 1 ? '' : 's'} instead of new blocks`
      : 'off (allocations never move)',
  );
  row('ops', `${s.ops} (${s.allocations} allocations, ${s.frees} frees, ${s.failures} failures)`);
  if (s.failures > 0) {
    const codes = Object.entries(s.failuresByCode)
      .map(([code, n]) => `${n} ${code}`)
      .join(', ');
    row('failures', codes);
  }
  row('frames', String(s.frames));
  row('peak', `${formatBytes(s.peakCommittedBytes)} committed, ${s.peakBlocks} blocks`);
  row(
    'budget',
    s.budget === 'ignore'
      ? 'ignore (heap budgets are not checked)'
      : s.budget === 'warn'
        ? `warn: ${s.budgetCrossings} block${s.budgetCrossings === 1 ? '' : 's'} pushed a heap past its budget`
        : `strict: the budget refused ${s.budgetRefusals} block${s.budgetRefusals === 1 ? '' : 's'}`,
  );
  if (s.leaks.length === 0) row('leaks', 'none');
  else {
    row('leaks', `${s.leaks.length} allocations, ${formatBytes(s.leakedBytes)}, by origin:`);
    for (const g of groupLeaks(s.leaks))
      lines.push(`           ${g.count} × ${g.origin} (${formatBytes(g.bytes)}): ${listNames(g.names)}`);
  }
  row('events', String(s.events));
  row('time', `${(s.durationMs / 1000).toFixed(2)} s`);
  if (s.tracePath) row('trace', s.tracePath);
  return `${lines.join('\n')}\n`;
}
