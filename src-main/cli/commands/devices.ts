// `vramscope devices [--json]`: every Vulkan device the loader sees, with memory heaps, memory types (flags
// spelled out), the limits the allocator uses, the memory extensions and VK_EXT_memory_budget budgets.
import { memoryHeapFlagNames, memoryPropertyFlagNames } from '../../../allocator/index.ts';
import {
  defaultDeviceIndex,
  enumerateDevices,
  isCodedError,
  loaderVersion,
  type NativeDeviceInfo,
} from '../../../native/index.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ProfileError } from '../../../allocator/index.ts';
import {
  formatMemoryLayout,
  formatProfileFileReport,
  profileFileReport,
} from '../../session/device-report.ts';
import { CommandFailure, stringOption, type Command } from '../command.ts';

/** The JSON document `devices --json` prints (also the format of tests/fixtures/devices/*.devices.json). */
export interface DevicesReport {
  readonly loaderVersion: string;
  readonly defaultIndex: number;
  readonly devices: readonly DeviceReportEntry[];
}

export interface DeviceReportEntry extends Omit<NativeDeviceInfo, 'heaps' | 'types'> {
  readonly heaps: readonly { index: number; size: number; flags: number; flagNames: string[] }[];
  readonly types: readonly { index: number; propertyFlags: number; heapIndex: number; flagNames: string[] }[];
}

export function buildDevicesReport(): DevicesReport {
  const devices = enumerateDevices();
  return {
    loaderVersion: loaderVersion(),
    defaultIndex: defaultDeviceIndex(devices),
    devices: devices.map((d) => ({
      ...d,
      heaps: d.heaps.map((h) => ({ ...h, flagNames: memoryHeapFlagNames(h.flags) })),
      types: d.types.map((t) => ({ ...t, flagNames: memoryPropertyFlagNames(t.propertyFlags) })),
    })),
  };
}

const hex = (n: number, width: number): string => `0x${n.toString(16).padStart(width, '0')}`;

export function formatDevicesReport(report: DevicesReport): string {
  const out: string[] = [`Vulkan loader ${report.loaderVersion}: ${report.devices.length} device(s)`];
  for (const d of report.devices) {
    out.push('');
    out.push(
      `Device ${d.index}: ${d.name} [${d.deviceType}]${d.index === report.defaultIndex ? ' (default)' : ''}`,
    );
    const driver =
      d.driverName !== '' ? ` (${d.driverName}${d.driverInfo !== '' ? `, ${d.driverInfo}` : ''})` : '';
    out.push(
      `  vendor ${hex(d.vendorId, 4)}  device ${hex(d.deviceId, 4)}  driver ${d.driverVersion}${driver}  Vulkan ${d.apiVersion}`,
    );
    out.push(...formatMemoryLayout(d));
    if (d.budgets === null) out.push('  budgets: not reported (no VK_EXT_memory_budget)');
  }
  return `${out.join('\n')}\n`;
}

export const devicesCommand: Command = {
  name: 'devices',
  summary: 'List Vulkan devices: memory heaps, types, limits, extensions and budgets',
  help: `Usage: vramscope devices [--json]
       vramscope devices --profile FILE [--json]

Lists every Vulkan physical device the loader sees: memory heaps (size, flags, VK_EXT_memory_budget budget
and usage), memory types (property flags spelled out, heap), the limits the allocator uses
(bufferImageGranularity, nonCoherentAtomSize, maxMemoryAllocationCount, maxMemoryAllocationSize) and
whether memory budget, dedicated allocation and buffer device address are available. The device marked
(default) is the one opened without --device (discrete > integrated > virtual > cpu).

With --profile, describes the GPU(s) in a profile file instead: vulkaninfo text output (any version, one or
several GPUs), a vulkan.gpuinfo.org report JSON or vulkaninfo --json of SDK 1.3.204 and older. Besides the
heaps, types, limits and extensions it prints the memory type gpu-allocator's rule picks for every location
(GpuOnly, CpuToGpu, GpuToCpu, Unknown) x tiling (linear, optimal) x scheme (managed, dedicatedBuffer,
dedicatedImage), with the decision record: each attempt's required flags and pick, fallbacks taken and the
allocation-time retry. A file that cannot be read fails naming its line or JSON path (exit 1).

Options:
  --profile FILE  describe the device(s) of a profile file instead of the real devices
  --json          print one JSON document instead of text
`,
  options: { json: { type: 'boolean' }, profile: { type: 'string' } },
  maxPositionals: 0,
  async run(values, _positionals, io) {
    const profile = stringOption(values, 'profile');
    if (profile !== undefined) {
      const file = path.resolve(io.cwd, profile);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new CommandFailure(
          `cannot read profile ${profile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      let fileReport;
      try {
        fileReport = profileFileReport(text, path.basename(file));
      } catch (error) {
        if (error instanceof ProfileError) throw new CommandFailure(error.message);
        throw error;
      }
      io.stdout.write(
        values.json === true
          ? `${JSON.stringify(fileReport, null, 2)}\n`
          : formatProfileFileReport(fileReport),
      );
      return 0;
    }
    let report: DevicesReport;
    try {
      report = buildDevicesReport();
    } catch (error) {
      if (isCodedError(error)) throw new CommandFailure(`${error.message} [${error.code}]`);
      throw error;
    }
    io.stdout.write(
      values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatDevicesReport(report),
    );
    return 0;
  },
};
