// The summary of one captured device (track), as `vramscope capture` prints it and `--json` returns it:
// what the application allocated and bound, its peak, frames, and the problems the analysis found.
import { analyzeCapture, analyzeTrace, type CaptureProblem } from '../../allocator/analysis/index.ts';
import type { DeviceDescription } from '../../allocator/device.ts';
import { formatBytes } from '../../allocator/format.ts';
import type { TraceEvents } from '../../allocator/trace/index.ts';

export interface CaptureTrackSummary {
  readonly track: number;
  readonly device: string;
  readonly deviceType: string;
  readonly apiVersion: string;
  readonly trace: string | null;
  readonly events: number;
  readonly durationMs: number;
  readonly allocateCalls: number;
  readonly allocateFailures: number;
  readonly blocksFreed: number;
  readonly blocksNeverBound: number;
  readonly blocksNeverBoundBytes: number;
  readonly peakCommittedBytes: number;
  readonly peakBlocks: number;
  readonly buffers: number;
  readonly images: number;
  readonly resourcesBound: number;
  readonly frames: number;
  readonly deviceDestroyed: boolean;
  readonly leakedBlocks: number;
  readonly leakedBytes: number;
  readonly leakedResources: number;
  readonly problems: readonly CaptureProblem[];
  readonly memoryTypes: { readonly same: number; readonly differs: number; readonly mismatch: number };
}

export function summarizeCapturedTrack(
  track: number,
  events: TraceEvents,
  device: DeviceDescription,
  tracePath: string | null,
): CaptureTrackSummary {
  const analysis = analyzeTrace(events, device);
  const capture = analyzeCapture(events, device);
  const s = analysis.summary;
  // Peak block count: live blocks after each event, counted once here (the analysis keeps bytes).
  let live = 0;
  let peakBlocks = 0;
  for (let i = 0; i < events.length; i++) {
    const k = events.columns.kind[i];
    if (k === 4) peakBlocks = Math.max(peakBlocks, ++live);
    else if (k === 5) live--;
  }
  const leaks = capture.problems.filter((p) => p.kind === 'memory-not-freed');
  const count = (v: 'same' | 'differs' | 'mismatch'): number =>
    capture.decisions.filter((d) => d.verdict === v).reduce((n, d) => n + d.count, 0);
  return {
    track,
    device: device.name,
    deviceType: device.deviceType,
    apiVersion: device.apiVersion,
    trace: tracePath,
    events: events.length,
    durationMs: s.durationMs,
    allocateCalls: capture.blocksAllocated + s.counts.failures,
    allocateFailures: s.counts.failures,
    blocksFreed: capture.blocksFreed,
    blocksNeverBound: capture.blocksNeverBound.length,
    blocksNeverBoundBytes: capture.blocksNeverBoundBytes,
    peakCommittedBytes: s.total.peakCommitted.bytes,
    peakBlocks,
    buffers: capture.buffersCreated,
    images: capture.imagesCreated,
    resourcesBound: capture.resourcesBound,
    frames: capture.frames,
    deviceDestroyed: capture.deviceDestroyedAt !== null,
    leakedBlocks: leaks.length,
    leakedBytes: leaks.reduce((n, p) => n + p.bytes, 0),
    leakedResources: capture.problems.filter((p) => p.kind === 'resource-not-destroyed').length,
    problems: capture.problems,
    memoryTypes: { same: count('same'), differs: count('differs'), mismatch: count('mismatch') },
  };
}

const MAX_PROBLEMS_SHOWN = 12;

export function formatCaptureSummary(s: CaptureTrackSummary): string {
  const lines: string[] = [];
  const row = (k: string, v: string): void => {
    lines.push(`${k.padEnd(10)} ${v}`);
  };
  row(`device ${s.track}`, `${s.device} (${s.deviceType}, Vulkan ${s.apiVersion})`);
  row(
    'memory',
    `${s.allocateCalls} vkAllocateMemory${s.allocateFailures > 0 ? ` (${s.allocateFailures} failed)` : ''}, ${s.blocksFreed} freed; peak ${formatBytes(s.peakCommittedBytes)} committed in ${s.peakBlocks} blocks`,
  );
  if (s.blocksNeverBound > 0)
    row(
      'unbound',
      `${s.blocksNeverBound} blocks (${formatBytes(s.blocksNeverBoundBytes)}) never had a resource bound`,
    );
  row('resources', `${s.buffers} buffers, ${s.images} images created; ${s.resourcesBound} bound`);
  row('frames', String(s.frames));
  row(
    'leaks',
    s.leakedBlocks === 0 && s.leakedResources === 0
      ? `none ${s.deviceDestroyed ? 'at device destruction' : '(the device was never destroyed)'}`
      : `${s.leakedBlocks} blocks (${formatBytes(s.leakedBytes)}) not freed, ${s.leakedResources} resources not destroyed ${s.deviceDestroyed ? 'at device destruction' : 'when the capture ended'}`,
  );
  const m = s.memoryTypes;
  row(
    'types',
    `memory types beside gpu-allocator's rule: ${m.same} same, ${m.differs} differ, ${m.mismatch} mismatched`,
  );
  if (s.problems.length === 0) row('problems', 'none');
  else {
    row('problems', String(s.problems.length));
    for (const p of s.problems.slice(0, MAX_PROBLEMS_SHOWN))
      lines.push(`           [${p.kind}] ${p.message}`);
    if (s.problems.length > MAX_PROBLEMS_SHOWN)
      lines.push(`           … ${s.problems.length - MAX_PROBLEMS_SHOWN} more (vramscope report)`);
  }
  row('events', `${s.events} in ${(s.durationMs / 1000).toFixed(2)} s`);
  if (s.trace) row('trace', s.trace);
  return `${lines.join('\n')}\n`;
}
