// Compile-time proof that the contract's data shapes are the engine's types, field for field: the device
// description, the memory-type decision record and the report. A field added, removed, renamed or retyped
// on either side fails `npm run typecheck` here (readonly modifiers aside: the wire carries plain copies).
import type { z } from 'zod';
import type { DeviceDescription, MemoryTypeDecision } from '../../allocator/index.ts';
import type { TraceReport } from '../../allocator/analysis/index.ts';
import type { decisionRecordSchema, deviceDescriptionSchema, traceReportSchema } from './contract.ts';

/** T with every readonly property and array made mutable, recursively. */
type Mutable<T> = T extends readonly (infer U)[]
  ? Mutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;

/** true only when A and B are the same type (not merely assignable to each other). */
export type SameShape<A, B> =
  (<T>() => T extends Mutable<A> ? 1 : 2) extends <T>() => T extends Mutable<B> ? 1 : 2 ? true : false;

/** Fails to compile unless its argument's type is `true`. */
function assertSameShape<T extends true>(_proof: T): void {}

assertSameShape<SameShape<z.output<typeof deviceDescriptionSchema>, DeviceDescription>>(true);
assertSameShape<SameShape<z.output<typeof decisionRecordSchema>, MemoryTypeDecision>>(true);
assertSameShape<SameShape<z.output<typeof traceReportSchema>, TraceReport>>(true);
