// Paths inside the repository, resolved from this file's location (never from the current directory).
import os from 'node:os';
import path from 'node:path';
import { assetsDir, installRoot } from '../runtime/install.ts';

export const repoRoot = installRoot;

export function assetPath(...parts: string[]): string {
  return path.join(assetsDir(), ...parts);
}

export function defaultProfilePath(): string {
  return assetPath('profiles', 'mesa-lavapipe.vulkaninfo.txt');
}

/**
 * The user's data folder for `vramscope serve` (the desktop app uses Electron's userData): where added
 * device profiles are kept. $XDG_DATA_HOME/vramscope (default ~/.local/share/vramscope) on Linux,
 * ~/Library/Application Support/vramscope on macOS, %APPDATA%\vramscope on Windows.
 */
export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32' && env['APPDATA']) return path.join(env['APPDATA'], 'vramscope');
  if (process.platform === 'darwin')
    return path.join(os.homedir(), 'Library', 'Application Support', 'vramscope');
  const xdg = env['XDG_DATA_HOME'];
  return path.join(
    xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share'),
    'vramscope',
  );
}
