// Captures for the API (issue 10): a program started here under the capture layer, or a running
// `vramscope capture --live` attached to. Each VkDevice of the program becomes a live source in the trace
// worker ("capture-N-dK"), fed like a scenario run's recording: at each batcher flush (≤ 30/s) the track's
// new events go to the worker (which extends the analysis and answers with the summary, pushed as
// `analysisChanged`) and to the UI as one `sessionEvents` slice. Main never analyses.
//
// Starting a program is code execution: refused (Forbidden) unless the backend was created with
// allowCapture (the desktop app; `vramscope serve --allow-capture`). The program gets no stdin; its output
// arrives as `log` events (at most maxOutputLines lines per capture).
import { printable } from '../../allocator/text/printable.ts';
import type { EventLog, MemoryTypeDecision } from '../../allocator/index.ts';
import type { EventSlice } from '../../allocator/trace/index.ts';
import {
  CaptureReceiver,
  exitCodeOf,
  startCapture,
  type CapturedTrack,
  type ReceivedStream,
  type RunningCapture,
} from '../capture/capture-session.ts';
import { attachLiveCapture, listLiveCaptures } from '../capture/live.ts';
import { ApiFailure, notFound } from './api-failure.ts';
import type { AnyEvent, CaptureInfo, EventPayload, RequestResult } from './contract.ts';
import { decisionDto, deviceDto } from './dto.ts';
import type { EventBatcher } from './event-batcher.ts';
import type { TraceHost } from './trace-host.ts';

type AnalysisSummaryDto = EventPayload<'analysisChanged'>['summary'];

/** Output lines of a started program forwarded as log events, per capture (the rest is counted). */
const maxOutputLines = 500;

/** What one track has shipped so far (events, strings, decisions of its log). */
interface TrackFeed {
  readonly sourceId: string;
  readonly captured: CapturedTrack;
  events: number;
  strings: number;
  decisions: number;
  /** The latest summary the worker answered (stats of sessionEvents lag it by one flush). */
  summary: AnalysisSummaryDto | null;
}

interface Capture {
  info: CaptureInfo;
  readonly feeds: TrackFeed[];
  /** Started here: the program. */
  running: RunningCapture | null;
  /** Attached: detaches. */
  detach: (() => void) | null;
  outputLines: number;
}

export interface CaptureManagerOptions {
  readonly batcher: EventBatcher;
  readonly traceHost: TraceHost;
  readonly cwd: string;
  /** Whether clients may start programs (code execution: the user's explicit choice). */
  readonly allowCapture: boolean;
  /** Why starting is refused, when it is (shown to the user). */
  readonly refusal: string;
  /** Captures changed (a new source appeared). */
  readonly onChange: () => void;
  /** Environment for the layer lookup and the programs (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Copies a log's events, strings and decisions past what `feed` shipped (null: nothing new). */
function nextSlice(log: EventLog, feed: TrackFeed): EventSlice | null {
  const end = log.length;
  if (end === feed.events && log.strings.size === feed.strings) return null;
  const decisions: MemoryTypeDecision[] = [];
  for (let i = feed.decisions; i < log.decisions.length; i++) {
    const d = log.decisions[i];
    if (d) decisions.push(d);
  }
  const slice: EventSlice = {
    start: feed.events,
    columns: log.slice(feed.events, end),
    stringsStart: feed.strings,
    strings: log.strings.strings.slice(feed.strings),
    decisions,
  };
  feed.events = end;
  feed.strings = log.strings.size;
  feed.decisions = log.decisions.length;
  return slice;
}

export class CaptureManager {
  private readonly captures = new Map<string, Capture>();
  /** sourceId → feed (every track of every capture). */
  private readonly sources = new Map<string, { capture: Capture; feed: TrackFeed }>();
  private next = 1;

  constructor(private readonly options: CaptureManagerOptions) {}

  has(sourceId: string): boolean {
    return this.sources.has(sourceId);
  }

  list(): RequestResult<'listCaptures'> {
    const env = this.options.env ?? process.env;
    return {
      canStart: this.options.allowCapture,
      startRefusal: this.options.allowCapture ? null : this.options.refusal,
      captures: [...this.captures.values()].map((c) => this.info(c)),
      live: listLiveCaptures(env).map((e) => ({ ...e, command: [...e.command] })),
    };
  }

  private info(c: Capture): CaptureInfo {
    return {
      ...c.info,
      pid: c.running?.pid ?? c.info.pid,
      tracks: c.feeds.map((f) => ({
        index: f.captured.index,
        sourceId: f.sourceId,
        pid: f.captured.process.pid,
        device: deviceDto(f.captured.track.device),
        eventCount: f.events,
      })),
    };
  }

  private emitState(c: Capture): void {
    this.options.batcher.emit(
      { name: 'captureState', payload: this.info(c) },
      `captureState:${c.info.captureId}`,
    );
  }

  /** A receiver whose tracks become live sources of capture `c`. */
  private receiver(c: Capture): CaptureReceiver {
    return new CaptureReceiver({
      command: c.info.command,
      cwd: this.options.cwd,
      out: null,
      onTrack: (captured) => this.addTrack(c, captured),
      onEvents: (captured) => {
        const feed = c.feeds.find((f) => f.captured === captured);
        if (feed) this.options.batcher.markDirty(feed.sourceId);
      },
    });
  }

  private addTrack(c: Capture, captured: CapturedTrack): void {
    const sourceId = `${c.info.captureId}-d${captured.index}`;
    const feed: TrackFeed = { sourceId, captured, events: 0, strings: 1, decisions: 0, summary: null };
    c.feeds.push(feed);
    this.sources.set(sourceId, { capture: c, feed });
    const process = captured.process;
    // Posted before any of the track's slices (the worker handles messages in order).
    this.options.traceHost
      .liveOpen({
        sourceId,
        name: `capture: ${c.info.command.map((a) => printable(a, 200)).join(' ')} (device ${captured.index})`,
        device: captured.track.device,
        strategy: 'application',
        warnings: [],
      })
      .catch((error: unknown) =>
        this.log(c, 'error', `The live analysis of ${sourceId} failed: ${(error as Error).message}`),
      );
    this.options.batcher.addSource(sourceId, { pull: () => this.pull(c, feed) });
    this.options.batcher.emit({
      name: 'log',
      payload: {
        sessionId: sourceId,
        level: 'info',
        message: `capture: device ${captured.index} "${captured.track.device.name}" (pid ${process.pid})`,
      },
    });
    this.emitState(c);
    this.options.onChange();
  }

  /** At a batcher flush: ships the track's new events to the worker and the UI. */
  private pull(c: Capture, feed: TrackFeed): AnyEvent | null {
    const slice = nextSlice(feed.captured.track.log, feed);
    if (!slice) return null;
    const sourceId = feed.sourceId;
    this.options.traceHost.liveAppend(sourceId, slice).then(
      (summary) => {
        feed.summary = summary as AnalysisSummaryDto;
        this.options.batcher.emit(
          { name: 'analysisChanged', payload: { sourceId, summary: feed.summary } },
          `analysisChanged:${sourceId}`,
        );
      },
      (error: unknown) =>
        this.log(c, 'error', `The live analysis of ${sourceId} failed: ${(error as Error).message}`),
    );
    this.emitState(c); // the track's event count (keyed: one per capture per flush)
    const s = feed.summary;
    return {
      name: 'sessionEvents',
      payload: {
        sessionId: sourceId,
        runId: c.info.captureId,
        start: slice.start,
        count: slice.columns.kind.length,
        columns: slice.columns,
        stringsStart: slice.stringsStart,
        newStrings: [...slice.strings],
        newDecisions: slice.decisions.map(decisionDto),
        stats: {
          committedBytes: s?.total.final.committed ?? 0,
          allocatedBytes: s?.total.final.allocated ?? 0,
          blockCount: s?.liveBlocks ?? 0,
          allocationCount: s?.liveAllocations ?? 0,
        },
      },
    };
  }

  private log(c: Capture, level: 'info' | 'warn' | 'error', message: string): void {
    this.options.batcher.emit({
      name: 'log',
      payload: { sessionId: c.feeds[0]?.sourceId ?? null, level, message },
    });
  }

  private newCapture(origin: 'started' | 'attached', command: string[], liveId: string | null): Capture {
    const captureId = `capture-${this.next++}`;
    const c: Capture = {
      info: {
        captureId,
        origin,
        liveId,
        command,
        state: 'running',
        pid: null,
        exitCode: null,
        signal: null,
        tracks: [],
        warnings: [],
      },
      feeds: [],
      running: null,
      detach: null,
      outputLines: 0,
    };
    this.captures.set(captureId, c);
    return c;
  }

  /** The capture ended: last slices out, state pushed. */
  private finish(c: Capture, update: Partial<CaptureInfo>, warnings: readonly string[]): void {
    for (const f of c.feeds) this.options.batcher.removeSource(f.sourceId);
    // removeSource pulled the last slices; later flushes have no source to pull, so re-add none.
    c.info = { ...c.info, ...update, warnings: [...warnings] };
    c.detach = null;
    this.emitState(c);
    this.options.onChange();
  }

  start(command: readonly string[], stacks: boolean): CaptureInfo {
    if (!this.options.allowCapture) throw new ApiFailure('Forbidden', this.options.refusal);
    const c = this.newCapture('started', [...command], null);
    let pending = '';
    const onOutput = (stream: 'stdout' | 'stderr', text: string): void => {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        c.outputLines++;
        if (c.outputLines <= maxOutputLines)
          this.log(c, stream === 'stderr' ? 'warn' : 'info', `${command[0]}: ${printable(line, 1000)}`);
        else if (c.outputLines === maxOutputLines + 1)
          this.log(c, 'warn', `${command[0]}: more output not shown (${maxOutputLines} lines per capture)`);
      }
    };
    let running: RunningCapture;
    try {
      running = startCapture({
        command,
        cwd: this.options.cwd,
        out: null,
        stacks,
        stdio: 'pipe',
        onOutput,
        ...(this.options.env ? { env: this.options.env } : {}),
        onTrack: (t) => this.addTrack(c, t),
        onEvents: (t) => {
          const feed = c.feeds.find((f) => f.captured === t);
          if (feed) this.options.batcher.markDirty(feed.sourceId);
        },
      });
    } catch (error) {
      this.captures.delete(c.info.captureId);
      throw new ApiFailure('Failed', `Cannot start the capture: ${(error as Error).message}.`);
    }
    c.running = running;
    running.done.then(
      (result) =>
        this.finish(
          c,
          { state: 'exited', exitCode: result.exitCode, signal: result.signal, pid: running.pid },
          result.warnings,
        ),
      (error: unknown) => {
        const e = error as NodeJS.ErrnoException;
        const message =
          e.code === 'ENOENT'
            ? `cannot start "${printable(command[0] ?? '', 200)}": no such program`
            : e.message;
        this.finish(c, { state: 'failed', error: message }, []);
      },
    );
    this.emitState(c);
    this.options.onChange();
    return this.info(c);
  }

  async attach(liveId: string): Promise<CaptureInfo> {
    const env = this.options.env ?? process.env;
    const entry = listLiveCaptures(env).find((e) => e.liveId === liveId);
    if (!entry) throw notFound('live capture', liveId);
    for (const c of this.captures.values())
      if (c.info.liveId === liveId && c.info.state === 'running')
        throw new ApiFailure('InvalidState', `${liveId} is already attached as ${c.info.captureId}.`);
    const c = this.newCapture('attached', [...entry.command], liveId);
    const receiver = this.receiver(c);
    const streams = new Map<number, ReceivedStream>();
    const streamOf = (n: number): ReceivedStream => {
      let s = streams.get(n);
      if (!s) {
        s = receiver.stream();
        streams.set(n, s);
      }
      return s;
    };
    let exit: { exitCode: number; signal: string | null } | null = null;
    try {
      c.detach = await attachLiveCapture(
        liveId,
        {
          data: (n, chunk) => streamOf(n).push(chunk),
          end: (n) => streamOf(n).end(),
          exit: (e) => {
            exit = e;
          },
          closed: (error) => {
            for (const s of streams.values()) s.end();
            const ended = exit as { exitCode: number; signal: string | null } | null;
            if (c.info.state !== 'running') return;
            this.finish(
              c,
              ended
                ? { state: 'exited', exitCode: exitCodeOf(ended.exitCode, null), signal: ended.signal }
                : error
                  ? { state: 'failed', error: `the live capture went away: ${error.message}` }
                  : { state: 'detached' },
              receiver.warnings,
            );
          },
        },
        env,
      );
    } catch (error) {
      this.captures.delete(c.info.captureId);
      throw new ApiFailure('Failed', `Cannot attach to ${liveId}: ${(error as Error).message}.`);
    }
    this.emitState(c);
    this.options.onChange();
    return this.info(c);
  }

  stop(captureId: string): CaptureInfo {
    const c = this.captures.get(captureId);
    if (!c) throw notFound('capture', captureId);
    if (c.info.state !== 'running')
      throw new ApiFailure(
        'InvalidState',
        `Capture ${captureId} has ${c.info.state}; there is nothing to stop.`,
      );
    if (c.running) c.running.kill('SIGTERM');
    else if (c.detach) {
      const detach = c.detach;
      this.finish(c, { state: 'detached' }, []);
      detach();
    }
    return this.info(c);
  }

  /** Kills the programs started here and detaches (server shutdown). */
  async dispose(): Promise<void> {
    const waits: Promise<unknown>[] = [];
    for (const c of this.captures.values()) {
      if (c.info.state !== 'running') continue;
      if (c.running) {
        c.running.kill('SIGTERM');
        waits.push(c.running.done.catch(() => undefined));
      } else c.detach?.();
    }
    await Promise.all(waits);
  }
}
