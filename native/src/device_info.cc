#include "device_info.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "vk_common.h"

namespace vramscope {

namespace {
constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

bool LayerAvailable(const char* name) {
  uint32_t count = 0;
  if (vkEnumerateInstanceLayerProperties(&count, nullptr) != VK_SUCCESS) return false;
  std::vector<VkLayerProperties> layers(count);
  if (vkEnumerateInstanceLayerProperties(&count, layers.data()) != VK_SUCCESS) return false;
  for (const VkLayerProperties& layer : layers) {
    if (std::strcmp(layer.layerName, name) == 0) return true;
  }
  return false;
}

// Keeping the drivers loaded. The loader loads the ICD libraries in vkCreateInstance and unloads them when
// the last instance is destroyed, so a process that opens and closes devices one after another (the bench's
// fresh device per run, a server that lists devices and opens sessions for hours) reloads the driver each
// time. NVIDIA's driver 580 does not survive that: measured on an H200, the 29th create/destroy cycle in a
// process fails with VK_ERROR_INCOMPATIBLE_DRIVER ("Could not get 'vkCreateInstance' via
// 'vk_icdGetInstanceProcAddr'"), and every later one too; with one instance held open meanwhile, 200 cycles
// pass. So after the first instance of an env is created, the env holds a reference on one process-wide
// instance without layers or extensions (the anchor), released by the env's cleanup hook; the last reference
// destroys it. The anchor is never used for anything; it only keeps the ICD libraries loaded.
std::mutex g_anchor_mutex;
VkInstance g_anchor = VK_NULL_HANDLE;
uint32_t g_anchor_refs = 0;
// Whether this thread's env holds a reference (each Node-API env runs on its own thread).
thread_local bool t_holds_anchor = false;

void ReleaseDriverAnchor() {
  std::lock_guard<std::mutex> lock(g_anchor_mutex);
  if (!t_holds_anchor) return;
  t_holds_anchor = false;
  if (--g_anchor_refs == 0 && g_anchor != VK_NULL_HANDLE) {
    vkDestroyInstance(g_anchor, nullptr);
    g_anchor = VK_NULL_HANDLE;
  }
}

// Best effort: if the anchor cannot be created, instances work as before (the drivers reload).
void HoldDriverAnchor(Napi::Env env, const VkApplicationInfo& app) {
  {
    std::lock_guard<std::mutex> lock(g_anchor_mutex);
    if (t_holds_anchor) return;
    if (g_anchor == VK_NULL_HANDLE) {
      VkInstanceCreateInfo info{};
      info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
      info.pApplicationInfo = &app;
      if (vkCreateInstance(&info, nullptr, &g_anchor) != VK_SUCCESS) {
        g_anchor = VK_NULL_HANDLE;
        return;
      }
    }
    g_anchor_refs++;
    t_holds_anchor = true;
  }
  env.AddCleanupHook([]() { ReleaseDriverAnchor(); });
}
}  // namespace

bool DriverAnchorHeld() {
  std::lock_guard<std::mutex> lock(g_anchor_mutex);
  return t_holds_anchor && g_anchor != VK_NULL_HANDLE;
}

uint32_t ChooseInstanceApiVersion(Napi::Env env) {
  uint32_t loader = VK_API_VERSION_1_0;
  VkResult r = vkEnumerateInstanceVersion(&loader);
  if (r != VK_SUCCESS) ThrowVk(env, "vkEnumerateInstanceVersion", r, "");
  if (loader < VK_API_VERSION_1_1) {
    ThrowCoded(env, ErrorKind::kError, "VK_ERROR_INCOMPATIBLE_DRIVER",
               "the Vulkan loader supports only " + FormatApiVersion(loader) + "; VRAMscope needs Vulkan 1.1");
  }
  return std::min<uint32_t>(VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(loader), VK_API_VERSION_MINOR(loader), 0),
                            VK_API_VERSION_1_3);
}

VkInstance CreateInstance(Napi::Env env, uint32_t api_version, bool validation,
                          const VkDebugUtilsMessengerCreateInfoEXT* messenger_info) {
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "VRAMscope";
  app.applicationVersion = VK_MAKE_API_VERSION(0, 0, 1, 0);
  app.pEngineName = "VRAMscope";
  app.apiVersion = api_version;

  std::vector<const char*> layers;
  std::vector<const char*> extensions;
  if (validation) {
    if (!LayerAvailable(kValidationLayer)) {
      ThrowCoded(env, ErrorKind::kError, "VK_ERROR_LAYER_NOT_PRESENT",
                 "validation was requested but VK_LAYER_KHRONOS_validation is not installed "
                 "(Debian/Ubuntu: apt-get install vulkan-validationlayers)");
    }
    layers.push_back(kValidationLayer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }

  VkInstanceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  info.pNext = validation ? messenger_info : nullptr;
  info.pApplicationInfo = &app;
  info.enabledLayerCount = static_cast<uint32_t>(layers.size());
  info.ppEnabledLayerNames = layers.data();
  info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();

  VkInstance instance = VK_NULL_HANDLE;
  VkResult r = vkCreateInstance(&info, nullptr, &instance);
  if (r != VK_SUCCESS) ThrowVk(env, "vkCreateInstance", r, validation ? "with the validation layer" : "");
  HoldDriverAnchor(env, app);
  return instance;
}

std::vector<PhysicalDeviceInfo> QueryPhysicalDevices(Napi::Env env, VkInstance instance, uint32_t instance_api) {
  uint32_t count = 0;
  VkResult r = vkEnumeratePhysicalDevices(instance, &count, nullptr);
  if (r != VK_SUCCESS) ThrowVk(env, "vkEnumeratePhysicalDevices", r, "");
  std::vector<VkPhysicalDevice> handles(count);
  r = vkEnumeratePhysicalDevices(instance, &count, handles.data());
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) ThrowVk(env, "vkEnumeratePhysicalDevices", r, "");
  handles.resize(count);

  std::vector<PhysicalDeviceInfo> out;
  for (uint32_t i = 0; i < count; ++i) {
    PhysicalDeviceInfo d;
    d.index = i;
    d.handle = handles[i];

    uint32_t ext_count = 0;
    r = vkEnumerateDeviceExtensionProperties(d.handle, nullptr, &ext_count, nullptr);
    if (r != VK_SUCCESS) ThrowVk(env, "vkEnumerateDeviceExtensionProperties", r, "device " + std::to_string(i));
    std::vector<VkExtensionProperties> exts(ext_count);
    r = vkEnumerateDeviceExtensionProperties(d.handle, nullptr, &ext_count, exts.data());
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
      ThrowVk(env, "vkEnumerateDeviceExtensionProperties", r, "device " + std::to_string(i));
    }
    for (uint32_t e = 0; e < ext_count; ++e) d.extensions.insert(exts[e].extensionName);

    VkPhysicalDeviceProperties basic{};
    vkGetPhysicalDeviceProperties(d.handle, &basic);
    d.api_version = basic.apiVersion;
    d.effective_version = std::min(instance_api, basic.apiVersion);
    const bool v11 = d.effective_version >= VK_API_VERSION_1_1;
    const bool v12 = d.effective_version >= VK_API_VERSION_1_2;

    // Properties2 chain: maintenance3 (max allocation size, core 1.1) and driver properties (core 1.2).
    VkPhysicalDeviceMaintenance3Properties maint3{};
    maint3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
    VkPhysicalDeviceDriverProperties driver{};
    driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    VkPhysicalDeviceProperties2 props2{};
    props2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    if (v11) {
      props2.pNext = &maint3;
      if (v12) maint3.pNext = &driver;
      vkGetPhysicalDeviceProperties2(d.handle, &props2);
    } else {
      props2.properties = basic;
    }
    const VkPhysicalDeviceProperties& p = props2.properties;
    d.name = p.deviceName;
    d.type = p.deviceType;
    d.vendor_id = p.vendorID;
    d.device_id = p.deviceID;
    d.driver_version = p.driverVersion;
    d.buffer_image_granularity = p.limits.bufferImageGranularity;
    d.non_coherent_atom_size = p.limits.nonCoherentAtomSize;
    d.max_memory_allocation_count = p.limits.maxMemoryAllocationCount;
    // Without maintenance3 there is no stated limit; the largest heap is the honest upper bound.
    d.max_memory_allocation_size = v11 ? maint3.maxMemoryAllocationSize : 0;
    if (v12) {
      d.driver_name = driver.driverName;
      d.driver_info = driver.driverInfo;
    }

    vkGetPhysicalDeviceMemoryProperties(d.handle, &d.memory);
    if (!v11) {
      for (uint32_t h = 0; h < d.memory.memoryHeapCount; ++h) {
        d.max_memory_allocation_size = std::max<uint64_t>(d.max_memory_allocation_size, d.memory.memoryHeaps[h].size);
      }
    }

    d.memory_budget = d.HasExtension(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    d.dedicated_allocation = v11 || d.HasExtension(VK_KHR_DEDICATED_ALLOCATION_EXTENSION_NAME);
    const bool khr_bda = d.HasExtension(VK_KHR_BUFFER_DEVICE_ADDRESS_EXTENSION_NAME);
    if (v11 && (v12 || khr_bda)) {
      VkPhysicalDeviceBufferDeviceAddressFeatures bda{};
      bda.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_BUFFER_DEVICE_ADDRESS_FEATURES;
      VkPhysicalDeviceFeatures2 features{};
      features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
      features.pNext = &bda;
      vkGetPhysicalDeviceFeatures2(d.handle, &features);
      d.buffer_device_address = bda.bufferDeviceAddress == VK_TRUE;
      d.bda_needs_khr_extension = !v12;
    }
    out.push_back(std::move(d));
  }
  return out;
}

uint32_t ChooseDefaultDevice(const std::vector<PhysicalDeviceInfo>& devices) {
  auto rank = [](VkPhysicalDeviceType t) {
    switch (t) {
      case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return 4;
      case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return 3;
      case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return 2;
      case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return 1;
      default:
        return 0;
    }
  };
  uint32_t best = 0;
  for (uint32_t i = 1; i < devices.size(); ++i) {
    if (rank(devices[i].type) > rank(devices[best].type)) best = i;
  }
  return best;
}

const char* DeviceTypeName(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return "cpu";
    default:
      return "other";
  }
}

std::vector<HeapBudget> QueryBudgets(const PhysicalDeviceInfo& info) {
  std::vector<HeapBudget> out;
  if (!info.memory_budget || info.effective_version < VK_API_VERSION_1_1) return out;
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{};
  budget.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT;
  VkPhysicalDeviceMemoryProperties2 props{};
  props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2;
  props.pNext = &budget;
  vkGetPhysicalDeviceMemoryProperties2(info.handle, &props);
  for (uint32_t h = 0; h < props.memoryProperties.memoryHeapCount; ++h) {
    out.push_back(HeapBudget{h, budget.heapBudget[h], budget.heapUsage[h]});
  }
  return out;
}

Napi::Value BudgetsToJs(Napi::Env env, const PhysicalDeviceInfo& info) {
  if (!info.memory_budget) return env.Null();
  std::vector<HeapBudget> budgets = QueryBudgets(info);
  Napi::Array arr = Napi::Array::New(env, budgets.size());
  for (uint32_t i = 0; i < budgets.size(); ++i) {
    Napi::Object b = Napi::Object::New(env);
    b.Set("heapIndex", Napi::Number::New(env, budgets[i].heap_index));
    b.Set("budget", Napi::Number::New(env, ToJsSize(budgets[i].budget)));
    b.Set("usage", Napi::Number::New(env, ToJsSize(budgets[i].usage)));
    arr.Set(i, b);
  }
  return arr;
}

Napi::Object ToJs(Napi::Env env, const PhysicalDeviceInfo& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", Napi::Number::New(env, d.index));
  o.Set("name", Napi::String::New(env, d.name));
  o.Set("deviceType", Napi::String::New(env, DeviceTypeName(d.type)));
  o.Set("vendorId", Napi::Number::New(env, d.vendor_id));
  o.Set("deviceId", Napi::Number::New(env, d.device_id));
  o.Set("driverVersion", Napi::String::New(env, FormatDriverVersion(d.vendor_id, d.driver_version)));
  o.Set("driverVersionRaw", Napi::Number::New(env, d.driver_version));
  o.Set("apiVersion", Napi::String::New(env, FormatApiVersion(d.api_version)));
  o.Set("driverName", Napi::String::New(env, d.driver_name));
  o.Set("driverInfo", Napi::String::New(env, d.driver_info));

  Napi::Array heaps = Napi::Array::New(env, d.memory.memoryHeapCount);
  for (uint32_t h = 0; h < d.memory.memoryHeapCount; ++h) {
    Napi::Object heap = Napi::Object::New(env);
    heap.Set("index", Napi::Number::New(env, h));
    heap.Set("size", Napi::Number::New(env, ToJsSize(d.memory.memoryHeaps[h].size)));
    heap.Set("flags", Napi::Number::New(env, d.memory.memoryHeaps[h].flags));
    heaps.Set(h, heap);
  }
  o.Set("heaps", heaps);

  Napi::Array types = Napi::Array::New(env, d.memory.memoryTypeCount);
  for (uint32_t t = 0; t < d.memory.memoryTypeCount; ++t) {
    Napi::Object type = Napi::Object::New(env);
    type.Set("index", Napi::Number::New(env, t));
    type.Set("propertyFlags", Napi::Number::New(env, d.memory.memoryTypes[t].propertyFlags));
    type.Set("heapIndex", Napi::Number::New(env, d.memory.memoryTypes[t].heapIndex));
    types.Set(t, type);
  }
  o.Set("types", types);

  Napi::Object limits = Napi::Object::New(env);
  limits.Set("bufferImageGranularity", Napi::Number::New(env, ToJsSize(d.buffer_image_granularity)));
  limits.Set("nonCoherentAtomSize", Napi::Number::New(env, ToJsSize(d.non_coherent_atom_size)));
  limits.Set("maxMemoryAllocationCount", Napi::Number::New(env, d.max_memory_allocation_count));
  limits.Set("maxMemoryAllocationSize", Napi::Number::New(env, ToJsSize(d.max_memory_allocation_size)));
  o.Set("limits", limits);

  Napi::Object ext = Napi::Object::New(env);
  ext.Set("memoryBudget", Napi::Boolean::New(env, d.memory_budget));
  ext.Set("dedicatedAllocation", Napi::Boolean::New(env, d.dedicated_allocation));
  ext.Set("bufferDeviceAddress", Napi::Boolean::New(env, d.buffer_device_address));
  o.Set("extensions", ext);

  Napi::Array names = Napi::Array::New(env, d.extensions.size());
  uint32_t i = 0;
  for (const std::string& name : d.extensions) names.Set(i++, Napi::String::New(env, name));
  o.Set("extensionNames", names);
  o.Set("budgets", BudgetsToJs(env, d));
  return o;
}

}  // namespace vramscope
