// Opens the device a session runs on: the real Vulkan device (native/) or a simulated device built from a
// profile. A profile is a file in any format parseDeviceProfile reads (vulkaninfo text, vulkan.gpuinfo.org
// report JSON, devsim JSON), a built-in model name ("d3d12-tier1", "d3d12-tier2", "metal"), or the short
// name of a profile shipped in assets/profiles/ ("lavapipe", "h100").
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  builtinProfileNames,
  createSimulatedDevice,
  loadBuiltinProfile,
  parseDeviceProfile,
  type Device,
  type DeviceDescription,
} from '../../allocator/index.ts';
import { isNativeAddonBuilt, type DebugMessage } from '../../native/index.ts';
import { openVulkanDevice } from '../../native/vulkan-device.ts';
import { assetsDir } from '../runtime/install.ts';
import { vulkanResources, type ResourceBackend } from './resources.ts';

/** assets/profiles/ (a function: the packaged app says where assets/ is at start-up). */
export function profileDir(): string {
  return path.join(assetsDir(), 'profiles');
}

export type DeviceSpec =
  /** The real device when the native addon is built and a device opens, else the lavapipe profile (said so in `note`). */
  | { readonly kind: 'default' }
  | { readonly kind: 'real'; readonly index: number }
  | { readonly kind: 'profile'; readonly profile: string };

export interface OpenDeviceOptions {
  /** Enable the Khronos validation layer on a real device (ignored, with a note, for a simulated fallback). */
  readonly validation?: boolean;
  /** Receives the validation layer's messages (real devices with validation only). */
  readonly onMessage?: (message: DebugMessage) => void;
}

export interface OpenedDevice {
  readonly device: Device;
  /** "NVIDIA H100 80GB HBM3 (profile:nvidia-h100-80gb-hbm3.vulkaninfo.txt)". */
  readonly label: string;
  /** Why the device differs from what was asked for, if it does. */
  readonly note: string | null;
  /** Whether the validation layer is on (only ever true for a real device). */
  readonly validation: boolean;
  /** Real buffers and images on this device (`resources: real`); null for a simulated device. */
  readonly resources: ResourceBackend | null;
  close(): void;
}

export class DeviceOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceOpenError';
  }
}

/** The --profile value names nothing that exists: a usage error. */
export class ProfileNotFoundError extends DeviceOpenError {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileNotFoundError';
  }
}

/** File name endings of profile files, longest first: the short name is the file name without it. */
const profileFileEndings = ['.vulkaninfo.txt', '.gpuinfo.json', '.txt', '.json'] as const;

/** "nvidia-h100-80gb-hbm3.vulkaninfo.txt" → "nvidia-h100-80gb-hbm3". */
export function profileShortName(file: string): string {
  const ending = profileFileEndings.find((e) => file.endsWith(e));
  return ending === undefined ? file : file.slice(0, -ending.length);
}

/** Profile files in `dir` (vulkaninfo text or JSON), sorted; none when the folder does not exist. */
export function profileFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => profileFileEndings.some((e) => f.endsWith(e)))
    .sort();
}

/** Profiles shipped in assets/profiles/, by short name: "mesa-lavapipe" and "lavapipe" both work. */
export function shippedProfiles(): string[] {
  return profileFilesIn(profileDir());
}

/** Resolves a --profile value to a device description (reads the file if it is one). */
export function loadProfile(profile: string, cwd: string): DeviceDescription {
  if ((builtinProfileNames as readonly string[]).includes(profile.replace(/^builtin:/, '')))
    return loadBuiltinProfile(profile);
  const asPath = path.resolve(cwd, profile);
  let file: string | null = existsSync(asPath) ? asPath : null;
  if (file === null && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(profile)) {
    const matches = shippedProfiles().filter((f) => f.toLowerCase().includes(profile.toLowerCase()));
    if (matches.length === 1) file = path.join(profileDir(), matches[0] as string);
    else if (matches.length > 1)
      throw new ProfileNotFoundError(
        `profile name "${profile}" matches several shipped profiles: ${matches.join(', ')}`,
      );
  }
  if (file === null) {
    const shipped = shippedProfiles().map(profileShortName);
    throw new ProfileNotFoundError(
      `profile "${profile}" is neither a file nor a known profile (built-ins: ${[...builtinProfileNames, ...shipped].join(', ')})`,
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DeviceOpenError(`cannot read profile ${file}: ${(error as Error).message}`);
  }
  return parseDeviceProfile(text, path.basename(file));
}

export async function openDevice(
  spec: DeviceSpec,
  cwd: string,
  options: OpenDeviceOptions = {},
): Promise<OpenedDevice> {
  const validation = options.validation === true;
  if (spec.kind === 'profile') {
    if (validation)
      throw new DeviceOpenError(
        `validation needs a real Vulkan device; the simulated profile "${spec.profile}" has no validation layer`,
      );
    const description = loadProfile(spec.profile, cwd);
    return simulated(description, null);
  }
  if (spec.kind === 'real') return real(spec.index, null, options);
  const offNote = validation ? '; validation is off' : '';
  if (!isNativeAddonBuilt())
    return simulated(
      loadProfile('lavapipe', cwd),
      `the native Vulkan addon is not built (npm run setup); using the simulated lavapipe profile${offNote}`,
    );
  try {
    return real(undefined, null, options);
  } catch (error) {
    return simulated(
      loadProfile('lavapipe', cwd),
      `${(error as Error).message}; using the simulated lavapipe profile${offNote}`,
    );
  }
}

/** Opens a real Vulkan device by index (default: discrete > integrated > virtual > cpu). */
function real(index: number | undefined, note: string | null, options: OpenDeviceOptions): OpenedDevice {
  if (!isNativeAddonBuilt())
    throw new DeviceOpenError(
      `the real Vulkan device${index === undefined ? '' : ` ${index}`} cannot be opened: the native addon is not built (npm run setup), use --profile`,
    );
  let device;
  try {
    device = openVulkanDevice(index, {
      ...(options.validation === true ? { validation: true } : {}),
      ...(options.onMessage ? { onMessage: options.onMessage } : {}),
    });
  } catch (error) {
    throw new DeviceOpenError(
      `cannot open the Vulkan device${index === undefined ? '' : ` ${index}`}: ${(error as Error).message}`,
    );
  }
  return {
    device,
    label: `${device.description.name} (vulkan${options.validation === true ? ', validation' : ''})`,
    note,
    validation: options.validation === true,
    resources: vulkanResources(device.context),
    close: () => device.close(),
  };
}

function simulated(description: DeviceDescription, note: string | null): OpenedDevice {
  const device = createSimulatedDevice(description);
  return {
    device,
    label: `${description.name} (${description.source})`,
    note,
    validation: false,
    resources: null,
    close: () => undefined,
  };
}
