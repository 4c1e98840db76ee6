// Typed errors mirroring gpu-allocator 0.28's AllocationError variants. `code` is stable: UIs, traces and
// tests match on it, never on the message. Messages say what was asked and what was available.

export type AllocationErrorCode =
  | 'OutOfMemory'
  | 'FailedToMap'
  | 'NoCompatibleMemoryTypeFound'
  | 'InvalidAllocationCreateDesc'
  | 'InvalidAllocatorCreateDesc'
  | 'Internal'
  // D3D12-only variants of the crate.
  | 'BarrierLayoutNeedsDevice10'
  | 'CastableFormatsRequiresEnhancedBarriers'
  | 'CastableFormatsRequiresAtLeastDevice12';

export const allocationErrorCodes: readonly AllocationErrorCode[] = [
  'OutOfMemory',
  'FailedToMap',
  'NoCompatibleMemoryTypeFound',
  'InvalidAllocationCreateDesc',
  'InvalidAllocatorCreateDesc',
  'Internal',
  'BarrierLayoutNeedsDevice10',
  'CastableFormatsRequiresEnhancedBarriers',
  'CastableFormatsRequiresAtLeastDevice12',
];

export class AllocationError extends Error {
  readonly code: AllocationErrorCode;
  constructor(code: AllocationErrorCode, message: string) {
    super(message);
    this.name = `AllocationError(${code})`;
    this.code = code;
  }
}

/** A block refused by the heap budget (budget mode strict): heap, budget and usage before it, bytes. */
export interface BudgetRefusal {
  readonly heapIndex: number;
  readonly budget: number;
  readonly usage: number;
  /** Bytes of the refused block. */
  readonly size: number;
}

export class OutOfMemoryError extends AllocationError {
  /** Set when the budget (mode strict) refused the block, rather than the device. */
  readonly overBudget: BudgetRefusal | null;
  constructor(message: string, overBudget: BudgetRefusal | null = null) {
    super('OutOfMemory', message);
    this.overBudget = overBudget;
  }
}
export class FailedToMapError extends AllocationError {
  constructor(message: string) {
    super('FailedToMap', message);
  }
}
export class NoCompatibleMemoryTypeFoundError extends AllocationError {
  constructor(message: string) {
    super('NoCompatibleMemoryTypeFound', message);
  }
}
export class InvalidAllocationCreateDescError extends AllocationError {
  constructor(message: string) {
    super('InvalidAllocationCreateDesc', message);
  }
}
export class InvalidAllocatorCreateDescError extends AllocationError {
  constructor(message: string) {
    super('InvalidAllocatorCreateDesc', message);
  }
}
export class InternalError extends AllocationError {
  constructor(message: string) {
    super('Internal', message);
  }
}
