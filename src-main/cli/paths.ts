// Paths inside the repository, resolved from this file's location (never from the current directory).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function assetPath(...parts: string[]): string {
  return path.join(repoRoot, 'assets', ...parts);
}

export function defaultProfilePath(): string {
  return assetPath('profiles', 'mesa-lavapipe.vulkaninfo.txt');
}
