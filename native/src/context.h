// Context: one opened Vulkan device (instance + optional debug messenger + VkDevice) and every memory object,
// buffer and image made on it. JS sees resources only as opaque handle objects: type-tagged per kind and
// wrapping {context serial, resource id} (no pointers), so a freed, foreign or wrong-kind handle is detected
// by lookup and never dereferenced. close() (or the env cleanup hook, or GC of an unclosed Context) releases
// everything once, in order: buffers and images, memory, device, messenger, instance.
#pragma once

#include <napi.h>
#include <vulkan/vulkan.h>

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "device_info.h"

namespace vramscope {

class Context;

// Per-env list of open contexts, closed by the env cleanup hook at exit.
struct Registry {
  std::set<Context*> live;
  void CloseAll();
};

enum class HandleKind : uint32_t { kMemory = 0, kBuffer = 1, kImage = 2 };

struct Requirements {
  uint64_t size = 0;
  uint64_t alignment = 0;
  uint32_t memory_type_bits = 0;
  bool prefers_dedicated = false;
  bool requires_dedicated = false;
};

struct MemoryRecord {
  VkDeviceMemory memory = VK_NULL_HANDLE;
  uint32_t type_index = 0;
  uint64_t size = 0;
  void* mapped = nullptr;
  bool coherent = false;
  bool device_address = false;
  uint64_t dedicated_buffer = 0;  // resource ids; 0 = none
  uint64_t dedicated_image = 0;
};

struct ResourceRecord {
  HandleKind kind = HandleKind::kBuffer;
  VkBuffer buffer = VK_NULL_HANDLE;
  VkImage image = VK_NULL_HANDLE;
  Requirements requirements;
  bool linear = true;  // buffers and linear-tiling images; optimal images are non-linear
  uint32_t usage = 0;
  uint64_t bound_memory = 0;  // memory id, 0 = unbound
  uint64_t bound_offset = 0;
  uint64_t create_size = 0;  // buffers: bytes asked for at vkCreateBuffer (copy regions stay inside it)
};

struct Message {
  std::string severity;
  std::string type;
  std::string id_name;
  int32_t id_number = 0;
  std::string text;
};

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Context(const Napi::CallbackInfo& info);
  ~Context() override;

  // Releases every Vulkan object; safe to call twice.
  void Release();

 private:
  static VKAPI_ATTR VkBool32 VKAPI_CALL OnDebugMessage(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                       VkDebugUtilsMessageTypeFlagsEXT types,
                                                       const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                       void* user);

  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Budgets(const Napi::CallbackInfo& info);
  Napi::Value AllocateMemory(const Napi::CallbackInfo& info);
  Napi::Value FreeMemory(const Napi::CallbackInfo& info);
  Napi::Value MapMemory(const Napi::CallbackInfo& info);
  Napi::Value UnmapMemory(const Napi::CallbackInfo& info);
  Napi::Value ReadMemory(const Napi::CallbackInfo& info);
  Napi::Value WriteMemory(const Napi::CallbackInfo& info);
  Napi::Value CopyMappedMemory(const Napi::CallbackInfo& info);
  Napi::Value FlushMemory(const Napi::CallbackInfo& info);
  Napi::Value InvalidateMemory(const Napi::CallbackInfo& info);
  Napi::Value MemoryInfo(const Napi::CallbackInfo& info);
  Napi::Value CreateBuffer(const Napi::CallbackInfo& info);
  Napi::Value CreateImage(const Napi::CallbackInfo& info);
  Napi::Value BindBufferMemory(const Napi::CallbackInfo& info);
  Napi::Value BindImageMemory(const Napi::CallbackInfo& info);
  Napi::Value DestroyBuffer(const Napi::CallbackInfo& info);
  Napi::Value DestroyImage(const Napi::CallbackInfo& info);
  Napi::Value TakeMessages(const Napi::CallbackInfo& info);
  Napi::Value SubmitDebugMessage(const Napi::CallbackInfo& info);
  Napi::Value LiveCounts(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  // transfer.cc: buffer copies on the device (defragmentation of memory the host cannot map).
  Napi::Value CopyBuffer(const Napi::CallbackInfo& info);
  Napi::Value CopyBuffers(const Napi::CallbackInfo& info);
  struct CopyRegion;
  CopyRegion ReadCopyRegion(Napi::Env env, const Napi::Value& src, const Napi::Value& src_offset,
                            const Napi::Value& dst, const Napi::Value& dst_offset, const Napi::Value& size);
  void SubmitCopies(Napi::Env env, const std::vector<CopyRegion>& regions, bool ordered);
  void EnsureTransfer(Napi::Env env);
  void ReleaseTransfer();
  Napi::Value IsClosed(const Napi::CallbackInfo& info);

  void EnsureOpen(Napi::Env env) const;
  Napi::Object MakeHandle(Napi::Env env, HandleKind kind, uint64_t id);
  uint64_t HandleId(Napi::Env env, const Napi::Value& value, HandleKind kind, const char* what) const;
  MemoryRecord& LookupMemory(Napi::Env env, const Napi::Value& value, const char* what);
  ResourceRecord& LookupResource(Napi::Env env, const Napi::Value& value, HandleKind kind, const char* what);
  Napi::Object RequirementsToJs(Napi::Env env, const Requirements& r) const;
  Requirements QueryRequirements(VkBuffer buffer, VkImage image) const;
  void Bind(Napi::Env env, const Napi::CallbackInfo& info, HandleKind kind);
  void Destroy(Napi::Env env, const Napi::Value& handle, HandleKind kind);
  void CheckMappedRange(Napi::Env env, const MemoryRecord& m, uint64_t offset, uint64_t length, const char* op) const;
  VkMappedMemoryRange AtomRange(const MemoryRecord& m, uint64_t offset, uint64_t length) const;
  Napi::Value SyncMappedRange(const Napi::CallbackInfo& info, const char* op, PFN_vkFlushMappedMemoryRanges sync,
                              const char* sync_name);

  Registry* registry_ = nullptr;
  uint64_t serial_ = 0;
  bool closed_ = true;
  bool validation_ = false;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  PhysicalDeviceInfo physical_;
  bool budget_enabled_ = false;
  bool bda_enabled_ = false;

  // transfer.cc: made on the first copyBuffer, released before the device.
  VkQueue queue_ = VK_NULL_HANDLE;
  VkCommandPool transfer_pool_ = VK_NULL_HANDLE;
  VkCommandBuffer transfer_cmd_ = VK_NULL_HANDLE;
  VkFence transfer_fence_ = VK_NULL_HANDLE;

  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, MemoryRecord> memories_;
  std::unordered_map<uint64_t, ResourceRecord> resources_;

  // Written by the messenger callback (on whichever thread makes the Vulkan call), read by takeMessages().
  std::mutex messages_mutex_;
  std::vector<Message> messages_;
  uint64_t messages_dropped_ = 0;

  friend struct Registry;
};

}  // namespace vramscope
