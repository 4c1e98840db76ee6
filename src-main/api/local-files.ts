// Desktop open-by-path (issue 11): a file the user dropped on the Electron window or picked in the page's
// file input opens where it is, without a copy. The preload (src-main/electron/preload.ts) turns the page's
// File into its path with Electron's webUtils.getPathForFile (a File the page made itself has no path) and
// sends the path to main on its own channel; the page never sees it. Main grants it a fileId (origin
// 'picked': the user chose it), like a file picked in main's Open dialog, after checking here that it is
// an absolute path to a regular file it can open. A FIFO, a device, a folder or a socket is refused
// before a byte is read, and the answer names only the file's base name (escaped), never its path.
//
// Only the preload can reach this channel (contextIsolation: the page has no ipcRenderer), and the IPC
// endpoint answers only our own windows' top frames (ipc-endpoint.ts).
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { printable } from '../../allocator/text/printable.ts';
import type { LocalFileGrant } from './contract.ts';

/** Longest path accepted (Linux PATH_MAX). */
export const maxLocalPathLength = 4096;

/** What main answers the preload: a grant, or one sentence saying why not (contract.ts). */
export type LocalFileAnswer = LocalFileGrant;

/** The regular file behind `candidate` (an absolute path), with its size; null when it is not one. */
export async function checkLocalFile(candidate: unknown): Promise<{ path: string; bytes: number } | null> {
  if (typeof candidate !== 'string') return null;
  if (candidate.length === 0 || candidate.length > maxLocalPathLength || candidate.includes('\0'))
    return null;
  if (!path.isAbsolute(candidate)) return null;
  // O_NONBLOCK: opening a FIFO cannot hang; fstat on the descriptor: what was opened is what is checked.
  let handle;
  try {
    handle = await open(candidate, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return null;
    return { path: path.resolve(candidate), bytes: info.size };
  } finally {
    await handle.close();
  }
}

/**
 * Grants a dropped or picked file by its path (from the preload), through `grant` (AppBackend.grantFile
 * with origin 'picked'). Answers the grant or a sentence naming only the base name.
 */
export async function grantLocalFile(
  candidate: unknown,
  grant: (file: string) => { readonly fileId: string; readonly name: string },
): Promise<LocalFileAnswer> {
  const file = await checkLocalFile(candidate);
  if (file === null) {
    const name = typeof candidate === 'string' ? printable(path.basename(candidate), 255) : 'The file';
    return {
      ok: false,
      message: `${name} cannot be opened in place: it is missing, unreadable or not a regular file.`,
    };
  }
  const { fileId, name } = grant(file.path);
  return { ok: true, fileId, name, bytes: file.bytes };
}
