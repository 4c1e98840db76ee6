// Context::CopyBuffer: one vkCmdCopyBuffer on the context's queue (family 0, which must support transfer),
// submitted and waited for with a fence before it returns, so the bytes are in place when JS goes on.
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
  ResourceRecord& src = LookupResource(env, info[0], HandleKind::kBuffer, "src");
  const uint64_t src_offset = ReadSafeInteger(env, info[1], "srcOffset", 0);
  ResourceRecord& dst = LookupResource(env, info[2], HandleKind::kBuffer, "dst");
  const uint64_t dst_offset = ReadSafeInteger(env, info[3], "dstOffset", 0);
  const uint64_t size = ReadSafeInteger(env, info[4], "size", 1);
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
  if (src.bound_memory == dst.bound_memory) {
    const uint64_t a = src.bound_offset + src_offset;
    const uint64_t b = dst.bound_offset + dst_offset;
    if (a < b + size && b < a + size) {
      ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
                 "source [" + std::to_string(a) + ", " + std::to_string(a + size) + ") and destination [" +
                     std::to_string(b) + ", " + std::to_string(b + size) +
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
  VkBufferCopy region{};
  region.srcOffset = src_offset;
  region.dstOffset = dst_offset;
  region.size = size;
  vkCmdCopyBuffer(transfer_cmd_, src.buffer, dst.buffer, 1, &region);
  // The written bytes become visible to host reads (mapped memory) once the fence signals.
  VkMemoryBarrier barrier{};
  barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(transfer_cmd_, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0,
                       nullptr, 0, nullptr);
  r = vkEndCommandBuffer(transfer_cmd_);
  if (r != VK_SUCCESS) ThrowVk(env, "vkEndCommandBuffer", r, "");
  VkSubmitInfo submit{};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &transfer_cmd_;
  r = vkQueueSubmit(queue_, 1, &submit, transfer_fence_);
  if (r != VK_SUCCESS) ThrowVk(env, "vkQueueSubmit", r, std::to_string(size) + "-byte buffer copy");
  r = vkWaitForFences(device_, 1, &transfer_fence_, VK_TRUE, kCopyTimeoutNs);
  if (r != VK_SUCCESS) ThrowVk(env, "vkWaitForFences", r, std::to_string(size) + "-byte buffer copy");
  r = vkResetFences(device_, 1, &transfer_fence_);
  if (r != VK_SUCCESS) ThrowVk(env, "vkResetFences", r, "");
  return env.Undefined();
}

}  // namespace vramscope
