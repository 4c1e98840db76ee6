// Dispatch data of the capture layer: what it keeps per VkInstance and per VkDevice (the next layer's entry
// points, the device's capabilities), the registries keyed by dispatch key, and budget sampling.
// Registries and DeviceData are never destroyed (see dispatch.cc).
#pragma once

#include <vulkan/vulkan.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "../capture_format.h"

namespace vrscap {

// VK_KHR_map_memory2 (not in every header this builds against): the structures as the registry defines them.
struct MemoryMapInfo {
  VkStructureType sType;
  const void* pNext;
  VkFlags flags;
  VkDeviceMemory memory;
  VkDeviceSize offset;
  VkDeviceSize size;
};
struct MemoryUnmapInfo {
  VkStructureType sType;
  const void* pNext;
  VkFlags flags;
  VkDeviceMemory memory;
};
typedef VkResult(VKAPI_PTR* PFN_MapMemory2)(VkDevice, const MemoryMapInfo*, void**);
typedef VkResult(VKAPI_PTR* PFN_UnmapMemory2)(VkDevice, const MemoryUnmapInfo*);

template <typename T>
inline uint64_t h(T handle) {
  return (uint64_t)(uintptr_t)handle;
}

inline void* dispatchKey(const void* dispatchable) { return *static_cast<void* const*>(dispatchable); }

inline uint32_t apiMajorMinor(uint32_t v) { return VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), 0); }
const uint32_t kApi11 = VK_MAKE_API_VERSION(0, 1, 1, 0);
const uint32_t kApi12 = VK_MAKE_API_VERSION(0, 1, 2, 0);

inline bool hasName(const std::vector<std::string>& names, const char* name) {
  for (const std::string& n : names)
    if (n == name) return true;
  return false;
}

inline std::string joinNames(const char* const* names, uint32_t count) {
  std::string s;
  for (uint32_t i = 0; i < count; i++) {
    if (i) s += ' ';
    s += names[i];
  }
  return s;
}

// ---- dispatch data -----------------------------------------------------------------------------------

struct InstanceData {
  VkInstance instance = VK_NULL_HANDLE;
  PFN_vkGetInstanceProcAddr gipa = nullptr;
  PFN_vkDestroyInstance DestroyInstance = nullptr;
  PFN_vkEnumerateDeviceExtensionProperties EnumerateDeviceExtensionProperties = nullptr;
  PFN_vkGetPhysicalDeviceProperties GetPhysicalDeviceProperties = nullptr;
  PFN_vkGetPhysicalDeviceMemoryProperties GetPhysicalDeviceMemoryProperties = nullptr;
  PFN_vkGetPhysicalDeviceProperties2 GetPhysicalDeviceProperties2 = nullptr;  // core 1.1
  PFN_vkGetPhysicalDeviceProperties2KHR GetPhysicalDeviceProperties2KHR = nullptr;
  PFN_vkGetPhysicalDeviceMemoryProperties2 GetPhysicalDeviceMemoryProperties2 = nullptr;
  PFN_vkGetPhysicalDeviceMemoryProperties2KHR GetPhysicalDeviceMemoryProperties2KHR = nullptr;
  uint32_t apiVersion = VK_API_VERSION_1_0;  // what the application asked for
  bool properties2Khr = false;               // VK_KHR_get_physical_device_properties2 enabled
};

struct DeviceData {
  VkDevice device = VK_NULL_HANDLE;
  VkPhysicalDevice physicalDevice = VK_NULL_HANDLE;
  InstanceData* instance = nullptr;
  PFN_vkGetDeviceProcAddr gdpa = nullptr;

  PFN_vkDestroyDevice DestroyDevice = nullptr;
  PFN_vkAllocateMemory AllocateMemory = nullptr;
  PFN_vkFreeMemory FreeMemory = nullptr;
  PFN_vkMapMemory MapMemory = nullptr;
  PFN_vkUnmapMemory UnmapMemory = nullptr;
  PFN_MapMemory2 MapMemory2KHR = nullptr;
  PFN_UnmapMemory2 UnmapMemory2KHR = nullptr;
  PFN_vkCreateBuffer CreateBuffer = nullptr;
  PFN_vkDestroyBuffer DestroyBuffer = nullptr;
  PFN_vkCreateImage CreateImage = nullptr;
  PFN_vkDestroyImage DestroyImage = nullptr;
  PFN_vkGetBufferMemoryRequirements GetBufferMemoryRequirements = nullptr;
  PFN_vkGetImageMemoryRequirements GetImageMemoryRequirements = nullptr;
  PFN_vkGetBufferMemoryRequirements2 GetBufferMemoryRequirements2 = nullptr;
  PFN_vkGetBufferMemoryRequirements2KHR GetBufferMemoryRequirements2KHR = nullptr;
  PFN_vkGetImageMemoryRequirements2 GetImageMemoryRequirements2 = nullptr;
  PFN_vkGetImageMemoryRequirements2KHR GetImageMemoryRequirements2KHR = nullptr;
  PFN_vkBindBufferMemory BindBufferMemory = nullptr;
  PFN_vkBindImageMemory BindImageMemory = nullptr;
  PFN_vkBindBufferMemory2 BindBufferMemory2 = nullptr;
  PFN_vkBindBufferMemory2KHR BindBufferMemory2KHR = nullptr;
  PFN_vkBindImageMemory2 BindImageMemory2 = nullptr;
  PFN_vkBindImageMemory2KHR BindImageMemory2KHR = nullptr;
  PFN_vkQueuePresentKHR QueuePresentKHR = nullptr;
  PFN_vkSetDebugUtilsObjectNameEXT SetDebugUtilsObjectNameEXT = nullptr;
  PFN_vkDebugMarkerSetObjectNameEXT DebugMarkerSetObjectNameEXT = nullptr;

  // The layer's own queries after a bind: the *2 form when the device has it (null: the 1.0 form).
  PFN_vkGetBufferMemoryRequirements2 layerBufferRequirements2 = nullptr;
  PFN_vkGetImageMemoryRequirements2 layerImageRequirements2 = nullptr;
  bool dedicatedRequirements = false;  // VkMemoryDedicatedRequirements may be chained

  // VK_EXT_memory_budget enabled by the application: the query to sample it (else null).
  PFN_vkGetPhysicalDeviceMemoryProperties2 budgetQuery = nullptr;
  uint32_t heapCount = 0;
  std::atomic<uint64_t> frames{0};
  std::atomic<uint64_t> lastBudgetNs{0};
  std::atomic<int> samplers{0};  // the writer thread is sampling this device's budget
  std::mutex budgetMutex;        // guards the last written values below (never held across a driver call)
  uint64_t writtenBudget[kMaxHeaps] = {};
  uint64_t writtenUsage[kMaxHeaps] = {};
  uint64_t writtenNs = 0;
};

// Registries (dispatch.cc). Lookups take a short lock, never held across a driver call; deviceData() is
// lock-free on a thread's repeated calls.
void registerInstance(VkInstance instance, InstanceData* data);
InstanceData* unregisterInstance(VkInstance instance);  // null if unknown
InstanceData* instanceData(const void* dispatchable);
InstanceData* instanceForPhysicalDevice(VkPhysicalDevice physicalDevice);
void registerDevice(VkDevice device, DeviceData* data);
// Removes a device from the registry and waits until the writer thread no longer samples it.
void unregisterDevice(DeviceData* dd);
std::vector<DeviceData*> devicesOfInstance(const InstanceData* id);
DeviceData* deviceData(const void* dispatchable);  // a VkDevice, VkQueue or VkCommandBuffer

enum BudgetTrigger : uint32_t { kBudgetPresent = 1, kBudgetTimer = 2, kBudgetDeviceCreate = 3 };
// Samples VK_EXT_memory_budget (devices where the app enabled it) into a Budget record, at most every 100 ms.
void sampleBudget(DeviceData* dd, BudgetTrigger trigger);
// The writer thread's timer hook: samples every device that has the budget extension.
void budgetTimer();

// Fills the DeviceCreate description from the physical-device queries (device_description.cc).
void describeDevice(InstanceData* id, VkPhysicalDevice pd, const VkDeviceCreateInfo* ci, DeviceCreate& rec,
                    std::string& name, std::string& driverName, std::string& driverInfo, uint32_t& effectiveApi,
                    std::vector<std::string>& enabled);

// The memory, resource, bind, present and naming intercepts (intercepts.cc), by Vulkan name; null if none.
PFN_vkVoidFunction findResourceIntercept(const char* name);

}  // namespace vrscap
