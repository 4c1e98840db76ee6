// File grants: the only way an API client (a renderer, a browser tab) can name a file on this machine.
//
// Clients never send paths. Main hands out an opaque `fileId` for each file it decided a client may read:
//   - `sample`: the traces shipped in assets/traces/;
//   - `picked`: a file the user chose in a main-process dialog (Electron's File > Open);
//   - `command-line`: a trace given to `vramscope serve` / the app on its command line;
//   - `recent`: a file opened before (Electron keeps the list in userData; those were picked or given);
//   - `upload`: bytes a client sent (beginUpload ... finishUpload, or uploadFile in one message), kept in a
//     private folder by uploads.ts, deleted once opened, cancelled, left idle, or on exit.
// Requests that read a file (`loadTrace`, `importFile`, a scenario parameter of type "file") carry a
// fileId; main resolves it here and reads only the path it recorded. An unknown id is NotFound and says
// nothing about the file system. Ids are random (128 bits), so one cannot be guessed from another.
//
// Nothing is ever written by a client-chosen path: reports come back as content (exportReport), uploads
// get names main makes up.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { printable } from '../../allocator/text/printable.ts';
import { ApiFailure } from './api-failure.ts';
import { maxNameLength } from './contract.ts';

export type GrantOrigin = 'sample' | 'picked' | 'command-line' | 'recent' | 'upload';

export interface FileGrant {
  /** `file-` and 22 base64url characters. */
  readonly fileId: string;
  /** What the UI shows: the file's base name (or the uploaded name), control characters escaped. */
  readonly name: string;
  /** Absolute path; never sent to a client. */
  readonly path: string;
  readonly origin: GrantOrigin;
}

export class FileGrants {
  private readonly byId = new Map<string, FileGrant>();
  private readonly byPath = new Map<string, FileGrant>();

  /** Grants read access to `file` (main's decision, never a client's). The same path keeps its id. */
  grant(file: string, origin: GrantOrigin, displayName?: string): FileGrant {
    const absolute = path.resolve(file);
    const known = this.byPath.get(absolute);
    if (known) return known;
    const grant: FileGrant = {
      fileId: `file-${randomBytes(16).toString('base64url')}`,
      name: printable(displayName ?? path.basename(absolute), maxNameLength),
      path: absolute,
      origin,
    };
    this.byId.set(grant.fileId, grant);
    this.byPath.set(absolute, grant);
    return grant;
  }

  /** The grant behind a client's fileId; NotFound (naming only the id) when there is none. */
  resolve(fileId: string): FileGrant {
    const grant = this.byId.get(fileId);
    if (!grant) {
      throw new ApiFailure(
        'NotFound',
        `There is no file "${printable(fileId, 80)}": use a fileId from getState, uploadFile or the app.`,
      );
    }
    return grant;
  }

  /** Withdraws a grant (an upload that was opened, cancelled or timed out): its id is NotFound after. */
  revoke(fileId: string): void {
    const grant = this.byId.get(fileId);
    if (!grant) return;
    this.byId.delete(fileId);
    this.byPath.delete(grant.path);
  }

  /** Forgets every grant (on exit). The upload files are uploads.ts's to delete. */
  dispose(): void {
    this.byId.clear();
    this.byPath.clear();
  }
}
