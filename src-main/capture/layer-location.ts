// Where the built capture layer is (npm run setup / npm run build:layer put it in native/layer/build/), and
// the environment that makes the Vulkan loader enable it for a program we start.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../cli/paths.ts';

export const CAPTURE_LAYER_NAME = 'VK_LAYER_VRAMSCOPE_capture';
const MANIFEST = 'VkLayer_vramscope_capture.json';
const LIBRARY = 'libVkLayer_vramscope_capture.so';

export interface CaptureLayerLocation {
  /** Folder holding the manifest and the library (what VK_ADD_LAYER_PATH names). */
  readonly folder: string;
  readonly manifest: string;
}

/**
 * The built layer: $VRAMSCOPE_CAPTURE_LAYER_DIR when set (a bundled install), else native/layer/build under
 * the package root. Throws an Error saying how to build it when it is not there.
 */
export function findCaptureLayer(env: NodeJS.ProcessEnv = process.env): CaptureLayerLocation {
  const folder = env.VRAMSCOPE_CAPTURE_LAYER_DIR
    ? path.resolve(env.VRAMSCOPE_CAPTURE_LAYER_DIR)
    : path.join(repoRoot, 'native', 'layer', 'build');
  const manifest = path.join(folder, MANIFEST);
  if (!existsSync(manifest) || !existsSync(path.join(folder, LIBRARY)))
    throw new Error(
      `the capture layer is not built (no ${MANIFEST} and ${LIBRARY} in ${folder}); run \`npm run build:layer\` (or \`npm run setup\`)`,
    );
  return { folder, manifest };
}

/** Appends `value` to a ':'-separated list variable unless it is already in it. */
function withListEntry(current: string | undefined, value: string, first: boolean): string {
  const list = (current ?? '').split(':').filter((x) => x !== '' && x !== value);
  return (first ? [value, ...list] : [...list, value]).join(':');
}

/**
 * The environment of a program to capture: the loader finds the layer's manifest (VK_ADD_LAYER_PATH) and
 * enables it (VK_INSTANCE_LAYERS, and VK_LOADER_LAYERS_ENABLE for loaders that filter layers); the layer
 * streams to `socketPath`. A capture file the caller's environment asked for is dropped (the socket wins).
 */
export function captureEnvironment(
  base: NodeJS.ProcessEnv,
  layer: CaptureLayerLocation,
  socketPath: string,
  stacks: boolean,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env.VRAMSCOPE_CAPTURE_FILE;
  env.VK_ADD_LAYER_PATH = withListEntry(base.VK_ADD_LAYER_PATH, layer.folder, true);
  env.VK_INSTANCE_LAYERS = withListEntry(base.VK_INSTANCE_LAYERS, CAPTURE_LAYER_NAME, false);
  env.VK_LOADER_LAYERS_ENABLE = withListEntry(base.VK_LOADER_LAYERS_ENABLE, CAPTURE_LAYER_NAME, false);
  env.VRAMSCOPE_CAPTURE_SOCKET = socketPath;
  if (stacks) env.VRAMSCOPE_CAPTURE_STACKS = '1';
  else delete env.VRAMSCOPE_CAPTURE_STACKS;
  return env;
}
