// The memory type gpu-allocator's rule picks on a device for every location × linear × scheme, with the
// decision record: what `vramscope devices --profile` prints and the app's Devices view shows.
// memoryTypeBits allows every type of the device (a resource that accepts any type), so the table shows
// the rule itself rather than one resource's restrictions.
import type { DeviceDescription } from '../device.ts';
import { chooseMemoryType } from '../memory-type.ts';
import {
  memoryLocations,
  type AllocationSchemeKind,
  type MemoryLocation,
  type MemoryTypeDecision,
} from '../types.ts';

export const allocationSchemeKinds: readonly AllocationSchemeKind[] = [
  'managed',
  'dedicatedBuffer',
  'dedicatedImage',
];

export interface MemoryTypeChoice {
  readonly location: MemoryLocation;
  readonly linear: boolean;
  readonly scheme: AllocationSchemeKind;
  readonly decision: MemoryTypeDecision;
}

/** memoryTypeBits with a bit for each of the device's types (at most 32, so ">>> 0" keeps it unsigned). */
export function allTypesMask(description: DeviceDescription): number {
  const n = description.types.length;
  return n >= 32 ? 0xffffffff : ((1 << n) - 1) >>> 0;
}

/** 4 locations × linear (true, false) × 3 schemes = 24 rows, in that order; ids 0..23. */
export function memoryTypeChoices(description: DeviceDescription): MemoryTypeChoice[] {
  const memoryTypeBits = allTypesMask(description);
  const rows: MemoryTypeChoice[] = [];
  for (const location of memoryLocations) {
    for (const linear of [true, false]) {
      for (const scheme of allocationSchemeKinds) {
        const decision = chooseMemoryType(
          description,
          { memoryTypeBits, location, linear, scheme },
          rows.length,
        );
        rows.push({ location, linear, scheme, decision });
      }
    }
  }
  return rows;
}
