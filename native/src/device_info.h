// Instance creation and physical-device queries: what `enumerateDevices()` reports and what a Context uses to
// choose and open a device. Everything here is plain C++ data until ToJs() converts it.
#pragma once

#include <napi.h>
#include <vulkan/vulkan.h>

#include <set>
#include <string>
#include <vector>

namespace vramscope {

// The Vulkan version we ask the instance for: the loader's, capped at 1.3 (we need 1.1 at least).
uint32_t ChooseInstanceApiVersion(Napi::Env env);

// Creates an instance. With `validation`, VK_LAYER_KHRONOS_validation and VK_EXT_debug_utils are enabled and
// `messenger_info` (chained into pNext) receives the messages of vkCreateInstance/vkDestroyInstance.
VkInstance CreateInstance(Napi::Env env, uint32_t api_version, bool validation,
                          const VkDebugUtilsMessengerCreateInfoEXT* messenger_info);

// Whether this env holds the process-wide instance that keeps the drivers loaded between instances (made by
// the first CreateInstance of the env; see device_info.cc, "Keeping the drivers loaded").
bool DriverAnchorHeld();

struct PhysicalDeviceInfo {
  uint32_t index = 0;
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  std::string name;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  uint32_t vendor_id = 0;
  uint32_t device_id = 0;
  uint32_t driver_version = 0;
  uint32_t api_version = 0;        // what the device reports
  uint32_t effective_version = 0;  // min(instance, device): the core version usable on it
  std::string driver_name;         // VkPhysicalDeviceDriverProperties (1.2+), empty otherwise
  std::string driver_info;
  VkPhysicalDeviceMemoryProperties memory{};
  uint64_t buffer_image_granularity = 0;
  uint64_t non_coherent_atom_size = 0;
  uint32_t max_memory_allocation_count = 0;
  uint64_t max_memory_allocation_size = 0;
  std::set<std::string> extensions;
  bool memory_budget = false;          // VK_EXT_memory_budget
  bool dedicated_allocation = false;   // VK_KHR_dedicated_allocation or core 1.1
  bool buffer_device_address = false;  // the bufferDeviceAddress feature (core 1.2 or VK_KHR_buffer_device_address)
  bool bda_needs_khr_extension = false;

  bool HasExtension(const char* name) const { return extensions.count(name) != 0; }
};

std::vector<PhysicalDeviceInfo> QueryPhysicalDevices(Napi::Env env, VkInstance instance, uint32_t instance_api);

// Index of the default device: discrete > integrated > virtual > cpu > other; the first of the best kind.
uint32_t ChooseDefaultDevice(const std::vector<PhysicalDeviceInfo>& devices);

const char* DeviceTypeName(VkPhysicalDeviceType type);

// Per-heap budget and usage (VK_EXT_memory_budget). Empty when the device lacks the extension.
struct HeapBudget {
  uint32_t heap_index;
  uint64_t budget;
  uint64_t usage;
};
std::vector<HeapBudget> QueryBudgets(const PhysicalDeviceInfo& info);

Napi::Object ToJs(Napi::Env env, const PhysicalDeviceInfo& info);
Napi::Value BudgetsToJs(Napi::Env env, const PhysicalDeviceInfo& info);

}  // namespace vramscope
