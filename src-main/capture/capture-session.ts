// `vramscope capture`: starts a program under the capture layer, receives the layer's stream on a private
// Unix socket and writes one VRAMscope trace per VkDevice (track) while the program runs (flushed at least
// every 250 ms). Each process of the command that uses Vulkan connects once; its devices become tracks in
// creation order. Launching the program is the user's explicit word (the CLI's command line).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CaptureDecoder, type CaptureProcessInfo, type CaptureTrack } from '../../allocator/capture/index.ts';
import { createTraceHeader } from '../trace/header.ts';
import { TraceWriter } from '../trace/writer.ts';
import { captureEnvironment, findCaptureLayer } from './layer-location.ts';

export interface CaptureOptions {
  /** The program and its arguments. */
  readonly command: readonly string[];
  readonly cwd: string;
  /** Trace of track 0; track k > 0 goes to `<stem>.device<k><ext>` (tracePathFor). null: no files. */
  readonly out: string | null;
  readonly stacks: boolean;
  /** Child stdio (default: inherit). */
  readonly stdio?: 'inherit' | 'pipe' | 'ignore';
  readonly env?: NodeJS.ProcessEnv;
  /** Called when a device appears (its trace file is open). */
  readonly onTrack?: (track: CapturedTrack) => void;
  /** Called after events were added to a track's log (for live views); at most once per received chunk. */
  readonly onEvents?: (track: CapturedTrack) => void;
  /** Milliseconds between timed trace flushes (default 250). */
  readonly flushIntervalMs?: number;
  /**
   * The layer's raw bytes as they arrive, per stream (one per connected process, numbered from 0 in
   * connection order); `chunk` null: that stream ended. For `capture --live` (live.ts), which relays them.
   */
  readonly onRawStream?: (stream: number, chunk: Buffer | null) => void;
  /** With stdio 'pipe': the program's output as it comes (stdin is closed at start). */
  readonly onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
}

export interface CapturedTrack {
  /** Index over the whole capture (all processes), in device creation order. */
  readonly index: number;
  readonly track: CaptureTrack;
  readonly process: CaptureProcessInfo;
  readonly path: string | null;
  readonly writer: TraceWriter | null;
}

export interface CaptureResult {
  /** Exit code of the program; 128 + signal number when a signal ended it. */
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
  readonly tracks: readonly CapturedTrack[];
  /** Processes that connected (one per process that used Vulkan). */
  readonly processes: readonly CaptureProcessInfo[];
  /** Warnings of the stream decoders (torn tail, no clean exit, records lost, ...), prefixed by pid. */
  readonly warnings: readonly string[];
}

export interface RunningCapture {
  readonly done: Promise<CaptureResult>;
  /** The program's process id once it started (null before). */
  readonly pid: number | null;
  /** Sends a signal to the program. */
  kill(signal?: NodeJS.Signals): void;
}

/** `app.trace` -> `app.trace` for track 0, `app.device1.trace` for track 1, ... */
export function tracePathFor(out: string, index: number): string {
  if (index === 0) return out;
  const ext = path.extname(out);
  return `${out.slice(0, out.length - ext.length)}.device${index}${ext}`;
}

/** Opens the trace of each new device (track) as the decoders report them; `tracks` collects them. */
function trackOpener(
  options: Pick<CaptureOptions, 'command' | 'cwd' | 'out' | 'onTrack' | 'flushIntervalMs'>,
  tracks: CapturedTrack[],
): (decoder: CaptureDecoder, track: CaptureTrack) => CapturedTrack {
  return (decoder, track) => {
    const index = tracks.length;
    const p = decoder.mapper.process;
    const file = options.out === null ? null : tracePathFor(path.resolve(options.cwd, options.out), index);
    const writer =
      file === null
        ? null
        : new TraceWriter(file, track.log, {
            header: createTraceHeader({
              device: track.device,
              capture: {
                command: [...options.command],
                pid: p.pid,
                executable: p.executable,
                track: index,
                deviceHandle: `0x${track.handle.toString(16)}`,
                layerVersion: p.layerVersion,
                stacks: p.stacks,
                ...(p.applicationName ? { applicationName: p.applicationName } : {}),
                ...(track.driverName ? { driverName: track.driverName } : {}),
              },
            }),
            flushIntervalMs: options.flushIntervalMs ?? 250,
          });
    const captured: CapturedTrack = { index, track, process: p, path: file, writer };
    tracks.push(captured);
    options.onTrack?.(captured);
    return captured;
  };
}

/** Warnings of one finished stream, prefixed by its process id. */
function streamWarnings(decoder: CaptureDecoder, mine: readonly CapturedTrack[]): string[] {
  const pid = decoder.mapper.process.pid;
  const out = decoder.end().map((w) => `pid ${pid}: ${w}`);
  for (const t of mine)
    if (t.track.unknownObjects > 0)
      out.push(
        `pid ${pid}, device ${t.index}: ${t.track.unknownObjects} records named objects the capture never saw created`,
      );
  return out;
}

/**
 * Converts a capture stream file (written by the layer with VRAMSCOPE_CAPTURE_FILE) into traces, as a live
 * capture would have: one per VkDevice. The command line recorded is the executable's, from the stream.
 */
export function convertCaptureFile(
  file: string,
  options: Pick<CaptureOptions, 'cwd' | 'out' | 'onTrack'>,
): CaptureResult {
  const bytes = readFileSync(file);
  const tracks: CapturedTrack[] = [];
  let command: string[] = [];
  const opener = trackOpener(
    {
      get command() {
        return command;
      },
      cwd: options.cwd,
      out: options.out,
      ...(options.onTrack ? { onTrack: options.onTrack } : {}),
      flushIntervalMs: 0,
    },
    tracks,
  );
  const decoder = new CaptureDecoder({
    onTrack: (t) => {
      command = decoder.mapper.process.commandLine;
      opener(decoder, t);
    },
  });
  // In pieces, as a socket would deliver it (the decoder is incremental; memory stays bounded by the file).
  const PIECE = 1 << 20;
  for (let at = 0; at < bytes.length; at += PIECE) decoder.push(bytes.subarray(at, at + PIECE));
  const warnings = streamWarnings(decoder, tracks);
  for (const t of tracks) t.writer?.close();
  const p = decoder.mapper.process;
  return { exitCode: 0, signal: null, tracks, processes: [p], warnings };
}

const signalNumbers: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** How long connections may stay open after the program exited (a forked helper still holding the socket). */
const DRAIN_AFTER_EXIT_MS = 3000;

/** One layer stream being decoded: feed it the bytes in order, then end it once. */
export interface ReceivedStream {
  push(chunk: Uint8Array): void;
  /** The stream ended (connection closed): its warnings are collected and listeners told a last time. */
  end(): void;
}

/**
 * Decodes the layer streams of one capture (one per process that used Vulkan) into tracks, opening each
 * device's trace as it appears. Used by `vramscope capture` on its own socket and by an attach to a
 * `capture --live` (the same bytes relayed).
 */
export class CaptureReceiver {
  readonly tracks: CapturedTrack[] = [];
  readonly processes: CaptureProcessInfo[] = [];
  readonly warnings: string[] = [];
  private readonly openTrack: (decoder: CaptureDecoder, track: CaptureTrack) => CapturedTrack;

  constructor(
    private readonly options: Pick<
      CaptureOptions,
      'command' | 'cwd' | 'out' | 'onTrack' | 'onEvents' | 'flushIntervalMs'
    >,
  ) {
    this.openTrack = trackOpener(options, this.tracks);
  }

  stream(): ReceivedStream {
    const mine: CapturedTrack[] = [];
    const decoder = new CaptureDecoder({ onTrack: (t) => mine.push(this.openTrack(decoder, t)) });
    this.processes.push(decoder.mapper.process);
    const lengths = new Map<CapturedTrack, number>();
    const onEvents = this.options.onEvents;
    const notify = (): void => {
      if (!onEvents) return;
      for (const t of mine) {
        if (lengths.get(t) !== t.track.log.length) {
          lengths.set(t, t.track.log.length);
          onEvents(t);
        }
      }
    };
    let ended = false;
    return {
      push: (chunk) => {
        if (ended) return;
        decoder.push(chunk);
        notify();
      },
      end: () => {
        if (ended) return;
        ended = true;
        this.warnings.push(...streamWarnings(decoder, mine));
        notify();
      },
    };
  }

  /** Closes every trace file (idempotent). */
  closeWriters(): void {
    for (const t of this.tracks) {
      try {
        t.writer?.close();
      } catch (error) {
        this.warnings.push(`closing ${t.path ?? 'a trace'}: ${(error as Error).message}`);
      }
    }
  }
}

/** Exit code of a program: its own, or 128 + the signal's number when a signal ended it. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  return signal !== null ? 128 + (signalNumbers[signal] ?? 0) : (code ?? 0);
}

export function startCapture(options: CaptureOptions): RunningCapture {
  if (options.command.length === 0) throw new Error('no command to capture');
  const layer = findCaptureLayer(options.env ?? process.env);
  // mkdtemp creates the folder with mode 0700: only this user can reach the socket.
  const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-capture-'));
  const socketPath = path.join(dir, 'layer.sock');
  const receiver = new CaptureReceiver(options);
  const { tracks, processes, warnings } = receiver;
  const connections = new Set<net.Socket>();
  const finished: Promise<void>[] = [];
  let streams = 0;

  const server = net.createServer((socket) => {
    connections.add(socket);
    const index = streams++;
    const stream = receiver.stream();
    const raw = options.onRawStream;
    finished.push(
      new Promise<void>((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          raw?.(index, chunk);
          stream.push(chunk);
        });
        socket.on('error', (error) => warnings.push(`capture connection: ${error.message}`));
        socket.on('close', () => {
          connections.delete(socket);
          raw?.(index, null);
          stream.end();
          resolve();
        });
      }),
    );
  });

  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });

  let child: ChildProcess | null = null;
  const done = (async (): Promise<CaptureResult> => {
    try {
      await listening;
      const env = captureEnvironment(options.env ?? process.env, layer, socketPath, options.stacks);
      const started = spawn(options.command[0]!, options.command.slice(1), {
        cwd: options.cwd,
        env,
        stdio: options.stdio ?? 'inherit',
      });
      child = started;
      if (options.stdio === 'pipe') {
        started.stdin?.end();
        const onOutput = options.onOutput;
        started.stdout?.setEncoding('utf8').on('data', (t: string) => onOutput?.('stdout', t));
        started.stderr?.setEncoding('utf8').on('data', (t: string) => onOutput?.('stderr', t));
      }
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
        (resolve, reject) => {
          started.once('error', reject);
          started.once('exit', (code, signal) => resolve({ code, signal }));
        },
      );
      // The layer's writer sends its last records when the process ends; wait for every connection to
      // close (bounded: a forked helper may hold the socket open).
      const drained = Promise.all(finished);
      const timer = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), DRAIN_AFTER_EXIT_MS).unref(),
      );
      await new Promise((resolve) => setImmediate(resolve));
      if ((await Promise.race([drained.then(() => 'ok' as const), timer])) === 'timeout') {
        warnings.push(
          `${connections.size} capture connection(s) still open ${DRAIN_AFTER_EXIT_MS} ms after the program exited (a child process still running?); closed`,
        );
        for (const s of connections) s.destroy();
        await drained;
      }
      for (const t of tracks) t.writer?.close();
      const exitCode = exitCodeOf(exit.code, exit.signal);
      return { exitCode, signal: exit.signal, tracks, processes, warnings };
    } finally {
      server.close();
      receiver.closeWriters();
      rmSync(dir, { recursive: true, force: true });
    }
  })();

  return {
    get pid(): number | null {
      return child?.pid ?? null;
    },
    done,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      child?.kill(signal);
    },
  };
}
