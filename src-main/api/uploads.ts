// Uploads (contract: beginUpload / uploadChunk / finishUpload / cancelUpload, and uploadFile in one
// message): a file from the page is written chunk by chunk to a private temporary file, so that any size
// can be opened with memory bounded by the parse, not by the file. Finishing an upload grants its file a
// fileId (file-grants.ts, origin 'upload'): loadTrace / importFile then open it like any granted file.
// Web mode's page sends the bytes as HTTP PUT bodies instead of uploadChunk messages; the server streams
// them into chunk() all the same (src-main/web/upload-route.ts, through receiving()).
//
// Guarantees (the security suite and tests/integration/api-upload.test.ts check them):
//   - one private root per process (mkdtemp: mode 0700), removed on dispose (shutdown);
//   - each upload is one file (mode 0600, created exclusively) under a name main makes up; the client's
//     name is only shown;
//   - chunks arrive in order and never beyond the declared size; at most MAX_OPEN_UPLOADS unfinished and
//     maxUploadBytesTotal declared bytes on disk at once;
//   - the file is deleted and its fileId revoked once it was opened successfully, cancelled, or sat unused
//     for IDLE_MS, or when the load or import reading it is cancelled (app-backend.ts ties a task to its
//     upload: cancelTask drops the upload, cancelUpload stops the task). A failed open keeps it, so that
//     another format can be tried without sending it again;
//   - an unfinished upload can be opened while it arrives (arriving()): the trace worker reads its file
//     up to the bytes written so far (shared memory, upload-arrival.ts; counted only once written), and
//     dropping the upload stops that read.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiFailure } from './api-failure.ts';
import { maxUploadChunkBytes } from './contract.ts';
import type { FileGrants } from './file-grants.ts';
import { ArrivalBoard } from '../import/upload-arrival.ts';

/** An upload that receives no chunk (or, finished, is not used) for this long is dropped with its file. */
const IDLE_MS = 10 * 60 * 1000;
/** Unfinished uploads at once (per process); more is refused until one finishes or is cancelled. */
const MAX_OPEN_UPLOADS = 8;
/** Declared bytes all uploads may occupy on disk at once (a shared GPU server's disk is not ours to fill). */
export const maxUploadBytesTotal = 4 * 1024 ** 3;

interface Upload {
  readonly id: string;
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  received: number;
  handle: FileHandle | null;
  /** Set by finish: the grant that opens it. */
  fileId: string | null;
  /** A chunk being written: the next one waits for it (one write at a time per upload). */
  writing: Promise<void>;
  /** How many bytes are on disk, for a reader parsing the upload while it arrives. */
  readonly arrival: ArrivalBoard;
  idle: ReturnType<typeof setTimeout> | null;
  /** Aborted when the upload is dropped: a transport streaming into it (upload-route.ts) stops at once. */
  readonly dropped: AbortController;
}

export class UploadStore {
  private root: string | null = null;
  private readonly uploads = new Map<string, Upload>();
  private readonly byFileId = new Map<string, Upload>();
  private reservedBytes = 0;

  constructor(private readonly grants: FileGrants) {}

  private rootDir(): string {
    this.root ??= mkdtempSync(path.join(tmpdir(), 'vramscope-uploads-'));
    return this.root;
  }

  private get(id: string): Upload {
    const u = this.uploads.get(id);
    if (u === undefined)
      throw new ApiFailure('NotFound', `There is no upload ${id} (opened, cancelled or timed out).`);
    return u;
  }

  private touch(u: Upload): void {
    if (u.idle !== null) clearTimeout(u.idle);
    u.idle = setTimeout(() => void this.drop(u.id), IDLE_MS);
    u.idle.unref?.();
  }

  async begin(name: string, bytes: number): Promise<{ uploadId: string; chunkBytes: number }> {
    const unfinished = [...this.uploads.values()].filter((u) => u.fileId === null).length;
    if (unfinished >= MAX_OPEN_UPLOADS)
      throw new ApiFailure(
        'InvalidState',
        `${MAX_OPEN_UPLOADS} uploads are already in progress; finish or cancel one.`,
      );
    if (this.reservedBytes + bytes > maxUploadBytesTotal)
      throw new ApiFailure(
        'TooLarge',
        `Uploads may hold at most ${maxUploadBytesTotal} bytes at once on this server; ${this.reservedBytes} are in use.`,
      );
    const id = `upload-${randomBytes(12).toString('base64url')}`;
    const file = path.join(this.rootDir(), `${randomBytes(12).toString('hex')}.upload`);
    let handle: FileHandle;
    try {
      handle = await open(file, 'wx', 0o600);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new ApiFailure(
        'Failed',
        `The upload could not be stored (${typeof code === 'string' ? code : 'error'}).`,
      );
    }
    const u: Upload = {
      id,
      name,
      file,
      bytes,
      received: 0,
      handle,
      fileId: null,
      writing: Promise.resolve(),
      arrival: new ArrivalBoard(),
      idle: null,
      dropped: new AbortController(),
    };
    this.uploads.set(id, u);
    this.reservedBytes += bytes;
    this.touch(u);
    return { uploadId: id, chunkBytes: maxUploadChunkBytes };
  }

  /**
   * Writes the next bytes of upload `id` at `offset` (where it stands). `data` is one buffer, or the pieces
   * of one (written in order with one writev, not copied together first: web mode's PUT hands over the
   * socket's pieces as they came, and gathering them into fresh buffers was most of the receiving CPU).
   */
  async chunk(
    id: string,
    offset: number,
    data: Uint8Array | readonly Uint8Array[],
  ): Promise<{ received: number }> {
    const u = this.get(id);
    const pieces = data instanceof Uint8Array ? [data] : data;
    let length = 0;
    for (const piece of pieces) length += piece.byteLength;
    const write = u.writing.then(async () => {
      if (u.fileId !== null || u.handle === null)
        throw new ApiFailure('InvalidState', `Upload ${id} is already finished.`);
      if (offset !== u.received)
        throw new ApiFailure(
          'InvalidRequest',
          `Upload ${id}: a chunk at byte ${offset}, but ${u.received} bytes have arrived (chunks go in order).`,
        );
      if (u.received + length > u.bytes)
        throw new ApiFailure(
          'InvalidRequest',
          `Upload ${id}: ${u.received + length} bytes would exceed the ${u.bytes} declared.`,
        );
      await writeAllAt(u.handle, pieces, offset);
      u.received += length;
      u.arrival.advance(u.received);
      this.touch(u);
    });
    u.writing = write.catch(() => undefined);
    await write;
    return { received: u.received };
  }

  /**
   * For a transport that streams bytes into an unfinished upload (web mode's PUT, src-main/web/
   * upload-route.ts) and hands them to chunk(): where the next byte goes, the declared size, and a
   * signal aborted when the upload is dropped (cancelled, timed out, opened). NotFound / InvalidState as
   * chunk() would answer.
   */
  receiving(id: string): { received: number; bytes: number; dropped: AbortSignal } {
    const u = this.get(id);
    if (u.fileId !== null || u.handle === null)
      throw new ApiFailure('InvalidState', `Upload ${id} is already finished.`);
    return { received: u.received, bytes: u.bytes, dropped: u.dropped.signal };
  }

  /** Closes a complete upload and grants its file (once; finishing again answers the same grant). */
  async finish(id: string): Promise<{ uploadId: string; fileId: string; name: string; bytes: number }> {
    const u = this.get(id);
    await u.writing;
    if (u.fileId === null) {
      if (u.received !== u.bytes)
        throw new ApiFailure(
          'InvalidRequest',
          `Upload ${id} has ${u.received} of its ${u.bytes} bytes; send the rest before finishing it.`,
        );
      await u.handle?.close();
      u.handle = null;
      u.fileId = this.grants.grant(u.file, 'upload', u.name).fileId;
      this.byFileId.set(u.fileId, u);
    }
    this.touch(u);
    return { uploadId: id, fileId: u.fileId, name: this.grants.resolve(u.fileId).name, bytes: u.bytes };
  }

  /** uploadFile: a whole file in one message, stored like a chunked upload. */
  async store(name: string, data: Uint8Array): Promise<{ fileId: string; name: string; bytes: number }> {
    const { uploadId } = await this.begin(name, data.byteLength);
    try {
      if (data.byteLength > 0) await this.chunk(uploadId, 0, data);
      const { fileId, name: shown, bytes } = await this.finish(uploadId);
      return { fileId, name: shown, bytes };
    } catch (error) {
      await this.drop(uploadId);
      throw error;
    }
  }

  /**
   * An upload to read while it arrives (loadTrace / importFile with {kind: 'arriving'}): its file, declared
   * size and shared progress. Not once finished: a finished upload is opened by its fileId.
   */
  arriving(id: string): { path: string; name: string; bytes: number; arrival: SharedArrayBuffer } {
    const u = this.get(id);
    if (u.fileId !== null)
      throw new ApiFailure('InvalidState', `Upload ${id} is finished; open it by its fileId.`);
    this.touch(u);
    return { path: u.file, name: u.name, bytes: u.bytes, arrival: u.arrival.shared };
  }

  /** A granted file is being read (a load, a scenario parameter): an upload's idle clock restarts. */
  used(fileId: string): void {
    const u = this.byFileId.get(fileId);
    if (u !== undefined) this.touch(u);
  }

  /** The upload a fileId was granted for (null: the fileId is no upload's, or it was dropped). */
  uploadOf(fileId: string): string | null {
    return this.byFileId.get(fileId)?.id ?? null;
  }

  async cancel(id: string): Promise<{ cancelled: boolean }> {
    return { cancelled: await this.drop(id) };
  }

  private async drop(id: string): Promise<boolean> {
    const u = this.uploads.get(id);
    if (u === undefined) return false;
    this.uploads.delete(id);
    u.arrival.drop();
    u.dropped.abort();
    if (u.idle !== null) clearTimeout(u.idle);
    if (u.fileId !== null) {
      this.byFileId.delete(u.fileId);
      this.grants.revoke(u.fileId);
    }
    this.reservedBytes -= u.bytes;
    await u.writing;
    await u.handle?.close().catch(() => undefined);
    u.handle = null;
    rmSync(u.file, { force: true });
    return true;
  }

  /** Uploads held (unfinished or granted and not yet opened). */
  get count(): number {
    return this.uploads.size;
  }

  /** The private folder the uploads are written to (null before the first); tests check it is emptied. */
  get directory(): string | null {
    return this.root;
  }

  /** Drops every upload and the private root (shutdown). */
  async dispose(): Promise<void> {
    for (const id of [...this.uploads.keys()]) await this.drop(id);
    if (this.root !== null) rmSync(this.root, { recursive: true, force: true });
    this.root = null;
  }
}

/** What writeAllAt needs of a FileHandle: a writev that may write less than it is given. */
interface PositionalWriter {
  writev(buffers: Uint8Array[], position: number): Promise<{ bytesWritten: number }>;
}

/** Writes `pieces` one after another from byte `position` of `handle`, however the writes split them. */
export async function writeAllAt(
  handle: PositionalWriter,
  pieces: readonly Uint8Array[],
  position: number,
): Promise<void> {
  let rest = pieces.filter((piece) => piece.byteLength > 0);
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, position);
    position += bytesWritten;
    // Drop what was written whole; the first piece left may have been written in part.
    let skip = bytesWritten;
    let k = 0;
    while (k < rest.length && skip >= rest[k]!.byteLength) skip -= rest[k++]!.byteLength;
    rest = rest.slice(k);
    if (skip > 0) rest[0] = rest[0]!.subarray(skip);
  }
}
