// One entry point for every device-profile format: detects what the text is and hands it to its reader.
// Formats (docs/profiles.md): vulkaninfo text (every layout from 1.0 to today, one or several GPUs),
// vulkaninfo --json of SDK <= 1.3.204 (devsim schema), Vulkan Profiles JSON (vulkaninfo --json today;
// no memory heaps in that format, which the error explains) and vulkan.gpuinfo.org report JSON.
import type { DeviceDescription } from '../device.ts';
import { parseDevsimJson, parseGpuinfoReport, parseVulkanProfilesJson } from './json-profiles.ts';
import { ProfileError, ProfileParseError } from './profile-error.ts';
import { listVulkaninfoGpus, parseVulkaninfo } from './vulkaninfo.ts';

export type DeviceProfileFormat =
  'vulkaninfo-text' | 'vulkaninfo-devsim-json' | 'vulkan-profiles-json' | 'gpuinfo-report-json';

export const deviceProfileFormatLabels: Readonly<Record<DeviceProfileFormat, string>> = {
  'vulkaninfo-text': 'vulkaninfo text output',
  'vulkaninfo-devsim-json': 'vulkaninfo --json (devsim schema, Vulkan SDK 1.1-1.3.204)',
  'vulkan-profiles-json': 'Vulkan Profiles JSON (vulkaninfo --json since SDK 1.3.204)',
  'gpuinfo-report-json': 'vulkan.gpuinfo.org report JSON',
};

export interface ProfileDevice {
  /** The n of "GPU<n>" in a vulkaninfo text report; 0 for the single-device JSON formats. */
  readonly gpuIndex: number;
  readonly description: DeviceDescription;
}

export interface ParsedDeviceProfile {
  readonly format: DeviceProfileFormat;
  readonly devices: readonly ProfileDevice[];
}

export interface ParseDeviceProfileOptions {
  /** vulkaninfo text with several GPUs: which "GPU<n>" to read (default: the first). */
  readonly gpuIndex?: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** 1-based line of a character offset. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function parseJson(text: string, sourceName: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    const message = (error as Error).message;
    const m = /position (\d+)/.exec(message);
    const line = m === null ? 1 : lineAt(text, Number(m[1]));
    throw new ProfileParseError(sourceName, line, `this JSON does not parse: ${message}`);
  }
}

function isObject(v: Json): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonFormat(root: Json, sourceName: string): DeviceProfileFormat {
  if (isObject(root)) {
    if (isObject(root.capabilities ?? null)) return 'vulkan-profiles-json';
    if (isObject(root.VkPhysicalDeviceProperties ?? null)) return 'vulkaninfo-devsim-json';
    if (isObject(root.properties ?? null) && isObject(root.memory ?? null)) return 'gpuinfo-report-json';
  }
  throw new ProfileParseError(
    sourceName,
    1,
    'this JSON is not a device profile VRAMscope reads: expected a vulkan.gpuinfo.org report ("properties" and ' +
      '"memory"), vulkaninfo --json output ("VkPhysicalDeviceProperties") or a Vulkan Profiles file ("capabilities")',
  );
}

/** The text without a byte-order mark; JSON is recognised by its first non-blank character. */
function strip(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Reads every device a profile file describes (vulkaninfo text may list several GPUs). */
export function parseDeviceProfiles(text: string, sourceName: string): ParsedDeviceProfile {
  const body = strip(text);
  if (/^\s*[{[]/.test(body)) {
    const root = parseJson(body, sourceName);
    const format = jsonFormat(root, sourceName);
    const read =
      format === 'gpuinfo-report-json'
        ? parseGpuinfoReport
        : format === 'vulkaninfo-devsim-json'
          ? parseDevsimJson
          : parseVulkanProfilesJson;
    return { format, devices: [{ gpuIndex: 0, description: read(root, sourceName) }] };
  }
  const gpus = listVulkaninfoGpus(body, sourceName);
  if (gpus.length === 0) {
    // Let the text parser produce its "ends without any GPU<n>:" error with the right line.
    parseVulkaninfo(body, sourceName);
  }
  return {
    format: 'vulkaninfo-text',
    devices: gpus.map((gpuIndex) => ({
      gpuIndex,
      description: parseVulkaninfo(body, sourceName, { gpuIndex }),
    })),
  };
}

/**
 * Reads one device from a profile file of any supported format (the first GPU, or `gpuIndex` of a
 * vulkaninfo text report). Throws ProfileParseError (a line) or ProfileJsonError (a JSON path).
 */
export function parseDeviceProfile(
  text: string,
  sourceName: string,
  options: ParseDeviceProfileOptions = {},
): DeviceDescription {
  const body = strip(text);
  if (!/^\s*[{[]/.test(body)) return parseVulkaninfo(body, sourceName, options);
  const parsed = parseDeviceProfiles(body, sourceName);
  if (options.gpuIndex !== undefined && options.gpuIndex !== 0) {
    throw new ProfileError(
      `${sourceName}: GPU${options.gpuIndex} was requested but a ${deviceProfileFormatLabels[parsed.format]} file describes one device`,
    );
  }
  return parsed.devices[0].description;
}
