// Importer for the JSON "GpuMemDump" written by Vulkan Memory Allocator (vmaBuildStatsString with the
// detailed map; 3.x layout, and the 2.x layout where it differs) and by D3D12 Memory Allocator
// (BuildStatsString; UTF-16 with a BOM). The dump is one point in time, so it becomes a trace of budget
// samples, then one blockCreate per device-memory object and one allocate per live allocation, all at time 0.
//
// Streaming: the blocks and dedicated allocations of every pool are taken from the parser one at a time
// (json-stream.ts), so a dump never exists twice in memory. What the pools need from earlier in the file
// (General, MemoryInfo, the pool's Name/Flags) has been parsed by then; items that arrive before the file
// says which layout it is wait in a queue.
//
// Fidelity: the totals reported are what the blocks and allocations in the file add up to. They are then
// compared with the dump's own statistics (Total, per heap / memory segment, per memory type / heap type);
// any difference is a warning naming both numbers, never silently "fixed".
//
// D3D12MA quirks handled (D3D12MemAlloc.cpp, AllocatorPimpl::BuildStatsString / CalculateStatistics):
// - Resource heap tier 1 splits each default pool into "X - Buffers", "X - Textures", "X - Textures RT/DS",
//   but prints the heap type's one committed-allocation list under all three: it is counted once.
// - MemoryPools.CUSTOM under L0/L1 sums every custom pool in that memory segment (of any heap type), while
//   DEFAULT/UPLOAD/READBACK/GPU_UPLOAD also include custom pools of that heap type.
import type {
  DeviceDescription,
  MemoryHeap,
  MemoryType,
  PhysicalDeviceType,
  ResourceCategory,
} from '../device.ts';
import { MemoryHeapFlags, MemoryPropertyFlags } from '../device.ts';
import { EventLog } from '../event-log.ts';
import { AllocationKind } from '../types.ts';
import { sniffTextEncoding, textChunks, type ByteSource } from './byte-source.ts';
import { JsonStreamParser, JsonSyntaxError, type JsonPath, type JsonValue } from './json-stream.ts';
import {
  emptyTotals,
  ImportError,
  type ImportFormat,
  type ImportProgress,
  type ImportResult,
  type ImportTotals,
} from './model.ts';
import { describe, intText, isObj, own, Reader, Warnings, type Obj } from './read-values.ts';

export type DumpLayout = 'vma3' | 'vma2' | 'd3d12ma';

interface PendingItem {
  readonly path: JsonPath;
  readonly key: string | number;
  readonly value: JsonValue;
  readonly pool: Obj | null;
}

/** Where a block or dedicated allocation sits: its memory type and the tags the dump's statistics group by. */
interface PoolContext {
  readonly typeIndex: number;
  /** "DefaultPools/Type 0", "CustomPools/Type 3/0 - name", ... */
  readonly label: string;
  /** D3D12MA only. */
  readonly heapType?: string;
  readonly custom: boolean;
  readonly segment?: number;
}

const vmaTypePattern = /^Type (\d+)$/;
const vmaHeapPattern = /^Heap (\d+)$/;
const d3d12HeapTypes = ['DEFAULT', 'UPLOAD', 'READBACK', 'CUSTOM', 'GPU_UPLOAD'];
const tier1Suffixes: Record<string, ResourceCategory> = {
  ' - Buffers': 'buffer',
  ' - Textures': 'otherTexture',
  ' - Textures RT/DS': 'rtvDsvTexture',
};
const vmaImageTypes = new Set(['IMAGE_OPTIMAL', 'IMAGE_UNKNOWN']);
const vmaTypes = new Set(['FREE', 'UNKNOWN', 'BUFFER', 'IMAGE_UNKNOWN', 'IMAGE_LINEAR', 'IMAGE_OPTIMAL']);
const d3d12Types = new Set(['FREE', 'UNKNOWN', 'BUFFER', 'TEXTURE1D', 'TEXTURE2D', 'TEXTURE3D']);

function addTotals(
  into: ImportTotals,
  blocks: number,
  blockBytes: number,
  allocations: number,
  bytes: number,
): void {
  into.blocks += blocks;
  into.blockBytes += blockBytes;
  into.allocations += allocations;
  into.allocatedBytes += bytes;
}

/** Streams of blocks/dedicated allocations the parser should hand over one at a time (any layout). */
export function dumpStreamSelector(p: JsonPath): boolean {
  if (p.length === 3 && p[0] === 'DefaultPools') return p[2] === 'Blocks' || p[2] === 'DedicatedAllocations';
  if (p.length === 4 && p[0] === 'CustomPools') return p[3] === 'Blocks' || p[3] === 'DedicatedAllocations';
  if (p.length === 2 && p[0] === 'DedicatedAllocations') return true; // VMA 2.x
  if (p.length === 3 && p[0] === 'Pools') return p[2] === 'Blocks'; // VMA 2.x
  return false;
}

export function detectDumpLayout(root: Obj): DumpLayout | null {
  const general = own(root, 'General');
  if (isObj(general)) {
    const api = own(general, 'API');
    if (api === 'Vulkan') return 'vma3';
    if (api === 'Direct3D 12') return 'd3d12ma';
    return null;
  }
  const total = own(root, 'Total');
  if (isObj(total) && (own(total, 'UsedBytes') !== undefined || own(total, 'Blocks') !== undefined))
    return 'vma2';
  if (Object.keys(root).some((k) => vmaHeapPattern.test(k))) return 'vma2';
  return null;
}

class DumpImporter {
  layout: DumpLayout | null = null;
  private readonly pending: PendingItem[] = [];
  readonly log = new EventLog({ clock: () => 0, initialCapacity: 1024 });
  readonly warnings = new Warnings();
  private nextBlockId = 1;
  private nextAllocationId = 1;
  readonly perType: ImportTotals[] = [];
  readonly total = emptyTotals();
  /** D3D12MA: by heap type name, by memory segment, custom pools by segment. */
  readonly byHeapType = new Map<string, ImportTotals>();
  readonly bySegment = [emptyTotals(), emptyTotals()];
  readonly customBySegment = [emptyTotals(), emptyTotals()];
  /** D3D12MA: memory types created from pool keys, in order of appearance. */
  readonly d3d12Types: {
    key: string;
    heapType: string;
    category?: ResourceCategory;
    segment: number;
    flags: number;
  }[] = [];
  /** D3D12MA tier 1: the committed list of each heap type as first seen, and the copies under other keys. */
  private readonly committedLists = new Map<string, Map<string, string[]>>();
  private root: Obj | null = null;
  customPoolCount = 0;
  defaultBlockCount = 0;
  private reader: Reader;

  constructor(expected: ImportFormat | null) {
    this.reader = new Reader(expected ?? 'vma');
  }

  private get r(): Reader {
    return this.reader;
  }

  setLayout(layout: DumpLayout): void {
    this.layout = layout;
    this.reader = new Reader(layout === 'd3d12ma' ? 'd3d12ma' : 'vma');
  }

  get format(): ImportFormat {
    return this.layout === 'd3d12ma' ? 'd3d12ma' : 'vma';
  }

  onItem(path: JsonPath, key: string | number, value: JsonValue, containers: readonly unknown[]): void {
    const pool = path[0] === 'CustomPools' ? containers[3] : path[0] === 'Pools' ? containers[2] : null;
    const item: PendingItem = { path, key, value, pool: isObj(pool) ? pool : null };
    if (this.layout === null) {
      const root = containers[0];
      const layout = isObj(root) ? detectDumpLayout(root) : null;
      if (layout !== null) {
        this.root = root as Obj;
        this.setLayout(layout);
      }
    }
    if (this.layout === null) this.pending.push(item);
    else this.process(item);
  }

  /** Runs queued items once the layout is known (at the end of the file at the latest). */
  flush(root: Obj): void {
    this.root = root;
    if (this.layout === null) {
      const layout = detectDumpLayout(root);
      if (layout === null) {
        throw new ImportError(
          null,
          'The JSON has neither "General" with "API": "Vulkan" / "Direct3D 12" (VMA 3.x / D3D12MA) nor the VMA 2.x "Total" / "Heap N" keys, so it is not a VMA or D3D12MA dump',
        );
      }
      this.setLayout(layout);
    }
    for (const item of this.pending.splice(0)) this.process(item);
  }

  private general(): Obj {
    const g = this.root === null ? undefined : own(this.root, 'General');
    return isObj(g) ? g : {};
  }

  private isUma(): boolean {
    return own(this.general(), 'UMA') === true;
  }

  private ensureType(index: number): ImportTotals {
    while (this.perType.length <= index) this.perType.push(emptyTotals());
    return this.perType[index]!;
  }

  /** D3D12MA: the memory type for a pool key, created on first use. */
  d3d12Type(
    key: string,
    heapType: string,
    category: ResourceCategory | undefined,
    poolFlags: unknown[],
  ): number {
    const found = this.d3d12Types.findIndex((t) => t.key === key);
    if (found >= 0) return found;
    const uma = this.isUma();
    let segment = 0;
    let flags = 0;
    const { DEVICE_LOCAL, HOST_VISIBLE, HOST_COHERENT, HOST_CACHED } = MemoryPropertyFlags;
    switch (heapType) {
      case 'DEFAULT':
        segment = uma ? 0 : 1;
        flags = DEVICE_LOCAL;
        break;
      case 'UPLOAD':
        flags = HOST_VISIBLE | HOST_COHERENT | (uma ? DEVICE_LOCAL : 0);
        break;
      case 'READBACK':
        flags = HOST_VISIBLE | HOST_COHERENT | HOST_CACHED | (uma ? DEVICE_LOCAL : 0);
        break;
      case 'GPU_UPLOAD':
        segment = uma ? 0 : 1;
        flags = DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT;
        break;
      default: {
        // CUSTOM: the pool's flags carry MEMORY_POOL_* and CPU_PAGE_PROPERTY_*.
        segment = !uma && poolFlags.includes('MEMORY_POOL_L1') ? 1 : 0;
        flags = segment === 1 || uma ? DEVICE_LOCAL : 0;
        if (poolFlags.includes('CPU_PAGE_PROPERTY_WRITE_COMBINE')) flags |= HOST_VISIBLE | HOST_COHERENT;
        if (poolFlags.includes('CPU_PAGE_PROPERTY_WRITE_BACK'))
          flags |= HOST_VISIBLE | HOST_COHERENT | HOST_CACHED;
      }
    }
    this.d3d12Types.push({ key, heapType, segment, flags, ...(category ? { category } : {}) });
    return this.d3d12Types.length - 1;
  }

  private poolContext(item: PendingItem): PoolContext {
    const { path } = item;
    const r = this.r;
    if (this.layout === 'd3d12ma') {
      const poolKey = String(path[1]);
      if (path[0] === 'DefaultPools') {
        let heapType = poolKey;
        let category: ResourceCategory | undefined;
        for (const [suffix, cat] of Object.entries(tier1Suffixes)) {
          if (poolKey.endsWith(suffix)) {
            heapType = poolKey.slice(0, -suffix.length);
            category = cat;
          }
        }
        if (!d3d12HeapTypes.includes(heapType)) r.fail('DefaultPools has a key that is no D3D12 heap type');
        const typeIndex = this.d3d12Type(poolKey, heapType, category, []);
        return {
          typeIndex,
          label: `DefaultPools/${poolKey}`,
          heapType,
          custom: false,
          segment: this.d3d12Types[typeIndex]!.segment,
        };
      }
      if (!d3d12HeapTypes.includes(poolKey)) r.fail('CustomPools has a key that is no D3D12 heap type');
      const flags = item.pool ? own(item.pool, 'Flags') : undefined;
      const poolFlags = Array.isArray(flags) ? flags : [];
      const segmentName = poolKey === 'CUSTOM' ? (poolFlags.includes('MEMORY_POOL_L1') ? ' L1' : ' L0') : '';
      const typeIndex = this.d3d12Type(`${poolKey}${segmentName}`, poolKey, undefined, poolFlags);
      const name = item.pool ? own(item.pool, 'Name') : undefined;
      return {
        typeIndex,
        label: `CustomPools/${poolKey}/${typeof name === 'string' ? name : String(path[2])}`,
        heapType: poolKey,
        custom: true,
        segment: this.d3d12Types[typeIndex]!.segment,
      };
    }
    // VMA: "Type N" keys, or a 2.x pool's MemoryTypeIndex.
    if (path[0] === 'Pools') {
      const index = r.uint(
        item.pool ? own(item.pool, 'MemoryTypeIndex') : undefined,
        `Pools["${path[1]}"].MemoryTypeIndex`,
      );
      const name = item.pool ? own(item.pool, 'Name') : undefined;
      return {
        typeIndex: index,
        label: `Pools/${String(path[1])}${typeof name === 'string' ? ` - ${name}` : ''}`,
        custom: true,
      };
    }
    const m = vmaTypePattern.exec(String(path[1]));
    if (m === null) return r.fail(`${String(path[0])} has a key where "Type N" was expected`);
    const typeIndex = Number(m[1]);
    if (typeIndex > 31) r.fail(`${String(path[0])} names a memory type beyond Vulkan's 32`);
    if (path[0] === 'CustomPools') {
      const name = item.pool ? own(item.pool, 'Name') : undefined;
      return {
        typeIndex,
        label: `CustomPools/Type ${typeIndex}/${typeof name === 'string' ? name : String(path[2])}`,
        custom: true,
      };
    }
    return { typeIndex, label: `${String(path[0])}/Type ${typeIndex}`, custom: false };
  }

  private account(
    ctx: PoolContext,
    blocks: number,
    blockBytes: number,
    allocations: number,
    bytes: number,
  ): void {
    addTotals(this.total, blocks, blockBytes, allocations, bytes);
    addTotals(this.ensureType(ctx.typeIndex), blocks, blockBytes, allocations, bytes);
    if (ctx.heapType !== undefined) {
      let h = this.byHeapType.get(ctx.heapType);
      if (h === undefined) this.byHeapType.set(ctx.heapType, (h = emptyTotals()));
      addTotals(h, blocks, blockBytes, allocations, bytes);
      const seg = ctx.segment ?? 0;
      addTotals(this.bySegment[seg]!, blocks, blockBytes, allocations, bytes);
      if (ctx.custom) addTotals(this.customBySegment[seg]!, blocks, blockBytes, allocations, bytes);
    }
  }

  private process(item: PendingItem): void {
    const ctx = this.poolContext(item);
    const where = `${ctx.label}/${item.path[item.path.length - 1] === 'Blocks' ? 'Blocks' : 'DedicatedAllocations'}["${item.key}"]`;
    const isBlock = item.path[item.path.length - 1] === 'Blocks';
    if (isBlock) this.addBlock(ctx, item.value, where);
    else this.addDedicated(ctx, item, where);
  }

  private allocationFields(
    a: Obj,
    where: string,
  ): { type: string; name: string; origin: string; kind: number } {
    const r = this.r;
    const type = r.str(own(a, 'Type'), `${where}.Type`);
    const known = this.layout === 'd3d12ma' ? d3d12Types : vmaTypes;
    if (!known.has(type))
      this.warnings.add(
        'unknown-type',
        `${where}.Type is "${type}", not a type this format defines; kept as is`,
      );
    // VMA 2.x puts the name (or a pointer) in UserData; 3.x and D3D12MA use Name and CustomData.
    const nameValue = own(a, 'Name') ?? (this.layout === 'vma2' ? own(a, 'UserData') : undefined);
    const name = typeof nameValue === 'string' ? nameValue : '';
    const parts = [type];
    const usage = intText(own(a, 'Usage'));
    if (usage !== undefined)
      parts.push(`${this.layout === 'd3d12ma' ? 'flags' : 'usage'} 0x${BigInt(usage).toString(16)}`);
    const custom = own(a, 'CustomData');
    if (typeof custom === 'string' || typeof custom === 'number') parts.push(`CustomData ${custom}`);
    const layout = intText(own(a, 'Layout'));
    if (layout !== undefined) parts.push(`layout ${layout}`);
    const kind =
      vmaImageTypes.has(type) || type.startsWith('TEXTURE')
        ? AllocationKind.NonLinear
        : AllocationKind.Linear;
    return { type, name, origin: parts.join(' · '), kind };
  }

  private addBlock(ctx: PoolContext, value: JsonValue, where: string): void {
    const r = this.r;
    const block = r.obj(value, where);
    const size = r.uint(own(block, 'TotalBytes'), `${where}.TotalBytes`);
    const subs = own(block, 'Suballocations');
    if (subs === undefined) {
      r.fail(`${where} has no Suballocations list, so the dump was written without the detailed map`);
    }
    const list = r.arr(subs, `${where}.Suballocations`);
    const blockId = this.nextBlockId++;
    if (!ctx.custom) this.defaultBlockCount++;
    this.log.blockCreate({ blockId, memoryTypeIndex: ctx.typeIndex, size, dedicated: false });
    let allocations = 0;
    let allocatedBytes = 0;
    let freeBytes = 0;
    let freeRanges = 0;
    let end = 0;
    for (let i = 0; i < list.length; i++) {
      const w = `${where}.Suballocations[${i}]`;
      const s = r.obj(list[i], w);
      const offset = r.uint(own(s, 'Offset'), `${w}.Offset`);
      const bytes = r.uint(own(s, 'Size'), `${w}.Size`);
      if (offset + bytes > size)
        r.fail(`${w} ends at byte ${offset + bytes}, past the block's ${size} bytes`);
      if (offset !== end)
        this.warnings.add(
          'gap',
          `${w} starts at ${offset} but the previous range ends at ${end} (overlap or gap)`,
        );
      end = offset + bytes;
      if (own(s, 'Type') === 'FREE') {
        freeBytes += bytes;
        freeRanges++;
        continue;
      }
      const f = this.allocationFields(s, w);
      this.log.allocate({
        allocationId: this.nextAllocationId++,
        blockId,
        memoryTypeIndex: ctx.typeIndex,
        offset,
        size: bytes,
        alignment: 0,
        kind: f.kind,
        location: 'Unknown',
        name: f.name,
        decisionId: -1,
        usedRetry: false,
        // Origin, without block ids so that the same pool / resource kind groups together.
        stack: `${this.layoutLabel()} ${ctx.label} · ${f.origin}`,
      });
      allocations++;
      allocatedBytes += bytes;
    }
    this.account(ctx, 1, size, allocations, allocatedBytes);
    // The block's own counters, against its suballocation list.
    const claims: [string, number][] = [
      ['UnusedBytes', freeBytes],
      ['Allocations', allocations],
      ['UnusedRanges', freeRanges],
    ];
    for (const [field, actual] of claims) {
      const stated = own(block, field);
      if (stated !== undefined && stated !== actual)
        this.warnings.add(
          `block-${field}`,
          `The dump is inconsistent: ${where}.${field} says ${describe(stated).replace('the number ', '')} but its Suballocations add up to ${actual}`,
        );
    }
    if (end !== size && list.length > 0)
      this.warnings.add(
        'block-end',
        `The dump is inconsistent: ${where}'s Suballocations cover ${end} of its ${size} bytes`,
      );
  }

  private layoutLabel(): string {
    return this.layout === 'd3d12ma' ? 'D3D12MA' : this.layout === 'vma2' ? 'VMA2' : 'VMA';
  }

  private addDedicated(ctx: PoolContext, item: PendingItem, where: string): void {
    const r = this.r;
    const a = r.obj(item.value, where);
    const size = r.uint(own(a, 'Size'), `${where}.Size`);
    const f = this.allocationFields(a, where);
    // D3D12MA tier 1: the same committed list is printed under each of the three sub-type keys.
    if (this.layout === 'd3d12ma' && item.path[0] === 'DefaultPools' && ctx.heapType !== undefined) {
      const poolKey = String(item.path[1]);
      if (poolKey !== ctx.heapType) {
        let lists = this.committedLists.get(ctx.heapType);
        if (lists === undefined) this.committedLists.set(ctx.heapType, (lists = new Map()));
        const first = lists.size === 0 ? poolKey : lists.keys().next().value!;
        let list = lists.get(poolKey);
        if (list === undefined) lists.set(poolKey, (list = []));
        list.push(`${f.type}|${size}|${f.name}`);
        if (poolKey !== first) return; // a repeat of the first sub-type's list; compared in finish()
      }
    }
    let typeIndex = ctx.typeIndex;
    if (this.layout === 'd3d12ma' && ctx.heapType !== undefined && item.path[0] === 'DefaultPools') {
      // Tier 1: put a committed texture in the heap type's texture sub-type when there is one.
      const wanted = `${ctx.heapType}${f.type.startsWith('TEXTURE') ? ' - Textures' : ' - Buffers'}`;
      const t = this.d3d12Types.findIndex((x) => x.key === wanted);
      if (t >= 0) typeIndex = t;
    }
    const blockId = this.nextBlockId++;
    this.log.blockCreate({ blockId, memoryTypeIndex: typeIndex, size, dedicated: true });
    this.log.allocate({
      allocationId: this.nextAllocationId++,
      blockId,
      memoryTypeIndex: typeIndex,
      offset: 0,
      size,
      alignment: 0,
      kind: AllocationKind.Dedicated,
      location: 'Unknown',
      name: f.name,
      decisionId: -1,
      usedRetry: false,
      stack: `${this.layoutLabel()} ${ctx.label} ${this.layout === 'd3d12ma' ? 'committed' : 'dedicated'} · ${f.origin}`,
    });
    this.account({ ...ctx, typeIndex }, 1, size, 1, size);
  }

  /** D3D12MA tier 1: every copy of a committed list must equal the first. */
  checkCommittedCopies(): void {
    for (const [heapType, lists] of this.committedLists) {
      const [firstKey, firstList] = lists.entries().next().value!;
      for (const [key, list] of lists) {
        if (key === firstKey) continue;
        if (list.length !== firstList.length || list.some((v, i) => v !== firstList[i]))
          this.warnings.add(
            'committed-copies',
            `The dump is inconsistent: the ${heapType} committed allocations under "${key}" (${list.length}) differ from those under "${firstKey}" (${firstList.length}); counted "${firstKey}" only`,
          );
      }
    }
  }
}

// ---- Statistics comparison ------------------------------------------------------------------------------

interface StatClaim {
  blocks?: unknown;
  blockBytes?: unknown;
  allocations?: unknown;
  allocatedBytes?: unknown;
}

function compareStats(warnings: Warnings, where: string, claim: StatClaim, actual: ImportTotals): void {
  const fields: [keyof StatClaim & keyof ImportTotals, string][] = [
    ['blocks', 'block count'],
    ['blockBytes', 'block bytes'],
    ['allocations', 'allocation count'],
    ['allocatedBytes', 'allocation bytes'],
  ];
  for (const [field, words] of fields) {
    const stated = claim[field];
    if (stated === undefined) continue;
    const statedNumber = typeof stated === 'bigint' ? Number(stated) : stated;
    if (statedNumber !== actual[field])
      warnings.add(
        `stats-${where}-${field}`,
        `The dump is inconsistent: ${where} says ${words} ${String(stated)} but its blocks and allocations add up to ${actual[field]}`,
      );
  }
}

function statsV3(v: unknown): StatClaim {
  if (!isObj(v)) return {};
  return {
    blocks: own(v, 'BlockCount'),
    blockBytes: own(v, 'BlockBytes'),
    allocations: own(v, 'AllocationCount'),
    allocatedBytes: own(v, 'AllocationBytes'),
  };
}

/** VMA 2.x VmaStatInfo: Blocks, Allocations, UsedBytes, UnusedBytes (block bytes = used + unused). */
function statsV2(v: unknown): StatClaim {
  if (!isObj(v)) return { blocks: 0, blockBytes: 0, allocations: 0, allocatedBytes: 0 }; // omitted when empty
  const used = own(v, 'UsedBytes');
  const unused = own(v, 'UnusedBytes');
  return {
    blocks: own(v, 'Blocks'),
    allocations: own(v, 'Allocations'),
    allocatedBytes: used,
    blockBytes: typeof used === 'number' && typeof unused === 'number' ? used + unused : undefined,
  };
}

// ---- Device description ------------------------------------------------------------------------------

function flagBits(list: unknown, table: Record<string, number>, warnings: Warnings, where: string): number {
  let bits = 0;
  if (!Array.isArray(list)) return 0;
  for (const f of list) {
    if (typeof f === 'number' && Number.isSafeInteger(f) && f >= 0) bits |= f;
    else if (typeof f === 'string' && table[f] !== undefined) bits |= table[f];
    else if (typeof f === 'string') warnings.add('flag', `${where} has an unknown flag "${f}"; ignored`);
  }
  return bits;
}

const vkDeviceTypes: Record<number, PhysicalDeviceType> = {
  0: 'other',
  1: 'integrated',
  2: 'discrete',
  3: 'virtual',
  4: 'cpu',
};

function vmaDevice(
  imp: DumpImporter,
  root: Obj,
  fileName: string,
  r: Reader,
): { device: DeviceDescription; found: string[] } {
  const found: string[] = [];
  const warnings = imp.warnings;
  const v2 = imp.layout === 'vma2';
  const general = isObj(own(root, 'General')) ? (own(root, 'General') as Obj) : {};
  const memoryInfo = v2 ? root : own(root, 'MemoryInfo');
  if (!isObj(memoryInfo)) r.fail('The dump has no MemoryInfo object');
  const heaps: MemoryHeap[] = [];
  const typeHeap = new Map<number, { flags: number; heap: number; stats: unknown }>();
  for (const [key, heapValue] of Object.entries(memoryInfo)) {
    const m = vmaHeapPattern.exec(key);
    if (m === null) continue;
    const heapIndex = Number(m[1]);
    const heap = r.obj(heapValue, `MemoryInfo["${key}"]`);
    const size = r.uint(own(heap, 'Size'), `MemoryInfo["${key}"].Size`);
    heaps[heapIndex] = {
      index: heapIndex,
      size,
      flags: flagBits(own(heap, 'Flags'), MemoryHeapFlags, warnings, key),
    };
    const pools = v2 ? heap : own(heap, 'MemoryPools');
    if (isObj(pools)) {
      for (const [typeKey, typeValue] of Object.entries(pools)) {
        const t = vmaTypePattern.exec(typeKey);
        if (t === null || !isObj(typeValue)) continue;
        typeHeap.set(Number(t[1]), {
          heap: heapIndex,
          flags: flagBits(own(typeValue, 'Flags'), MemoryPropertyFlags, warnings, typeKey),
          stats: own(typeValue, 'Stats'),
        });
      }
    }
    const budget = own(heap, 'Budget');
    if (isObj(budget)) {
      const b = own(budget, v2 ? 'Budget' : 'BudgetBytes');
      const u = own(budget, v2 ? 'Usage' : 'UsageBytes');
      if (typeof b === 'number' && typeof u === 'number')
        imp.log.budgetSample({ heapIndex, budget: b, usage: u });
      if (v2) {
        compareStats(
          warnings,
          `MemoryInfo["${key}"].Budget`,
          { blockBytes: own(budget, 'BlockBytes'), allocatedBytes: own(budget, 'AllocationBytes') },
          sumHeap(imp, typeHeap, heapIndex),
        );
      }
    }
  }
  const heapCount =
    typeof own(general, 'memoryHeapCount') === 'number'
      ? (own(general, 'memoryHeapCount') as number)
      : heaps.length;
  for (let i = 0; i < heapCount; i++) {
    if (heaps[i] === undefined) {
      warnings.add('missing-heap', `MemoryInfo has no "Heap ${i}"; assumed 0 bytes`);
      heaps[i] = { index: i, size: 0, flags: 0 };
    }
  }
  const typeCount = Math.max(
    typeof own(general, 'memoryTypeCount') === 'number' ? (own(general, 'memoryTypeCount') as number) : 0,
    ...[...typeHeap.keys()].map((k) => k + 1),
    imp.perType.length,
  );
  if (typeCount > 32) r.fail(`The dump describes ${typeCount} memory types; Vulkan has at most 32`);
  const types: MemoryType[] = [];
  for (let i = 0; i < typeCount; i++) {
    const t = typeHeap.get(i);
    if (t === undefined) {
      warnings.add(
        'missing-type',
        `MemoryInfo lists no "Type ${i}" under any heap; assumed heap 0 with no flags`,
      );
      types.push({ index: i, propertyFlags: 0, heapIndex: 0 });
    } else types.push({ index: i, propertyFlags: t.flags, heapIndex: t.heap });
  }
  // The dump's own statistics against what its blocks add up to.
  const stat = v2 ? statsV2 : statsV3;
  compareStats(warnings, 'Total', stat(own(root, 'Total')), imp.total);
  for (const heap of heaps) {
    const h = own(memoryInfo, `Heap ${heap.index}`);
    if (isObj(h))
      compareStats(warnings, `Heap ${heap.index}`, stat(own(h, 'Stats')), sumHeap(imp, typeHeap, heap.index));
  }
  for (const [index, t] of typeHeap)
    compareStats(warnings, `Type ${index}`, stat(t.stats), imp.perType[index] ?? emptyTotals());

  const gpu = typeof own(general, 'GPU') === 'string' ? (own(general, 'GPU') as string) : 'unknown GPU';
  const apiVersion =
    typeof own(general, 'apiVersion') === 'string' ? (own(general, 'apiVersion') as string) : '';
  const deviceType = vkDeviceTypes[own(general, 'deviceType') as number] ?? 'other';
  const num = (k: string, d: number): number => {
    const v = own(general, k);
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : d;
  };
  found.push(
    `${v2 ? 'VMA 2.x' : 'VMA 3.x'} dump of ${gpu}${apiVersion ? ` (Vulkan ${apiVersion})` : ''}: ${heaps.length} heaps, ${types.length} memory types`,
  );
  for (const t of types) {
    const totals = imp.perType[t.index];
    if (totals && totals.blocks > 0)
      found.push(
        `  type ${t.index} (heap ${t.heapIndex}): ${totals.blocks} blocks, ${totals.blockBytes} bytes, ${totals.allocations} allocations, ${totals.allocatedBytes} bytes allocated`,
      );
  }
  if (imp.customPoolCount > 0) found.push(`  ${imp.customPoolCount} custom pools`);
  const device: DeviceDescription = {
    name: gpu,
    api: 'vulkan',
    deviceType,
    vendorId: 0,
    deviceId: 0,
    driverVersion: '',
    apiVersion,
    heaps,
    types,
    limits: {
      bufferImageGranularity: num('bufferImageGranularity', 1),
      nonCoherentAtomSize: num('nonCoherentAtomSize', 1),
      maxMemoryAllocationCount: num('maxMemoryAllocationCount', 4096),
      // Not in the dump: the largest heap is the most any one allocation could take.
      maxMemoryAllocationSize: Math.max(0, ...heaps.map((h) => h.size)),
    },
    extensions: {
      memoryBudget: !v2 || heaps.length > 0,
      dedicatedAllocation: true,
      bufferDeviceAddress: false,
    },
    source: `import:vma:${fileName}`,
  };
  return { device, found };
}

function sumHeap(
  imp: DumpImporter,
  typeHeap: Map<number, { heap: number }>,
  heapIndex: number,
): ImportTotals {
  const sum = emptyTotals();
  for (const [index, t] of typeHeap) {
    const p = imp.perType[index];
    if (t.heap === heapIndex && p) addTotals(sum, p.blocks, p.blockBytes, p.allocations, p.allocatedBytes);
  }
  return sum;
}

function d3d12Device(
  imp: DumpImporter,
  root: Obj,
  fileName: string,
  r: Reader,
): { device: DeviceDescription; found: string[] } {
  const warnings = imp.warnings;
  const general = r.obj(own(root, 'General'), 'General');
  const uma = own(general, 'UMA') === true;
  const u = (k: string): number => {
    const v = own(general, k);
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
  };
  const heaps: MemoryHeap[] = uma
    ? [
        {
          index: 0,
          size: u('DedicatedVideoMemory') + u('SharedSystemMemory'),
          flags: MemoryHeapFlags.DEVICE_LOCAL,
        },
      ]
    : [
        { index: 0, size: u('SharedSystemMemory'), flags: 0 },
        { index: 1, size: u('DedicatedVideoMemory'), flags: MemoryHeapFlags.DEVICE_LOCAL },
      ];
  const memoryInfo = own(root, 'MemoryInfo');
  if (!isObj(memoryInfo)) r.fail('The dump has no MemoryInfo object');
  // Memory types for the pools the MemoryInfo names even when no block uses them (a complete device model).
  for (const [segKey, seg] of Object.entries(memoryInfo)) {
    if (!isObj(seg)) continue;
    const pools = own(seg, 'MemoryPools');
    if (!isObj(pools)) continue;
    for (const name of Object.keys(pools)) {
      if (name === 'CUSTOM') continue;
      if (!imp.d3d12Types.some((t) => t.heapType === name)) {
        const tier1 = u('ResourceHeapTier') === 1 && name !== 'GPU_UPLOAD';
        if (tier1) for (const suffix of Object.keys(tier1Suffixes)) ensureD3d12(imp, `${name}${suffix}`);
        else ensureD3d12(imp, name);
      }
    }
    void segKey;
  }
  const stat = statsV3;
  compareStats(warnings, 'Total', stat(own(root, 'Total')), imp.total);
  const segNames = uma ? ['L0'] : ['L0', 'L1'];
  segNames.forEach((segName, segIndex) => {
    const seg = own(memoryInfo, segName);
    if (!isObj(seg)) {
      warnings.add('missing-segment', `MemoryInfo has no "${segName}" memory segment`);
      return;
    }
    compareStats(warnings, `MemoryInfo.${segName}`, stat(own(seg, 'Stats')), imp.bySegment[segIndex]!);
    const budget = own(seg, 'Budget');
    if (isObj(budget)) {
      const b = own(budget, 'BudgetBytes');
      const used = own(budget, 'UsageBytes');
      if (typeof b === 'number' && typeof used === 'number')
        imp.log.budgetSample({ heapIndex: segIndex, budget: b, usage: used });
    }
    const pools = own(seg, 'MemoryPools');
    if (isObj(pools)) {
      for (const [name, p] of Object.entries(pools)) {
        if (!isObj(p)) continue;
        const actual =
          name === 'CUSTOM' ? imp.customBySegment[segIndex]! : (imp.byHeapType.get(name) ?? emptyTotals());
        compareStats(warnings, `MemoryInfo.${segName}.MemoryPools.${name}`, stat(own(p, 'Stats')), actual);
      }
    }
  });
  imp.checkCommittedCopies();
  const types: MemoryType[] = imp.d3d12Types.map((t, index) => ({
    index,
    propertyFlags: t.flags,
    heapIndex: uma ? 0 : t.segment,
    heapKind: t.key.replace(/ - .*$/, ''),
    ...(t.category ? { resourceCategory: t.category } : {}),
  }));
  const gpu = typeof own(general, 'GPU') === 'string' ? (own(general, 'GPU') as string) : 'unknown GPU';
  const tier = u('ResourceHeapTier') === 1 ? 1 : 2;
  const found = [
    `D3D12MA dump of ${gpu}: ${uma ? 'UMA, 1 memory segment' : '2 memory segments (L0 system, L1 video)'}, resource heap tier ${tier}, ${types.length} pool types`,
  ];
  for (const [name, t] of imp.byHeapType)
    if (t.blocks > 0)
      found.push(
        `  ${name}: ${t.blocks} heaps, ${t.blockBytes} bytes, ${t.allocations} allocations, ${t.allocatedBytes} bytes allocated`,
      );
  if (imp.customPoolCount > 0) found.push(`  ${imp.customPoolCount} custom pools`);
  const device: DeviceDescription = {
    name: gpu,
    api: 'd3d12',
    deviceType: uma ? 'integrated' : 'discrete',
    vendorId: 0,
    deviceId: 0,
    driverVersion: '',
    apiVersion: 'D3D12',
    heaps,
    types,
    limits: {
      // D3D12_DEFAULT_RESOURCE_PLACEMENT_ALIGNMENT: buffers and textures are placed at 64 KiB.
      bufferImageGranularity: 65536,
      nonCoherentAtomSize: 1,
      maxMemoryAllocationCount: 0xffffffff,
      maxMemoryAllocationSize: Math.max(0, ...heaps.map((h) => h.size)),
    },
    extensions: { memoryBudget: true, dedicatedAllocation: true, bufferDeviceAddress: false },
    resourceHeapTier: tier,
    source: `import:d3d12ma:${fileName}`,
  };
  return { device, found };
}

function ensureD3d12(imp: DumpImporter, key: string): void {
  if (imp.d3d12Types.some((t) => t.key === key)) return;
  let heapType = key;
  let category: ResourceCategory | undefined;
  for (const [suffix, cat] of Object.entries(tier1Suffixes)) {
    if (key.endsWith(suffix)) {
      heapType = key.slice(0, -suffix.length);
      category = cat;
    }
  }
  imp.d3d12Type(key, heapType, category, []);
}

/** Imports a VMA or D3D12MA JSON dump from a byte source (UTF-8, or UTF-16 with or without a BOM). */
export async function importGpuMemDump(
  source: ByteSource,
  options: {
    expected?: ImportFormat | null;
    /** What detection guessed (only for naming the format in messages). */
    hint?: ImportFormat | null;
    onProgress?: ImportProgress;
    partial?: boolean;
  } = {},
): Promise<ImportResult> {
  const head = await source.head(4);
  const { encoding } = sniffTextEncoding(head);
  const imp = new DumpImporter(options.expected ?? null);
  const parser: JsonStreamParser = new JsonStreamParser({
    streamItems: dumpStreamSelector,
    onItem: (path, key, value) => imp.onItem(path, key, value, parser.openContainers()),
  });
  const named = options.expected ?? options.hint ?? null;
  const expectedName = named === 'd3d12ma' ? 'D3D12MA' : named === 'vma' ? 'VMA' : 'VMA or D3D12MA';
  let root: JsonValue;
  let stoppedAt: string | null = null;
  try {
    for await (const text of textChunks(source, encoding, (done) =>
      options.onProgress?.(done, source.size, 'json'),
    )) {
      parser.feed(text);
    }
    root = parser.end();
  } catch (error) {
    if (options.partial && (error instanceof JsonSyntaxError || error instanceof ImportError)) {
      // Keep what came before the problem: the partly built root and every block already taken.
      stoppedAt = error.message;
      root = (parser.openContainers()[0] as JsonValue | undefined) ?? {};
    } else if (error instanceof JsonSyntaxError) {
      throw new ImportError(
        named ?? (imp.layout === null ? null : imp.format),
        `${source.name} is not valid JSON (${error.message}), so it is not a readable ${expectedName} dump`,
      );
    } else throw error;
  }
  if (stoppedAt !== null)
    imp.warnings.add('partial', `Reading stopped early (${stoppedAt}); imported what came before`);
  if (!isObj(root))
    throw new ImportError(
      options.expected ?? null,
      `${source.name} holds ${describe(root)}, not the JSON object of a ${expectedName} dump`,
    );
  imp.flush(root);
  const r = new Reader(imp.format);
  if (options.expected && options.expected !== imp.format)
    throw new ImportError(
      options.expected,
      `${source.name} is a ${imp.format === 'vma' ? 'VMA' : 'D3D12MA'} dump, not a ${expectedName} dump`,
    );
  // Custom pools and whether the detailed map is there.
  const custom = own(root, imp.layout === 'vma2' ? 'Pools' : 'CustomPools');
  if (isObj(custom)) {
    for (const v of Object.values(custom)) imp.customPoolCount += Array.isArray(v) ? v.length : 1;
  }
  const hasMap =
    own(root, 'DefaultPools') !== undefined ||
    own(root, 'DedicatedAllocations') !== undefined ||
    isObj(custom);
  const totalClaim = (imp.layout === 'vma2' ? statsV2 : statsV3)(own(root, 'Total'));
  if (!hasMap && typeof totalClaim.blocks === 'number' && totalClaim.blocks > 0)
    r.fail(
      `${source.name} has statistics but no DefaultPools (it was written without the detailed map); write it again with detailedMap = TRUE`,
    );
  const { device, found } =
    imp.layout === 'd3d12ma' ? d3d12Device(imp, root, source.name, r) : vmaDevice(imp, root, source.name, r);
  const version = imp.layout === 'vma2' ? '2' : imp.layout === 'vma3' ? '3' : '2';
  const settings: Record<string, string> = {};
  for (const where of ['DefaultPools']) {
    const pools = own(root, where);
    if (!isObj(pools)) continue;
    for (const [k, v] of Object.entries(pools)) {
      const pbs = isObj(v) ? intText(own(v, 'PreferredBlockSize')) : undefined;
      if (pbs !== undefined) settings[`${k}.PreferredBlockSize`] = pbs;
    }
  }
  const perType = device.types.map((_t, i) => imp.perType[i] ?? emptyTotals());
  return {
    header: {
      device,
      allocator: {
        imported: true,
        allocator: imp.layout === 'd3d12ma' ? 'D3D12MemoryAllocator' : 'VulkanMemoryAllocator',
        settings,
      },
      importedFrom: { format: imp.format, version, file: source.name },
    },
    log: imp.log,
    totals: imp.total,
    perType,
    sourceEvents: null,
    warnings: imp.warnings.list(),
    found,
  };
}

export { JsonSyntaxError };
