// The intercepts that record memory, resources, binds, maps, frames and names (docs/capture.md, "What the
// layer records"). Each forwards first, unchanged, then appends its record; no lock is held across the call.
#include <cstring>

#include "dispatch.h"
#include "recorder.h"

namespace vrscap {
namespace {

// ---- memory ----------------------------------------------------------------------------------------------

VKAPI_ATTR VkResult VKAPI_CALL layer_AllocateMemory(VkDevice device, const VkMemoryAllocateInfo* info,
                                                     const VkAllocationCallbacks* pAllocator, VkDeviceMemory* pMemory) {
  DeviceData* dd = deviceData(device);
  VkResult result = dd->AllocateMemory(device, info, pAllocator, pMemory);
  if (!Recorder::recording()) return result;
  AllocateMemory rec = {};
  rec.device[0] = h(device);
  rec.memory[0] = result == VK_SUCCESS ? h(*pMemory) : 0;
  rec.size[0] = info->allocationSize;
  rec.memoryTypeIndex[0] = info->memoryTypeIndex;
  rec.result[0] = result;
  rec.priority[0] = 0.5f;
  uint32_t chain = 0;
  for (auto* p = static_cast<const VkBaseInStructure*>(info->pNext); p; p = p->pNext) {
    switch (p->sType) {
      case VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO: {
        auto* d = reinterpret_cast<const VkMemoryDedicatedAllocateInfo*>(p);
        chain |= kChainDedicated;
        rec.dedicatedBuffer[0] = h(d->buffer);
        rec.dedicatedImage[0] = h(d->image);
        break;
      }
      case VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO: {
        auto* f = reinterpret_cast<const VkMemoryAllocateFlagsInfo*>(p);
        chain |= kChainFlags;
        rec.allocateFlags[0] = f->flags;
        rec.deviceMask[0] = f->deviceMask;
        break;
      }
      case VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT:
        chain |= kChainPriority;
        rec.priority[0] = reinterpret_cast<const VkMemoryPriorityAllocateInfoEXT*>(p)->priority;
        break;
      case VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO:
        chain |= kChainExport;
        rec.exportHandleTypes[0] = reinterpret_cast<const VkExportMemoryAllocateInfo*>(p)->handleTypes;
        break;
      case VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO_NV:
        chain |= kChainExport;
        rec.exportHandleTypes[0] = reinterpret_cast<const VkExportMemoryAllocateInfoNV*>(p)->handleTypes;
        break;
      case VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR:
        chain |= kChainImportFd;
        rec.importHandleType[0] = reinterpret_cast<const VkImportMemoryFdInfoKHR*>(p)->handleType;
        break;
      case VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT: {
        auto* hp = reinterpret_cast<const VkImportMemoryHostPointerInfoEXT*>(p);
        chain |= kChainImportHostPointer;
        rec.importHandleType[0] = hp->handleType;
        rec.importHostPointer[0] = h(hp->pHostPointer);
        break;
      }
      case VK_STRUCTURE_TYPE_IMPORT_MEMORY_WIN32_HANDLE_INFO_KHR:
      case VK_STRUCTURE_TYPE_IMPORT_MEMORY_WIN32_HANDLE_INFO_NV:
      case VK_STRUCTURE_TYPE_IMPORT_ANDROID_HARDWARE_BUFFER_INFO_ANDROID:
      case VK_STRUCTURE_TYPE_IMPORT_MEMORY_ZIRCON_HANDLE_INFO_FUCHSIA:
      case VK_STRUCTURE_TYPE_IMPORT_MEMORY_BUFFER_COLLECTION_FUCHSIA:
        chain |= kChainImportOther;
        break;
      case VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO:
        chain |= kChainOpaqueCaptureAddress;
        rec.opaqueCaptureAddress[0] =
            reinterpret_cast<const VkMemoryOpaqueCaptureAddressAllocateInfo*>(p)->opaqueCaptureAddress;
        break;
      default:
        break;
    }
  }
  rec.chain[0] = chain;
  Recorder::append(kAllocateMemory, 0, rec);
  return result;
}

VKAPI_ATTR void VKAPI_CALL layer_FreeMemory(VkDevice device, VkDeviceMemory memory, const VkAllocationCallbacks* pAllocator) {
  DeviceData* dd = deviceData(device);
  if (Recorder::recording()) {
    FreeMemory rec = {};
    rec.device[0] = h(device);
    rec.memory[0] = h(memory);
    Recorder::append(kFreeMemory, 0, rec);
  }
  dd->FreeMemory(device, memory, pAllocator);
}

void recordMap(VkDevice device, VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size, VkFlags flags,
               VkResult result, void** ppData, uint16_t recordFlags) {
  MapMemory rec = {};
  rec.device[0] = h(device);
  rec.memory[0] = h(memory);
  rec.offset[0] = offset;
  rec.size[0] = size;
  rec.flags[0] = flags;
  rec.result[0] = result;
  rec.pointer[0] = result == VK_SUCCESS && ppData ? h(*ppData) : 0;
  Recorder::append(kMapMemory, recordFlags, rec);
}

void recordUnmap(VkDevice device, VkDeviceMemory memory, VkFlags flags, VkResult result, uint16_t recordFlags) {
  UnmapMemory rec = {};
  rec.device[0] = h(device);
  rec.memory[0] = h(memory);
  rec.flags[0] = flags;
  rec.result[0] = result;
  Recorder::append(kUnmapMemory, recordFlags, rec);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_MapMemory(VkDevice device, VkDeviceMemory memory, VkDeviceSize offset,
                                                VkDeviceSize size, VkMemoryMapFlags flags, void** ppData) {
  VkResult result = deviceData(device)->MapMemory(device, memory, offset, size, flags, ppData);
  if (Recorder::recording()) recordMap(device, memory, offset, size, flags, result, ppData, 0);
  return result;
}

VKAPI_ATTR void VKAPI_CALL layer_UnmapMemory(VkDevice device, VkDeviceMemory memory) {
  deviceData(device)->UnmapMemory(device, memory);
  if (Recorder::recording()) recordUnmap(device, memory, 0, VK_SUCCESS, 0);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_MapMemory2KHR(VkDevice device, const MemoryMapInfo* info, void** ppData) {
  VkResult result = deviceData(device)->MapMemory2KHR(device, info, ppData);
  if (Recorder::recording())
    recordMap(device, info->memory, info->offset, info->size, info->flags, result, ppData, kFlagVariant2);
  return result;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_UnmapMemory2KHR(VkDevice device, const MemoryUnmapInfo* info) {
  VkResult result = deviceData(device)->UnmapMemory2KHR(device, info);
  if (Recorder::recording()) recordUnmap(device, info->memory, info->flags, result, kFlagVariant2);
  return result;
}

// ---- buffers and images ------------------------------------------------------------------------------------

VKAPI_ATTR VkResult VKAPI_CALL layer_CreateBuffer(VkDevice device, const VkBufferCreateInfo* info,
                                                   const VkAllocationCallbacks* pAllocator, VkBuffer* pBuffer) {
  VkResult result = deviceData(device)->CreateBuffer(device, info, pAllocator, pBuffer);
  if (!Recorder::recording()) return result;
  CreateBuffer rec = {};
  rec.device[0] = h(device);
  rec.buffer[0] = result == VK_SUCCESS ? h(*pBuffer) : 0;
  rec.size[0] = info->size;
  rec.usage[0] = info->usage;
  rec.flags[0] = info->flags;
  rec.sharingMode[0] = info->sharingMode;
  rec.result[0] = result;
  for (auto* p = static_cast<const VkBaseInStructure*>(info->pNext); p; p = p->pNext)
    if (p->sType == VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO)
      rec.externalHandleTypes[0] = reinterpret_cast<const VkExternalMemoryBufferCreateInfo*>(p)->handleTypes;
  Recorder::append(kCreateBuffer, 0, rec);
  return result;
}

VKAPI_ATTR void VKAPI_CALL layer_DestroyBuffer(VkDevice device, VkBuffer buffer, const VkAllocationCallbacks* pAllocator) {
  DeviceData* dd = deviceData(device);
  if (Recorder::recording()) {
    DestroyBuffer rec = {};
    rec.device[0] = h(device);
    rec.buffer[0] = h(buffer);
    Recorder::append(kDestroyBuffer, 0, rec);
  }
  dd->DestroyBuffer(device, buffer, pAllocator);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_CreateImage(VkDevice device, const VkImageCreateInfo* info,
                                                  const VkAllocationCallbacks* pAllocator, VkImage* pImage) {
  VkResult result = deviceData(device)->CreateImage(device, info, pAllocator, pImage);
  if (!Recorder::recording()) return result;
  CreateImage rec = {};
  rec.device[0] = h(device);
  rec.image[0] = result == VK_SUCCESS ? h(*pImage) : 0;
  rec.flags[0] = info->flags;
  rec.imageType[0] = info->imageType;
  rec.format[0] = info->format;
  rec.width[0] = info->extent.width;
  rec.height[0] = info->extent.height;
  rec.depth[0] = info->extent.depth;
  rec.mipLevels[0] = info->mipLevels;
  rec.arrayLayers[0] = info->arrayLayers;
  rec.samples[0] = info->samples;
  rec.tiling[0] = info->tiling;
  rec.usage[0] = info->usage;
  rec.sharingMode[0] = info->sharingMode;
  rec.initialLayout[0] = info->initialLayout;
  rec.result[0] = result;
  for (auto* p = static_cast<const VkBaseInStructure*>(info->pNext); p; p = p->pNext)
    if (p->sType == VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO)
      rec.externalHandleTypes[0] = reinterpret_cast<const VkExternalMemoryImageCreateInfo*>(p)->handleTypes;
  Recorder::append(kCreateImage, 0, rec);
  return result;
}

VKAPI_ATTR void VKAPI_CALL layer_DestroyImage(VkDevice device, VkImage image, const VkAllocationCallbacks* pAllocator) {
  DeviceData* dd = deviceData(device);
  if (Recorder::recording()) {
    DestroyImage rec = {};
    rec.device[0] = h(device);
    rec.image[0] = h(image);
    Recorder::append(kDestroyImage, 0, rec);
  }
  dd->DestroyImage(device, image, pAllocator);
}

// ---- memory requirements ------------------------------------------------------------------------------------

uint32_t dedicatedFlags(const void* pNext) {
  for (auto* p = static_cast<const VkBaseInStructure*>(pNext); p; p = p->pNext) {
    if (p->sType != VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS) continue;
    auto* d = reinterpret_cast<const VkMemoryDedicatedRequirements*>(p);
    return kReqDedicatedKnown | (d->prefersDedicatedAllocation ? uint32_t(kReqPrefersDedicated) : 0u) |
           (d->requiresDedicatedAllocation ? uint32_t(kReqRequiresDedicated) : 0u);
  }
  return 0;
}

void recordBufferRequirements(VkDevice device, VkBuffer buffer, const VkMemoryRequirements& r, uint32_t flags,
                              uint16_t recordFlags) {
  BufferRequirements rec = {};
  rec.device[0] = h(device);
  rec.buffer[0] = h(buffer);
  rec.size[0] = r.size;
  rec.alignment[0] = r.alignment;
  rec.memoryTypeBits[0] = r.memoryTypeBits;
  rec.flags[0] = flags;
  Recorder::append(kBufferRequirements, recordFlags, rec);
}

void recordImageRequirements(VkDevice device, VkImage image, const VkMemoryRequirements& r, uint32_t flags,
                             uint32_t planeAspect, uint16_t recordFlags) {
  ImageRequirements rec = {};
  rec.device[0] = h(device);
  rec.image[0] = h(image);
  rec.size[0] = r.size;
  rec.alignment[0] = r.alignment;
  rec.memoryTypeBits[0] = r.memoryTypeBits;
  rec.flags[0] = flags;
  rec.planeAspect[0] = planeAspect;
  Recorder::append(kImageRequirements, recordFlags, rec);
}

uint32_t planeAspectOf(const void* pNext, VkStructureType sType) {
  for (auto* p = static_cast<const VkBaseInStructure*>(pNext); p; p = p->pNext) {
    if (p->sType != sType) continue;
    if (sType == VK_STRUCTURE_TYPE_IMAGE_PLANE_MEMORY_REQUIREMENTS_INFO)
      return reinterpret_cast<const VkImagePlaneMemoryRequirementsInfo*>(p)->planeAspect;
    return reinterpret_cast<const VkBindImagePlaneMemoryInfo*>(p)->planeAspect;
  }
  return 0;
}

VKAPI_ATTR void VKAPI_CALL layer_GetBufferMemoryRequirements(VkDevice device, VkBuffer buffer, VkMemoryRequirements* out) {
  deviceData(device)->GetBufferMemoryRequirements(device, buffer, out);
  if (Recorder::recording()) recordBufferRequirements(device, buffer, *out, 0, 0);
}

VKAPI_ATTR void VKAPI_CALL layer_GetImageMemoryRequirements(VkDevice device, VkImage image, VkMemoryRequirements* out) {
  deviceData(device)->GetImageMemoryRequirements(device, image, out);
  if (Recorder::recording()) recordImageRequirements(device, image, *out, 0, 0, 0);
}

template <bool Khr>
VKAPI_ATTR void VKAPI_CALL layer_GetBufferMemoryRequirements2(VkDevice device, const VkBufferMemoryRequirementsInfo2* info,
                                                              VkMemoryRequirements2* out) {
  DeviceData* dd = deviceData(device);
  (Khr ? dd->GetBufferMemoryRequirements2KHR : dd->GetBufferMemoryRequirements2)(device, info, out);
  if (Recorder::recording())
    recordBufferRequirements(device, info->buffer, out->memoryRequirements, dedicatedFlags(out->pNext), kFlagVariant2);
}

template <bool Khr>
VKAPI_ATTR void VKAPI_CALL layer_GetImageMemoryRequirements2(VkDevice device, const VkImageMemoryRequirementsInfo2* info,
                                                             VkMemoryRequirements2* out) {
  DeviceData* dd = deviceData(device);
  (Khr ? dd->GetImageMemoryRequirements2KHR : dd->GetImageMemoryRequirements2)(device, info, out);
  if (Recorder::recording())
    recordImageRequirements(device, info->image, out->memoryRequirements, dedicatedFlags(out->pNext),
                            planeAspectOf(info->pNext, VK_STRUCTURE_TYPE_IMAGE_PLANE_MEMORY_REQUIREMENTS_INFO),
                            kFlagVariant2);
}

// The layer's own query right after a successful bind, so every bound resource has its requirements.
void queryBufferAfterBind(DeviceData* dd, VkBuffer buffer) {
  if (dd->layerBufferRequirements2) {
    VkBufferMemoryRequirementsInfo2 info = {VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2, nullptr, buffer};
    VkMemoryDedicatedRequirements dedicated = {};
    dedicated.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS;
    VkMemoryRequirements2 out = {};
    out.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2;
    if (dd->dedicatedRequirements) out.pNext = &dedicated;
    dd->layerBufferRequirements2(dd->device, &info, &out);
    recordBufferRequirements(dd->device, buffer, out.memoryRequirements, kReqQueriedByLayer | dedicatedFlags(out.pNext),
                             kFlagVariant2);
  } else {
    VkMemoryRequirements r = {};
    dd->GetBufferMemoryRequirements(dd->device, buffer, &r);
    recordBufferRequirements(dd->device, buffer, r, kReqQueriedByLayer, 0);
  }
}

void queryImageAfterBind(DeviceData* dd, VkImage image, uint32_t planeAspect) {
  if (dd->layerImageRequirements2) {
    VkImagePlaneMemoryRequirementsInfo plane = {};
    plane.sType = VK_STRUCTURE_TYPE_IMAGE_PLANE_MEMORY_REQUIREMENTS_INFO;
    plane.planeAspect = static_cast<VkImageAspectFlagBits>(planeAspect);
    VkImageMemoryRequirementsInfo2 info = {VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2, planeAspect ? &plane : nullptr,
                                           image};
    VkMemoryDedicatedRequirements dedicated = {};
    dedicated.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS;
    VkMemoryRequirements2 out = {};
    out.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2;
    if (dd->dedicatedRequirements) out.pNext = &dedicated;
    dd->layerImageRequirements2(dd->device, &info, &out);
    recordImageRequirements(dd->device, image, out.memoryRequirements, kReqQueriedByLayer | dedicatedFlags(out.pNext),
                            planeAspect, kFlagVariant2);
  } else if (!planeAspect) {  // a disjoint plane needs the *2 query; without it the layer does not ask
    VkMemoryRequirements r = {};
    dd->GetImageMemoryRequirements(dd->device, image, &r);
    recordImageRequirements(dd->device, image, r, kReqQueriedByLayer, 0, 0);
  }
}

// ---- binds -------------------------------------------------------------------------------------------------

void recordBindBuffer(VkDevice device, VkBuffer buffer, VkDeviceMemory memory, VkDeviceSize offset, VkResult result,
                      uint16_t recordFlags) {
  BindBuffer rec = {};
  rec.device[0] = h(device);
  rec.buffer[0] = h(buffer);
  rec.memory[0] = h(memory);
  rec.offset[0] = offset;
  rec.result[0] = result;
  Recorder::append(kBindBuffer, recordFlags, rec);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_BindBufferMemory(VkDevice device, VkBuffer buffer, VkDeviceMemory memory,
                                                       VkDeviceSize offset) {
  DeviceData* dd = deviceData(device);
  VkResult result = dd->BindBufferMemory(device, buffer, memory, offset);
  if (Recorder::recording()) {
    recordBindBuffer(device, buffer, memory, offset, result, 0);
    if (result == VK_SUCCESS) queryBufferAfterBind(dd, buffer);
  }
  return result;
}

template <bool Khr>
VKAPI_ATTR VkResult VKAPI_CALL layer_BindBufferMemory2(VkDevice device, uint32_t count, const VkBindBufferMemoryInfo* infos) {
  DeviceData* dd = deviceData(device);
  VkResult result = (Khr ? dd->BindBufferMemory2KHR : dd->BindBufferMemory2)(device, count, infos);
  if (Recorder::recording()) {
    for (uint32_t i = 0; i < count; i++) {
      recordBindBuffer(device, infos[i].buffer, infos[i].memory, infos[i].memoryOffset, result, kFlagVariant2);
      if (result == VK_SUCCESS) queryBufferAfterBind(dd, infos[i].buffer);
    }
  }
  return result;
}

void recordBindImage(DeviceData* dd, const VkBindImageMemoryInfo& info, VkResult result, uint16_t recordFlags) {
  BindImage rec = {};
  rec.device[0] = h(dd->device);
  rec.image[0] = h(info.image);
  rec.memory[0] = h(info.memory);
  rec.offset[0] = info.memoryOffset;
  rec.result[0] = result;
  for (auto* p = static_cast<const VkBaseInStructure*>(info.pNext); p; p = p->pNext) {
    if (p->sType == VK_STRUCTURE_TYPE_BIND_IMAGE_PLANE_MEMORY_INFO) {
      rec.planeAspect[0] = reinterpret_cast<const VkBindImagePlaneMemoryInfo*>(p)->planeAspect;
    } else if (p->sType == VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_SWAPCHAIN_INFO_KHR) {
      auto* s = reinterpret_cast<const VkBindImageMemorySwapchainInfoKHR*>(p);
      rec.swapchain[0] = h(s->swapchain);
      rec.swapchainImageIndex[0] = s->imageIndex;
    }
  }
  Recorder::append(kBindImage, recordFlags, rec);
  if (result == VK_SUCCESS && !rec.swapchain[0] && info.memory) queryImageAfterBind(dd, info.image, rec.planeAspect[0]);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_BindImageMemory(VkDevice device, VkImage image, VkDeviceMemory memory,
                                                      VkDeviceSize offset) {
  DeviceData* dd = deviceData(device);
  VkResult result = dd->BindImageMemory(device, image, memory, offset);
  if (Recorder::recording()) {
    VkBindImageMemoryInfo info = {VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO, nullptr, image, memory, offset};
    recordBindImage(dd, info, result, 0);
  }
  return result;
}

template <bool Khr>
VKAPI_ATTR VkResult VKAPI_CALL layer_BindImageMemory2(VkDevice device, uint32_t count, const VkBindImageMemoryInfo* infos) {
  DeviceData* dd = deviceData(device);
  VkResult result = (Khr ? dd->BindImageMemory2KHR : dd->BindImageMemory2)(device, count, infos);
  if (Recorder::recording())
    for (uint32_t i = 0; i < count; i++) recordBindImage(dd, infos[i], result, kFlagVariant2);
  return result;
}

// ---- frames and names ----------------------------------------------------------------------------------------

VKAPI_ATTR VkResult VKAPI_CALL layer_QueuePresentKHR(VkQueue queue, const VkPresentInfoKHR* info) {
  DeviceData* dd = deviceData(queue);  // a queue has its device's dispatch key
  VkResult result = dd->QueuePresentKHR(queue, info);
  if (Recorder::recording()) {
    Present rec = {};
    rec.device[0] = h(dd->device);
    rec.queue[0] = h(queue);
    rec.frame[0] = dd->frames.fetch_add(1) + 1;
    rec.result[0] = result;
    rec.swapchainCount[0] = info->swapchainCount;
    if (info->swapchainCount) {
      rec.firstSwapchain[0] = h(info->pSwapchains[0]);
      rec.firstImageIndex[0] = info->pImageIndices[0];
    }
    Recorder::append(kPresent, 0, rec);
    sampleBudget(dd, kBudgetPresent);
  }
  return result;
}

void recordName(VkDevice device, uint64_t handle, uint32_t objectType, uint32_t source, const char* name) {
  ObjectName rec = {};
  rec.device[0] = h(device);
  rec.handle[0] = handle;
  rec.objectType[0] = objectType;
  rec.source[0] = source;
  TailString s = {name ? name : "", name ? std::strlen(name) : 0};
  Recorder::append(kObjectName, 0, &rec, sizeof rec, &s, 1);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_SetDebugUtilsObjectNameEXT(VkDevice device, const VkDebugUtilsObjectNameInfoEXT* info) {
  VkResult result = deviceData(device)->SetDebugUtilsObjectNameEXT(device, info);
  if (Recorder::recording() && result == VK_SUCCESS)
    recordName(device, info->objectHandle, info->objectType, 1, info->pObjectName);
  return result;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_DebugMarkerSetObjectNameEXT(VkDevice device, const VkDebugMarkerObjectNameInfoEXT* info) {
  VkResult result = deviceData(device)->DebugMarkerSetObjectNameEXT(device, info);
  if (Recorder::recording() && result == VK_SUCCESS) recordName(device, info->object, info->objectType, 2, info->pObjectName);
  return result;
}

struct NamedFunction {
  const char* name;
  PFN_vkVoidFunction function;
};

#define VRS_FN(name, fn) {name, reinterpret_cast<PFN_vkVoidFunction>(fn)}

const NamedFunction kResourceIntercepts[] = {
    VRS_FN("vkAllocateMemory", layer_AllocateMemory),
    VRS_FN("vkFreeMemory", layer_FreeMemory),
    VRS_FN("vkMapMemory", layer_MapMemory),
    VRS_FN("vkUnmapMemory", layer_UnmapMemory),
    VRS_FN("vkMapMemory2KHR", layer_MapMemory2KHR),
    VRS_FN("vkUnmapMemory2KHR", layer_UnmapMemory2KHR),
    VRS_FN("vkCreateBuffer", layer_CreateBuffer),
    VRS_FN("vkDestroyBuffer", layer_DestroyBuffer),
    VRS_FN("vkCreateImage", layer_CreateImage),
    VRS_FN("vkDestroyImage", layer_DestroyImage),
    VRS_FN("vkGetBufferMemoryRequirements", layer_GetBufferMemoryRequirements),
    VRS_FN("vkGetImageMemoryRequirements", layer_GetImageMemoryRequirements),
    VRS_FN("vkGetBufferMemoryRequirements2", layer_GetBufferMemoryRequirements2<false>),
    VRS_FN("vkGetBufferMemoryRequirements2KHR", layer_GetBufferMemoryRequirements2<true>),
    VRS_FN("vkGetImageMemoryRequirements2", layer_GetImageMemoryRequirements2<false>),
    VRS_FN("vkGetImageMemoryRequirements2KHR", layer_GetImageMemoryRequirements2<true>),
    VRS_FN("vkBindBufferMemory", layer_BindBufferMemory),
    VRS_FN("vkBindImageMemory", layer_BindImageMemory),
    VRS_FN("vkBindBufferMemory2", layer_BindBufferMemory2<false>),
    VRS_FN("vkBindBufferMemory2KHR", layer_BindBufferMemory2<true>),
    VRS_FN("vkBindImageMemory2", layer_BindImageMemory2<false>),
    VRS_FN("vkBindImageMemory2KHR", layer_BindImageMemory2<true>),
    VRS_FN("vkQueuePresentKHR", layer_QueuePresentKHR),
    VRS_FN("vkSetDebugUtilsObjectNameEXT", layer_SetDebugUtilsObjectNameEXT),
    VRS_FN("vkDebugMarkerSetObjectNameEXT", layer_DebugMarkerSetObjectNameEXT),
};

}  // namespace

PFN_vkVoidFunction findResourceIntercept(const char* name) {
  for (const NamedFunction& f : kResourceIntercepts)
    if (std::strcmp(f.name, name) == 0) return f.function;
  return nullptr;
}

}  // namespace vrscap
