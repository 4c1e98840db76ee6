// Paths inside the repository, resolved from this file's location (never from the current directory).
import path from 'node:path';
import { assetsDir, installRoot } from '../runtime/install.ts';

export const repoRoot = installRoot;

export function assetPath(...parts: string[]): string {
  return path.join(assetsDir(), ...parts);
}

export function defaultProfilePath(): string {
  return assetPath('profiles', 'mesa-lavapipe.vulkaninfo.txt');
}
