// Context::CopyBuffer / CopyBuffers: vkCmdCopyBuffer on the context's queue (family 0, which must support
// transfer), one command buffer and one submission per call (CopyBuffers records several copies in it),
// waited for with a fence before it returns, so the bytes are in place when JS goes on.
// Defragmentation uses it for memory the host cannot map: a buffer bound at the source range and one bound
// at the destination range, then this copy. The command pool, command buffer and fence are made on first
// use and released with the context (ReleaseTransfer, called by Release before the device is destroyed).
//
// Every argument is checked here before Vulkan sees it (a spec violation is never passed to the driver):
// live buffers of this context, bound to memory, TRANSFER_SRC on the source and TRANSFER_DST on the
// destination, the region inside both buffers (created sizes), and source and destination not overlapping
// in memory (VUID-vkCmdCopyBuffer-pRegions-00117).
#include <string>

#include "context.h"
#include "vk_common.h"

namespace vramscope {

namespace {

// Nanoseconds a copy may take before it is reported as VK_TIMEOUT (a hung or lost device, not a slow one).
constexpr uint64_t kCopyTimeoutNs = 60ull * 1000 * 1000 * 1000;

}  // namespace

void Context::EnsureTransfer(Napi::Env env) {
  if (transfer_fence_ != VK_NULL_HANDLE) return;
  uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical_.handle, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vkGetPhysicalDeviceQueueFamilyProperties(physical_.handle, &count, families.data());
  // Graphics and compute queues support transfer whether or not they say so (Vulkan spec, "Queues").
  const VkQueueFlags transfer = VK_QUEUE_TRANSFER_BIT | VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT;
  if (count == 0 || (families[0].queueFlags & transfer) == 0) {
    ThrowCoded(env, ErrorKind::kError, kErrUnsupported,
               "queue family 0 of \"" + physical_.name + "\" cannot do transfers, so buffers cannot be copied");
  }
  vkGetDeviceQueue(device_, 0, 0, &queue_);
  VkCommandPoolCreateInfo pool{};
  pool.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT | VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
  pool.queueFamilyIndex = 0;
  VkResult r = vkCreateCommandPool(device_, &pool, nullptr, &transfer_pool_);
  if (r != VK_SUCCESS) ThrowVk(env, "vkCreateCommandPool", r, "for buffer copies");
  VkCommandBufferAllocateInfo alloc{};
  alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  alloc.commandPool = transfer_pool_;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  r = vkAllocateCommandBuffers(device_, &alloc, &transfer_cmd_);
  if (r != VK_SUCCESS) {
    ReleaseTransfer();
    ThrowVk(env, "vkAllocateCommandBuffers", r, "for buffer copies");
  }
  VkFenceCreateInfo fence{};
  fence.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  r = vkCreateFence(device_, &fence, nullptr, &transfer_fence_);
  if (r != VK_SUCCESS) {
    ReleaseTransfer();
    ThrowVk(env, "vkCreateFence", r, "for buffer copies");
  }
}

void Context::ReleaseTransfer() {
  if (device_ == VK_NULL_HANDLE) return;
  if (transfer_fence_ != VK_NULL_HANDLE) vkDestroyFence(device_, transfer_fence_, nullptr);
  // Destroying the pool frees its command buffer.
  if (transfer_pool_ != VK_NULL_HANDLE) vkDestroyCommandPool(device_, transfer_pool_, nullptr);
  transfer_fence_ = VK_NULL_HANDLE;
  transfer_pool_ = VK_NULL_HANDLE;
  transfer_cmd_ = VK_NULL_HANDLE;
  queue_ = VK_NULL_HANDLE;
}

// One region of a copy, checked (ReadCopyRegion). Offsets and size in bytes, within each buffer.
struct Context::CopyRegion {
  VkBuffer src = VK_NULL_HANDLE;
  VkBuffer dst = VK_NULL_HANDLE;
  uint64_t src_memory = 0;  // memory ids the buffers are bound to
  uint64_t dst_memory = 0;
  uint64_t src_at = 0;  // where the region starts in that memory: bound offset + buffer offset
  uint64_t dst_at = 0;
  uint64_t src_offset = 0;
  uint64_t dst_offset = 0;
  uint64_t size = 0;
};

Context::CopyRegion Context::ReadCopyRegion(Napi::Env env, const Napi::Value& src_value,
                                            const Napi::Value& src_offset_value, const Napi::Value& dst_value,
                                            const Napi::Value& dst_offset_value, const Napi::Value& size_value) {
  ResourceRecord& src = LookupResource(env, src_value, HandleKind::kBuffer, "src");
  const uint64_t src_offset = ReadSafeInteger(env, src_offset_value, "srcOffset", 0);
  ResourceRecord& dst = LookupResource(env, dst_value, HandleKind::kBuffer, "dst");
  const uint64_t dst_offset = ReadSafeInteger(env, dst_offset_value, "dstOffset", 0);
  const uint64_t size = ReadSafeInteger(env, size_value, "size", 1);
  if (src.bound_memory == 0 || dst.bound_memory == 0) {
    ThrowCoded(env, ErrorKind::kError, kErrState,
               std::string("the ") + (src.bound_memory == 0 ? "source" : "destination") +
                   " buffer is not bound to memory");
  }
  if ((src.usage & VK_BUFFER_USAGE_TRANSFER_SRC_BIT) == 0) {
    ThrowCoded(env, ErrorKind::kError, kErrState, "the source buffer was not created with TRANSFER_SRC usage");
  }
  if ((dst.usage & VK_BUFFER_USAGE_TRANSFER_DST_BIT) == 0) {
    ThrowCoded(env, ErrorKind::kError, kErrState,
               "the destination buffer was not created with TRANSFER_DST usage");
  }
  // Sizes are < 2^53 each (ReadSafeInteger), so the sums below cannot wrap.
  if (src_offset + size > src.create_size) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               "the copy reads " + std::to_string(size) + " bytes at offset " + std::to_string(src_offset) +
                   " of a " + std::to_string(src.create_size) + "-byte source buffer");
  }
  if (dst_offset + size > dst.create_size) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               "the copy writes " + std::to_string(size) + " bytes at offset " + std::to_string(dst_offset) +
                   " of a " + std::to_string(dst.create_size) + "-byte destination buffer");
  }
  CopyRegion r;
  r.src = src.buffer;
  r.dst = dst.buffer;
  r.src_memory = src.bound_memory;
  r.dst_memory = dst.bound_memory;
  r.src_at = src.bound_offset + src_offset;
  r.dst_at = dst.bound_offset + dst_offset;
  r.src_offset = src_offset;
  r.dst_offset = dst_offset;
  r.size = size;
  return r;
}

namespace {

bool Overlap(uint64_t memory_a, uint64_t a, uint64_t memory_b, uint64_t b, uint64_t size_a, uint64_t size_b) {
  return memory_a == memory_b && a < b + size_b && b < a + size_a;
}

}  // namespace

// Records every region in one command buffer and submits it once. Unordered: the copies run in no
// particular order and with no barrier between them, so no destination may overlap any source or another
// destination in memory (checked pairwise: batches are a relocation's few moves). Ordered: a
// transfer-to-transfer barrier between consecutive copies, so each sees the bytes of the ones before it
// (the pieces of an overlapping slide); then only each copy's own source and destination must not overlap.
void Context::SubmitCopies(Napi::Env env, const std::vector<CopyRegion>& regions, bool ordered) {
  for (size_t i = 0; i < regions.size(); i++) {
    const CopyRegion& d = regions[i];
    for (size_t j = ordered ? i : 0; j < (ordered ? i + 1 : regions.size()); j++) {
      const CopyRegion& o = regions[j];
      const bool reads = Overlap(d.dst_memory, d.dst_at, o.src_memory, o.src_at, d.size, o.size);
      const bool writes = j != i && Overlap(d.dst_memory, d.dst_at, o.dst_memory, o.dst_at, d.size, o.size);
      if (!reads && !writes) continue;
      const uint64_t b = reads ? o.src_at : o.dst_at;
      ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
                 std::string(reads ? "source [" : "destination [") + std::to_string(b) + ", " +
                     std::to_string(b + o.size) + ") and destination [" + std::to_string(d.dst_at) + ", " +
                     std::to_string(d.dst_at + d.size) +
                     ") overlap in the same memory; copy in pieces no longer than their distance");
    }
  }
  EnsureTransfer(env);

  VkResult r = vkResetCommandBuffer(transfer_cmd_, 0);
  if (r != VK_SUCCESS) ThrowVk(env, "vkResetCommandBuffer", r, "");
  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  r = vkBeginCommandBuffer(transfer_cmd_, &begin);
  if (r != VK_SUCCESS) ThrowVk(env, "vkBeginCommandBuffer", r, "");
  uint64_t bytes = 0;
  for (size_t i = 0; i < regions.size(); i++) {
    const CopyRegion& c = regions[i];
    if (ordered && i > 0) {
      VkMemoryBarrier between{};
      between.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
      between.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
      between.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
      vkCmdPipelineBarrier(transfer_cmd_, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1,
                           &between, 0, nullptr, 0, nullptr);
    }
    VkBufferCopy region{};
    region.srcOffset = c.src_offset;
    region.dstOffset = c.dst_offset;
    region.size = c.size;
    vkCmdCopyBuffer(transfer_cmd_, c.src, c.dst, 1, &region);
    bytes += c.size;
  }
  // The written bytes become visible to host reads (mapped memory) once the fence signals.
  VkMemoryBarrier barrier{};
  barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(transfer_cmd_, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0,
                       nullptr, 0, nullptr);
  r = vkEndCommandBuffer(transfer_cmd_);
  if (r != VK_SUCCESS) ThrowVk(env, "vkEndCommandBuffer", r, "");
  const std::string what = std::to_string(regions.size()) + " buffer copies of " + std::to_string(bytes) + " bytes";
  VkSubmitInfo submit{};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &transfer_cmd_;
  r = vkQueueSubmit(queue_, 1, &submit, transfer_fence_);
  if (r != VK_SUCCESS) ThrowVk(env, "vkQueueSubmit", r, what);
  r = vkWaitForFences(device_, 1, &transfer_fence_, VK_TRUE, kCopyTimeoutNs);
  if (r != VK_SUCCESS) ThrowVk(env, "vkWaitForFences", r, what);
  r = vkResetFences(device_, 1, &transfer_fence_);
  if (r != VK_SUCCESS) ThrowVk(env, "vkResetFences", r, "");
}

// copyBuffer(src: BufferHandle, srcOffset: number, dst: BufferHandle, dstOffset: number, size: number)
// Offsets and size in bytes, within each buffer. Returns once the copy has completed on the device.
Napi::Value Context::CopyBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  if (info.Length() != 5) {
    ThrowCoded(env, ErrorKind::kTypeError, kErrArgument,
               "copyBuffer needs (src, srcOffset, dst, dstOffset, size), got " + std::to_string(info.Length()) +
                   " arguments");
  }
  SubmitCopies(env, {ReadCopyRegion(env, info[0], info[1], info[2], info[3], info[4])}, false);
  return env.Undefined();
}

// copyBuffers(copies: {src, srcOffset, dst, dstOffset, size}[], ordered: boolean): every copy in one
// submission (one vkQueueSubmit, one fence wait); see SubmitCopies for what may overlap.
Napi::Value Context::CopyBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnsureOpen(env);
  if (info.Length() != 2 || !info[0].IsArray() || !info[1].IsBoolean()) {
    ThrowCoded(env, ErrorKind::kTypeError, kErrArgument,
               "copyBuffers needs an array of {src, srcOffset, dst, dstOffset, size} and a boolean (ordered)");
  }
  Napi::Array list = info[0].As<Napi::Array>();
  if (list.Length() == 0) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument, "copyBuffers needs at least one copy");
  }
  std::vector<CopyRegion> regions;
  regions.reserve(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsObject()) {
      ThrowCoded(env, ErrorKind::kTypeError, kErrArgument,
                 "copyBuffers: copy " + std::to_string(i) + " is not an object");
    }
    Napi::Object o = item.As<Napi::Object>();
    regions.push_back(
        ReadCopyRegion(env, o.Get("src"), o.Get("srcOffset"), o.Get("dst"), o.Get("dstOffset"), o.Get("size")));
  }
  SubmitCopies(env, regions, info[1].As<Napi::Boolean>().Value());
  return env.Undefined();
}

}  // namespace vramscope
