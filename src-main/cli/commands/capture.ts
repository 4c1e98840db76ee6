// `vramscope capture [--out FILE] [--stacks] [--json] -- <command> [args…]`: runs an unmodified Vulkan program
// under the capture layer and records its GPU memory as VRAMscope traces (one per VkDevice), then prints a
// summary per device and exits with the program's exit code (128 + signal when a signal ended it).
import path from 'node:path';
import { convertCaptureFile, startCapture, type CaptureResult } from '../../capture/capture-session.ts';
import {
  formatCaptureSummary,
  summarizeCapturedTrack,
  type CaptureTrackSummary,
} from '../../capture/summary.ts';
import { traceEventsOf } from '../../../allocator/trace/index.ts';
import { startLiveRelay, type LiveRelay } from '../../capture/live.ts';
import { CommandFailure, stringOption, UsageError, type Command, type CommandIo } from '../command.ts';

function defaultOut(command: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${path.basename(command).replace(/[^A-Za-z0-9_.-]/g, '_')}-${stamp}.trace`;
}

export const captureCommand: Command = {
  name: 'capture',
  summary: 'Run a Vulkan program under the capture layer and record its GPU memory',
  help: `Usage: vramscope capture [--out FILE] [--live] [--stacks] [--json] -- <command> [args…]
       vramscope capture --from STREAM [--out FILE] [--json]

Starts <command> with the VRAMscope capture layer (VK_LAYER_VRAMSCOPE_capture) enabled through the Vulkan
loader's environment (VK_ADD_LAYER_PATH, VK_INSTANCE_LAYERS), receives what the layer records on a private
Unix socket and writes a VRAMscope trace while the program runs (flushed at least every 250 ms): every
vkAllocateMemory is a block, every bound buffer and image an allocation at its offset in that block, with
frames at each present, heap budgets, object names, maps, threads and (with --stacks) call stacks.

A program with several Vulkan devices gets one trace per device: FILE for the first, FILE with
".device1", ".device2", ... before its extension for the next ones (in creation order, over every process
of the command that uses Vulkan).

At the end it prints, per device: blocks, resources, peak committed memory, frames, memory not freed and
resources not destroyed at device destruction, binds past the end of a block or breaking alignment, blocks
freed while resources were bound, and memory-type choices that differ from gpu-allocator's rule (details:
vramscope report FILE; docs/capture.md).

Running a program is code execution: capture only programs you trust.

--from converts a stream the layer wrote to a file (VRAMSCOPE_CAPTURE_FILE, e.g. on a machine without
Node; docs/capture.md) into the same traces and summary, without running anything.

Options:
  --out FILE    the trace file (default: <program>-<date>-<time>.trace in the current folder; with --from:
                the stream's name with .trace)
  --from STREAM convert a capture stream file instead of running a program
  --live        also offer the capture live to the app (Capture view > attach) while it runs: a Unix
                socket in the user's runtime folder ($XDG_RUNTIME_DIR/vramscope, mode 0700), reachable by
                this user only
  --stacks      record native call stacks (slower; off by default)
  --json        print the summaries as JSON on stdout instead of text

Exit code: the program's own exit code (128 + the signal's number when a signal ended it); 1 when the
capture itself failed (the layer is not built, the program cannot start), 2 bad usage.
`,
  options: {
    out: { type: 'string' },
    stacks: { type: 'boolean' },
    json: { type: 'boolean' },
    from: { type: 'string' },
    live: { type: 'boolean' },
  },
  maxPositionals: Number.MAX_SAFE_INTEGER,
  async run(values, positionals, io) {
    const from = stringOption(values, 'from');
    if (from !== undefined) {
      if (positionals.length > 0)
        throw new UsageError('give either --from STREAM or a program to run, not both');
      if (values.stacks === true)
        throw new UsageError('--stacks is for a program to run; a stream file has its own');
      if (values.live === true) throw new UsageError('--live is for a program to run, not --from');
      const ext = path.extname(from);
      const out = stringOption(values, 'out') ?? `${from.slice(0, from.length - ext.length)}.trace`;
      let result: CaptureResult;
      try {
        result = convertCaptureFile(path.resolve(io.cwd, from), { cwd: io.cwd, out });
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        throw new CommandFailure(
          `cannot convert ${from}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`,
        );
      }
      const command = result.processes[0]?.commandLine ?? [];
      printResult(
        io,
        values.json === true,
        command.length > 0 ? command : [from],
        result,
        `converted from ${from}`,
      );
      return 0;
    }
    if (positionals.length === 0)
      throw new UsageError('which program? give it after --, e.g. -- vkcube --c 100');
    const out = stringOption(values, 'out') ?? defaultOut(positionals[0]!);
    const json = values.json === true;
    let relay: LiveRelay | null = null;
    if (values.live === true) {
      try {
        relay = await startLiveRelay(positionals);
      } catch (error) {
        throw new CommandFailure(`cannot offer the capture live: ${(error as Error).message}`);
      }
      io.stderr.write(
        `vramscope capture: live as ${relay.liveId}: attach from the app's Capture view (same user only)\n`,
      );
    }
    const live = relay;
    let running;
    try {
      running = startCapture({
        ...(live ? { onRawStream: (stream: number, chunk: Buffer | null) => live.data(stream, chunk) } : {}),
        command: positionals,
        cwd: io.cwd,
        out,
        stacks: values.stacks === true,
        onTrack: (t) => {
          if (!json)
            io.stderr.write(
              `vramscope capture: device ${t.index} "${t.track.device.name}" (pid ${t.process.pid}) -> ${t.path ?? 'not recorded'}\n`,
            );
        },
      });
    } catch (error) {
      await live?.close(null);
      throw new CommandFailure((error as Error).message);
    }
    // Ctrl-C reaches the program (same process group); we stay to finish the traces. SIGTERM is passed on.
    const onSigint = (): void => undefined;
    const onSigterm = (): void => running.kill('SIGTERM');
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    let result: CaptureResult;
    try {
      result = await running.done;
    } catch (error) {
      await live?.close(null);
      const e = error as NodeJS.ErrnoException;
      throw new CommandFailure(
        e.code === 'ENOENT'
          ? `cannot start "${positionals[0]}": no such program`
          : `capture failed: ${e.message}`,
      );
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    }
    await live?.close({ exitCode: result.exitCode, signal: result.signal });
    const status =
      result.signal !== null
        ? `killed by ${result.signal} (exit ${result.exitCode})`
        : `exit ${result.exitCode}`;
    printResult(io, json, positionals, result, status);
    return result.exitCode;
  },
};

/** The per-device summaries (text or JSON) and the warnings. */
function printResult(
  io: CommandIo,
  json: boolean,
  command: readonly string[],
  result: CaptureResult,
  status: string,
): void {
  const positionals = command;
  const summaries: CaptureTrackSummary[] = result.tracks.map((t) =>
    summarizeCapturedTrack(t.index, traceEventsOf(t.track.log), t.track.device, t.path),
  );
  if (json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          command: positionals,
          exitCode: result.exitCode,
          signal: result.signal,
          processes: result.processes,
          warnings: result.warnings,
          devices: summaries,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    const lines = [`command    ${positionals.join(' ')} — ${status}`];
    for (const p of result.processes)
      lines.push(
        `process    pid ${p.pid} ${p.executable}${p.applicationName ? ` ("${p.applicationName}")` : ''}, ${p.endedCleanly ? 'exited cleanly' : 'did not exit cleanly'}`,
      );
    if (result.processes.length === 0)
      lines.push(
        'process    none connected: the program did not use Vulkan through the loader; no trace written',
      );
    else if (summaries.length === 0) lines.push('devices    none: no VkDevice was created; no trace written');
    io.stdout.write(`${lines.join('\n')}\n`);
    for (const s of summaries) io.stdout.write(formatCaptureSummary(s));
    for (const w of result.warnings) io.stderr.write(`vramscope capture: warning: ${w}\n`);
  }
}
