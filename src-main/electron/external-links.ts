// The one way out of the app to the web: the allowlisted pages of link-policy.ts, opened in the user's
// browser. Each opener passes a constant URL; what the page asked for only selects which one.
import { shell } from 'electron';
import { externalLinkId, type ExternalLinkId } from './link-policy.ts';

const openers: Record<ExternalLinkId, () => Promise<void>> = {
  vulkanMemory: () => shell.openExternal('https://docs.vulkan.org/spec/latest/chapters/memory.html'),
  vulkanMemoryBudget: () =>
    shell.openExternal('https://registry.khronos.org/vulkan/specs/latest/man/html/VK_EXT_memory_budget.html'),
  gpuAllocator: () => shell.openExternal('https://github.com/Traverse-Research/gpu-allocator'),
  vma: () => shell.openExternal('https://gpuopen.com/vulkan-memory-allocator/'),
  d3d12ResourceHeapTiers: () =>
    shell.openExternal('https://learn.microsoft.com/en-us/windows/win32/direct3d12/memory-management'),
  metalHeaps: () => shell.openExternal('https://developer.apple.com/documentation/metal/mtlheap'),
};

/** Opens the page if it is on the allowlist; returns whether it did. */
export async function openExternalVetted(raw: string): Promise<boolean> {
  const id = externalLinkId(raw);
  if (id === null) return false;
  await openers[id]();
  return true;
}
