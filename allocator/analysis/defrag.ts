// Defragmentation plans for a trace: the planner's input built from a snapshot (any event index), so
// `vramscope report --defrag` and the UI can show what compaction would do to a recorded state.
import type { DeviceDescription } from '../device.ts';
import {
  planDefragmentation,
  type DefragmentationBlock,
  type DefragmentationItem,
  type DefragmentationOptions,
  type DefragmentationPlan,
} from '../defragment.ts';
import type { Snapshot } from './snapshot.ts';

/**
 * The plan for a snapshot's state. A trace records data ranges only (no alignment padding, no pinning), so
 * each allocation's region is its data [offset, offset + size), every non-dedicated allocation counts as
 * movable, and its recorded alignment and kind (linear / non-linear) constrain where it may go.
 */
export function planDefragmentationOfSnapshot(
  snapshot: Snapshot,
  device: DeviceDescription,
  options: DefragmentationOptions = {},
): DefragmentationPlan {
  const items = new Map<number, DefragmentationItem[]>();
  for (const a of snapshot.allocations) {
    const item: DefragmentationItem = {
      allocationId: a.id,
      name: a.name,
      regionOffset: a.offset,
      offset: a.offset,
      size: a.size,
      alignment: a.alignment > 0 ? a.alignment : 1,
      kind: a.kind === 1 ? 1 : 0,
      movable: true,
    };
    const list = items.get(a.block);
    if (list) list.push(item);
    else items.set(a.block, [item]);
  }
  const blocks: DefragmentationBlock[] = [];
  for (const b of snapshot.blocks) {
    if (b.dedicated) continue;
    const list = (items.get(b.id) ?? []).sort((x, y) => x.offset - y.offset);
    blocks.push({ id: b.id, memoryTypeIndex: b.memoryTypeIndex, size: b.size, items: list });
  }
  return planDefragmentation(
    { version: snapshot.eventIndex, granularity: Math.max(1, device.limits.bufferImageGranularity), blocks },
    options,
  );
}
