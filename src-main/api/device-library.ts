// The device library behind the Devices view: the real Vulkan devices main sees, the profiles shipped in
// assets/profiles/, the profiles the user added (kept in the user's data folder) and the built-in heap
// models, each described with its memory-type choice table (src-main/session/device-report.ts).
//
// Security: a profile the user adds arrives as bytes with a file name; the name is reduced to a safe short
// name (letters, digits, ".", "_", "-") and the file is written only inside the user profile folder, and
// only after it parsed as a device profile. No request ever names a path.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ProfileError, loadBuiltinProfile, type DeviceProfileFormat } from '../../allocator/index.ts';
import { printable } from '../../allocator/text/printable.ts';
import { defaultDeviceIndex, enumerateDevices, isNativeAddonBuilt } from '../../native/index.ts';
import { describeNativeDevice } from '../../native/vulkan-device.ts';
import { deviceReport, profileFileReport, type DeviceReport } from '../session/device-report.ts';
import { profileDir, profileFilesIn, profileShortName } from '../session/open-device.ts';
import { ApiFailure } from './api-failure.ts';
import type { DeviceChoice, DeviceDetailDto, LibraryEntry, RequestResult } from './contract.ts';
import { decisionDto, deviceDto } from './dto.ts';

const builtinModels = ['d3d12-tier1', 'd3d12-tier2', 'metal'] as const;
const safeName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/;

/** File ending a stored profile gets from its format, so the format shows in the folder too. */
const endingOf: Record<DeviceProfileFormat, string> = {
  'vulkaninfo-text': '.vulkaninfo.txt',
  'gpuinfo-report-json': '.gpuinfo.json',
  'vulkaninfo-devsim-json': '.json',
  'vulkan-profiles-json': '.json',
};

function detailDto(r: DeviceReport): DeviceDetailDto {
  return {
    gpuIndex: r.gpuIndex,
    description: deviceDto(r.description),
    heapFlagNames: r.heapFlagNames.map((n) => [...n]),
    typeFlagNames: r.typeFlagNames.map((n) => [...n]),
    budgets: r.budgets === null ? null : r.budgets.map((b) => ({ ...b })),
    memoryTypeBits: r.memoryTypeBits,
    choices: r.choices.map((c) => ({
      location: c.location,
      linear: c.linear,
      scheme: c.scheme,
      decision: decisionDto(c.decision),
    })),
  };
}

/** "My GPU (2).vulkaninfo.txt" → "My-GPU-2-"; "" when nothing usable is left. */
export function profileNameFromFile(fileName: string): string {
  const base = profileShortName(path.basename(fileName.replace(/\\/g, '/')));
  return base
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 120);
}

export class DeviceLibrary {
  /** Parsed files by path and modification-free content key (the files are small; parsing is cheap). */
  private readonly cache = new Map<string, { text: string; report: ReturnType<typeof profileFileReport> }>();

  constructor(
    /** Where user-added profiles are kept; null: adding profiles is refused (saying why). */
    readonly userDir: string | null,
  ) {}

  private userFiles(): string[] {
    return this.userDir === null ? [] : profileFilesIn(this.userDir);
  }

  /** Absolute path of the user profile with this short name, or null. Used to open sessions on it. */
  userProfilePath(name: string): string | null {
    if (this.userDir === null || !safeName.test(name)) return null;
    const file = this.userFiles().find((f) => profileShortName(f) === name);
    return file === undefined ? null : path.join(this.userDir, file);
  }

  private report(file: string): ReturnType<typeof profileFileReport> {
    const text = readFileSync(file, 'utf8');
    const hit = this.cache.get(file);
    if (hit && hit.text === text) return hit.report;
    const report = profileFileReport(text, path.basename(file));
    this.cache.set(file, { text, report });
    return report;
  }

  private profileEntry(file: string, origin: 'shipped' | 'user'): LibraryEntry {
    const name = profileShortName(path.basename(file));
    const ref: DeviceChoice = { kind: 'profile', name };
    try {
      const r = this.report(file);
      const names = r.devices.map((d) => d.description.name);
      return {
        ref,
        origin,
        label: names.join(' + '),
        file: path.basename(file),
        formatLabel: r.formatLabel,
        error: null,
      };
    } catch (error) {
      return {
        ref,
        origin,
        label: name,
        file: path.basename(file),
        formatLabel: null,
        error: printable((error as Error).message, 300),
      };
    }
  }

  list(): RequestResult<'deviceLibrary'> {
    const entries: LibraryEntry[] = [];
    let unavailableReason: string | null = null;
    if (!isNativeAddonBuilt())
      unavailableReason = 'the native Vulkan addon is not built (run `npm run build:native`)';
    else {
      try {
        const infos = enumerateDevices();
        const def = infos.length > 0 ? defaultDeviceIndex(infos) : -1;
        for (const info of infos) {
          entries.push({
            ref: { kind: 'vulkan', index: info.index },
            origin: 'vulkan',
            label: `${info.name}${info.index === def ? ' (default)' : ''}`,
            file: null,
            formatLabel: null,
            error: null,
          });
        }
        if (infos.length === 0) unavailableReason = 'the Vulkan loader reports no physical device';
      } catch (error) {
        unavailableReason = `Vulkan devices cannot be listed: ${(error as Error).message}`;
      }
    }
    for (const f of profileFilesIn(profileDir()))
      entries.push(this.profileEntry(path.join(profileDir(), f), 'shipped'));
    for (const f of this.userFiles())
      entries.push(this.profileEntry(path.join(this.userDir ?? '', f), 'user'));
    for (const model of builtinModels) {
      entries.push({
        ref: { kind: 'builtin', model },
        origin: 'builtin',
        label: loadBuiltinProfile(model).name,
        file: null,
        formatLabel: null,
        error: null,
      });
    }
    return { entries, unavailableReason, canAddProfiles: this.userDir !== null };
  }

  describe(device: DeviceChoice): RequestResult<'describeDevice'> {
    const entry = this.list().entries.find((e) => sameRef(e.ref, device));
    if (device.kind === 'vulkan') {
      if (!isNativeAddonBuilt()) throw new ApiFailure('Failed', 'the native Vulkan addon is not built');
      const infos = enumerateDevices();
      const index = device.index ?? (infos.length > 0 ? defaultDeviceIndex(infos) : -1);
      const info = infos.find((i) => i.index === index);
      if (info === undefined) throw new ApiFailure('NotFound', `There is no Vulkan device ${index}.`);
      const r = deviceReport(
        describeNativeDevice(info),
        0,
        info.budgets ? info.budgets.map((b) => ({ ...b })) : null,
      );
      const listed = this.list().entries.find((e) => e.ref.kind === 'vulkan' && e.ref.index === index);
      return { entry: listed ?? fallbackEntry(device, info.name), devices: [detailDto(r)] };
    }
    if (device.kind === 'builtin') {
      const r = deviceReport(loadBuiltinProfile(device.model));
      return { entry: entry ?? fallbackEntry(device, r.description.name), devices: [detailDto(r)] };
    }
    const file =
      this.userProfilePath(device.name) ??
      profileFilesIn(profileDir())
        .filter((f) => profileShortName(f) === device.name)
        .map((f) => path.join(profileDir(), f))[0];
    if (file === undefined || entry === undefined)
      throw new ApiFailure('NotFound', `There is no profile "${printable(device.name, 100)}".`);
    try {
      return { entry, devices: this.report(file).devices.map(detailDto) };
    } catch (error) {
      throw new ApiFailure('Failed', (error as Error).message);
    }
  }

  /** Validates and stores a profile the user dropped; returns its library entry. */
  add(fileName: string, data: Uint8Array): LibraryEntry {
    if (this.userDir === null)
      throw new ApiFailure(
        'InvalidState',
        'This VRAMscope has no user data folder to keep added profiles in.',
      );
    const name = profileNameFromFile(fileName);
    if (!safeName.test(name))
      throw new ApiFailure(
        'InvalidRequest',
        `"${printable(fileName, 100)}" gives no usable profile name; rename the file.`,
      );
    const text = new TextDecoder('utf-8').decode(data);
    let report;
    try {
      report = profileFileReport(text, path.basename(fileName));
    } catch (error) {
      if (error instanceof ProfileError)
        throw new ApiFailure('InvalidRequest', printable(error.message, 300));
      throw error;
    }
    if (profileFilesIn(profileDir()).some((f) => profileShortName(f) === name))
      throw new ApiFailure('InvalidRequest', `"${name}" is the name of a shipped profile; rename the file.`);
    mkdirSync(this.userDir, { recursive: true });
    for (const f of this.userFiles()) if (profileShortName(f) === name) rmSync(path.join(this.userDir, f));
    const file = path.join(this.userDir, `${name}${endingOf[report.format]}`);
    writeFileSync(file, text);
    return this.profileEntry(file, 'user');
  }

  remove(name: string): void {
    const file = this.userProfilePath(name);
    if (file === null || !existsSync(file))
      throw new ApiFailure('NotFound', `There is no added profile "${printable(name, 100)}".`);
    rmSync(file);
    this.cache.delete(file);
  }
}

function sameRef(a: DeviceChoice, b: DeviceChoice): boolean {
  if (a.kind === 'vulkan' && b.kind === 'vulkan') return b.index === undefined || a.index === b.index;
  if (a.kind === 'profile' && b.kind === 'profile') return a.name === b.name;
  if (a.kind === 'builtin' && b.kind === 'builtin') return a.model === b.model;
  return false;
}

function fallbackEntry(ref: DeviceChoice, label: string): LibraryEntry {
  return {
    ref,
    origin: ref.kind === 'builtin' ? 'builtin' : 'vulkan',
    label,
    file: null,
    formatLabel: null,
    error: null,
  };
}
