// Text lines of a captured application's analysis (problems and memory-type choices), shared by
// `vramscope report` and the API's text report.
import type { CaptureAnalysis } from '../../allocator/analysis/index.ts';
import { formatBytes } from '../../allocator/format.ts';
import { printable } from '../../allocator/text/printable.ts';

export function captureReportLines(c: CaptureAnalysis, limit = 20): string[] {
  const lines = [
    `captured application: ${c.buffersCreated} buffers and ${c.imagesCreated} images created, ${c.resourcesBound} bound; ${c.blocksAllocated} vkAllocateMemory blocks, ${c.blocksFreed} freed, ${c.blocksMapped} mapped; ${c.frames} frames; ${c.deviceDestroyedAt === null ? 'the device was never destroyed' : 'the device was destroyed'}; ${c.processEnded ? 'exited cleanly' : 'did not exit cleanly'}`,
  ];
  if (c.blocksNeverBound.length > 0)
    lines.push(
      `  ${c.blocksNeverBound.length} blocks (${formatBytes(c.blocksNeverBoundBytes)}) never had a resource bound: ${c.blocksNeverBound.slice(0, 10).join(', ')}${c.blocksNeverBound.length > 10 ? ', …' : ''}`,
    );
  if (c.blockDetails.length > 0) {
    lines.push(`blocks with more in their vkAllocateMemory chain: ${c.blockDetails.length}`);
    for (const b of c.blockDetails.slice(0, limit))
      lines.push(
        `  block ${b.blockId}${b.name ? ` "${printable(b.name, 100)}"` : ''} (${formatBytes(b.size)}, memory type ${b.type}): ${b.text}`,
      );
    if (c.blockDetails.length > limit)
      lines.push(`  ... and ${c.blockDetails.length - limit} more (--json lists them all)`);
  }
  lines.push(`problems: ${c.problems.length}`);
  for (const p of c.problems.slice(0, limit)) {
    lines.push(`  [${p.kind}] ${p.message}${p.eventIndex >= 0 ? ` (event ${p.eventIndex})` : ''}`);
    if (p.stack !== '') lines.push(`      at ${p.stack.split('\n').slice(0, 3).join(' <- ')}`);
  }
  if (c.problems.length > limit)
    lines.push(`  ... and ${c.problems.length - limit} more (--json lists them all)`);
  lines.push(
    "memory types, the application's choice beside gpu-allocator's rule (location inferred, docs/capture.md):",
  );
  for (const d of c.decisions.slice(0, limit))
    lines.push(
      `  ${d.verdict === 'same' ? 'same    ' : d.verdict === 'differs' ? 'differs ' : 'MISMATCH'} ${d.count} ${d.resourceKind}${d.count === 1 ? '' : 's'} (${d.usageText}; ${d.location}: ${d.locationReason}), ${formatBytes(d.bytes)}: app type ${d.appType} (${d.appFlags}), rule type ${d.ruleType ?? '-'} (${d.ruleFlags})${d.note ? ` — ${d.note}` : ''}`,
    );
  if (c.decisions.length === 0) lines.push('  (no bound resources)');
  return lines;
}
