// Which links may leave the app (pure: tested without Electron). The allowlist is of exact pages, not
// hosts: the renderer can only ask for one of these, and external-links.ts opens the constant URL of
// the matching entry, so no URL the page made up ever reaches shell.openExternal.

/** Pages the UI may link to, by id. All https. */
export const externalLinks = {
  vulkanMemory: 'https://docs.vulkan.org/spec/latest/chapters/memory.html',
  vulkanMemoryBudget: 'https://registry.khronos.org/vulkan/specs/latest/man/html/VK_EXT_memory_budget.html',
  gpuAllocator: 'https://github.com/Traverse-Research/gpu-allocator',
  vma: 'https://gpuopen.com/vulkan-memory-allocator/',
  d3d12ResourceHeapTiers: 'https://learn.microsoft.com/en-us/windows/win32/direct3d12/memory-management',
  metalHeaps: 'https://developer.apple.com/documentation/metal/mtlheap',
} as const;
export type ExternalLinkId = keyof typeof externalLinks;

/**
 * The id of an allowed page, or null. The URL must be https, carry no credentials and match an
 * allowlisted page exactly (a trailing "#fragment" is ignored).
 */
export function externalLinkId(raw: string): ExternalLinkId | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return null;
  url.hash = '';
  const normalized = url.toString();
  for (const [id, page] of Object.entries(externalLinks) as [ExternalLinkId, string][]) {
    if (page === normalized) return id;
  }
  return null;
}
