// The device description of a DeviceCreate record, from the physical-device queries only (pure queries).
#include <algorithm>
#include <cstring>

#include "dispatch.h"

namespace vrscap {
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

}  // namespace vrscap
