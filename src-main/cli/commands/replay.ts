// `vramscope replay`: "what would happen on GPU X" — replays the allocation requests of a trace against
// another device profile and/or placement strategy and reports the differences.
import path from 'node:path';
import {
  createSimulatedDevice,
  formatBytes,
  placementStrategyNames,
  type PlacementStrategyName,
} from '../../../allocator/index.ts';
import { DeviceOpenError, loadProfile } from '../../session/open-device.ts';
import { replayRequests, type ReplayReport, type ReplaySide } from '../../session/replay.ts';
import { loadTraceSync, TraceFormatError } from '../../trace/reader.ts';
import { FileReadError } from '../../import/file-source.ts';
import { choiceOption, CommandFailure, stringOption, UsageError, type Command } from '../command.ts';
import { printable, printableLines } from '../../../allocator/text/printable.ts';

function sideLines(label: string, s: ReplaySide): string[] {
  const lines = [
    `${label}: ${s.device}, ${s.strategy}`,
    `  ${s.allocations} allocations, ${s.failures} failures${
      s.failures
        ? ` (${Object.entries(s.failuresByCode)
            .map(([c, n]) => `${n} ${c}`)
            .join(', ')})`
        : ''
    }`,
    `  peak ${formatBytes(s.peakCommittedBytes)} committed, peak ${s.peakBlocks} blocks, ${s.blocksCreated} blocks created`,
    '  memory types:',
  ];
  for (const u of s.typeUse)
    lines.push(
      `    ${u.location} ${u.linear ? 'linear' : 'non-linear'} → ${u.what}: ${u.count} (${formatBytes(u.bytes)})`,
    );
  return lines;
}

function delta(a: number, b: number, bytes: boolean): string {
  const d = b - a;
  const f = (n: number): string => (bytes ? formatBytes(n) : String(n));
  return d === 0 ? `${f(b)} (same)` : `${f(a)} → ${f(b)} (${d > 0 ? '+' : '-'}${f(Math.abs(d))})`;
}

export function formatReplayReport(r: ReplayReport): string {
  const lines = [
    r.captured
      ? `${r.requests} bound resources of the captured application replayed (each one request: its size, alignment, memoryTypeBits, tiling and inferred location)`
      : `${r.requests} allocation requests replayed`,
    '',
    ...sideLines(r.captured ? 'application' : 'recorded', r.baseline),
    '',
    ...sideLines(r.captured ? 'vramscope' : 'replayed', r.replay),
    '',
    'differences:',
  ];
  lines.push(`  peak committed  ${delta(r.baseline.peakCommittedBytes, r.replay.peakCommittedBytes, true)}`);
  lines.push(`  peak blocks     ${delta(r.baseline.peakBlocks, r.replay.peakBlocks, false)}`);
  lines.push(`  blocks created  ${delta(r.baseline.blocksCreated, r.replay.blocksCreated, false)}`);
  lines.push(`  failures        ${delta(r.baseline.failures, r.replay.failures, false)}`);
  if (r.typeChanges.length === 0) lines.push('  memory types    every request got the same type');
  else {
    lines.push('  memory types:');
    for (const c of r.typeChanges)
      lines.push(`    ${c.count} × ${c.location} ${c.linear ? 'linear' : 'non-linear'}: ${c.from} → ${c.to}`);
  }
  const names = (list: readonly string[]): string => list.map((n) => (n === '' ? '(unnamed)' : n)).join(', ');
  if (r.newlyFailed.count)
    lines.push(`  newly failing   ${r.newlyFailed.count}: ${names(r.newlyFailed.names)}`);
  if (r.newlySucceeded.count)
    lines.push(`  newly succeeding ${r.newlySucceeded.count}: ${names(r.newlySucceeded.names)}`);
  if (r.inferredLocations)
    lines.push(
      `  note            ${r.inferredLocations} requests had no location; it was inferred from the recorded memory type's flags`,
    );
  return `${lines.join('\n')}\n`;
}

export const replayCommand: Command = {
  name: 'replay',
  summary: "Replay a trace's allocation requests on another device profile or strategy",
  help: `Usage: vramscope replay <trace> [--profile FILE] [--strategy S] [--json]

"What would happen on GPU X": replays the allocation requests of a trace (allocations, frees, renames,
and requests that failed) against a simulated device and/or another placement strategy, then reports the
differences from the recording: blocks, peak committed bytes, memory types chosen, failures.

On a captured application's trace (vramscope capture), each bound buffer and image is one request with its
own requirements (size, alignment, memoryTypeBits on the same device, linear or not, and the location
inferred from its usage and mapping, docs/capture.md): the application's vkAllocateMemory count and peak
committed bytes are printed beside what our allocator would have done.

Options:
  --profile FILE    the device to replay on: a vulkaninfo text file, a built-in model (d3d12-tier1,
                    d3d12-tier2, metal) or a shipped profile name (lavapipe, h100).
                    Default: the trace's own device, simulated.
  --strategy S      placement strategy: ${placementStrategyNames.join(', ')} (default: the trace's)
  --json            print the report as JSON

Traces are data: loading one never runs code. Exit codes: 0 replayed, 1 the trace or profile could not be
read, 2 bad usage.
`,
  options: {
    profile: { type: 'string' },
    strategy: { type: 'string' },
    json: { type: 'boolean' },
  },
  maxPositionals: 1,
  async run(values, positionals, io) {
    const file = positionals[0];
    if (file === undefined) throw new UsageError('which trace? give a trace file');
    const profile = stringOption(values, 'profile');
    const strategyOption = choiceOption(values, 'strategy', placementStrategyNames);
    let trace;
    try {
      trace = loadTraceSync(path.resolve(io.cwd, file));
    } catch (error) {
      if (
        error instanceof TraceFormatError ||
        error instanceof FileReadError ||
        (error as NodeJS.ErrnoException).code !== undefined
      )
        throw new CommandFailure(`cannot load ${file}: ${(error as Error).message}`);
      throw error;
    }
    for (const w of trace.warnings)
      io.stderr.write(`vramscope replay: ${printable(file)}: ${printable(w.message)}\n`);
    let description;
    try {
      description = profile === undefined ? trace.header.device : loadProfile(profile, io.cwd);
    } catch (error) {
      if (error instanceof DeviceOpenError) throw new UsageError(error.message);
      throw new CommandFailure(`cannot load profile ${profile}: ${(error as Error).message}`);
    }
    const strategy: PlacementStrategyName = strategyOption ?? trace.header.allocator.strategy;
    const report = replayRequests(trace.events, {
      original: { device: trace.header.device, strategy: trace.header.allocator.strategy },
      target: createSimulatedDevice(description),
      strategy,
    });
    io.stdout.write(
      values.json === true
        ? `${JSON.stringify(report, null, 2)}\n`
        : printableLines(formatReplayReport(report)),
    );
    return 0;
  },
};
