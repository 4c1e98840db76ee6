// VK_LAYER_VRAMSCOPE_capture: the loader interface, per-instance and per-device dispatch, and the intercepts
// that record the application's memory activity (docs/capture.md). Every call is forwarded unchanged; the
// layer only adds pure queries (physical-device properties, memory requirements after a bind, memory budget
// when the application enabled VK_EXT_memory_budget). No lock is held across a call into the next layer.
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "recorder.h"

#define VRS_EXPORT extern "C" __attribute__((visibility("default")))

namespace vrscap {
namespace {

const char* const kLayerName = "VK_LAYER_VRAMSCOPE_capture";
const uint64_t kBudgetIntervalNs = 100'000'000;   // at most one Budget per device per 100 ms
const uint64_t kBudgetHeartbeatNs = 1'000'000'000;  // timer samples are written when changed, or after 1 s

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
uint64_t h(T handle) {
  return (uint64_t)(uintptr_t)handle;
}

void* dispatchKey(const void* dispatchable) { return *static_cast<void* const*>(dispatchable); }

uint32_t apiMajorMinor(uint32_t v) { return VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), 0); }
const uint32_t kApi11 = VK_MAKE_API_VERSION(0, 1, 1, 0);
const uint32_t kApi12 = VK_MAKE_API_VERSION(0, 1, 2, 0);

bool hasName(const std::vector<std::string>& names, const char* name) {
  for (const std::string& n : names)
    if (n == name) return true;
  return false;
}

std::string joinNames(const char* const* names, uint32_t count) {
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

// Registries. Heap-allocated and never destroyed: at exit, C++ static destructors run before the library's
// ELF destructor that stops the writer thread, which may still be sampling budgets from gDevices.
std::mutex& gInstanceMutex = *new std::mutex();
std::unordered_map<void*, InstanceData*>& gInstances = *new std::unordered_map<void*, InstanceData*>();  // by dispatch key

// Devices by dispatch key (queues share their device's key). DeviceData is never freed, so a stale pointer
// in a thread's cache cannot dangle; the generation counter makes those caches miss after any change.
std::mutex& gDeviceMutex = *new std::mutex();
std::unordered_map<void*, DeviceData*>& gDevices = *new std::unordered_map<void*, DeviceData*>();
std::atomic<uint64_t> gDeviceGeneration{1};
struct DeviceCache {
  void* key = nullptr;
  DeviceData* data = nullptr;
  uint64_t generation = 0;
};
thread_local DeviceCache tlsDeviceCache;

InstanceData* instanceData(const void* dispatchable) {
  std::lock_guard<std::mutex> lock(gInstanceMutex);
  auto it = gInstances.find(dispatchKey(dispatchable));
  if (it != gInstances.end()) return it->second;
  return nullptr;
}

// Physical devices share their instance's dispatch key under the loader; with one instance, use it anyway.
InstanceData* instanceForPhysicalDevice(VkPhysicalDevice physicalDevice) {
  std::lock_guard<std::mutex> lock(gInstanceMutex);
  auto it = gInstances.find(dispatchKey(physicalDevice));
  if (it != gInstances.end()) return it->second;
  if (gInstances.size() == 1) return gInstances.begin()->second;
  return nullptr;
}

DeviceData* deviceData(const void* dispatchable) {
  void* key = dispatchKey(dispatchable);
  uint64_t generation = gDeviceGeneration.load(std::memory_order_acquire);
  DeviceCache& cache = tlsDeviceCache;
  if (cache.key == key && cache.generation == generation) return cache.data;
  DeviceData* data = nullptr;
  {
    std::lock_guard<std::mutex> lock(gDeviceMutex);
    auto it = gDevices.find(key);
    if (it != gDevices.end()) data = it->second;
  }
  cache = {key, data, generation};
  return data;
}

// ---- budget ----------------------------------------------------------------------------------------------

enum BudgetTrigger : uint32_t { kBudgetPresent = 1, kBudgetTimer = 2, kBudgetDeviceCreate = 3 };

void sampleBudget(DeviceData* dd, BudgetTrigger trigger) {
  if (!dd->budgetQuery || !Recorder::recording()) return;
  uint64_t now = Recorder::monotonicNs();
  uint64_t last = dd->lastBudgetNs.load();
  if (trigger != kBudgetDeviceCreate && now - last < kBudgetIntervalNs) return;
  if (!dd->lastBudgetNs.compare_exchange_strong(last, now)) return;  // another thread is sampling right now

  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {};
  budget.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT;
  VkPhysicalDeviceMemoryProperties2 props = {};
  props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2;
  props.pNext = &budget;
  dd->budgetQuery(dd->physicalDevice, &props);

  Budget rec = {};
  rec.device[0] = h(dd->device);
  rec.heapCount[0] = dd->heapCount;
  rec.trigger[0] = trigger;
  for (uint32_t i = 0; i < dd->heapCount && i < kMaxHeaps; i++) {
    rec.heapBudget[i] = budget.heapBudget[i];
    rec.heapUsage[i] = budget.heapUsage[i];
  }
  {
    std::lock_guard<std::mutex> lock(dd->budgetMutex);
    if (trigger == kBudgetTimer && now - dd->writtenNs < kBudgetHeartbeatNs &&
        std::memcmp(dd->writtenBudget, rec.heapBudget, sizeof rec.heapBudget) == 0 &&
        std::memcmp(dd->writtenUsage, rec.heapUsage, sizeof rec.heapUsage) == 0)
      return;
    std::memcpy(dd->writtenBudget, rec.heapBudget, sizeof rec.heapBudget);
    std::memcpy(dd->writtenUsage, rec.heapUsage, sizeof rec.heapUsage);
    dd->writtenNs = now;
  }
  Recorder::append(kBudget, 0, &rec, sizeof rec, nullptr, 0, false);  // no call stack: not an application call
}

// Writer-thread timer (every ~50 ms): samples the budget of every device that has it.
void budgetTimer() {
  std::vector<DeviceData*> sampled;
  {
    std::lock_guard<std::mutex> lock(gDeviceMutex);
    for (auto& entry : gDevices) {
      if (!entry.second->budgetQuery) continue;
      entry.second->samplers.fetch_add(1);
      sampled.push_back(entry.second);
    }
  }
  for (DeviceData* dd : sampled) {
    sampleBudget(dd, kBudgetTimer);
    dd->samplers.fetch_sub(1);
  }
}

// Removes a device from the registry and waits until the writer thread no longer samples it.
void unregisterDevice(DeviceData* dd) {
  {
    std::lock_guard<std::mutex> lock(gDeviceMutex);
    auto it = gDevices.find(dispatchKey(dd->device));
    if (it != gDevices.end() && it->second == dd) gDevices.erase(it);
    gDeviceGeneration.fetch_add(1, std::memory_order_release);
  }
  while (dd->samplers.load() != 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

// ---- instance --------------------------------------------------------------------------------------------

VKAPI_ATTR VkResult VKAPI_CALL layer_CreateInstance(const VkInstanceCreateInfo* pCreateInfo,
                                                     const VkAllocationCallbacks* pAllocator, VkInstance* pInstance) {
  auto* chain = reinterpret_cast<VkLayerInstanceCreateInfo*>(const_cast<void*>(pCreateInfo->pNext));
  while (chain && !(chain->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && chain->function == VK_LAYER_LINK_INFO))
    chain = reinterpret_cast<VkLayerInstanceCreateInfo*>(const_cast<void*>(chain->pNext));
  if (!chain || !chain->u.pLayerInfo) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr nextGipa = chain->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  auto nextCreate = reinterpret_cast<PFN_vkCreateInstance>(nextGipa(VK_NULL_HANDLE, "vkCreateInstance"));
  if (!nextCreate) return VK_ERROR_INITIALIZATION_FAILED;
  chain->u.pLayerInfo = chain->u.pLayerInfo->pNext;  // the next layer finds its own link

  Recorder::start();
  VkResult result = nextCreate(pCreateInfo, pAllocator, pInstance);
  const VkApplicationInfo* app = pCreateInfo->pApplicationInfo;
  if (result == VK_SUCCESS) {
    auto* id = new InstanceData();
    id->instance = *pInstance;
    id->gipa = nextGipa;
    VkInstance inst = *pInstance;
#define VRS_LOAD(name) id->name = reinterpret_cast<PFN_vk##name>(nextGipa(inst, "vk" #name))
    VRS_LOAD(DestroyInstance);
    VRS_LOAD(EnumerateDeviceExtensionProperties);
    VRS_LOAD(GetPhysicalDeviceProperties);
    VRS_LOAD(GetPhysicalDeviceMemoryProperties);
    VRS_LOAD(GetPhysicalDeviceProperties2);
    VRS_LOAD(GetPhysicalDeviceProperties2KHR);
    VRS_LOAD(GetPhysicalDeviceMemoryProperties2);
    VRS_LOAD(GetPhysicalDeviceMemoryProperties2KHR);
#undef VRS_LOAD
    if (app && app->apiVersion) id->apiVersion = app->apiVersion;
    for (uint32_t i = 0; i < pCreateInfo->enabledExtensionCount; i++)
      if (std::strcmp(pCreateInfo->ppEnabledExtensionNames[i], VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME) == 0)
        id->properties2Khr = true;
    std::lock_guard<std::mutex> lock(gInstanceMutex);
    gInstances[dispatchKey(*pInstance)] = id;
  }
  if (Recorder::recording()) {
    InstanceCreate rec = {};
    rec.instance[0] = result == VK_SUCCESS ? h(*pInstance) : 0;
    rec.result[0] = result;
    std::string appName, engineName;
    if (app) {
      rec.apiVersion[0] = app->apiVersion;
      rec.applicationVersion[0] = app->applicationVersion;
      rec.engineVersion[0] = app->engineVersion;
      if (app->pApplicationName) appName = app->pApplicationName;
      if (app->pEngineName) engineName = app->pEngineName;
    }
    std::string extensions = joinNames(pCreateInfo->ppEnabledExtensionNames, pCreateInfo->enabledExtensionCount);
    TailString strings[3] = {{appName.data(), appName.size()},
                             {engineName.data(), engineName.size()},
                             {extensions.data(), extensions.size()}};
    Recorder::append(kInstanceCreate, 0, &rec, sizeof rec, strings, 3);
  }
  return result;
}

VKAPI_ATTR void VKAPI_CALL layer_DestroyInstance(VkInstance instance, const VkAllocationCallbacks* pAllocator) {
  if (!instance) return;
  InstanceData* id = nullptr;
  {
    std::lock_guard<std::mutex> lock(gInstanceMutex);
    auto it = gInstances.find(dispatchKey(instance));
    if (it == gInstances.end()) return;
    id = it->second;
    gInstances.erase(it);
  }
  // Devices the application leaked on this instance: stop sampling their budget before the instance goes.
  std::vector<DeviceData*> leaked;
  {
    std::lock_guard<std::mutex> lock(gDeviceMutex);
    for (auto& entry : gDevices)
      if (entry.second->instance == id) leaked.push_back(entry.second);
  }
  for (DeviceData* dd : leaked) unregisterDevice(dd);
  InstanceDestroy rec = {};
  rec.instance[0] = h(instance);
  Recorder::append(kInstanceDestroy, 0, rec);
  id->DestroyInstance(instance, pAllocator);
  delete id;
}

// ---- device ----------------------------------------------------------------------------------------------

// Fills the DeviceCreate description from the physical-device queries (pure queries, no state change).
void describeDevice(InstanceData* id, VkPhysicalDevice pd, const VkDeviceCreateInfo* ci, DeviceCreate& rec,
                    std::string& name, std::string& driverName, std::string& driverInfo, uint32_t& effectiveApi,
                    std::vector<std::string>& enabled) {
  VkPhysicalDeviceProperties props = {};
  id->GetPhysicalDeviceProperties(pd, &props);
  VkPhysicalDeviceMemoryProperties mem = {};
  id->GetPhysicalDeviceMemoryProperties(pd, &mem);
  effectiveApi = std::min(apiMajorMinor(id->apiVersion), apiMajorMinor(props.apiVersion));

  std::vector<std::string> supported;
  uint32_t count = 0;
  if (id->EnumerateDeviceExtensionProperties &&
      id->EnumerateDeviceExtensionProperties(pd, nullptr, &count, nullptr) == VK_SUCCESS && count) {
    std::vector<VkExtensionProperties> list(count);
    if (id->EnumerateDeviceExtensionProperties(pd, nullptr, &count, list.data()) >= VK_SUCCESS)
      for (uint32_t i = 0; i < count; i++) supported.emplace_back(list[i].extensionName);
  }
  for (uint32_t i = 0; i < ci->enabledExtensionCount; i++) enabled.emplace_back(ci->ppEnabledExtensionNames[i]);

  uint32_t features = 0;
  PFN_vkGetPhysicalDeviceProperties2 props2 = nullptr;
  if (effectiveApi >= kApi11 && id->GetPhysicalDeviceProperties2) props2 = id->GetPhysicalDeviceProperties2;
  else if (id->properties2Khr) props2 = id->GetPhysicalDeviceProperties2KHR;
  if (props2) {
    VkPhysicalDeviceProperties2 p2 = {};
    p2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    VkPhysicalDeviceDriverProperties driver = {};
    driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    VkPhysicalDeviceMaintenance3Properties m3 = {};
    m3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
    bool hasDriver = effectiveApi >= kApi12 || hasName(supported, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME);
    bool hasM3 = effectiveApi >= kApi11 || hasName(supported, VK_KHR_MAINTENANCE_3_EXTENSION_NAME);
    void** tail = &p2.pNext;
    if (hasDriver) {
      *tail = &driver;
      tail = &driver.pNext;
    }
    if (hasM3) *tail = &m3;
    props2(pd, &p2);
    if (hasDriver) {
      features |= kDevDriverProperties;
      rec.driverId[0] = driver.driverID;
      driverName.assign(driver.driverName, strnlen(driver.driverName, VK_MAX_DRIVER_NAME_SIZE));
      driverInfo.assign(driver.driverInfo, strnlen(driver.driverInfo, VK_MAX_DRIVER_INFO_SIZE));
    }
    if (hasM3) {
      features |= kDevMaintenance3;
      rec.maxMemoryAllocationSize[0] = m3.maxMemoryAllocationSize;
    }
  }
  if (hasName(enabled, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME)) features |= kDevMemoryBudget;
  if (effectiveApi >= kApi11 || hasName(enabled, VK_KHR_DEDICATED_ALLOCATION_EXTENSION_NAME))
    features |= kDevDedicatedAllocation;
  if (hasName(enabled, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME)) features |= kDevMemoryPriority;
  if (hasName(enabled, "VK_KHR_map_memory2")) features |= kDevMapMemory2;
  if (hasName(enabled, VK_EXT_DEBUG_MARKER_EXTENSION_NAME)) features |= kDevDebugMarker;
  for (auto* p = static_cast<const VkBaseInStructure*>(ci->pNext); p; p = p->pNext) {
    if (p->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES &&
        reinterpret_cast<const VkPhysicalDeviceVulkan12Features*>(p)->bufferDeviceAddress)
      features |= kDevBufferDeviceAddress;
    if (p->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_BUFFER_DEVICE_ADDRESS_FEATURES &&
        reinterpret_cast<const VkPhysicalDeviceBufferDeviceAddressFeatures*>(p)->bufferDeviceAddress)
      features |= kDevBufferDeviceAddress;
    if (p->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_BUFFER_DEVICE_ADDRESS_FEATURES_EXT &&
        reinterpret_cast<const VkPhysicalDeviceBufferDeviceAddressFeaturesEXT*>(p)->bufferDeviceAddress)
      features |= kDevBufferDeviceAddress;
  }

  rec.physicalDevice[0] = h(pd);
  rec.instance[0] = h(id->instance);
  rec.apiVersion[0] = props.apiVersion;
  rec.driverVersion[0] = props.driverVersion;
  rec.vendorId[0] = props.vendorID;
  rec.deviceId[0] = props.deviceID;
  rec.deviceType[0] = props.deviceType;
  rec.features[0] = features;
  rec.heapCount[0] = mem.memoryHeapCount;
  rec.typeCount[0] = mem.memoryTypeCount;
  rec.maxMemoryAllocationCount[0] = props.limits.maxMemoryAllocationCount;
  rec.bufferImageGranularity[0] = props.limits.bufferImageGranularity;
  rec.nonCoherentAtomSize[0] = props.limits.nonCoherentAtomSize;
  rec.minMemoryMapAlignment[0] = props.limits.minMemoryMapAlignment;
  for (uint32_t i = 0; i < mem.memoryHeapCount && i < kMaxHeaps; i++) {
    rec.heapSize[i] = mem.memoryHeaps[i].size;
    rec.heapFlags[i] = mem.memoryHeaps[i].flags;
  }
  for (uint32_t i = 0; i < mem.memoryTypeCount && i < kMaxTypes; i++) {
    rec.typePropertyFlags[i] = mem.memoryTypes[i].propertyFlags;
    rec.typeHeapIndex[i] = mem.memoryTypes[i].heapIndex;
  }
  name.assign(props.deviceName, strnlen(props.deviceName, VK_MAX_PHYSICAL_DEVICE_NAME_SIZE));
}

VKAPI_ATTR VkResult VKAPI_CALL layer_CreateDevice(VkPhysicalDevice physicalDevice, const VkDeviceCreateInfo* pCreateInfo,
                                                   const VkAllocationCallbacks* pAllocator, VkDevice* pDevice) {
  InstanceData* id = instanceForPhysicalDevice(physicalDevice);
  auto* chain = reinterpret_cast<VkLayerDeviceCreateInfo*>(const_cast<void*>(pCreateInfo->pNext));
  while (chain && !(chain->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && chain->function == VK_LAYER_LINK_INFO))
    chain = reinterpret_cast<VkLayerDeviceCreateInfo*>(const_cast<void*>(chain->pNext));
  if (!chain || !chain->u.pLayerInfo || !id) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr nextGipa = chain->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  PFN_vkGetDeviceProcAddr nextGdpa = chain->u.pLayerInfo->pfnNextGetDeviceProcAddr;
  auto nextCreate = reinterpret_cast<PFN_vkCreateDevice>(nextGipa(id->instance, "vkCreateDevice"));
  if (!nextCreate) return VK_ERROR_INITIALIZATION_FAILED;
  chain->u.pLayerInfo = chain->u.pLayerInfo->pNext;

  VkResult result = nextCreate(physicalDevice, pCreateInfo, pAllocator, pDevice);

  DeviceCreate rec = {};
  std::string name, driverName, driverInfo;
  uint32_t effectiveApi = VK_API_VERSION_1_0;
  std::vector<std::string> enabled;
  describeDevice(id, physicalDevice, pCreateInfo, rec, name, driverName, driverInfo, effectiveApi, enabled);
  rec.result[0] = result;
  DeviceData* dd = nullptr;
  if (result == VK_SUCCESS) {
    dd = new DeviceData();
    VkDevice device = *pDevice;
    dd->device = device;
    dd->physicalDevice = physicalDevice;
    dd->instance = id;
    dd->gdpa = nextGdpa;
#define VRS_LOAD(name) dd->name = reinterpret_cast<decltype(dd->name)>(nextGdpa(device, "vk" #name))
    VRS_LOAD(DestroyDevice);
    VRS_LOAD(AllocateMemory);
    VRS_LOAD(FreeMemory);
    VRS_LOAD(MapMemory);
    VRS_LOAD(UnmapMemory);
    VRS_LOAD(MapMemory2KHR);
    VRS_LOAD(UnmapMemory2KHR);
    VRS_LOAD(CreateBuffer);
    VRS_LOAD(DestroyBuffer);
    VRS_LOAD(CreateImage);
    VRS_LOAD(DestroyImage);
    VRS_LOAD(GetBufferMemoryRequirements);
    VRS_LOAD(GetImageMemoryRequirements);
    VRS_LOAD(GetBufferMemoryRequirements2);
    VRS_LOAD(GetBufferMemoryRequirements2KHR);
    VRS_LOAD(GetImageMemoryRequirements2);
    VRS_LOAD(GetImageMemoryRequirements2KHR);
    VRS_LOAD(BindBufferMemory);
    VRS_LOAD(BindImageMemory);
    VRS_LOAD(BindBufferMemory2);
    VRS_LOAD(BindBufferMemory2KHR);
    VRS_LOAD(BindImageMemory2);
    VRS_LOAD(BindImageMemory2KHR);
    VRS_LOAD(QueuePresentKHR);
    VRS_LOAD(SetDebugUtilsObjectNameEXT);
    VRS_LOAD(DebugMarkerSetObjectNameEXT);
#undef VRS_LOAD
    bool requirements2Khr = hasName(enabled, VK_KHR_GET_MEMORY_REQUIREMENTS_2_EXTENSION_NAME);
    if (effectiveApi >= kApi11 && dd->GetBufferMemoryRequirements2) {
      dd->layerBufferRequirements2 = dd->GetBufferMemoryRequirements2;
      dd->layerImageRequirements2 = dd->GetImageMemoryRequirements2;
    } else if (requirements2Khr) {
      dd->layerBufferRequirements2 = dd->GetBufferMemoryRequirements2KHR;
      dd->layerImageRequirements2 = dd->GetImageMemoryRequirements2KHR;
    }
    dd->dedicatedRequirements = dd->layerBufferRequirements2 && (rec.features[0] & kDevDedicatedAllocation);
    if (rec.features[0] & kDevMemoryBudget) {
      if (effectiveApi >= kApi11 && id->GetPhysicalDeviceMemoryProperties2)
        dd->budgetQuery = id->GetPhysicalDeviceMemoryProperties2;
      else if (id->properties2Khr)
        dd->budgetQuery = id->GetPhysicalDeviceMemoryProperties2KHR;
    }
    dd->heapCount = rec.heapCount[0];
    rec.device[0] = h(device);
    std::lock_guard<std::mutex> lock(gDeviceMutex);
    gDevices[dispatchKey(device)] = dd;
    gDeviceGeneration.fetch_add(1, std::memory_order_release);
  }
  if (Recorder::recording()) {
    std::string extensions = joinNames(pCreateInfo->ppEnabledExtensionNames, pCreateInfo->enabledExtensionCount);
    TailString strings[4] = {{name.data(), name.size()},
                             {driverName.data(), driverName.size()},
                             {driverInfo.data(), driverInfo.size()},
                             {extensions.data(), extensions.size()}};
    Recorder::append(kDeviceCreate, 0, &rec, sizeof rec, strings, 4);
    if (dd) sampleBudget(dd, kBudgetDeviceCreate);
  }
  return result;
}

VKAPI_ATTR void VKAPI_CALL layer_DestroyDevice(VkDevice device, const VkAllocationCallbacks* pAllocator) {
  if (!device) return;
  DeviceData* dd = deviceData(device);
  if (!dd) return;
  unregisterDevice(dd);
  DeviceDestroy rec = {};
  rec.device[0] = h(device);
  Recorder::append(kDeviceDestroy, 0, rec);
  dd->DestroyDevice(device, pAllocator);
  // dd is deliberately not freed: see gDevices.
}

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

// ---- lookup tables -----------------------------------------------------------------------------------------

struct NamedFunction {
  const char* name;
  PFN_vkVoidFunction function;
};

#define VRS_FN(name, fn) {name, reinterpret_cast<PFN_vkVoidFunction>(fn)}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetDeviceProcAddr(VkDevice device, const char* pName);

const NamedFunction kDeviceFunctions[] = {
    VRS_FN("vkGetDeviceProcAddr", layer_GetDeviceProcAddr),
    VRS_FN("vkDestroyDevice", layer_DestroyDevice),
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

PFN_vkVoidFunction findDeviceFunction(const char* name) {
  for (const NamedFunction& f : kDeviceFunctions)
    if (std::strcmp(f.name, name) == 0) return f.function;
  return nullptr;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetDeviceProcAddr(VkDevice device, const char* pName) {
  if (std::strcmp(pName, "vkGetDeviceProcAddr") == 0) return reinterpret_cast<PFN_vkVoidFunction>(layer_GetDeviceProcAddr);
  DeviceData* dd = deviceData(device);
  if (!dd) return nullptr;
  PFN_vkVoidFunction next = dd->gdpa(device, pName);
  if (!next) return nullptr;  // not enabled on this device: the specification requires NULL
  PFN_vkVoidFunction ours = findDeviceFunction(pName);
  return ours ? ours : next;
}

}  // namespace

// ---- instance-level entry points (loader interface) --------------------------------------------------------

namespace {

VKAPI_ATTR VkResult VKAPI_CALL layer_EnumerateInstanceLayerProperties(uint32_t* pCount, VkLayerProperties* pProperties) {
  if (!pProperties) {
    *pCount = 1;
    return VK_SUCCESS;
  }
  if (*pCount < 1) return VK_INCOMPLETE;
  VkLayerProperties p = {};
  std::strncpy(p.layerName, kLayerName, VK_MAX_EXTENSION_NAME_SIZE - 1);
  p.specVersion = VK_MAKE_API_VERSION(0, 1, 3, 239);
  p.implementationVersion = 1;
  std::strncpy(p.description, "VRAMscope capture: records the application's GPU memory activity",
               VK_MAX_DESCRIPTION_SIZE - 1);
  *pProperties = p;
  *pCount = 1;
  return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_EnumerateInstanceExtensionProperties(const char* pLayerName, uint32_t* pCount,
                                                                          VkExtensionProperties*) {
  if (!pLayerName || std::strcmp(pLayerName, kLayerName) != 0) return VK_ERROR_LAYER_NOT_PRESENT;
  *pCount = 0;
  return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL layer_EnumerateDeviceLayerProperties(VkPhysicalDevice, uint32_t* pCount,
                                                                    VkLayerProperties* pProperties) {
  return layer_EnumerateInstanceLayerProperties(pCount, pProperties);
}

VKAPI_ATTR VkResult VKAPI_CALL layer_EnumerateDeviceExtensionProperties(VkPhysicalDevice physicalDevice, const char* pLayerName,
                                                                        uint32_t* pCount, VkExtensionProperties* pProperties) {
  if (pLayerName && std::strcmp(pLayerName, kLayerName) == 0) {
    *pCount = 0;
    return VK_SUCCESS;
  }
  InstanceData* id = instanceForPhysicalDevice(physicalDevice);
  if (!id || !id->EnumerateDeviceExtensionProperties) return VK_ERROR_INITIALIZATION_FAILED;
  return id->EnumerateDeviceExtensionProperties(physicalDevice, pLayerName, pCount, pProperties);
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetInstanceProcAddr(VkInstance instance, const char* pName);

const NamedFunction kInstanceFunctions[] = {
    VRS_FN("vkGetInstanceProcAddr", layer_GetInstanceProcAddr),
    VRS_FN("vkCreateInstance", layer_CreateInstance),
    VRS_FN("vkDestroyInstance", layer_DestroyInstance),
    VRS_FN("vkCreateDevice", layer_CreateDevice),
    VRS_FN("vkEnumerateInstanceLayerProperties", layer_EnumerateInstanceLayerProperties),
    VRS_FN("vkEnumerateInstanceExtensionProperties", layer_EnumerateInstanceExtensionProperties),
    VRS_FN("vkEnumerateDeviceLayerProperties", layer_EnumerateDeviceLayerProperties),
    VRS_FN("vkEnumerateDeviceExtensionProperties", layer_EnumerateDeviceExtensionProperties),
};

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetInstanceProcAddr(VkInstance instance, const char* pName) {
  for (const NamedFunction& f : kInstanceFunctions)
    if (std::strcmp(f.name, pName) == 0) return f.function;
  if (!instance) return nullptr;
  InstanceData* id = instanceData(instance);
  if (!id) return nullptr;
  PFN_vkVoidFunction next = id->gipa(instance, pName);
  if (!next) return nullptr;
  PFN_vkVoidFunction ours = findDeviceFunction(pName);
  return ours ? ours : next;
}

struct TimerHookInstaller {
  TimerHookInstaller() { Recorder::setTimerHook(budgetTimer); }
} gTimerHookInstaller;

// At process exit (the library is linked -z nodelete, so this runs at exit, not when the loader closes it).
__attribute__((destructor)) void onProcessExit() { Recorder::finish(); }

}  // namespace
}  // namespace vrscap

using namespace vrscap;

VRS_EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface* pVersionStruct) {
  if (!pVersionStruct || pVersionStruct->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT) return VK_ERROR_INITIALIZATION_FAILED;
  if (pVersionStruct->loaderLayerInterfaceVersion >= 2) {
    pVersionStruct->pfnGetInstanceProcAddr = layer_GetInstanceProcAddr;
    pVersionStruct->pfnGetDeviceProcAddr = layer_GetDeviceProcAddr;
    pVersionStruct->pfnGetPhysicalDeviceProcAddr = nullptr;  // no physical-device functions intercepted
  }
  if (pVersionStruct->loaderLayerInterfaceVersion > 2) pVersionStruct->loaderLayerInterfaceVersion = 2;
  return VK_SUCCESS;
}

VRS_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetInstanceProcAddr(VkInstance instance, const char* pName) {
  return layer_GetInstanceProcAddr(instance, pName);
}

VRS_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice device, const char* pName) {
  return layer_GetDeviceProcAddr(device, pName);
}

VRS_EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkEnumerateInstanceLayerProperties(uint32_t* pCount, VkLayerProperties* pProperties) {
  return layer_EnumerateInstanceLayerProperties(pCount, pProperties);
}

VRS_EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkEnumerateInstanceExtensionProperties(const char* pLayerName, uint32_t* pCount,
                                                                                  VkExtensionProperties* pProperties) {
  return layer_EnumerateInstanceExtensionProperties(pLayerName, pCount, pProperties);
}

VRS_EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkEnumerateDeviceLayerProperties(VkPhysicalDevice physicalDevice, uint32_t* pCount,
                                                                            VkLayerProperties* pProperties) {
  return layer_EnumerateDeviceLayerProperties(physicalDevice, pCount, pProperties);
}

VRS_EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkEnumerateDeviceExtensionProperties(VkPhysicalDevice physicalDevice,
                                                                                const char* pLayerName, uint32_t* pCount,
                                                                                VkExtensionProperties* pProperties) {
  return layer_EnumerateDeviceExtensionProperties(physicalDevice, pLayerName, pCount, pProperties);
}
