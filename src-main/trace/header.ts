// Builds a v1 trace header from what a session knows: the device, the allocator configuration and,
// optionally, the scenario run or the foreign file it was imported from.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DeviceDescription } from '../../allocator/device.ts';
import {
  defaultDebugSettings,
  type BudgetMode,
  type DebugSettings,
  type PlacementStrategyName,
} from '../../allocator/types.ts';
import {
  TRACE_FORMAT_NAME,
  TRACE_FORMAT_VERSION,
  type TraceAllocatorConfig,
  type TraceCaptureInfo,
  type TraceHeader,
  type TraceImportInfo,
  type TraceSessionInfo,
} from '../../allocator/trace/index.ts';
import { installRoot } from '../runtime/install.ts';

let cachedVersion: string | null = null;

/** The version in package.json (the tool version written into traces). */
export function toolVersion(): string {
  if (cachedVersion === null) {
    const pkg = JSON.parse(readFileSync(path.join(installRoot, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    cachedVersion = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  }
  return cachedVersion;
}

export interface TraceHeaderInit {
  readonly device: DeviceDescription;
  readonly allocator?: {
    readonly strategy?: PlacementStrategyName;
    readonly allocationSizes?: TraceAllocatorConfig['allocationSizes'];
    readonly debugSettings?: Partial<DebugSettings>;
    readonly bufferDeviceAddress?: boolean;
    readonly budget?: BudgetMode;
    readonly resources?: 'real' | 'none';
  };
  readonly session?: TraceSessionInfo;
  readonly importedFrom?: TraceImportInfo;
  readonly capture?: TraceCaptureInfo;
  /** Default: now. */
  readonly createdAt?: Date;
}

export function createTraceHeader(init: TraceHeaderInit): TraceHeader {
  const a = init.allocator ?? {};
  const header: TraceHeader = {
    format: TRACE_FORMAT_NAME,
    version: TRACE_FORMAT_VERSION,
    toolVersion: toolVersion(),
    createdAt: (init.createdAt ?? new Date()).toISOString(),
    device: init.device,
    allocator: {
      strategy: a.strategy ?? 'tlsf',
      allocationSizes: { ...(a.allocationSizes ?? {}) },
      debugSettings: { ...defaultDebugSettings, ...(a.debugSettings ?? {}) },
      bufferDeviceAddress: a.bufferDeviceAddress ?? false,
      ...(a.budget !== undefined ? { budget: a.budget } : {}),
      ...(a.resources !== undefined ? { resources: a.resources } : {}),
    },
    ...(init.session ? { session: init.session } : {}),
    ...(init.importedFrom ? { importedFrom: init.importedFrom } : {}),
    ...(init.capture ? { capture: init.capture } : {}),
  };
  return header;
}
