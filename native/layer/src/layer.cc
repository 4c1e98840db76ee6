// VK_LAYER_VRAMSCOPE_capture: the loader interface, per-instance and per-device dispatch, and the intercepts
// that record the application's memory activity (docs/capture.md). Every call is forwarded unchanged; the
// layer only adds pure queries (physical-device properties, memory requirements after a bind, memory budget
// when the application enabled VK_EXT_memory_budget). No lock is held across a call into the next layer.
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#include <cstring>
#include <string>
#include <vector>

#include "dispatch.h"
#include "recorder.h"

#define VRS_EXPORT extern "C" __attribute__((visibility("default")))

namespace vrscap {
namespace {

const char* const kLayerName = "VK_LAYER_VRAMSCOPE_capture";
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
    registerInstance(*pInstance, id);
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
  InstanceData* id = unregisterInstance(instance);
  if (!id) return;
  // Devices the application leaked on this instance: stop sampling their budget before the instance goes.
  for (DeviceData* dd : devicesOfInstance(id)) unregisterDevice(dd);
  InstanceDestroy rec = {};
  rec.instance[0] = h(instance);
  Recorder::append(kInstanceDestroy, 0, rec);
  id->DestroyInstance(instance, pAllocator);
  delete id;
}

// ---- device ----------------------------------------------------------------------------------------------

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
    registerDevice(device, dd);
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
  // dd is deliberately not freed: see dispatch.cc.
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
};

PFN_vkVoidFunction findDeviceFunction(const char* name) {
  for (const NamedFunction& f : kDeviceFunctions)
    if (std::strcmp(f.name, name) == 0) return f.function;
  return findResourceIntercept(name);
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
