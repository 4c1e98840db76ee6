// The description of one device (a real one or a profile's) with every memory-type choice gpu-allocator's
// rule makes on it: the document `vramscope devices --profile FILE --json` prints and the app's Devices
// view shows (the same object, so the two never disagree), and its text rendering.
import {
  deviceProfileFormatLabels,
  describeFlags,
  formatBytes,
  memoryHeapFlagNames,
  memoryPropertyFlagNames,
  memoryTypeChoices,
  allTypesMask,
  type AllocationSchemeKind,
  type DeviceDescription,
  type DeviceProfileFormat,
  type HeapBudget,
  type MemoryLocation,
  type MemoryTypeDecision,
  parseDeviceProfiles,
} from '../../allocator/index.ts';

export interface DeviceChoiceRow {
  readonly location: MemoryLocation;
  readonly linear: boolean;
  readonly scheme: AllocationSchemeKind;
  readonly decision: MemoryTypeDecision;
}

export interface DeviceReport {
  /** "GPU<n>" of a vulkaninfo text report; 0 for single-device formats and built-in models. */
  readonly gpuIndex: number;
  readonly description: DeviceDescription;
  readonly heapFlagNames: readonly (readonly string[])[];
  readonly typeFlagNames: readonly (readonly string[])[];
  /** Budgets as the driver reports them (real devices with VK_EXT_memory_budget); null otherwise. */
  readonly budgets: readonly HeapBudget[] | null;
  /** memoryTypeBits used for the choice table: every type allowed. */
  readonly memoryTypeBits: number;
  /** 4 locations × linear (true, false) × 3 schemes. */
  readonly choices: readonly DeviceChoiceRow[];
}

export interface ProfileFileReport {
  /** The file name as given (no directory for files handed over by the app). */
  readonly file: string;
  readonly format: DeviceProfileFormat;
  readonly formatLabel: string;
  readonly devices: readonly DeviceReport[];
}

export function deviceReport(
  description: DeviceDescription,
  gpuIndex = 0,
  budgets: readonly HeapBudget[] | null = null,
): DeviceReport {
  return {
    gpuIndex,
    description,
    heapFlagNames: description.heaps.map((h) => memoryHeapFlagNames(h.flags)),
    typeFlagNames: description.types.map((t) => memoryPropertyFlagNames(t.propertyFlags)),
    budgets,
    memoryTypeBits: allTypesMask(description),
    choices: memoryTypeChoices(description),
  };
}

/** Parses a profile file (any supported format) and describes every device in it. Throws ProfileError. */
export function profileFileReport(text: string, file: string): ProfileFileReport {
  const parsed = parseDeviceProfiles(text, file);
  return {
    file,
    format: parsed.format,
    formatLabel: deviceProfileFormatLabels[parsed.format],
    devices: parsed.devices.map((d) => deviceReport(d.description, d.gpuIndex)),
  };
}

const hex = (n: number, width: number): string => `0x${n.toString(16).padStart(width, '0')}`;
const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** What `formatMemoryLayout` prints: a real device's (`devices`) or a profile's (`devices --profile`). */
export interface MemoryLayoutText {
  readonly heaps: readonly {
    readonly index: number;
    readonly size: number;
    readonly flagNames: readonly string[];
  }[];
  readonly types: readonly {
    readonly index: number;
    readonly heapIndex: number;
    readonly flagNames: readonly string[];
  }[];
  readonly budgets: readonly HeapBudget[] | null;
  readonly limits: DeviceDescription['limits'];
  readonly extensions: DeviceDescription['extensions'];
}

/** Heaps (with budget and usage when known), memory types, the limits the allocator uses and the memory
 *  extensions, as `vramscope devices` prints them for real devices and profiles alike. */
export function formatMemoryLayout(m: MemoryLayoutText): string[] {
  const out: string[] = ['  heaps:'];
  for (const h of m.heaps) {
    const b = m.budgets?.find((x) => x.heapIndex === h.index);
    const budget = b ? `  budget ${formatBytes(b.budget)}  usage ${formatBytes(b.usage)}` : '';
    out.push(
      `    ${h.index}  ${formatBytes(h.size).padStart(11)}  ${h.flagNames.join(' | ') || 'none'}${budget}`,
    );
  }
  out.push('  memory types:');
  for (const t of m.types)
    out.push(`    ${String(t.index).padStart(2)}  heap ${t.heapIndex}  ${t.flagNames.join(' | ') || 'none'}`);
  const l = m.limits;
  out.push(
    `  limits: bufferImageGranularity ${l.bufferImageGranularity} B, nonCoherentAtomSize ${l.nonCoherentAtomSize} B, ` +
      `maxMemoryAllocationCount ${l.maxMemoryAllocationCount}, maxMemoryAllocationSize ${formatBytes(l.maxMemoryAllocationSize)}`,
  );
  out.push(
    `  extensions: memory budget ${yesNo(m.extensions.memoryBudget)}, dedicated allocation ${yesNo(m.extensions.dedicatedAllocation)}, ` +
      `buffer device address ${yesNo(m.extensions.bufferDeviceAddress)}`,
  );
  return out;
}

/** Rows that share one decision (same winner, attempts and reason) are printed once, with their keys. */
function groupChoices(
  rows: readonly DeviceChoiceRow[],
): { keys: DeviceChoiceRow[]; decision: MemoryTypeDecision }[] {
  const groups: { keys: DeviceChoiceRow[]; decision: MemoryTypeDecision; signature: string }[] = [];
  for (const row of rows) {
    const d = row.decision;
    const signature = JSON.stringify([
      row.location,
      d.winner,
      d.reason,
      d.attempts,
      d.fallbacks,
      d.retryTypeIndex,
    ]);
    const group = groups.find((g) => g.signature === signature);
    if (group === undefined) groups.push({ keys: [row], decision: d, signature });
    else group.keys.push(row);
  }
  return groups;
}

function keysText(keys: readonly DeviceChoiceRow[]): string {
  const linear = [...new Set(keys.map((k) => (k.linear ? 'linear' : 'optimal')))].join(' and ');
  const schemes = [...new Set(keys.map((k) => k.scheme))].join(', ');
  return `${linear}; ${schemes}`;
}

/** The text `vramscope devices --profile FILE` prints for one device. */
export function formatDeviceReport(report: DeviceReport, title: string): string[] {
  const d = report.description;
  const out: string[] = [`${title}: ${d.name} [${d.deviceType}]`];
  out.push(
    `  vendor ${hex(d.vendorId, 4)}  device ${hex(d.deviceId, 4)}  driver ${d.driverVersion}  ${d.api === 'vulkan' ? 'Vulkan' : d.api} ${d.apiVersion}  source ${d.source}`,
  );
  out.push(
    ...formatMemoryLayout({
      heaps: d.heaps.map((h, k) => ({ ...h, flagNames: report.heapFlagNames[k] ?? [] })),
      types: d.types.map((t, k) => ({ ...t, flagNames: report.typeFlagNames[k] ?? [] })),
      budgets: report.budgets,
      limits: d.limits,
      extensions: d.extensions,
    }),
  );
  if (report.budgets === null)
    out.push(
      d.extensions.memoryBudget
        ? '  budgets: none in a profile (the simulated device reports 80% of each heap)'
        : '  budgets: not reported (no VK_EXT_memory_budget)',
    );
  out.push(
    `  memory type chosen by gpu-allocator's rule (memoryTypeBits ${hex(report.memoryTypeBits, 1)}: every type allowed), ` +
      'per location, tiling and scheme:',
  );
  for (const { keys, decision } of groupChoices(report.choices)) {
    const pick =
      decision.winner === null ? 'no type (NoCompatibleMemoryTypeFound)' : `type ${decision.winner}`;
    out.push(`    ${keys[0].location} (${keysText(keys)}): ${pick}`);
    out.push(`      why: ${decision.reason}`);
    decision.attempts.forEach((a, k) => {
      out.push(
        `      attempt ${k + 1} (${describeFlags(a.requiredFlags)}; ${a.label}): ${a.typeIndex === null ? 'none' : `type ${a.typeIndex}`}`,
      );
    });
    for (const f of decision.fallbacks) out.push(`      fallback: ${f}`);
    if (decision.retryTypeIndex !== null)
      out.push(
        `      if allocating from type ${decision.winner} fails: retried once with type ${decision.retryTypeIndex}`,
      );
  }
  return out;
}

export function formatProfileFileReport(report: ProfileFileReport): string {
  const out: string[] = [`${report.file}: ${report.formatLabel}, ${report.devices.length} device(s)`];
  for (const device of report.devices) {
    out.push('');
    out.push(
      ...formatDeviceReport(device, report.format === 'vulkaninfo-text' ? `GPU${device.gpuIndex}` : 'Device'),
    );
  }
  return `${out.join('\n')}\n`;
}
