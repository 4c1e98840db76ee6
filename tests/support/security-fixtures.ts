// Files for the security suite: a trace whose names carry control characters and injected lines, files
// with a canary string standing in for a secret, and workloads of a chosen size.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AllocationKind, EventLog } from '../../allocator/index.ts';
import { loadProfile } from '../../src-main/session/open-device.ts';
import { createTraceHeader } from '../../src-main/trace/header.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { repoRoot } from './api-transports.ts';

/** Stands for a secret in a file the attacker must not learn anything of. */
export const canary = 'CANARY7f3a';

export const scratchDir = (): string => mkdtempSync(path.join(os.tmpdir(), 'vramscope-security-'));

/** A lavapipe-profile trace with one block and live allocations named `names` (the leaks at its end). */
export function namedTraceBytes(names: readonly string[]): Uint8Array {
  const file = path.join(scratchDir(), 'named.trace');
  const device = loadProfile('lavapipe', repoRoot);
  let t = 0;
  const log = new EventLog({ initialCapacity: 64, clock: () => (t += 0.5) });
  log.blockCreate({ blockId: 1, memoryTypeIndex: 0, size: 64 * 1024 * 1024, dedicated: false });
  names.forEach((name, i) => {
    log.allocate({
      allocationId: i + 1,
      blockId: 1,
      memoryTypeIndex: 0,
      offset: i * 65536,
      size: 4096,
      alignment: 256,
      kind: AllocationKind.Linear,
      location: 'GpuOnly',
      name,
      decisionId: -1,
      usedRetry: false,
      stack: name,
    });
  });
  log.frame(1);
  const writer = new TraceWriter(file, log, { header: createTraceHeader({ device }), flushIntervalMs: 0 });
  writer.close();
  return new Uint8Array(readFileSync(file));
}

/** Writes `text` to a new file and answers its path. */
export function writeScratch(name: string, text: string | Uint8Array): string {
  const file = path.join(scratchDir(), name);
  writeFileSync(file, text);
  return file;
}

/** Every piece of `secret` of 6+ characters that a message must not contain. */
export function leaksOf(message: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    for (let i = 0; i + 6 <= secret.length; i++) {
      const piece = secret.slice(i, i + 6);
      if (message.includes(piece)) found.push(piece);
    }
  }
  return found;
}
