// `vramscope report <trace> [--json]`: what a trace says — device, totals and peaks per heap and memory type,
// counts, failures, fragmentation, leaks grouped by origin and name — plus how fast it loaded.
import { statSync } from 'node:fs';
import path from 'node:path';
import { memoryHeapFlagNames, memoryPropertyFlagNames } from '../../../allocator/device.ts';
import { formatBytes } from '../../../allocator/format.ts';
import { printable, printableLines } from '../../../allocator/text/printable.ts';
import {
  analyzeCapture,
  analyzeTrace,
  formatStack,
  isCapturedTrace,
  planDefragmentationOfSnapshot,
  traceReport,
  stackOrigin,
  type LeakGroup,
  type SeriesSummary,
} from '../../../allocator/analysis/index.ts';
import { defragmentationAlgorithms, type DefragmentationAlgorithm } from '../../../allocator/defragment.ts';
import { captureReportLines } from '../../capture/report-lines.ts';
import { TraceFormatError, type LoadedTrace } from '../../../allocator/trace/index.ts';
import { loadTrace } from '../../trace/reader.ts';
import { FileReadError } from '../../import/file-source.ts';
import { CommandFailure, UsageError, type Command, type CommandIo, type ParsedValues } from '../command.ts';

const LIST_LIMIT = 10;
/** TraceEventKind.Mark (a const enum, not inlined across isolated modules). */
const MARK_EVENT = 9;

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

function peak(s: SeriesSummary, which: 'peakCommitted' | 'peakAllocated'): string {
  const p = s[which];
  return p.eventIndex < 0 ? 'peak 0' : `peak ${formatBytes(p.bytes)} at event ${count(p.eventIndex)}`;
}

function usageLine(label: string, s: SeriesSummary): string {
  return `  ${label}: committed ${formatBytes(s.final.committed)} (${peak(s, 'peakCommitted')}), allocated ${formatBytes(s.final.allocated)} (${peak(s, 'peakAllocated')})`;
}

/** With `stacks`, each group is followed by its stack (Python frames first, C++ folded; or every frame). */
function leakLines(
  groups: readonly LeakGroup[],
  none: string,
  stacks: 'none' | 'folded' | 'full' = 'none',
): string[] {
  const lines = groups
    .slice(0, LIST_LIMIT)
    .flatMap((g) => [
      `    ${g.key === '' ? none : g.key}: ${count(g.count)} allocation${g.count === 1 ? '' : 's'}, ${formatBytes(g.bytes)}`,
      ...(stacks === 'none' || g.stack === ''
        ? []
        : formatStack(g.stack, { full: stacks === 'full', indent: '        ' })),
    ]);
  if (groups.length > LIST_LIMIT) lines.push(`    ... and ${count(groups.length - LIST_LIMIT)} more`);
  return lines;
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'Summarise a trace: device, totals, peaks, failures, fragmentation, leaks',
  help: `Usage: vramscope report <trace> [--json] [--stacks | --full-stacks] [--defrag [--algorithm full|fast] [--at N]]

Loads a VRAMscope trace (format: docs/trace-format.md) and prints the device, committed and allocated bytes
per heap and memory type with their peaks, event counts, failed allocations, fragmentation, and the
allocations still live at the end (leaks) grouped by origin and by name. Also prints how long loading took,
the bytes per event on disk and the resident memory after loading.

The origin of an allocation is the innermost user frame of its stack: the innermost Python frame
("file:line function"), else the innermost C++ frame that is not the allocator, the interpreter or the C
runtime. A stack without frames (VMA / D3D12MA imports) is its own origin.

A trace whose tail is torn (recording killed) loads up to the last intact chunk, with a warning on stderr.

A captured application's trace (vramscope capture) also lists what the application did wrong (memory not
freed at device destruction, resources never destroyed, blocks freed while resources were bound, binds past
the end of a block or breaking alignment) and its memory-type choices beside gpu-allocator's rule.

Options:
  --json          print one JSON object instead of text: the API's getReport for the same file (name,
                  device, strategy, warnings, summary, fragmentation, leaks) plus file, header, complete,
                  performance
  --stacks        print each origin's stack below it: Python frames first, C++ frames folded
  --full-stacks   print each origin's stack with every frame
  --defrag        print the defragmentation plan for the trace's end state instead: the moves (from
                  block/offset to block/offset), bytes moved, blocks emptied, fragmentation before/after
  --algorithm A   with --defrag: full (default; fewest blocks) or fast (empty the emptiest blocks)
  --at N          with --defrag: plan for the state after the first N events instead of the end;
                  --at mark:LABEL plans for the state just before the first mark with that label

Exit codes: 0 ok, 1 the trace cannot be read, 2 bad usage.`,
  options: {
    json: { type: 'boolean' },
    stacks: { type: 'boolean' },
    'full-stacks': { type: 'boolean' },
    defrag: { type: 'boolean' },
    algorithm: { type: 'string' },
    at: { type: 'string' },
  },
  maxPositionals: 1,
  async run(values: ParsedValues, positionals: string[], io: CommandIo): Promise<number> {
    const file = positionals[0];
    if (file === undefined) throw new UsageError('missing <trace> argument');
    const algorithm = (values.algorithm ?? 'full') as DefragmentationAlgorithm;
    if (typeof values.algorithm === 'string' || values.at !== undefined) {
      if (values.defrag !== true) throw new UsageError('--algorithm and --at go with --defrag');
    }
    if (!defragmentationAlgorithms.includes(algorithm))
      throw new UsageError(`--algorithm must be full or fast, got "${String(values.algorithm)}"`);
    let at: number | string | null = null;
    if (values.at !== undefined) {
      const v = values.at;
      if (typeof v === 'string' && v.startsWith('mark:')) at = v.slice(5);
      else if (typeof v === 'string' && /^\d+$/.test(v) && Number.isSafeInteger(Number(v))) at = Number(v);
      else
        throw new UsageError(
          `--at must be an event index (a whole number >= 0) or mark:LABEL, got "${String(v)}"`,
        );
    }
    const full = path.resolve(io.cwd, file);
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    let trace: LoadedTrace;
    try {
      trace = await loadTrace(full);
    } catch (error) {
      if (error instanceof TraceFormatError)
        throw new CommandFailure(`cannot load ${file}: ${error.message} (byte ${error.position})`);
      // Over the trace cap (2 GiB), refused before decoding, as the API's trace worker refuses it.
      if (error instanceof FileReadError) throw new CommandFailure(`cannot load ${file}: ${error.message}`);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CommandFailure(`cannot load ${file}: no such file`);
      if (code === 'EISDIR') throw new CommandFailure(`cannot load ${file}: it is a directory`);
      if (code === 'EACCES') throw new CommandFailure(`cannot load ${file}: permission denied`);
      throw error;
    }
    const loadMs = performance.now() - started;
    // CPU time of the load (all threads: main + GC helpers): on a busy machine wall time overstates the cost.
    const cpu = process.cpuUsage(cpuStarted);
    const loadCpuMs = (cpu.user + cpu.system) / 1000;
    const rssAfterLoad = process.memoryUsage().rss;
    if (values.defrag === true) {
      return printDefragmentation(trace, file, algorithm, at, values.json === true, io);
    }
    const analysisStarted = performance.now();
    const analysis = analyzeTrace(trace.events, trace.header.device);
    // The same report the API's getReport answers for this file (allocator/analysis/report.ts).
    const report = traceReport(analysis, {
      name: path.basename(file),
      strategy: trace.header.allocator.strategy,
      warnings: trace.warnings.map((w) => w.message),
    });
    const { leaks, fragmentation } = report;
    const capture = isCapturedTrace(trace.events) ? analyzeCapture(trace.events, trace.header.device) : null;
    const analysisMs = performance.now() - analysisStarted;
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const fileBytes = statSync(full).size;
    const events = trace.events.length;
    const bytesPerEvent = events > 0 ? fileBytes / events : 0;
    const { header, warnings } = trace;
    const summary = analysis.summary;
    for (const w of warnings) io.stderr.write(`vramscope report: warning: ${printable(w.message)}\n`);

    if (values.json === true) {
      // getReport's JSON plus what only the CLI knows: the path given, the header, and load timings.
      const out = {
        ...report,
        ...(capture ? { capture } : {}),
        file,
        header,
        complete: trace.complete,
        performance: {
          loadMs: Math.round(loadMs * 10) / 10,
          loadCpuMs: Math.round(loadCpuMs * 10) / 10,
          analysisMs: Math.round(analysisMs * 10) / 10,
          fileBytes,
          bytesPerEvent: Math.round(bytesPerEvent * 100) / 100,
          rssAfterLoadMiB: mib(rssAfterLoad),
          peakRssMiB: mib(peakRss),
          chunks: trace.chunkCount,
        },
      };
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }

    const d = header.device;
    const lines: string[] = [];
    lines.push(
      `trace: ${file} (format v${header.version}, written by vramscope ${header.toolVersion} at ${header.createdAt})${trace.complete ? '' : ' — incomplete: the recording did not close it'}`,
    );
    if (header.importedFrom)
      lines.push(`imported from: ${header.importedFrom.format} (${header.importedFrom.source})`);
    if (header.capture)
      lines.push(
        `captured: ${header.capture.command.join(' ')} (pid ${header.capture.pid}, device ${header.capture.track} ${header.capture.deviceHandle}${header.capture.stacks ? ', with stacks' : ''})`,
      );
    if (header.session?.scenario)
      lines.push(
        `scenario: ${header.session.scenario}${header.session.seed !== undefined ? ` (seed ${header.session.seed})` : ''}`,
      );
    lines.push(
      `device: ${d.name} (${d.api}, ${d.deviceType}, ${d.heaps.length} heaps, ${d.types.length} memory types; ${d.source})`,
    );
    const a = header.allocator;
    lines.push(
      `allocator: ${a.strategy}${a.bufferDeviceAddress ? ', buffer device address' : ''}${a.budget !== undefined ? `, budget ${a.budget}` : ''}${a.resources !== undefined ? `, resources ${a.resources}${a.resources === 'real' ? " (each allocation's size, alignment and memoryTypeBits are the driver's for its buffer/image)" : ''}` : ''}`,
    );
    const k = summary.counts;
    lines.push(
      `events: ${count(events)} over ${(summary.durationMs / 1000).toFixed(3)} s — ${count(k.allocations)} allocations, ${count(k.frees)} frees, ${count(k.failures)} failures, ${count(k.blocksCreated)} blocks created, ${count(k.blocksDestroyed)} destroyed, ${count(k.renames)} renames, ${count(k.frames)} frames, ${count(k.marks)} marks, ${count(k.budgetSamples)} budget samples`,
    );
    lines.push('heaps:');
    summary.heaps.forEach((s, h) => {
      const heap = d.heaps[h]!;
      const flags = memoryHeapFlagNames(heap.flags).join('|') || 'no flags';
      lines.push(usageLine(`heap ${h} (${flags}, ${formatBytes(heap.size)})`, s));
    });
    lines.push('memory types:');
    summary.types.forEach((s, t) => {
      const type = d.types[t]!;
      const flags = memoryPropertyFlagNames(type.propertyFlags).join('|') || 'no flags';
      if (s.peakCommitted.bytes > 0 || s.peakAllocated.bytes > 0)
        lines.push(usageLine(`type ${t} (${flags}; heap ${type.heapIndex})`, s));
    });
    lines.push(usageLine('total', summary.total));
    lines.push(
      `live at end: ${count(summary.liveAllocations)} allocations in ${count(summary.liveBlocks)} blocks`,
    );
    if (summary.budgets.length > 0) {
      lines.push(
        `budgets: ${count(summary.budgetCrossings)} blocks pushed a heap past its budget (warn), ${count(summary.budgetRefusals)} refused by it (strict); last sample per heap: ${summary.budgets.map((b) => `heap ${b.heapIndex} ${formatBytes(b.usage)} of ${formatBytes(b.budget)}`).join(', ')}`,
      );
    }
    lines.push(`failures: ${count(summary.failures.length)}`);
    for (const f of summary.failures.slice(0, LIST_LIMIT)) {
      lines.push(
        `  event ${count(f.eventIndex)} at ${(f.time / 1000).toFixed(3)} s: "${f.name}" ${formatBytes(f.size)} ${f.location} — ${f.code}: ${f.message}${f.stack ? ` (at ${stackOrigin(f.stack)})` : ''}`,
      );
    }
    if (summary.failures.length > LIST_LIMIT)
      lines.push(`  ... and ${count(summary.failures.length - LIST_LIMIT)} more`);
    const managed = fragmentation.blocks.filter((b) => !b.dedicated).length;
    lines.push(
      `fragmentation: ${(fragmentation.fragmentation * 100).toFixed(1)}% (1 - largest free range / free, per block, over ${count(managed)} blocks): ${formatBytes(fragmentation.freeBytes)} free in ${count(fragmentation.freeRangeCount)} ranges, largest ${formatBytes(fragmentation.largestFreeRange)}`,
    );
    lines.push(`leaks (live at end): ${count(leaks.count)} allocations, ${formatBytes(leaks.bytes)}`);
    if (leaks.count > 0) {
      lines.push('  by origin:');
      const stacks = values['full-stacks'] === true ? 'full' : values.stacks === true ? 'folded' : 'none';
      lines.push(...leakLines(leaks.byOrigin, '(no stack recorded)', stacks));
      lines.push('  by name:');
      lines.push(...leakLines(leaks.byName, '(unnamed)'));
      if (leaks.byNamePattern.length < leaks.byName.length) {
        lines.push('  by name pattern (digits as #):');
        lines.push(...leakLines(leaks.byNamePattern, '(unnamed)'));
      }
    }
    if (capture) lines.push(...captureReportLines(capture, LIST_LIMIT * 2));
    lines.push(
      `load: ${(loadMs / 1000).toFixed(3)} s (CPU ${(loadCpuMs / 1000).toFixed(3)} s) for ${count(events)} events in ${count(trace.chunkCount)} chunks, ${bytesPerEvent.toFixed(2)} bytes/event (${formatBytes(fileBytes)} on disk), RSS ${mib(rssAfterLoad)} MiB after load; analysis ${(analysisMs / 1000).toFixed(3)} s, peak RSS ${mib(peakRss)} MiB`,
    );
    // Names in the trace are data: control characters escaped on every line (allocator/text/printable.ts).
    io.stdout.write(`${printableLines(lines.join('\n'))}\n`);
    return 0;
  },
};

/** `--defrag`: the plan for the state after `at` events (default: all). */
function printDefragmentation(
  trace: LoadedTrace,
  file: string,
  algorithm: DefragmentationAlgorithm,
  atOption: number | string | null,
  json: boolean,
  io: CommandIo,
): number {
  const events = trace.events.length;
  let at: number | null = null;
  if (typeof atOption === 'string') {
    const c = trace.events.columns;
    for (let i = 0; i < events && at === null; i++)
      if (c.kind[i] === MARK_EVENT && trace.events.strings[c.name[i]!] === atOption) at = i;
    if (at === null)
      throw new CommandFailure(`no mark labelled "${printable(atOption, 200)}" in ${printable(file)}`);
  } else at = atOption;
  if (at !== null && at > events)
    throw new UsageError(`--at ${at} is past the end of the trace (${count(events)} events)`);
  const eventIndex = at ?? events;
  const analysis = analyzeTrace(trace.events, trace.header.device);
  const started = performance.now();
  const snapshot = analysis.snapshotAt(eventIndex);
  const plan = planDefragmentationOfSnapshot(snapshot, trace.header.device, { algorithm });
  const planMs = performance.now() - started;
  if (json) {
    io.stdout.write(`${JSON.stringify({ file, eventIndex, planMs, ...plan })}\n`);
    return 0;
  }
  const pct = (f: number): string => `${(f * 100).toFixed(1)}%`;
  const lines = [
    `trace: ${printable(file)}, state after event ${count(eventIndex)} of ${count(events)}`,
    `defragmentation plan (${algorithm}): ${count(plan.moves.length)} moves, ${formatBytes(plan.bytesMoved)} moved`,
    `  general blocks: ${count(plan.blocksBefore)} -> ${count(plan.blocksAfter)} (${count(plan.emptiedBlocks.length)} emptied${plan.emptiedBlocks.length > 0 ? `: ${plan.emptiedBlocks.slice(0, 20).join(', ')}${plan.emptiedBlocks.length > 20 ? ', ...' : ''}` : ''}), live ${formatBytes(plan.liveBytes)}`,
    `  fragmentation: ${pct(plan.fragmentationBefore)} -> ${pct(plan.fragmentationAfter)}`,
    `  planned in ${planMs.toFixed(1)} ms (snapshot included)`,
  ];
  if (plan.moves.length > 0) lines.push('  moves (allocation: from block@offset -> to block@offset):');
  for (const m of plan.moves.slice(0, LIST_LIMIT * 2)) {
    lines.push(
      `    #${m.allocationId} "${printable(m.name, 200)}" ${formatBytes(m.size)}: ${m.fromBlock}@${m.fromOffset} -> ${m.toBlock}@${m.toOffset}`,
    );
  }
  if (plan.moves.length > LIST_LIMIT * 2)
    lines.push(`    ... and ${count(plan.moves.length - LIST_LIMIT * 2)} more (--json lists all)`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
