// Devices for the API: the real Vulkan devices the native addon sees (when it is built), the shipped device
// profiles and the built-in heap models; and a session's device choice turned into the description the UI
// shows plus the DeviceSpec the scenario worker opens.
import path from 'node:path';
import { builtinProfileNames, type DeviceDescription } from '../../allocator/index.ts';
import { printable } from '../../allocator/text/printable.ts';
import { defaultDeviceIndex, enumerateDevices, isNativeAddonBuilt } from '../../native/index.ts';
import { describeNativeDevice } from '../../native/vulkan-device.ts';
import {
  loadProfile,
  openDevice,
  profileDir,
  shippedProfiles,
  type DeviceSpec,
} from '../session/open-device.ts';
import { ApiFailure } from './api-failure.ts';
import type { DeviceChoice, RequestResult } from './contract.ts';
import { deviceDto } from './dto.ts';

type DeviceList = RequestResult<'listDevices'>;

const profileSuffix = '.vulkaninfo.txt';
const profileNameCache = new Map<string, string>();

function profileEntries(cwd: string): DeviceList['profiles'] {
  return shippedProfiles().map((file) => {
    const name = file.slice(0, -profileSuffix.length);
    let deviceName = profileNameCache.get(name);
    if (deviceName === undefined) {
      try {
        deviceName = loadProfile(path.join(profileDir(), file), cwd).name;
      } catch (error) {
        deviceName = `(unreadable: ${(error as Error).message})`;
      }
      profileNameCache.set(name, deviceName);
    }
    return { name, deviceName };
  });
}

export function listDevices(cwd: string): DeviceList {
  const builtinModels = [...builtinProfileNames];
  const profiles = profileEntries(cwd);
  if (!isNativeAddonBuilt()) {
    return {
      devices: [],
      defaultIndex: null,
      profiles,
      builtinModels,
      unavailableReason: 'the native Vulkan addon is not built (run `npm run build:native`)',
    };
  }
  try {
    const infos = enumerateDevices();
    return {
      devices: infos.map((info) => ({
        index: info.index,
        description: deviceDto(describeNativeDevice(info)),
        budgets: info.budgets ? info.budgets.map((b) => ({ ...b })) : null,
      })),
      defaultIndex: infos.length > 0 ? defaultDeviceIndex(infos) : null,
      profiles,
      builtinModels,
      unavailableReason: infos.length === 0 ? 'the Vulkan loader reports no physical device' : null,
    };
  } catch (error) {
    return {
      devices: [],
      defaultIndex: null,
      profiles,
      builtinModels,
      unavailableReason: `Vulkan devices cannot be listed: ${(error as Error).message}`,
    };
  }
}

/** What the scenario worker opens for a session's device choice. */
export function deviceSpecFor(choice: DeviceChoice): DeviceSpec {
  switch (choice.kind) {
    case 'vulkan':
      return choice.index === undefined ? { kind: 'default' } : { kind: 'real', index: choice.index };
    case 'profile': {
      // Names only, of shipped profiles (exact, or a part that names one): the worker gets the shipped
      // file's own path, so a name is never looked up as a file in the working directory.
      if ((builtinProfileNames as readonly string[]).includes(choice.name))
        return { kind: 'profile', profile: choice.name };
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(choice.name)) {
        throw new ApiFailure(
          'InvalidRequest',
          `"${printable(choice.name, 100)}" is not a profile name (see listDevices).`,
        );
      }
      const shipped = shippedProfiles();
      const wanted = choice.name.toLowerCase();
      const exact = shipped.find((f) => f.toLowerCase() === `${wanted}${profileSuffix}`);
      const partial = shipped.filter((f) => f.toLowerCase().includes(wanted));
      const file = exact ?? (partial.length === 1 ? partial[0] : undefined);
      if (file === undefined) {
        const names = shipped.map((f) => f.slice(0, -profileSuffix.length));
        throw new ApiFailure(
          'NotFound',
          partial.length > 1
            ? `Profile name "${choice.name}" matches several shipped profiles: ${names.filter((n) => n.toLowerCase().includes(wanted)).join(', ')}.`
            : `There is no shipped profile "${choice.name}" (profiles: ${names.join(', ')}; built-ins: ${builtinProfileNames.join(', ')}).`,
        );
      }
      return { kind: 'profile', profile: path.join(profileDir(), file) };
    }
    case 'builtin':
      return { kind: 'profile', profile: choice.model };
  }
}

export interface ResolvedDevice {
  readonly spec: DeviceSpec;
  readonly description: DeviceDescription;
  /** Why the device differs from the choice (e.g. no native addon: the simulated lavapipe profile). */
  readonly note: string | null;
}

/** Opens the device once in main to describe it (cheap for profiles), then closes it again. */
export async function resolveDevice(choice: DeviceChoice, cwd: string): Promise<ResolvedDevice> {
  const spec = deviceSpecFor(choice);
  let opened;
  try {
    opened = await openDevice(spec, cwd);
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'ProfileNotFoundError') throw new ApiFailure('NotFound', (error as Error).message);
    throw new ApiFailure('Failed', (error as Error).message);
  }
  try {
    return { spec, description: opened.device.description, note: opened.note };
  } finally {
    opened.close();
  }
}
