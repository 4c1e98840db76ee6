// Chunked uploads (contract: beginUpload / uploadChunk / finishUpload / cancelUpload): a file from the page
// is written chunk by chunk to a private temporary file, so that any size can be opened with memory bounded
// by the parse, not by the file. Each upload gets a folder of its own (mode 0700) under one private root
// (mkdtemp, removed on dispose) holding one file (mode 0600) named after the file's display name made safe
// (so a trace loaded from it shows that name); the folder is removed once the upload was opened, failed,
// was cancelled, or sat idle for IDLE_MS. Chunks must arrive in order and never beyond the declared size.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiFailure } from './api-failure.ts';
import { maxUploadChunkBytes } from './contract.ts';

/** An upload that receives no chunk for this long is dropped with its file. */
const IDLE_MS = 10 * 60 * 1000;
/** Uploads in progress at once (per process); more is refused until one finishes or is cancelled. */
const MAX_OPEN_UPLOADS = 8;

interface Upload {
  readonly id: string;
  readonly name: string;
  readonly dir: string;
  readonly file: string;
  readonly bytes: number;
  received: number;
  handle: FileHandle | null;
  finished: boolean;
  /** A chunk being written: the next one waits for it (one write at a time per upload). */
  writing: Promise<void>;
  idle: ReturnType<typeof setTimeout> | null;
}

/** A display name as a file name: no separators, no control characters, no dot names, at most 120 chars. */
export function safeUploadName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_').trim();
  const short = cleaned.length > 120 ? `${cleaned.slice(0, 60)}…${cleaned.slice(-59)}` : cleaned;
  return short === '' || /^\.+$/.test(short) ? 'upload' : short;
}

export class UploadStore {
  private root: string | null = null;
  private readonly uploads = new Map<string, Upload>();

  private rootDir(): string {
    if (this.root === null) this.root = mkdtempSync(path.join(tmpdir(), 'vramscope-uploads-'));
    return this.root;
  }

  private get(id: string): Upload {
    const u = this.uploads.get(id);
    if (u === undefined)
      throw new ApiFailure('NotFound', `There is no upload ${id} (finished, cancelled or timed out).`);
    return u;
  }

  private touch(u: Upload): void {
    if (u.idle !== null) clearTimeout(u.idle);
    u.idle = setTimeout(() => void this.drop(u.id), IDLE_MS);
    u.idle.unref?.();
  }

  async begin(name: string, bytes: number): Promise<{ uploadId: string; chunkBytes: number }> {
    const open_ = [...this.uploads.values()].filter((u) => !u.finished).length;
    if (open_ >= MAX_OPEN_UPLOADS)
      throw new ApiFailure(
        'InvalidState',
        `${MAX_OPEN_UPLOADS} uploads are already in progress; finish or cancel one.`,
      );
    const id = `upload-${randomBytes(12).toString('base64url')}`;
    const dir = path.join(this.rootDir(), id);
    mkdirSync(dir, { mode: 0o700 });
    const file = path.join(dir, safeUploadName(name));
    const handle = await open(file, 'wx', 0o600);
    const u: Upload = {
      id,
      name,
      dir,
      file,
      bytes,
      received: 0,
      handle,
      finished: false,
      writing: Promise.resolve(),
      idle: null,
    };
    this.uploads.set(id, u);
    this.touch(u);
    return { uploadId: id, chunkBytes: maxUploadChunkBytes };
  }

  async chunk(id: string, offset: number, data: Uint8Array): Promise<{ received: number }> {
    const u = this.get(id);
    const write = u.writing.then(async () => {
      if (u.finished || u.handle === null)
        throw new ApiFailure('InvalidState', `Upload ${id} is already finished.`);
      if (offset !== u.received)
        throw new ApiFailure(
          'InvalidRequest',
          `Upload ${id}: a chunk at byte ${offset}, but ${u.received} bytes have arrived (chunks go in order).`,
        );
      if (u.received + data.byteLength > u.bytes)
        throw new ApiFailure(
          'InvalidRequest',
          `Upload ${id}: ${u.received + data.byteLength} bytes would exceed the ${u.bytes} declared.`,
        );
      let done = 0;
      while (done < data.byteLength) {
        const { bytesWritten } = await u.handle.write(data, done, data.byteLength - done, offset + done);
        done += bytesWritten;
      }
      u.received += data.byteLength;
      this.touch(u);
    });
    u.writing = write.catch(() => undefined);
    await write;
    return { received: u.received };
  }

  async finish(id: string): Promise<{ uploadId: string; name: string; bytes: number }> {
    const u = this.get(id);
    await u.writing;
    if (u.finished) return { uploadId: id, name: u.name, bytes: u.bytes };
    if (u.received !== u.bytes)
      throw new ApiFailure(
        'InvalidRequest',
        `Upload ${id} has ${u.received} of its ${u.bytes} bytes; send the rest before finishing it.`,
      );
    await u.handle?.close();
    u.handle = null;
    u.finished = true;
    this.touch(u);
    return { uploadId: id, name: u.name, bytes: u.bytes };
  }

  /**
   * Takes a finished upload to open it: its file's path, and a release that deletes it. The upload can be
   * opened once; it is no longer listed from here on.
   */
  take(id: string): { path: string; name: string; release: () => Promise<void> } {
    const u = this.get(id);
    if (!u.finished)
      throw new ApiFailure('InvalidState', `Upload ${id} is not finished yet (finishUpload first).`);
    this.uploads.delete(id);
    if (u.idle !== null) clearTimeout(u.idle);
    return {
      path: u.file,
      name: u.name,
      release: async () => {
        rmSync(u.dir, { recursive: true, force: true });
      },
    };
  }

  async cancel(id: string): Promise<{ cancelled: boolean }> {
    return { cancelled: await this.drop(id) };
  }

  private async drop(id: string): Promise<boolean> {
    const u = this.uploads.get(id);
    if (u === undefined) return false;
    this.uploads.delete(id);
    if (u.idle !== null) clearTimeout(u.idle);
    await u.writing;
    await u.handle?.close().catch(() => undefined);
    u.handle = null;
    rmSync(u.dir, { recursive: true, force: true });
    return true;
  }

  /** Open uploads (tests, diagnostics). */
  get count(): number {
    return this.uploads.size;
  }

  /** The private folder the uploads are written to (null before the first); tests check it is emptied. */
  get directory(): string | null {
    return this.root;
  }

  /** Drops every upload and the private root. */
  async dispose(): Promise<void> {
    for (const id of [...this.uploads.keys()]) await this.drop(id);
    if (this.root !== null) rmSync(this.root, { recursive: true, force: true });
    this.root = null;
  }
}
