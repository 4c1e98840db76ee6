#include "context.h"

#include <atomic>
#include <cstring>

#include "vk_common.h"
#include "vk_tables.h"

namespace vramscope {

namespace {

std::atomic<uint64_t> g_next_serial{1};

// One tag per handle kind; a handle object carries exactly one (napi_type_tag_object), so a foreign object or
// a handle of another kind is recognised without trusting anything JS can forge.
constexpr napi_type_tag kTags[3] = {
    {0x5652414d73636f70ULL, 0x6d656d6f72790001ULL},  // memory
    {0x5652414d73636f70ULL, 0x6275666665720002ULL},  // buffer
    {0x5652414d73636f70ULL, 0x696d616765000003ULL},  // image
};
constexpr const char* kKindNames[3] = {"memory", "buffer", "image"};

constexpr uint32_t kMaxMessages = 10000;

const char* KindName(HandleKind kind) { return kKindNames[static_cast<uint32_t>(kind)]; }

std::string SeverityName(VkDebugUtilsMessageSeverityFlagBitsEXT s) {
  if (s & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) return "error";
  if (s & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) return "warning";
  if (s & VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT) return "info";
  return "verbose";
}

std::string TypeNames(VkDebugUtilsMessageTypeFlagsEXT t) {
  std::string out;
  auto add = [&out](const char* name) { out += out.empty() ? name : std::string("|") + name; };
  if (t & VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT) add("general");
  if (t & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT) add("validation");
  if (t & VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT) add("performance");
  return out;
}

// "TRANSFER_SRC|SAMPLED" for the bits of `table` in `bits`.
template <size_t N>
std::string BitNames(const NamedBit (&table)[N], uint32_t bits) {
  std::string out;
  for (const NamedBit& b : table) {
    if ((bits & b.bit) != 0) out += (out.empty() ? "" : "|") + std::string(b.name);
  }
  return out;
}

Napi::Object OptionalObject(Napi::Env env, const Napi::Value& value, const char* what) {
  if (value.IsUndefined() || value.IsNull()) return Napi::Object::New(env);
  if (!value.IsObject()) ThrowCoded(env, ErrorKind::kTypeError, kErrArgument, std::string(what) + " must be an object");
  return value.As<Napi::Object>();
}

}  // namespace

void Registry::CloseAll() {
  std::set<Context*> copy = live;
  for (Context* c : copy) c->Release();
  live.clear();
}

Napi::Function Context::Init(Napi::Env env) {
  return DefineClass(env, "VulkanContext",
                     {
                         InstanceMethod<&Context::Info>("info"),
                         InstanceMethod<&Context::Budgets>("budgets"),
                         InstanceMethod<&Context::AllocateMemory>("allocateMemory"),
                         InstanceMethod<&Context::FreeMemory>("freeMemory"),
                         InstanceMethod<&Context::MapMemory>("mapMemory"),
                         InstanceMethod<&Context::UnmapMemory>("unmapMemory"),
                         InstanceMethod<&Context::ReadMemory>("readMemory"),
                         InstanceMethod<&Context::WriteMemory>("writeMemory"),
                         InstanceMethod<&Context::CopyMappedMemory>("copyMappedMemory"),
                         InstanceMethod<&Context::FlushMemory>("flushMemory"),
                         InstanceMethod<&Context::InvalidateMemory>("invalidateMemory"),
                         InstanceMethod<&Context::MemoryInfo>("memoryInfo"),
                         InstanceMethod<&Context::CreateBuffer>("createBuffer"),
                         InstanceMethod<&Context::CreateImage>("createImage"),
                         InstanceMethod<&Context::BindBufferMemory>("bindBufferMemory"),
                         InstanceMethod<&Context::BindImageMemory>("bindImageMemory"),
                         InstanceMethod<&Context::DestroyBuffer>("destroyBuffer"),
                         InstanceMethod<&Context::DestroyImage>("destroyImage"),
                         InstanceMethod<&Context::TakeMessages>("takeMessages"),
                         InstanceMethod<&Context::SubmitDebugMessage>("submitDebugMessage"),
                         InstanceMethod<&Context::LiveCounts>("liveCounts"),
                         InstanceMethod<&Context::Close>("close"),
                         InstanceMethod<&Context::CopyBuffer>("copyBuffer"),
                         InstanceMethod<&Context::CopyBuffers>("copyBuffers"),
                         InstanceAccessor<&Context::IsClosed>("closed"),
                     });
}

// new VulkanContext(deviceIndex?: number, validation?: boolean)
Context::Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {
  Napi::Env env = info.Env();
  serial_ = g_next_serial.fetch_add(1);
  registry_ = env.GetInstanceData<Registry>();
  const bool has_index = info.Length() > 0 && !info[0].IsUndefined() && !info[0].IsNull();
  const uint32_t requested = has_index ? ReadUint32(env, info[0], "deviceIndex", 0xfffffffeu) : 0;
  validation_ = info.Length() > 1 ? ReadBool(env, info[1], "validation", false) : false;

  try {
    const uint32_t api = ChooseInstanceApiVersion(env);
    VkDebugUtilsMessengerCreateInfoEXT messenger_info{};
    messenger_info.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
    messenger_info.messageSeverity =
        VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                 VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                 VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    messenger_info.pfnUserCallback = &Context::OnDebugMessage;
    messenger_info.pUserData = this;
    instance_ = CreateInstance(env, api, validation_, &messenger_info);
    if (validation_) {
      auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
          vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
      if (create == nullptr) {
        ThrowCoded(env, ErrorKind::kError, "VK_ERROR_EXTENSION_NOT_PRESENT",
                   "vkCreateDebugUtilsMessengerEXT is missing although VK_EXT_debug_utils was enabled");
      }
      VkResult r = create(instance_, &messenger_info, nullptr, &messenger_);
      if (r != VK_SUCCESS) ThrowVk(env, "vkCreateDebugUtilsMessengerEXT", r, "");
    }

    std::vector<PhysicalDeviceInfo> devices = QueryPhysicalDevices(env, instance_, api);
    if (devices.empty()) {
      ThrowCoded(env, ErrorKind::kError, "VK_ERROR_INCOMPATIBLE_DRIVER",
                 "no Vulkan device was found (is a Vulkan driver such as mesa-vulkan-drivers installed?)");
    }
    const uint32_t index = has_index ? requested : ChooseDefaultDevice(devices);
    if (index >= devices.size()) {
      ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
                 "deviceIndex " + std::to_string(index) + " is out of range: there are " +
                     std::to_string(devices.size()) + " Vulkan devices");
    }
    physical_ = devices[index];
    if (physical_.effective_version < VK_API_VERSION_1_1) {
      ThrowCoded(env, ErrorKind::kError, kErrUnsupported,
                 "device \"" + physical_.name + "\" supports only Vulkan " +
                     FormatApiVersion(physical_.api_version) + "; VRAMscope needs Vulkan 1.1");
    }

    // One queue of family 0: vkCreateDevice needs at least one queue; VRAMscope submits no work.
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue{};
    queue.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
    queue.queueFamilyIndex = 0;
    queue.queueCount = 1;
    queue.pQueuePriorities = &priority;

    std::vector<const char*> extensions;
    if (physical_.memory_budget) {
      extensions.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
      budget_enabled_ = true;
    }
    VkPhysicalDeviceBufferDeviceAddressFeatures bda{};
    bda.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_BUFFER_DEVICE_ADDRESS_FEATURES;
    VkDeviceCreateInfo create{};
    create.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    if (physical_.buffer_device_address) {
      if (physical_.bda_needs_khr_extension) extensions.push_back(VK_KHR_BUFFER_DEVICE_ADDRESS_EXTENSION_NAME);
      bda.bufferDeviceAddress = VK_TRUE;
      create.pNext = &bda;
      bda_enabled_ = true;
    }
    create.queueCreateInfoCount = 1;
    create.pQueueCreateInfos = &queue;
    create.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    create.ppEnabledExtensionNames = extensions.data();
    VkResult r = vkCreateDevice(physical_.handle, &create, nullptr, &device_);
    if (r != VK_SUCCESS) ThrowVk(env, "vkCreateDevice", r, physical_.name);
  } catch (...) {
    Release();
    throw;
  }
  closed_ = false;
  if (registry_ != nullptr) registry_->live.insert(this);
}

Context::~Context() { Release(); }

void Context::Release() {
  if (device_ != VK_NULL_HANDLE) {
    // A copy is never in flight here: copyBuffer waits for its fence before it returns.
    ReleaseTransfer();
    for (auto& [id, res] : resources_) {
      if (res.buffer != VK_NULL_HANDLE) vkDestroyBuffer(device_, res.buffer, nullptr);
      if (res.image != VK_NULL_HANDLE) vkDestroyImage(device_, res.image, nullptr);
    }
    for (auto& [id, mem] : memories_) vkFreeMemory(device_, mem.memory, nullptr);  // unmaps implicitly
    vkDestroyDevice(device_, nullptr);
    device_ = VK_NULL_HANDLE;
  }
  resources_.clear();
  memories_.clear();
  if (messenger_ != VK_NULL_HANDLE) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy != nullptr) destroy(instance_, messenger_, nullptr);
    messenger_ = VK_NULL_HANDLE;
  }
  if (instance_ != VK_NULL_HANDLE) {
    vkDestroyInstance(instance_, nullptr);
    instance_ = VK_NULL_HANDLE;
  }
  closed_ = true;
  if (registry_ != nullptr) {
    registry_->live.erase(this);
    registry_ = nullptr;
  }
}

VKAPI_ATTR VkBool32 VKAPI_CALL Context::OnDebugMessage(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                       VkDebugUtilsMessageTypeFlagsEXT types,
                                                       const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                       void* user) {
  auto* self = static_cast<Context*>(user);
  std::lock_guard<std::mutex> lock(self->messages_mutex_);
  if (self->messages_.size() >= kMaxMessages) {
    ++self->messages_dropped_;
    return VK_FALSE;
  }
  Message m;
  m.severity = SeverityName(severity);
  m.type = TypeNames(types);
  m.id_name = data != nullptr && data->pMessageIdName != nullptr ? data->pMessageIdName : "";
  m.id_number = data != nullptr ? data->messageIdNumber : 0;
  m.text = data != nullptr && data->pMessage != nullptr ? data->pMessage : "";
  self->messages_.push_back(std::move(m));
  return VK_FALSE;  // never abort the Vulkan call
}

void Context::EnsureOpen(Napi::Env env) const {
  if (closed_) ThrowCoded(env, ErrorKind::kError, kErrClosed, "the Vulkan device is closed");
}

Napi::Object Context::MakeHandle(Napi::Env env, HandleKind kind, uint64_t id) {
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("kind", Napi::String::New(env, KindName(kind)));
  obj.Set("id", Napi::Number::New(env, static_cast<double>(id)));
  obj.Set("context", Napi::Number::New(env, static_cast<double>(serial_)));
  obj.TypeTag(&kTags[static_cast<uint32_t>(kind)]);
  obj.Freeze();  // the tag proves we made it; freezing keeps id/context as we wrote them
  return obj;
}

uint64_t Context::HandleId(Napi::Env env, const Napi::Value& value, HandleKind kind, const char* what) const {
  EnsureOpen(env);
  const std::string expected = std::string(what) + " must be a " + KindName(kind) + " handle";
  if (!value.IsObject()) ThrowCoded(env, ErrorKind::kTypeError, kErrHandle, expected);
  Napi::Object obj = value.As<Napi::Object>();
  if (!obj.CheckTypeTag(&kTags[static_cast<uint32_t>(kind)])) {
    for (uint32_t k = 0; k < 3; ++k) {
      if (obj.CheckTypeTag(&kTags[k])) {
        ThrowCoded(env, ErrorKind::kTypeError, kErrHandle, expected + ", got a " + kKindNames[k] + " handle");
      }
    }
    ThrowCoded(env, ErrorKind::kTypeError, kErrHandle, expected + ", got an object the addon did not create");
  }
  const double context = obj.Get("context").As<Napi::Number>().DoubleValue();
  if (context != static_cast<double>(serial_)) {
    ThrowCoded(env, ErrorKind::kError, kErrHandle,
               std::string(what) + " is a " + KindName(kind) + " handle of another Vulkan device");
  }
  return static_cast<uint64_t>(obj.Get("id").As<Napi::Number>().DoubleValue());
}

MemoryRecord& Context::LookupMemory(Napi::Env env, const Napi::Value& value, const char* what) {
  const uint64_t id = HandleId(env, value, HandleKind::kMemory, what);
  auto it = memories_.find(id);
  if (it == memories_.end()) {
    ThrowCoded(env, ErrorKind::kError, kErrHandle, std::string(what) + " was already freed");
  }
  return it->second;
}

ResourceRecord& Context::LookupResource(Napi::Env env, const Napi::Value& value, HandleKind kind,
                                        const char* what) {
  const uint64_t id = HandleId(env, value, kind, what);
  auto it = resources_.find(id);
  if (it == resources_.end()) {
    ThrowCoded(env, ErrorKind::kError, kErrHandle, std::string(what) + " was already destroyed");
  }
  return it->second;
}

Napi::Value Context::Info(const Napi::CallbackInfo& info) {
  EnsureOpen(info.Env());
  Napi::Object o = ToJs(info.Env(), physical_);
  o.Set("validation", Napi::Boolean::New(info.Env(), validation_));
  return o;
}

Napi::Value Context::Budgets(const Napi::CallbackInfo& info) {
  EnsureOpen(info.Env());
  return BudgetsToJs(info.Env(), physical_);
}

// allocateMemory(memoryTypeIndex, size, { deviceAddress?, map?, dedicatedBuffer?, dedicatedImage? }) -> handle
Napi::Value Context::AllocateMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  const uint32_t type = ReadUint32(env, info[0], "memoryTypeIndex", 0xffffffffu);
  if (type >= physical_.memory.memoryTypeCount) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               "memoryTypeIndex " + std::to_string(type) + " is out of range: the device has " +
                   std::to_string(physical_.memory.memoryTypeCount) + " memory types");
  }
  const uint64_t size = ReadSafeInteger(env, info[1], "size", 1);
  Napi::Object opts = OptionalObject(env, info[2], "options");
  const bool device_address = ReadBool(env, opts.Get("deviceAddress"), "options.deviceAddress", false);
  const bool map = ReadBool(env, opts.Get("map"), "options.map", false);
  const Napi::Value dedicated_buffer = opts.Get("dedicatedBuffer");
  const Napi::Value dedicated_image = opts.Get("dedicatedImage");
  const bool has_buffer = !dedicated_buffer.IsUndefined() && !dedicated_buffer.IsNull();
  const bool has_image = !dedicated_image.IsUndefined() && !dedicated_image.IsNull();
  const VkMemoryPropertyFlags flags = physical_.memory.memoryTypes[type].propertyFlags;

  if (has_buffer && has_image) {
    ThrowCoded(env, ErrorKind::kTypeError, kErrArgument,
               "options.dedicatedBuffer and options.dedicatedImage cannot both be given");
  }
  if (map && (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) == 0) {
    ThrowCoded(env, ErrorKind::kError, kErrState,
               "memory type " + std::to_string(type) + " is not host-visible, so it cannot be mapped");
  }
  if (device_address && !bda_enabled_) {
    ThrowCoded(env, ErrorKind::kError, kErrUnsupported,
               "options.deviceAddress needs the bufferDeviceAddress feature, which this device lacks");
  }
  if (memories_.size() >= physical_.max_memory_allocation_count) {
    ThrowCoded(env, ErrorKind::kError, "VK_ERROR_TOO_MANY_OBJECTS",
               "maxMemoryAllocationCount (" + std::to_string(physical_.max_memory_allocation_count) +
                   ") memory objects are already live");
  }

  VkMemoryAllocateInfo alloc{};
  alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  alloc.allocationSize = size;
  alloc.memoryTypeIndex = type;
  const void** tail = &alloc.pNext;

  VkMemoryDedicatedAllocateInfo dedicated{};
  dedicated.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
  uint64_t dedicated_buffer_id = 0;
  uint64_t dedicated_image_id = 0;
  if (has_buffer || has_image) {
    const HandleKind kind = has_buffer ? HandleKind::kBuffer : HandleKind::kImage;
    const char* what = has_buffer ? "options.dedicatedBuffer" : "options.dedicatedImage";
    ResourceRecord& res = LookupResource(env, has_buffer ? dedicated_buffer : dedicated_image, kind, what);
    if (res.bound_memory != 0) {
      ThrowCoded(env, ErrorKind::kError, kErrState, std::string(what) + " is already bound to memory");
    }
    if (res.requirements.size != size) {
      ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
                 "a dedicated allocation must be exactly the resource's required size (" +
                     std::to_string(res.requirements.size) + " bytes), got " + std::to_string(size));
    }
    dedicated.buffer = res.buffer;
    dedicated.image = res.image;
    const uint64_t id = HandleId(env, has_buffer ? dedicated_buffer : dedicated_image, kind, what);
    (has_buffer ? dedicated_buffer_id : dedicated_image_id) = id;
    *tail = &dedicated;
    tail = &dedicated.pNext;
  }

  VkMemoryAllocateFlagsInfo allocate_flags{};
  allocate_flags.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO;
  if (device_address) {
    allocate_flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
    *tail = &allocate_flags;
    tail = &allocate_flags.pNext;
  }

  // A request larger than its heap is invalid usage (VUID-vkAllocateMemory-pAllocateInfo-01713) that drivers
  // answer differently (lavapipe even succeeds), so it is refused here with the code a driver gives for memory
  // it cannot provide. Requests up to the heap size, including above maxMemoryAllocationSize, go to the driver.
  const uint32_t heap = physical_.memory.memoryTypes[type].heapIndex;
  if (size > physical_.memory.memoryHeaps[heap].size) {
    ThrowCoded(env, ErrorKind::kError, "VK_ERROR_OUT_OF_DEVICE_MEMORY",
               "vkAllocateMemory refused: " + std::to_string(size) + " bytes of memory type " +
                   std::to_string(type) + " exceed the " + std::to_string(physical_.memory.memoryHeaps[heap].size) +
                   "-byte heap " + std::to_string(heap) + " (not passed to the driver)");
  }
  MemoryRecord rec;
  rec.type_index = type;
  rec.size = size;
  rec.coherent = (flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
  rec.device_address = device_address;
  rec.dedicated_buffer = dedicated_buffer_id;
  rec.dedicated_image = dedicated_image_id;
  VkResult r = vkAllocateMemory(device_, &alloc, nullptr, &rec.memory);
  if (r != VK_SUCCESS) {
    ThrowVk(env, "vkAllocateMemory", r,
            std::to_string(size) + " bytes of memory type " + std::to_string(type) + " (heap " +
                std::to_string(physical_.memory.memoryTypes[type].heapIndex) + ")");
  }
  if (map) {
    r = vkMapMemory(device_, rec.memory, 0, VK_WHOLE_SIZE, 0, &rec.mapped);
    if (r != VK_SUCCESS) {
      vkFreeMemory(device_, rec.memory, nullptr);
      ThrowVk(env, "vkMapMemory", r, "whole block of " + std::to_string(size) + " bytes");
    }
  }
  const uint64_t id = next_id_++;
  memories_.emplace(id, rec);
  return MakeHandle(env, HandleKind::kMemory, id);
}

Napi::Value Context::FreeMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint64_t id = HandleId(env, info[0], HandleKind::kMemory, "memory");
  MemoryRecord& m = LookupMemory(env, info[0], "memory");
  vkFreeMemory(device_, m.memory, nullptr);  // an unmapped block needs no vkUnmapMemory first
  memories_.erase(id);
  return env.Undefined();
}

Napi::Value Context::MapMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MemoryRecord& m = LookupMemory(env, info[0], "memory");
  if (m.mapped != nullptr) return env.Undefined();  // already mapped persistently: idempotent
  if ((physical_.memory.memoryTypes[m.type_index].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) == 0) {
    ThrowCoded(env, ErrorKind::kError, kErrState,
               "memory type " + std::to_string(m.type_index) + " is not host-visible, so it cannot be mapped");
  }
  VkResult r = vkMapMemory(device_, m.memory, 0, VK_WHOLE_SIZE, 0, &m.mapped);
  if (r != VK_SUCCESS) {
    m.mapped = nullptr;
    ThrowVk(env, "vkMapMemory", r, "whole block of " + std::to_string(m.size) + " bytes");
  }
  return env.Undefined();
}

Napi::Value Context::UnmapMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MemoryRecord& m = LookupMemory(env, info[0], "memory");
  if (m.mapped != nullptr) {
    vkUnmapMemory(device_, m.memory);
    m.mapped = nullptr;
  }
  return env.Undefined();
}

void Context::CheckMappedRange(Napi::Env env, const MemoryRecord& m, uint64_t offset, uint64_t length,
                               const char* op) const {
  if (m.mapped == nullptr) {
    ThrowCoded(env, ErrorKind::kError, kErrState, std::string(op) + ": the memory block is not mapped");
  }
  if (offset > m.size || length > m.size - offset) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               std::string(op) + ": range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                   ") is outside the " + std::to_string(m.size) + "-byte block");
  }
}

// readMemory(memory, offset, length) -> Uint8Array (a copy; JS never holds a view of mapped memory)
Napi::Value Context::ReadMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MemoryRecord& m = LookupMemory(env, info[0], "memory");
  const uint64_t offset = ReadSafeInteger(env, info[1], "offset", 0);
  const uint64_t length = ReadSafeInteger(env, info[2], "length", 0);
  CheckMappedRange(env, m, offset, length, "readMemory");
  Napi::Uint8Array out = Napi::Uint8Array::New(env, static_cast<size_t>(length));
  if (length > 0) std::memcpy(out.Data(), static_cast<const uint8_t*>(m.mapped) + offset, length);
  return out;
}

// writeMemory(memory, offset, data: ArrayBufferView | ArrayBuffer)
Napi::Value Context::WriteMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MemoryRecord& m = LookupMemory(env, info[0], "memory");
  const uint64_t offset = ReadSafeInteger(env, info[1], "offset", 0);
  const uint8_t* src = nullptr;
  size_t length = 0;
  if (info[2].IsTypedArray()) {
    Napi::TypedArray t = info[2].As<Napi::TypedArray>();
    src = static_cast<const uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
    length = t.ByteLength();
  } else if (info[2].IsDataView()) {
    Napi::DataView v = info[2].As<Napi::DataView>();
    src = static_cast<const uint8_t*>(v.ArrayBuffer().Data()) + v.ByteOffset();
    length = v.ByteLength();
  } else if (info[2].IsArrayBuffer()) {
    Napi::ArrayBuffer b = info[2].As<Napi::ArrayBuffer>();
    src = static_cast<const uint8_t*>(b.Data());
    length = b.ByteLength();
  } else {
    ThrowCoded(env, ErrorKind::kTypeError, kErrArgument, "data must be a Uint8Array (or another ArrayBufferView)");
  }
  CheckMappedRange(env, m, offset, length, "writeMemory");
  if (length > 0 && src != nullptr) std::memcpy(static_cast<uint8_t*>(m.mapped) + offset, src, length);
  return env.Undefined();
}

// copyMappedMemory(srcMemory, srcOffset, dstMemory, dstOffset, length): host copy between two mapped
// blocks (or within one: memmove, so overlapping ranges copy as if through a temporary). No JS buffer in
// between: one pass over the bytes, where readMemory + writeMemory would allocate, fill and free a copy.
// The caller invalidates the source and flushes the destination range for non-coherent memory.
Napi::Value Context::CopyMappedMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MemoryRecord& src = LookupMemory(env, info[0], "srcMemory");
  const uint64_t src_offset = ReadSafeInteger(env, info[1], "srcOffset", 0);
  MemoryRecord& dst = LookupMemory(env, info[2], "dstMemory");
  const uint64_t dst_offset = ReadSafeInteger(env, info[3], "dstOffset", 0);
  const uint64_t length = ReadSafeInteger(env, info[4], "length", 0);
  CheckMappedRange(env, src, src_offset, length, "copyMappedMemory (source)");
  CheckMappedRange(env, dst, dst_offset, length, "copyMappedMemory (destination)");
  if (length > 0) {
    std::memmove(static_cast<uint8_t*>(dst.mapped) + dst_offset,
                 static_cast<const uint8_t*>(src.mapped) + src_offset, static_cast<size_t>(length));
  }
  return env.Undefined();
}

// Flush/invalidate ranges must start and end on nonCoherentAtomSize (or at the end of the block): the range
// asked for is widened to that.
VkMappedMemoryRange Context::AtomRange(const MemoryRecord& m, uint64_t offset, uint64_t length) const {
  const uint64_t atom = physical_.non_coherent_atom_size > 0 ? physical_.non_coherent_atom_size : 1;
  VkMappedMemoryRange range{};
  range.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
  range.memory = m.memory;
  range.offset = offset / atom * atom;
  const uint64_t end = offset + length;
  const uint64_t rounded_end = (end + atom - 1) / atom * atom;
  range.size = rounded_end >= m.size ? VK_WHOLE_SIZE : rounded_end - range.offset;
  return range;
}

// flushMemory / invalidateMemory(memory, offset, length) -> whether a Vulkan call was needed (false for
// coherent memory and empty ranges). `sync` is vkFlushMappedMemoryRanges or vkInvalidateMappedMemoryRanges.
Napi::Value Context::SyncMappedRange(const Napi::CallbackInfo& info, const char* op,
                                     PFN_vkFlushMappedMemoryRanges sync, const char* sync_name) {
  Napi::Env env = info.Env();
  MemoryRecord& m = LookupMemory(env, info[0], "memory");
  const uint64_t offset = ReadSafeInteger(env, info[1], "offset", 0);
  const uint64_t length = ReadSafeInteger(env, info[2], "length", 0);
  CheckMappedRange(env, m, offset, length, op);
  if (m.coherent || length == 0) return Napi::Boolean::New(env, false);
  VkMappedMemoryRange range = AtomRange(m, offset, length);
  VkResult r = sync(device_, 1, &range);
  if (r != VK_SUCCESS) ThrowVk(env, sync_name, r, "");
  return Napi::Boolean::New(env, true);
}

Napi::Value Context::FlushMemory(const Napi::CallbackInfo& info) {
  return SyncMappedRange(info, "flushMemory", vkFlushMappedMemoryRanges, "vkFlushMappedMemoryRanges");
}

Napi::Value Context::InvalidateMemory(const Napi::CallbackInfo& info) {
  return SyncMappedRange(info, "invalidateMemory", vkInvalidateMappedMemoryRanges,
                         "vkInvalidateMappedMemoryRanges");
}

Napi::Value Context::MemoryInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MemoryRecord& m = LookupMemory(env, info[0], "memory");
  Napi::Object o = Napi::Object::New(env);
  o.Set("memoryTypeIndex", Napi::Number::New(env, m.type_index));
  o.Set("size", Napi::Number::New(env, ToJsSize(m.size)));
  o.Set("mapped", Napi::Boolean::New(env, m.mapped != nullptr));
  o.Set("coherent", Napi::Boolean::New(env, m.coherent));
  o.Set("deviceAddress", Napi::Boolean::New(env, m.device_address));
  o.Set("dedicated", Napi::Boolean::New(env, m.dedicated_buffer != 0 || m.dedicated_image != 0));
  return o;
}

Requirements Context::QueryRequirements(VkBuffer buffer, VkImage image) const {
  VkMemoryDedicatedRequirements dedicated{};
  dedicated.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS;
  VkMemoryRequirements2 req{};
  req.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2;
  req.pNext = &dedicated;
  if (buffer != VK_NULL_HANDLE) {
    VkBufferMemoryRequirementsInfo2 q{};
    q.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2;
    q.buffer = buffer;
    vkGetBufferMemoryRequirements2(device_, &q, &req);
  } else {
    VkImageMemoryRequirementsInfo2 q{};
    q.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2;
    q.image = image;
    vkGetImageMemoryRequirements2(device_, &q, &req);
  }
  Requirements r;
  r.size = req.memoryRequirements.size;
  r.alignment = req.memoryRequirements.alignment;
  r.memory_type_bits = req.memoryRequirements.memoryTypeBits;
  r.prefers_dedicated = dedicated.prefersDedicatedAllocation == VK_TRUE;
  r.requires_dedicated = dedicated.requiresDedicatedAllocation == VK_TRUE;
  return r;
}

Napi::Object Context::RequirementsToJs(Napi::Env env, const Requirements& r) const {
  Napi::Object o = Napi::Object::New(env);
  o.Set("size", Napi::Number::New(env, ToJsSize(r.size)));
  o.Set("alignment", Napi::Number::New(env, ToJsSize(r.alignment)));
  o.Set("memoryTypeBits", Napi::Number::New(env, r.memory_type_bits));
  o.Set("prefersDedicated", Napi::Boolean::New(env, r.prefers_dedicated));
  o.Set("requiresDedicated", Napi::Boolean::New(env, r.requires_dedicated));
  return o;
}

// createBuffer(size, usage) -> { handle, requirements }
Napi::Value Context::CreateBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  const uint64_t size = ReadSafeInteger(env, info[0], "size", 1);
  const uint32_t usage = ReadUint32Or(env, info[1], "usage", 0xffffffffu, kDefaultBufferUsage);
  if (usage == 0) ThrowCoded(env, ErrorKind::kRangeError, kErrArgument, "usage must have at least one bit set");
  // Unknown bits would be invalid usage (VUID-VkBufferCreateInfo-usage-parameter): only the bits of
  // kBufferUsageBits (core 1.0 and SHADER_DEVICE_ADDRESS) are accepted.
  if ((usage & ~kKnownBufferUsage) != 0) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               "buffer usage " + HexBits(usage) + " has bits VRAMscope does not know: " +
                   HexBits(usage & ~kKnownBufferUsage) + " (known: " + BitNames(kBufferUsageBits, kKnownBufferUsage) +
                   ")");
  }
  if ((usage & VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT) != 0 && !bda_enabled_) {
    ThrowCoded(env, ErrorKind::kError, kErrUnsupported,
               "SHADER_DEVICE_ADDRESS usage needs the bufferDeviceAddress feature, which this device lacks");
  }
  VkBufferCreateInfo create{};
  create.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  create.size = size;
  create.usage = usage;
  create.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  ResourceRecord rec;
  rec.kind = HandleKind::kBuffer;
  rec.usage = usage;
  rec.linear = true;
  rec.create_size = size;
  VkResult r = vkCreateBuffer(device_, &create, nullptr, &rec.buffer);
  if (r != VK_SUCCESS) ThrowVk(env, "vkCreateBuffer", r, std::to_string(size) + " bytes");
  rec.requirements = QueryRequirements(rec.buffer, VK_NULL_HANDLE);
  const uint64_t id = next_id_++;
  resources_.emplace(id, rec);
  Napi::Object out = Napi::Object::New(env);
  out.Set("handle", MakeHandle(env, HandleKind::kBuffer, id));
  out.Set("requirements", RequirementsToJs(env, rec.requirements));
  return out;
}

// createImage({ width, height, format, tiling: 'optimal' | 'linear', usage, mipLevels, arrayLayers })
//   -> { handle, requirements }
Napi::Value Context::CreateImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  if (!info[0].IsObject()) ThrowCoded(env, ErrorKind::kTypeError, kErrArgument, "image description must be an object");
  Napi::Object d = info[0].As<Napi::Object>();
  const uint32_t width = ReadUint32(env, d.Get("width"), "width", 0xffffffffu);
  const uint32_t height = ReadUint32(env, d.Get("height"), "height", 0xffffffffu);
  const uint32_t format = ReadUint32Or(env, d.Get("format"), "format", 0x7fffffffu, kDefaultImageFormat);
  const uint32_t usage = ReadUint32Or(env, d.Get("usage"), "usage", 0xffffffffu, kDefaultImageUsage);
  const uint32_t mips = ReadUint32Or(env, d.Get("mipLevels"), "mipLevels", 0xffffffffu, 1);
  const uint32_t layers = ReadUint32Or(env, d.Get("arrayLayers"), "arrayLayers", 0xffffffffu, 1);
  const Napi::Value tiling_value = d.Get("tiling");
  const std::string tiling_name = tiling_value.IsString() ? tiling_value.As<Napi::String>().Utf8Value() : "";
  if (tiling_name != "optimal" && tiling_name != "linear") {
    ThrowCoded(env, ErrorKind::kTypeError, kErrArgument, "tiling must be \"optimal\" or \"linear\"");
  }
  if (width == 0 || height == 0 || mips == 0 || layers == 0 || usage == 0 || format == 0) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               "width, height, mipLevels, arrayLayers, usage and format must all be non-zero");
  }
  // Only values the spec defines may reach Vulkan: core 1.0 formats and image usage bits (vk_tables.h).
  if (format > kMaxCoreFormat) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               "format must be a core Vulkan 1.0 VkFormat (1.." + std::to_string(kMaxCoreFormat) + "), got " +
                   std::to_string(format));
  }
  if ((usage & ~kKnownImageUsage) != 0) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               "image usage " + HexBits(usage) + " has bits VRAMscope does not know: " +
                   HexBits(usage & ~kKnownImageUsage) + " (known: " + BitNames(kImageUsageBits, kKnownImageUsage) +
                   ")");
  }
  uint32_t max_mips = 1;
  for (uint32_t extent = width > height ? width : height; extent > 1; extent >>= 1) ++max_mips;
  if (mips > max_mips) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               "a " + std::to_string(width) + "x" + std::to_string(height) + " image has at most " +
                   std::to_string(max_mips) + " mip levels, got " + std::to_string(mips));
  }
  const VkImageTiling tiling = tiling_name == "linear" ? VK_IMAGE_TILING_LINEAR : VK_IMAGE_TILING_OPTIMAL;
  VkImageFormatProperties props{};
  VkResult r = vkGetPhysicalDeviceImageFormatProperties(physical_.handle, static_cast<VkFormat>(format),
                                                        VK_IMAGE_TYPE_2D, tiling, usage, 0, &props);
  if (r != VK_SUCCESS) {
    ThrowVk(env, "vkGetPhysicalDeviceImageFormatProperties", r,
            "format " + std::to_string(format) + " with " + tiling_name + " tiling and usage " +
                std::to_string(usage));
  }
  if (width > props.maxExtent.width || height > props.maxExtent.height || mips > props.maxMipLevels ||
      layers > props.maxArrayLayers) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               "image " + std::to_string(width) + "x" + std::to_string(height) + " with " + std::to_string(mips) +
                   " mips and " + std::to_string(layers) + " layers exceeds the device's " +
                   std::to_string(props.maxExtent.width) + "x" + std::to_string(props.maxExtent.height) + ", " +
                   std::to_string(props.maxMipLevels) + " mips, " + std::to_string(props.maxArrayLayers) +
                   " layers for this format");
  }
  VkImageCreateInfo create{};
  create.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO;
  create.imageType = VK_IMAGE_TYPE_2D;
  create.format = static_cast<VkFormat>(format);
  create.extent = {width, height, 1};
  create.mipLevels = mips;
  create.arrayLayers = layers;
  create.samples = VK_SAMPLE_COUNT_1_BIT;
  create.tiling = tiling;
  create.usage = usage;
  create.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  create.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  ResourceRecord rec;
  rec.kind = HandleKind::kImage;
  rec.usage = usage;
  rec.linear = tiling == VK_IMAGE_TILING_LINEAR;
  r = vkCreateImage(device_, &create, nullptr, &rec.image);
  if (r != VK_SUCCESS) ThrowVk(env, "vkCreateImage", r, std::to_string(width) + "x" + std::to_string(height));
  rec.requirements = QueryRequirements(VK_NULL_HANDLE, rec.image);
  const uint64_t id = next_id_++;
  resources_.emplace(id, rec);
  Napi::Object out = Napi::Object::New(env);
  out.Set("handle", MakeHandle(env, HandleKind::kImage, id));
  out.Set("requirements", RequirementsToJs(env, rec.requirements));
  return out;
}

// Every rule of vkBind*Memory that the addon can check is checked here, so invalid usage is an exception
// rather than undefined behaviour in the driver.
void Context::Bind(Napi::Env env, const Napi::CallbackInfo& info, HandleKind kind) {
  const char* what = kind == HandleKind::kBuffer ? "buffer" : "image";
  const uint64_t res_id = HandleId(env, info[0], kind, what);
  ResourceRecord& res = LookupResource(env, info[0], kind, what);
  const uint64_t mem_id = HandleId(env, info[1], HandleKind::kMemory, "memory");
  MemoryRecord& mem = LookupMemory(env, info[1], "memory");
  const uint64_t offset = ReadSafeInteger(env, info[2], "offset", 0);
  const Requirements& req = res.requirements;
  if (res.bound_memory != 0) {
    ThrowCoded(env, ErrorKind::kError, kErrState, std::string("the ") + what + " is already bound to memory");
  }
  if ((req.memory_type_bits & (1u << mem.type_index)) == 0) {
    ThrowCoded(env, ErrorKind::kError, kErrState,
               std::string("the ") + what + " cannot live in memory type " + std::to_string(mem.type_index) +
                   " (memoryTypeBits 0x" + [&] {
                     char buf[16];
                     std::snprintf(buf, sizeof buf, "%x", req.memory_type_bits);
                     return std::string(buf);
                   }() + ")");
  }
  if (req.alignment > 0 && offset % req.alignment != 0) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               "offset " + std::to_string(offset) + " is not a multiple of the required alignment " +
                   std::to_string(req.alignment));
  }
  if (req.size > mem.size || offset > mem.size - req.size) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               std::string("the ") + what + " (" + std::to_string(req.size) + " bytes at offset " +
                   std::to_string(offset) + ") does not fit in the " + std::to_string(mem.size) + "-byte block");
  }
  const uint64_t dedicated_to = kind == HandleKind::kBuffer ? mem.dedicated_buffer : mem.dedicated_image;
  const uint64_t dedicated_other = kind == HandleKind::kBuffer ? mem.dedicated_image : mem.dedicated_buffer;
  if (dedicated_other != 0 || (dedicated_to != 0 && dedicated_to != res_id)) {
    ThrowCoded(env, ErrorKind::kError, kErrState, "the memory block is dedicated to another resource");
  }
  if (dedicated_to == res_id && offset != 0) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument, "a dedicated block must be bound at offset 0");
  }
  if (req.requires_dedicated && dedicated_to != res_id) {
    ThrowCoded(env, ErrorKind::kError, kErrState,
               std::string("the ") + what + " requires a dedicated allocation made for it");
  }
  if (kind == HandleKind::kBuffer && (res.usage & VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT) != 0 &&
      !mem.device_address) {
    ThrowCoded(env, ErrorKind::kError, kErrState,
               "a buffer with SHADER_DEVICE_ADDRESS usage needs memory allocated with deviceAddress: true");
  }
  VkResult r = kind == HandleKind::kBuffer ? vkBindBufferMemory(device_, res.buffer, mem.memory, offset)
                                           : vkBindImageMemory(device_, res.image, mem.memory, offset);
  if (r != VK_SUCCESS) {
    ThrowVk(env, kind == HandleKind::kBuffer ? "vkBindBufferMemory" : "vkBindImageMemory", r,
            "offset " + std::to_string(offset));
  }
  res.bound_memory = mem_id;
  res.bound_offset = offset;
}

Napi::Value Context::BindBufferMemory(const Napi::CallbackInfo& info) {
  Bind(info.Env(), info, HandleKind::kBuffer);
  return info.Env().Undefined();
}

Napi::Value Context::BindImageMemory(const Napi::CallbackInfo& info) {
  Bind(info.Env(), info, HandleKind::kImage);
  return info.Env().Undefined();
}

void Context::Destroy(Napi::Env env, const Napi::Value& handle, HandleKind kind) {
  const char* what = kind == HandleKind::kBuffer ? "buffer" : "image";
  const uint64_t id = HandleId(env, handle, kind, what);
  ResourceRecord& res = LookupResource(env, handle, kind, what);
  if (kind == HandleKind::kBuffer) {
    vkDestroyBuffer(device_, res.buffer, nullptr);
  } else {
    vkDestroyImage(device_, res.image, nullptr);
  }
  resources_.erase(id);
}

Napi::Value Context::DestroyBuffer(const Napi::CallbackInfo& info) {
  Destroy(info.Env(), info[0], HandleKind::kBuffer);
  return info.Env().Undefined();
}

Napi::Value Context::DestroyImage(const Napi::CallbackInfo& info) {
  Destroy(info.Env(), info[0], HandleKind::kImage);
  return info.Env().Undefined();
}

// takeMessages() -> [{ severity, type, messageIdName, messageIdNumber, message }] and clears the queue.
// Allowed after close(): messages from vkDestroyDevice/vkDestroyInstance are kept.
Napi::Value Context::TakeMessages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<Message> taken;
  uint64_t dropped = 0;
  {
    std::lock_guard<std::mutex> lock(messages_mutex_);
    taken.swap(messages_);
    dropped = messages_dropped_;
    messages_dropped_ = 0;
  }
  Napi::Array arr = Napi::Array::New(env, taken.size() + (dropped > 0 ? 1 : 0));
  uint32_t i = 0;
  for (const Message& m : taken) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("severity", Napi::String::New(env, m.severity));
    o.Set("type", Napi::String::New(env, m.type));
    o.Set("messageIdName", Napi::String::New(env, m.id_name));
    o.Set("messageIdNumber", Napi::Number::New(env, m.id_number));
    o.Set("message", Napi::String::New(env, m.text));
    arr.Set(i++, o);
  }
  if (dropped > 0) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("severity", Napi::String::New(env, "warning"));
    o.Set("type", Napi::String::New(env, "general"));
    o.Set("messageIdName", Napi::String::New(env, "VRAMSCOPE-messages-dropped"));
    o.Set("messageIdNumber", Napi::Number::New(env, 0));
    o.Set("message", Napi::String::New(env, std::to_string(dropped) + " debug messages were dropped (queue full)"));
    arr.Set(i, o);
  }
  return arr;
}

// submitDebugMessage(severity: 'error' | 'warning', idName, text): vkSubmitDebugUtilsMessageEXT, which sends a
// message through the layers to every messenger — the way to check that messages reach JS. Validation only.
Napi::Value Context::SubmitDebugMessage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  if (messenger_ == VK_NULL_HANDLE) {
    ThrowCoded(env, ErrorKind::kError, kErrState, "submitDebugMessage needs a device opened with validation");
  }
  if (!info[0].IsString() || !info[1].IsString() || !info[2].IsString()) {
    ThrowCoded(env, ErrorKind::kTypeError, kErrArgument, "submitDebugMessage takes (severity, idName, text) strings");
  }
  const std::string severity = info[0].As<Napi::String>().Utf8Value();
  if (severity != "error" && severity != "warning") {
    ThrowCoded(env, ErrorKind::kTypeError, kErrArgument, "severity must be \"error\" or \"warning\"");
  }
  const std::string id = info[1].As<Napi::String>().Utf8Value();
  const std::string text = info[2].As<Napi::String>().Utf8Value();
  auto submit = reinterpret_cast<PFN_vkSubmitDebugUtilsMessageEXT>(
      vkGetInstanceProcAddr(instance_, "vkSubmitDebugUtilsMessageEXT"));
  if (submit == nullptr) ThrowCoded(env, ErrorKind::kError, kErrUnsupported, "vkSubmitDebugUtilsMessageEXT is missing");
  VkDebugUtilsMessengerCallbackDataEXT data{};
  data.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CALLBACK_DATA_EXT;
  data.pMessageIdName = id.c_str();
  data.pMessage = text.c_str();
  submit(instance_,
         severity == "error" ? VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT : VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
         VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT, &data);
  return env.Undefined();
}

Napi::Value Context::LiveCounts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t buffers = 0, images = 0, mapped = 0;
  for (const auto& [id, r] : resources_) (r.kind == HandleKind::kBuffer ? buffers : images) += 1;
  for (const auto& [id, m] : memories_) mapped += m.mapped != nullptr ? 1 : 0;
  Napi::Object o = Napi::Object::New(env);
  o.Set("memory", Napi::Number::New(env, static_cast<double>(memories_.size())));
  o.Set("mapped", Napi::Number::New(env, mapped));
  o.Set("buffers", Napi::Number::New(env, buffers));
  o.Set("images", Napi::Number::New(env, images));
  return o;
}

Napi::Value Context::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value Context::IsClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed_); }

}  // namespace vramscope
