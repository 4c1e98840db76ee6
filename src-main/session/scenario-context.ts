// The `ctx` a scenario script gets: allocator ops gated by the run controls (pause/step/cancel), each
// allocation tagged with the script line that asked for it, seeded randomness, frames, marks and budgets.
import {
  AllocationError,
  defragmentationAlgorithms,
  type Allocation,
  type AllocationCreateDesc,
  type MemoryLocation,
  memoryLocations,
} from '../../allocator/index.ts';
import path from 'node:path';
import { printable } from '../../allocator/text/printable.ts';
import { fileLimits, FileReadError, readLinesSync, type FileLine } from '../import/file-source.ts';
import type { Random } from './rng.ts';
import { CancelledError, type RunGate } from './run-control.ts';
import { captureScriptLine, formatOrigin } from './origin.ts';
import type { Session } from './session.ts';
import type {
  AllocationHandle,
  AllocationRequest,
  DefragmentRequest,
  DefragmentResult,
  ScenarioContext,
} from './scenario-types.ts';
import { VulkanDevice } from '../../native/vulkan-device.ts';
import {
  createDefragmentCopy,
  defragmentCopyModes,
  newDefragmentCopyStats,
} from '../../native/defrag-copy.ts';

/** A mistake in how the script called ctx (bad request, double free): reported as a script error. */
export class ScenarioUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioUsageError';
  }
}

export interface ContextHooks {
  /** Before the worker blocks on a pause: flush events and announce "paused". */
  onBlock(): void;
  /** After every op and frame: lets the runner flush at its cadence. */
  afterOp(): void;
  log(message: string): void;
}

export interface ContextOptions {
  readonly session: Session;
  readonly gate: RunGate;
  readonly random: Random;
  readonly seed: number;
  readonly scriptUrl: string;
  readonly scriptName: string;
  readonly hooks: ContextHooks;
}

const defaultAlignment = { buffer: 256, image: 65536 } as const;

/** Longest allocation name a script may give (names are data; longer ones are a usage error). */
export const maxAllocationNameLength = 1024;

function checkName(name: string, what: string): void {
  if (name.length > maxAllocationNameLength)
    throw new ScenarioUsageError(
      `${what}: the name "${printable(name, 40)}" is ${name.length} characters; the limit is ${maxAllocationNameLength}`,
    );
}

/** Exact for safe integers: log2 of a power of two is an integer, of anything else it is not. */
function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && Number.isInteger(Math.log2(n));
}

export function createScenarioContext(options: ContextOptions): ScenarioContext {
  const { session, gate, random, hooks, scriptUrl, scriptName } = options;
  const typeCount = session.device.description.types.length;
  const allTypes = typeCount >= 32 ? 0xffffffff : (1 << typeCount) - 1;
  const live = new Map<AllocationHandle, Allocation>();

  const origin = (tags: readonly string[] | undefined): string =>
    formatOrigin(scriptName, captureScriptLine(scriptUrl), tags ?? []);

  const toDesc = (request: AllocationRequest, stack: string): AllocationCreateDesc => {
    if (typeof request !== 'object' || request === null)
      throw new ScenarioUsageError('ctx.allocate needs a request object');
    const { name, size, kind } = request;
    if (typeof name !== 'string') throw new ScenarioUsageError('an allocation request needs a string name');
    checkName(name, 'ctx.allocate');
    if (kind !== 'buffer' && kind !== 'image')
      throw new ScenarioUsageError(
        `allocation "${name}": kind must be "buffer" or "image", got ${String(kind)}`,
      );
    if (!Number.isSafeInteger(size) || size <= 0)
      throw new ScenarioUsageError(
        `allocation "${name}": size must be a positive safe integer of bytes, got ${size}`,
      );
    const alignment = request.alignment ?? defaultAlignment[kind];
    if (!isPowerOfTwo(alignment))
      throw new ScenarioUsageError(
        `allocation "${name}": alignment must be a power of two, got ${alignment}`,
      );
    const location: MemoryLocation = request.location ?? 'GpuOnly';
    if (!memoryLocations.includes(location))
      throw new ScenarioUsageError(
        `allocation "${name}": location must be one of ${memoryLocations.join(', ')}, got ${String(location)}`,
      );
    if (
      request.tags !== undefined &&
      (!Array.isArray(request.tags) || request.tags.some((t) => typeof t !== 'string'))
    )
      throw new ScenarioUsageError(`allocation "${name}": tags must be an array of strings`);
    if (request.movable !== undefined && typeof request.movable !== 'boolean')
      throw new ScenarioUsageError(`allocation "${name}": movable must be true or false`);
    const linear = kind === 'buffer';
    return {
      // Images stay in place under ctx.defragment unless the script marks them movable.
      movable: request.movable ?? linear,
      name,
      requirements: { size, alignment, memoryTypeBits: allTypes },
      location,
      linear,
      scheme: request.dedicated
        ? linear
          ? { kind: 'dedicatedBuffer' }
          : { kind: 'dedicatedImage' }
        : { kind: 'managed' },
      resourceCategory: linear ? 'buffer' : 'otherTexture',
      stack,
    };
  };

  const handleFor = (a: Allocation, originText: string): AllocationHandle => {
    // blockId and offset read the allocation, so a handle follows it when ctx.defragment moves it.
    const handle = Object.freeze(
      Object.defineProperties(
        {
          id: a.id,
          name: a.name,
          size: a.size,
          memoryTypeIndex: a.memoryTypeIndex,
          heapIndex: session.device.description.types[a.memoryTypeIndex]?.heapIndex ?? -1,
          location: a.location,
          dedicated: a.isDedicated,
          origin: originText,
        },
        {
          blockId: { get: () => a.block.id, enumerable: true },
          offset: { get: () => a.offset, enumerable: true },
        },
      ),
    ) as AllocationHandle;
    live.set(handle, a);
    return handle;
  };

  const doAllocate = (request: AllocationRequest, throwOnFailure: boolean): AllocationHandle | null => {
    const stack = origin(request?.tags);
    const desc = toDesc(request, stack);
    gate.gate(hooks.onBlock);
    try {
      return handleFor(session.allocate(desc), stack);
    } catch (error) {
      if (!throwOnFailure && error instanceof AllocationError) return null;
      throw error;
    } finally {
      hooks.afterOp();
    }
  };

  const allocationOf = (handle: AllocationHandle, what: string): Allocation => {
    const a = live.get(handle);
    if (!a) {
      const name = typeof handle === 'object' && handle !== null ? `"${handle.name}"` : String(handle);
      throw new ScenarioUsageError(
        `ctx.${what} of ${name}: not a live allocation of this run (already freed?)`,
      );
    }
    return a;
  };

  let passes = 0;
  const defragment = (request: DefragmentRequest): DefragmentResult => {
    if (typeof request !== 'object' || request === null)
      throw new ScenarioUsageError('ctx.defragment takes an options object (or nothing)');
    const mode = request.copy ?? 'auto';
    if (!defragmentCopyModes.includes(mode))
      throw new ScenarioUsageError(
        `ctx.defragment: copy must be one of ${defragmentCopyModes.join(', ')}, got ${String(mode)}`,
      );
    const algorithm = request.algorithm ?? 'full';
    if (!defragmentationAlgorithms.includes(algorithm))
      throw new ScenarioUsageError(
        `ctx.defragment: algorithm must be one of ${defragmentationAlgorithms.join(', ')}, got ${String(algorithm)}`,
      );
    const real = session.device.wrapped;
    if (mode === 'transfer' && !(real instanceof VulkanDevice))
      throw new ScenarioUsageError(
        "ctx.defragment: copy 'transfer' needs a real Vulkan device; this run's device is simulated",
      );
    const stats = newDefragmentCopyStats();
    // Simulated devices: the allocator's own mapped copy (their bytes live in mapped blocks only).
    const copy = real instanceof VulkanDevice ? createDefragmentCopy(real.context, mode, stats) : undefined;
    gate.gate(hooks.onBlock);
    let result: ReturnType<Session['defragment']>;
    try {
      result = session.defragment(
        {
          algorithm,
          ...(request.maxBytesPerPass !== undefined ? { maxBytesPerPass: request.maxBytesPerPass } : {}),
          ...(request.maxMovesPerPass !== undefined ? { maxMovesPerPass: request.maxMovesPerPass } : {}),
          ...(request.memoryTypes !== undefined ? { memoryTypes: request.memoryTypes } : {}),
        },
        copy,
      );
    } catch (error) {
      if (error instanceof RangeError) throw new ScenarioUsageError(`ctx.defragment: ${error.message}`);
      throw error;
    } finally {
      hooks.afterOp();
    }
    const { plan, freed } = result;
    const pass = ++passes;
    session.mark(
      `defragment pass ${pass} (${algorithm}): ${plan.moves.length} moves, ${plan.bytesMoved} bytes, ${freed.length} blocks freed`,
      origin(undefined),
    );
    return {
      pass,
      moves: plan.moves.length,
      bytesMoved: plan.bytesMoved,
      blocksFreed: freed.length,
      blocksBefore: plan.blocksBefore,
      blocksAfter: plan.blocksAfter,
      fragmentationBefore: plan.fragmentationBefore,
      fragmentationAfter: plan.fragmentationAfter,
      complete: plan.complete,
      mappedCopies: stats.mappedMoves,
      transferCopies: stats.transferMoves,
    };
  };

  return {
    device: session.device.description,
    seed: options.seed,
    allocate: (request) => doAllocate(request, true) as AllocationHandle,
    tryAllocate: (request) => doAllocate(request, false),
    free(handle) {
      const a = allocationOf(handle, 'free');
      gate.gate(hooks.onBlock);
      live.delete(handle);
      session.free(a);
      hooks.afterOp();
    },
    rename(handle, name) {
      if (typeof name !== 'string') throw new ScenarioUsageError('ctx.rename needs a string name');
      checkName(name, 'ctx.rename');
      const a = allocationOf(handle, 'rename');
      gate.gate(hooks.onBlock);
      session.rename(a, name);
      live.delete(handle);
      // a.name is the new name already; the handle returned is the one this run knows (free, rename, ...).
      const renamed = handleFor(a, handle.origin);
      hooks.afterOp();
      return renamed;
    },
    frame(label) {
      gate.throwIfCancelled();
      const n = session.frame(label ?? '');
      hooks.afterOp();
      return n;
    },
    mark(label) {
      gate.throwIfCancelled();
      session.mark(String(label), origin(undefined));
    },
    sleep(ms) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new ScenarioUsageError(`ctx.sleep needs milliseconds >= 0, got ${ms}`);
      gate.throwIfCancelled();
      hooks.afterOp();
      return new Promise((resolve, reject) => {
        // Re-check cancel on wake; a long sleep polls so cancel is prompt.
        const deadline = Date.now() + ms;
        const tick = (): void => {
          if (gate.cancelled) reject(new CancelledError());
          else if (Date.now() >= deadline) resolve();
          else setTimeout(tick, Math.min(50, deadline - Date.now()));
        };
        setTimeout(tick, Math.min(50, ms));
      });
    },
    log(message) {
      hooks.log(String(message));
    },
    *readLines(file) {
      if (typeof file !== 'string' || file === '')
        throw new ScenarioUsageError('ctx.readLines needs a file path');
      const lines = readLinesSync(path.resolve(file), {
        name: printable(path.basename(file), 100),
        maxBytes: fileLimits.workload,
        isCancelled: () => gate.cancelled,
      });
      try {
        for (const line of lines as Iterable<FileLine>) yield line;
      } catch (error) {
        if (error instanceof FileReadError) {
          if (error.problem === 'cancelled') throw new CancelledError();
          throw new ScenarioUsageError(error.message);
        }
        throw error;
      }
    },
    defragment(request = {}) {
      return defragment(request);
    },
    random: () => random.next(),
    randomInt: (min, max) => random.int(min, max),
    budgets: () => session.device.budgets(),
    state: () => session.state(),
    limitHeap(heapIndex, bytes) {
      try {
        session.device.setHeapLimit(heapIndex, bytes);
      } catch (error) {
        throw new ScenarioUsageError(`ctx.limitHeap: ${(error as Error).message}`);
      }
      session.mark(
        `heap ${heapIndex} limited to ${bytes === null ? 'none' : `${bytes} bytes`}`,
        origin(undefined),
      );
      session.sampleBudgets();
    },
    setHeapBudget(heapIndex, bytes) {
      try {
        session.device.setHeapBudget(heapIndex, bytes);
      } catch (error) {
        throw new ScenarioUsageError(`ctx.setHeapBudget: ${(error as Error).message}`);
      }
      session.mark(
        `heap ${heapIndex} budget ${bytes === null ? 'as the device reports it' : `set to ${bytes} bytes`}`,
        origin(undefined),
      );
      session.sampleBudgets();
    },
    budgetMode: session.allocator.budget,
  };
}
