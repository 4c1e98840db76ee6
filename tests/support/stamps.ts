// Byte stamps for host-visible allocations: tests that move allocations (defragmentation, relocation)
// write each allocation's id into its first and last 4 bytes and check them after the moves.
import type { Allocation } from '../../allocator/index.ts';

/** Writes the allocation's id in its first and last 4 bytes (host-visible allocations of 8 bytes or more). */
export function stamp(a: Allocation): void {
  if (a.mapped === null || a.size < 8) return;
  const bytes = new Uint8Array(new Uint32Array([a.id]).buffer);
  a.mapped.write(0, bytes);
  a.mapped.write(a.size - 4, bytes);
}

/** The first and last 4 bytes as numbers, [id, id] when the stamp is intact; null when not stampable. */
export function stampOf(a: Allocation): [number, number] | null {
  if (a.mapped === null || a.size < 8) return null;
  const head = new Uint32Array(a.mapped.read(0, 4).slice().buffer)[0]!;
  const tail = new Uint32Array(a.mapped.read(a.size - 4, 4).slice().buffer)[0]!;
  return [head, tail];
}
