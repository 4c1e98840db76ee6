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
  profileShortName,
  shippedProfiles,
  type DeviceSpec,
} from '../session/open-device.ts';
import { ApiFailure } from './api-failure.ts';
import type { DeviceLibrary } from './device-library.ts';
import type { DeviceChoice, RequestResult } from './contract.ts';
import { deviceDto } from './dto.ts';

type DeviceList = RequestResult<'listDevices'>;

const profileNameCache = new Map<string, string>();

function profileEntries(cwd: string, library: DeviceLibrary | null): DeviceList['profiles'] {
  const user = (library?.list().entries ?? [])
    .filter((e) => e.origin === 'user' && e.error === null && e.ref.kind === 'profile')
    .map((e) => ({ name: e.ref.kind === 'profile' ? e.ref.name : '', deviceName: e.label }));
  return [
    ...shippedProfiles().map((file) => {
      const name = profileShortName(file);
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
    }),
    ...user,
  ];
}

export function listDevices(cwd: string, library: DeviceLibrary | null = null): DeviceList {
  const builtinModels = [...builtinProfileNames];
  const profiles = profileEntries(cwd, library);
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

/**
 * What the scenario worker opens for a session's device choice. A profile name the user added resolves
 * to its file in the user's profile folder (main computes that path; the client only sends the name).
 */
export function deviceSpecFor(
  choice: DeviceChoice,
  resolveUserProfile?: (name: string) => string | null,
): DeviceSpec {
  switch (choice.kind) {
    case 'vulkan':
      return choice.index === undefined ? { kind: 'default' } : { kind: 'real', index: choice.index };
    case 'profile': {
      // Names only, never paths: the worker gets the file's own path (shipped, or in the user profile
      // folder), so a name is never looked up as a file in the working directory.
      if ((builtinProfileNames as readonly string[]).includes(choice.name))
        return { kind: 'profile', profile: choice.name };
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(choice.name)) {
        throw new ApiFailure(
          'InvalidRequest',
          `"${printable(choice.name, 100)}" is not a profile name (see listDevices).`,
        );
      }
      // A shipped profile by its exact short name, then one the user added (main resolves the name inside
      // the user profile folder), then a shipped profile a part of whose name it is.
      const shipped = shippedProfiles();
      const wanted = choice.name.toLowerCase();
      const exact = shipped.find((f) => profileShortName(f).toLowerCase() === wanted);
      if (exact !== undefined) return { kind: 'profile', profile: path.join(profileDir(), exact) };
      const userFile = resolveUserProfile?.(choice.name) ?? null;
      if (userFile !== null) return { kind: 'profile', profile: userFile };
      const partial = shipped.filter((f) => profileShortName(f).toLowerCase().includes(wanted));
      if (partial.length !== 1) {
        const names = shipped.map(profileShortName);
        throw new ApiFailure(
          'NotFound',
          partial.length > 1
            ? `Profile name "${choice.name}" matches several shipped profiles: ${names.filter((n) => n.toLowerCase().includes(wanted)).join(', ')}.`
            : `There is no profile "${choice.name}" (shipped: ${names.join(', ')}; built-ins: ${builtinProfileNames.join(', ')}; or one added on the Devices view).`,
        );
      }
      return { kind: 'profile', profile: path.join(profileDir(), partial[0]!) };
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
export async function resolveDevice(
  choice: DeviceChoice,
  cwd: string,
  resolveUserProfile?: (name: string) => string | null,
): Promise<ResolvedDevice> {
  const spec = deviceSpecFor(choice, resolveUserProfile);
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
