// The Vulkan values the addon accepts in resource descriptions: buffer and image usage bits by name, the core
// format range, and the defaults for omitted fields. The TypeScript side names the same bits in
// allocator/capture/vulkan-names.ts (BufferUsage, ImageUsage, maxCoreFormat, defaults): the addon exports
// these tables as `argumentTables`, and tests/integration/native-safety.test.ts fails when the two differ.
// Values come from the Vulkan headers, so a typo here cannot survive either.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>

namespace vramscope {

struct NamedBit {
  const char* name;
  uint32_t bit;
};

// Core 1.0 VkBufferUsageFlagBits plus SHADER_DEVICE_ADDRESS (core 1.2, VK_KHR_buffer_device_address).
inline constexpr NamedBit kBufferUsageBits[] = {
    {"TRANSFER_SRC", VK_BUFFER_USAGE_TRANSFER_SRC_BIT},
    {"TRANSFER_DST", VK_BUFFER_USAGE_TRANSFER_DST_BIT},
    {"UNIFORM_TEXEL_BUFFER", VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT},
    {"STORAGE_TEXEL_BUFFER", VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT},
    {"UNIFORM_BUFFER", VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT},
    {"STORAGE_BUFFER", VK_BUFFER_USAGE_STORAGE_BUFFER_BIT},
    {"INDEX_BUFFER", VK_BUFFER_USAGE_INDEX_BUFFER_BIT},
    {"VERTEX_BUFFER", VK_BUFFER_USAGE_VERTEX_BUFFER_BIT},
    {"INDIRECT_BUFFER", VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT},
    {"SHADER_DEVICE_ADDRESS", VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT},
};

// Core 1.0 VkImageUsageFlagBits.
inline constexpr NamedBit kImageUsageBits[] = {
    {"TRANSFER_SRC", VK_IMAGE_USAGE_TRANSFER_SRC_BIT},
    {"TRANSFER_DST", VK_IMAGE_USAGE_TRANSFER_DST_BIT},
    {"SAMPLED", VK_IMAGE_USAGE_SAMPLED_BIT},
    {"STORAGE", VK_IMAGE_USAGE_STORAGE_BIT},
    {"COLOR_ATTACHMENT", VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT},
    {"DEPTH_STENCIL_ATTACHMENT", VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT},
    {"TRANSIENT_ATTACHMENT", VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT},
    {"INPUT_ATTACHMENT", VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT},
};

template <size_t N>
constexpr uint32_t MaskOf(const NamedBit (&table)[N]) {
  uint32_t mask = 0;
  for (const NamedBit& b : table) mask |= b.bit;
  return mask;
}

inline constexpr uint32_t kKnownBufferUsage = MaskOf(kBufferUsageBits);
inline constexpr uint32_t kKnownImageUsage = MaskOf(kImageUsageBits);
// Core Vulkan 1.0 formats are 1..184 (VK_FORMAT_UNDEFINED = 0 is not a format).
inline constexpr uint32_t kMaxCoreFormat = VK_FORMAT_ASTC_12x12_SRGB_BLOCK;

// Defaults for omitted arguments.
inline constexpr uint32_t kDefaultBufferUsage =
    VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
inline constexpr uint32_t kDefaultImageUsage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT;
inline constexpr uint32_t kDefaultImageFormat = VK_FORMAT_R8G8B8A8_UNORM;

}  // namespace vramscope
