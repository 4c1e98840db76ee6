// VRAMscope capture stream format, version 1: what the capture layer (VK_LAYER_VRAMSCOPE_capture) writes to
// VRAMSCOPE_CAPTURE_FILE or VRAMSCOPE_CAPTURE_SOCKET. docs/capture.md ("Stream format") is the authoritative
// description and is generated from the field lists below (tools/print-format.cc); the TypeScript decoder
// reads from that document. Change the format only by editing the document first, with a dated note.
//
// All integers little-endian. Every record starts with RecordHeader (24 bytes); its `bytes` is the whole record
// size including the header, always a multiple of 8; readers skip unknown kinds by `bytes`. After the header
// comes the kind's fixed payload (the struct below, every field naturally aligned, no implicit padding), then
// for some kinds a variable tail (strings or stack frames), then zero bytes up to the multiple of 8.
// A string in a tail is: u32 byteLength, then byteLength bytes of UTF-8 (not NUL-terminated), then zero bytes
// up to the next offset that is a multiple of 4 (offsets counted from the start of the record).
#pragma once
#include <stdint.h>

namespace vrscap {

// Stream header: 32 bytes, once, at offset 0.
static const char kMagic[8] = {'V', 'R', 'S', 'C', 'A', 'P', '\0', '\1'};
static const uint32_t kFormatVersion = 1;

// A field list: F(type, name, arrayCount, description). arrayCount 1 = scalar. Types: u16 u32 i32 u64 f32.
typedef uint16_t u16;
typedef uint32_t u32;
typedef int32_t i32;
typedef uint64_t u64;
typedef float f32;

#define VRSCAP_STREAM_HEADER(F)                                                                   \
  F(u64, magic, 1, "the 8 bytes `56 52 53 43 41 50 00 01` (\"VRSCAP\\0\\1\")")                 \
  F(u32, version, 1, "format version, 1")                                                        \
  F(u32, headerBytes, 1, "size of this header, 32; records start at this offset")                \
  F(u32, pid, 1, "process id of the captured application")                                       \
  F(u32, reserved, 1, "0")                                                                        \
  F(u64, startMonotonicNs, 1, "CLOCK_MONOTONIC (ns) when the layer started; record times are on the same clock")

#define VRSCAP_RECORD_HEADER(F)                                                                            \
  F(u16, kind, 1, "record kind (table of kinds); unknown kinds are skipped by `bytes`")                      \
  F(u16, flags, 1, "RecordFlag bits: bit 0 `Variant2` (the call was a `2`/`KHR` variant), bit 15 `Truncated` (a string or stack was cut)") \
  F(u32, bytes, 1, "whole record size in bytes including this header; a multiple of 8, at least 24")          \
  F(u32, threadId, 1, "Linux thread id (gettid) of the thread that made the call (the layer's own thread for Flush, Budget from the timer, Symbol, Dropped)") \
  F(u32, sequence, 1, "per-stream order of the records (wraps at 2^32; see Ordering)")                        \
  F(u64, timeNs, 1, "CLOCK_MONOTONIC in ns when the call returned (Destroy/Free kinds: just before the call was forwarded)")

// Record kinds. Values are stable; new kinds get new numbers.
enum Kind : uint16_t {
  kProcessStart = 1,
  kProcessEnd = 2,
  kFlush = 3,
  kDropped = 4,
  kInstanceCreate = 5,
  kInstanceDestroy = 6,
  kDeviceCreate = 7,
  kDeviceDestroy = 8,
  kBudget = 9,
  kAllocateMemory = 10,
  kFreeMemory = 11,
  kMapMemory = 12,
  kUnmapMemory = 13,
  kCreateBuffer = 14,
  kDestroyBuffer = 15,
  kCreateImage = 16,
  kDestroyImage = 17,
  kBufferRequirements = 18,
  kImageRequirements = 19,
  kBindBuffer = 20,
  kBindImage = 21,
  kPresent = 22,
  kObjectName = 23,
  kStack = 24,
  kSymbol = 25,
};

// RecordHeader::flags bits.
enum RecordFlag : uint16_t {
  kFlagVariant2 = 1u << 0,
  kFlagTruncated = 1u << 15,
};

static const int kMaxHeaps = 16;  // VK_MAX_MEMORY_HEAPS
static const int kMaxTypes = 32;  // VK_MAX_MEMORY_TYPES

// ---- payloads ----------------------------------------------------------------------------------------

#define VRSCAP_PROCESS_START(F)                                                                       \
  F(u32, pid, 1, "process id")                                                                        \
  F(u32, layerVersion, 1, "capture layer implementation version (1)")                                \
  F(u64, realtimeNs, 1, "CLOCK_REALTIME (ns since the Unix epoch) taken with the header's startMonotonicNs") \
  F(u32, options, 1, "bit 0: native call stacks are recorded (VRAMSCOPE_CAPTURE_STACKS=1)")          \
  F(u32, pad0, 1, "0")
// tail: string executablePath (/proc/self/exe), string commandLine (arguments separated by NUL bytes)

#define VRSCAP_PROCESS_END(F)                                                                         \
  F(u64, recordsWritten, 1, "records written before this one")                                       \
  F(u64, recordsDropped, 1, "records lost in total (see Dropped)")                                   \
  F(u32, reason, 1, "1: the process exited normally (exit() or return from main)")                  \
  F(u32, pad0, 1, "0")

#define VRSCAP_FLUSH(F)                                                                               \
  F(u32, watermark, 1, "every record whose sequence precedes this value has been written before this Flush") \
  F(u32, pad0, 1, "0")                                                                                \
  F(u64, bytesWritten, 1, "stream bytes written before this record, header included")

#define VRSCAP_DROPPED(F)                                                                             \
  F(u64, count, 1, "records lost since the previous Dropped record")                                \
  F(u32, reason, 1, "1: a thread's buffer passed its limit (16 MiB) before the writer drained it")   \
  F(u32, pad0, 1, "0")

#define VRSCAP_INSTANCE_CREATE(F)                                                                     \
  F(u64, instance, 1, "VkInstance (0 when the call failed)")                                       \
  F(i32, result, 1, "VkResult")                                                                      \
  F(u32, apiVersion, 1, "VkApplicationInfo::apiVersion (0 when no application info)")              \
  F(u32, applicationVersion, 1, "VkApplicationInfo::applicationVersion")                           \
  F(u32, engineVersion, 1, "VkApplicationInfo::engineVersion")
// tail: string applicationName, string engineName, string enabledExtensions (space-separated)

#define VRSCAP_INSTANCE_DESTROY(F) F(u64, instance, 1, "VkInstance")

// DeviceCreate features bits
enum DeviceFeature : uint32_t {
  kDevMemoryBudget = 1u << 0,         // VK_EXT_memory_budget enabled by the app (Budget records follow)
  kDevDedicatedAllocation = 1u << 1,  // Vulkan >= 1.1 device or VK_KHR_dedicated_allocation enabled
  kDevBufferDeviceAddress = 1u << 2,  // bufferDeviceAddress feature enabled by the app (1.2 / KHR / EXT)
  kDevMemoryPriority = 1u << 3,       // VK_EXT_memory_priority enabled
  kDevMapMemory2 = 1u << 4,           // VK_KHR_map_memory2 enabled
  kDevDebugMarker = 1u << 5,          // VK_EXT_debug_marker enabled
  kDevDriverProperties = 1u << 6,     // driverId/driverName/driverInfo came from VkPhysicalDeviceDriverProperties
  kDevMaintenance3 = 1u << 7,         // maxMemoryAllocationSize came from VkPhysicalDeviceMaintenance3Properties
};

#define VRSCAP_DEVICE_CREATE(F)                                                                       \
  F(u64, device, 1, "VkDevice (0 when the call failed)")                                           \
  F(u64, physicalDevice, 1, "VkPhysicalDevice")                                                      \
  F(u64, instance, 1, "VkInstance the physical device belongs to")                                  \
  F(i32, result, 1, "VkResult")                                                                      \
  F(u32, apiVersion, 1, "VkPhysicalDeviceProperties::apiVersion")                                    \
  F(u32, driverVersion, 1, "VkPhysicalDeviceProperties::driverVersion (vendor-specific encoding)")  \
  F(u32, vendorId, 1, "VkPhysicalDeviceProperties::vendorID")                                        \
  F(u32, deviceId, 1, "VkPhysicalDeviceProperties::deviceID")                                        \
  F(u32, deviceType, 1, "VkPhysicalDeviceType (0 other, 1 integrated, 2 discrete, 3 virtual, 4 cpu)") \
  F(u32, driverId, 1, "VkDriverId (0 when unknown)")                                                \
  F(u32, features, 1, "DeviceFeature bits (table below)")                                            \
  F(u32, heapCount, 1, "VkPhysicalDeviceMemoryProperties::memoryHeapCount")                          \
  F(u32, typeCount, 1, "VkPhysicalDeviceMemoryProperties::memoryTypeCount")                          \
  F(u32, maxMemoryAllocationCount, 1, "limits.maxMemoryAllocationCount")                            \
  F(u32, pad0, 1, "0")                                                                                \
  F(u64, bufferImageGranularity, 1, "limits.bufferImageGranularity (bytes)")                        \
  F(u64, nonCoherentAtomSize, 1, "limits.nonCoherentAtomSize (bytes)")                              \
  F(u64, maxMemoryAllocationSize, 1, "VkPhysicalDeviceMaintenance3Properties (bytes; 0 when unknown)") \
  F(u64, minMemoryMapAlignment, 1, "limits.minMemoryMapAlignment (bytes)")                          \
  F(u64, heapSize, 16, "memoryHeaps[i].size (bytes); entries past heapCount are 0")                 \
  F(u32, heapFlags, 16, "memoryHeaps[i].flags (VkMemoryHeapFlags)")                                 \
  F(u32, typePropertyFlags, 32, "memoryTypes[i].propertyFlags (VkMemoryPropertyFlags)")             \
  F(u32, typeHeapIndex, 32, "memoryTypes[i].heapIndex")
// tail: string deviceName, string driverName, string driverInfo, string enabledExtensions (space-separated)

#define VRSCAP_DEVICE_DESTROY(F) F(u64, device, 1, "VkDevice")

#define VRSCAP_BUDGET(F)                                                                              \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u32, heapCount, 1, "valid entries in the arrays")                                               \
  F(u32, trigger, 1, "1: vkQueuePresentKHR, 2: the layer's 100 ms timer, 3: right after vkCreateDevice") \
  F(u64, heapBudget, 16, "VkPhysicalDeviceMemoryBudgetPropertiesEXT::heapBudget[i] (bytes)")       \
  F(u64, heapUsage, 16, "VkPhysicalDeviceMemoryBudgetPropertiesEXT::heapUsage[i] (bytes)")

// AllocateMemory chain bits: which pNext structures were present.
enum AllocateChain : uint32_t {
  kChainDedicated = 1u << 0,          // VkMemoryDedicatedAllocateInfo
  kChainFlags = 1u << 1,              // VkMemoryAllocateFlagsInfo
  kChainPriority = 1u << 2,           // VkMemoryPriorityAllocateInfoEXT
  kChainExport = 1u << 3,             // VkExportMemoryAllocateInfo(KHR)
  kChainImportFd = 1u << 4,           // VkImportMemoryFdInfoKHR
  kChainImportHostPointer = 1u << 5,  // VkImportMemoryHostPointerInfoEXT
  kChainImportOther = 1u << 6,        // another import structure (Win32, Android, Zircon, ...): importHandleType 0
  kChainOpaqueCaptureAddress = 1u << 7,  // VkMemoryOpaqueCaptureAddressAllocateInfo
};

#define VRSCAP_ALLOCATE_MEMORY(F)                                                                     \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, memory, 1, "VkDeviceMemory (0 when the call failed)")                                     \
  F(u64, size, 1, "allocationSize (bytes)")                                                          \
  F(u32, memoryTypeIndex, 1, "memoryTypeIndex")                                                      \
  F(i32, result, 1, "VkResult")                                                                      \
  F(u64, dedicatedBuffer, 1, "VkMemoryDedicatedAllocateInfo::buffer (0 if none)")                  \
  F(u64, dedicatedImage, 1, "VkMemoryDedicatedAllocateInfo::image (0 if none)")                    \
  F(u32, chain, 1, "AllocateChain bits: which pNext structures were present (table below)")        \
  F(u32, allocateFlags, 1, "VkMemoryAllocateFlagsInfo::flags (VkMemoryAllocateFlags; 0x2 = device address)") \
  F(u32, deviceMask, 1, "VkMemoryAllocateFlagsInfo::deviceMask")                                    \
  F(f32, priority, 1, "VkMemoryPriorityAllocateInfoEXT::priority (0.5 when absent, as Vulkan's default)") \
  F(u32, exportHandleTypes, 1, "VkExportMemoryAllocateInfo::handleTypes")                           \
  F(u32, importHandleType, 1, "handleType of the import structure (fd or host pointer)")           \
  F(u64, opaqueCaptureAddress, 1, "VkMemoryOpaqueCaptureAddressAllocateInfo::opaqueCaptureAddress") \
  F(u64, importHostPointer, 1, "VkImportMemoryHostPointerInfoEXT::pHostPointer (address)")

#define VRSCAP_FREE_MEMORY(F)                                                                         \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, memory, 1, "VkDeviceMemory (0 is a valid no-op free and is recorded too)")

#define VRSCAP_MAP_MEMORY(F)                                                                          \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, memory, 1, "VkDeviceMemory")                                                                \
  F(u64, offset, 1, "offset (bytes)")                                                                \
  F(u64, size, 1, "size (bytes; 0xFFFFFFFFFFFFFFFF = VK_WHOLE_SIZE)")                               \
  F(u32, flags, 1, "VkMemoryMapFlags")                                                               \
  F(i32, result, 1, "VkResult")                                                                      \
  F(u64, pointer, 1, "host address returned (0 on failure)")

#define VRSCAP_UNMAP_MEMORY(F)                                                                        \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, memory, 1, "VkDeviceMemory")                                                                \
  F(u32, flags, 1, "VkMemoryUnmapFlagsKHR (0 for vkUnmapMemory)")                                   \
  F(i32, result, 1, "VkResult (VK_SUCCESS for vkUnmapMemory, which returns nothing)")

#define VRSCAP_CREATE_BUFFER(F)                                                                       \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, buffer, 1, "VkBuffer (0 when the call failed)")                                           \
  F(u64, size, 1, "VkBufferCreateInfo::size (bytes)")                                               \
  F(u32, usage, 1, "VkBufferUsageFlags")                                                             \
  F(u32, flags, 1, "VkBufferCreateFlags")                                                            \
  F(u32, sharingMode, 1, "VkSharingMode")                                                            \
  F(i32, result, 1, "VkResult")                                                                      \
  F(u32, externalHandleTypes, 1, "VkExternalMemoryBufferCreateInfo::handleTypes (0 if absent)")     \
  F(u32, pad0, 1, "0")

#define VRSCAP_CREATE_IMAGE(F)                                                                        \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, image, 1, "VkImage (0 when the call failed)")                                             \
  F(u32, flags, 1, "VkImageCreateFlags")                                                             \
  F(u32, imageType, 1, "VkImageType (0 1D, 1 2D, 2 3D)")                                            \
  F(u32, format, 1, "VkFormat")                                                                      \
  F(u32, width, 1, "extent.width")                                                                   \
  F(u32, height, 1, "extent.height")                                                                 \
  F(u32, depth, 1, "extent.depth")                                                                   \
  F(u32, mipLevels, 1, "mipLevels")                                                                  \
  F(u32, arrayLayers, 1, "arrayLayers")                                                              \
  F(u32, samples, 1, "VkSampleCountFlagBits")                                                        \
  F(u32, tiling, 1, "VkImageTiling (0 optimal, 1 linear, 1000158000 DRM format modifier)")          \
  F(u32, usage, 1, "VkImageUsageFlags")                                                              \
  F(u32, sharingMode, 1, "VkSharingMode")                                                            \
  F(u32, initialLayout, 1, "VkImageLayout")                                                          \
  F(i32, result, 1, "VkResult")                                                                      \
  F(u32, externalHandleTypes, 1, "VkExternalMemoryImageCreateInfo::handleTypes (0 if absent)")      \
  F(u32, pad0, 1, "0")

#define VRSCAP_DESTROY_BUFFER(F)                                                                      \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, buffer, 1, "VkBuffer (0 is a valid no-op and is recorded too)")

#define VRSCAP_DESTROY_IMAGE(F)                                                                       \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, image, 1, "VkImage (0 is a valid no-op and is recorded too)")

// Requirements flags bits
enum RequirementsFlag : uint32_t {
  kReqPrefersDedicated = 1u << 0,   // VkMemoryDedicatedRequirements::prefersDedicatedAllocation
  kReqRequiresDedicated = 1u << 1,  // VkMemoryDedicatedRequirements::requiresDedicatedAllocation
  kReqDedicatedKnown = 1u << 2,     // bits 0-1 are meaningful (the query chained VkMemoryDedicatedRequirements)
  kReqQueriedByLayer = 1u << 3,     // the layer asked (at bind time), not the application
};

#define VRSCAP_BUFFER_REQUIREMENTS(F)                                                                 \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, buffer, 1, "VkBuffer")                                                                      \
  F(u64, size, 1, "VkMemoryRequirements::size (bytes)")                                             \
  F(u64, alignment, 1, "VkMemoryRequirements::alignment (bytes)")                                   \
  F(u32, memoryTypeBits, 1, "VkMemoryRequirements::memoryTypeBits")                                 \
  F(u32, flags, 1, "RequirementsFlag bits (table below)")

#define VRSCAP_IMAGE_REQUIREMENTS(F)                                                                  \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, image, 1, "VkImage")                                                                        \
  F(u64, size, 1, "VkMemoryRequirements::size (bytes)")                                             \
  F(u64, alignment, 1, "VkMemoryRequirements::alignment (bytes)")                                   \
  F(u32, memoryTypeBits, 1, "VkMemoryRequirements::memoryTypeBits")                                 \
  F(u32, flags, 1, "RequirementsFlag bits (table below)")                                           \
  F(u32, planeAspect, 1, "VkImagePlaneMemoryRequirementsInfo::planeAspect (0 = whole image)")        \
  F(u32, pad0, 1, "0")

#define VRSCAP_BIND_BUFFER(F)                                                                         \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, buffer, 1, "VkBuffer")                                                                      \
  F(u64, memory, 1, "VkDeviceMemory")                                                                \
  F(u64, offset, 1, "memoryOffset (bytes)")                                                          \
  F(i32, result, 1, "VkResult of the call (for the 2 variants: of the whole call)")                \
  F(u32, pad0, 1, "0")

#define VRSCAP_BIND_IMAGE(F)                                                                          \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, image, 1, "VkImage")                                                                        \
  F(u64, memory, 1, "VkDeviceMemory (0 for a swapchain bind)")                                      \
  F(u64, offset, 1, "memoryOffset (bytes)")                                                          \
  F(i32, result, 1, "VkResult of the call (for the 2 variants: of the whole call)")                \
  F(u32, planeAspect, 1, "VkBindImagePlaneMemoryInfo::planeAspect (0 = whole image)")               \
  F(u64, swapchain, 1, "VkBindImageMemorySwapchainInfoKHR::swapchain (0 if absent)")               \
  F(u32, swapchainImageIndex, 1, "VkBindImageMemorySwapchainInfoKHR::imageIndex")                   \
  F(u32, pad0, 1, "0")

#define VRSCAP_PRESENT(F)                                                                             \
  F(u64, device, 1, "VkDevice the queue belongs to")                                                \
  F(u64, queue, 1, "VkQueue")                                                                        \
  F(u64, frame, 1, "presents on this device so far, this one included (1, 2, ...)")                 \
  F(i32, result, 1, "VkResult")                                                                      \
  F(u32, swapchainCount, 1, "VkPresentInfoKHR::swapchainCount")                                     \
  F(u64, firstSwapchain, 1, "pSwapchains[0] (0 if none)")                                            \
  F(u32, firstImageIndex, 1, "pImageIndices[0]")                                                     \
  F(u32, pad0, 1, "0")

#define VRSCAP_OBJECT_NAME(F)                                                                         \
  F(u64, device, 1, "VkDevice")                                                                      \
  F(u64, handle, 1, "the named object's handle")                                                     \
  F(u32, objectType, 1, "source 1: VkObjectType; source 2: VkDebugReportObjectTypeEXT (the same values for core objects: 8 memory, 9 buffer, 10 image)") \
  F(u32, source, 1, "1: vkSetDebugUtilsObjectNameEXT, 2: vkDebugMarkerSetObjectNameEXT")
// tail: string name (empty = the name was removed)

#define VRSCAP_STACK(F)                                                                               \
  F(u32, ofSequence, 1, "sequence of the record (same thread) this call stack belongs to")          \
  F(u32, frameCount, 1, "number of u64 return addresses that follow, innermost first, the layer's own frames removed")
// tail: u64 pc[frameCount]

#define VRSCAP_SYMBOL(F)                                                                              \
  F(u64, pc, 1, "a return address seen in a Stack record")                                          \
  F(u64, moduleBase, 1, "load address of the module containing pc (0 if unknown)")                  \
  F(u64, symbolAddress, 1, "address of the nearest symbol at or below pc (0 if unknown)")
// tail: string modulePath, string symbolName (demangled C++ where possible; empty if unknown)

// ---- structs generated from the field lists -----------------------------------------------------------

#define VRSCAP_FIELD(type, name, count, desc) type name[count];
#define VRSCAP_STRUCT(Name, LIST) \
  struct Name {                   \
    LIST(VRSCAP_FIELD)            \
  };

VRSCAP_STRUCT(StreamHeader, VRSCAP_STREAM_HEADER)
VRSCAP_STRUCT(RecordHeader, VRSCAP_RECORD_HEADER)
VRSCAP_STRUCT(ProcessStart, VRSCAP_PROCESS_START)
VRSCAP_STRUCT(ProcessEnd, VRSCAP_PROCESS_END)
VRSCAP_STRUCT(Flush, VRSCAP_FLUSH)
VRSCAP_STRUCT(Dropped, VRSCAP_DROPPED)
VRSCAP_STRUCT(InstanceCreate, VRSCAP_INSTANCE_CREATE)
VRSCAP_STRUCT(InstanceDestroy, VRSCAP_INSTANCE_DESTROY)
VRSCAP_STRUCT(DeviceCreate, VRSCAP_DEVICE_CREATE)
VRSCAP_STRUCT(DeviceDestroy, VRSCAP_DEVICE_DESTROY)
VRSCAP_STRUCT(Budget, VRSCAP_BUDGET)
VRSCAP_STRUCT(AllocateMemory, VRSCAP_ALLOCATE_MEMORY)
VRSCAP_STRUCT(FreeMemory, VRSCAP_FREE_MEMORY)
VRSCAP_STRUCT(MapMemory, VRSCAP_MAP_MEMORY)
VRSCAP_STRUCT(UnmapMemory, VRSCAP_UNMAP_MEMORY)
VRSCAP_STRUCT(CreateBuffer, VRSCAP_CREATE_BUFFER)
VRSCAP_STRUCT(DestroyBuffer, VRSCAP_DESTROY_BUFFER)
VRSCAP_STRUCT(CreateImage, VRSCAP_CREATE_IMAGE)
VRSCAP_STRUCT(DestroyImage, VRSCAP_DESTROY_IMAGE)
VRSCAP_STRUCT(BufferRequirements, VRSCAP_BUFFER_REQUIREMENTS)
VRSCAP_STRUCT(ImageRequirements, VRSCAP_IMAGE_REQUIREMENTS)
VRSCAP_STRUCT(BindBuffer, VRSCAP_BIND_BUFFER)
VRSCAP_STRUCT(BindImage, VRSCAP_BIND_IMAGE)
VRSCAP_STRUCT(Present, VRSCAP_PRESENT)
VRSCAP_STRUCT(ObjectName, VRSCAP_OBJECT_NAME)
VRSCAP_STRUCT(Stack, VRSCAP_STACK)
VRSCAP_STRUCT(Symbol, VRSCAP_SYMBOL)

// Every record kind with its struct and field list, for generators (docs, checks): X(Kind, Struct, LIST, tail)
#define VRSCAP_ALL_RECORDS(X)                                                                                 \
  X(kProcessStart, ProcessStart, VRSCAP_PROCESS_START, "string executablePath, string commandLine (arguments separated by NUL bytes)") \
  X(kProcessEnd, ProcessEnd, VRSCAP_PROCESS_END, "")                                                         \
  X(kFlush, Flush, VRSCAP_FLUSH, "")                                                                         \
  X(kDropped, Dropped, VRSCAP_DROPPED, "")                                                                   \
  X(kInstanceCreate, InstanceCreate, VRSCAP_INSTANCE_CREATE, "string applicationName, string engineName, string enabledExtensions (space-separated)") \
  X(kInstanceDestroy, InstanceDestroy, VRSCAP_INSTANCE_DESTROY, "")                                          \
  X(kDeviceCreate, DeviceCreate, VRSCAP_DEVICE_CREATE, "string deviceName, string driverName, string driverInfo, string enabledExtensions (space-separated)") \
  X(kDeviceDestroy, DeviceDestroy, VRSCAP_DEVICE_DESTROY, "")                                                \
  X(kBudget, Budget, VRSCAP_BUDGET, "")                                                                      \
  X(kAllocateMemory, AllocateMemory, VRSCAP_ALLOCATE_MEMORY, "")                                             \
  X(kFreeMemory, FreeMemory, VRSCAP_FREE_MEMORY, "")                                                         \
  X(kMapMemory, MapMemory, VRSCAP_MAP_MEMORY, "")                                                            \
  X(kUnmapMemory, UnmapMemory, VRSCAP_UNMAP_MEMORY, "")                                                      \
  X(kCreateBuffer, CreateBuffer, VRSCAP_CREATE_BUFFER, "")                                                   \
  X(kDestroyBuffer, DestroyBuffer, VRSCAP_DESTROY_BUFFER, "")                                                \
  X(kCreateImage, CreateImage, VRSCAP_CREATE_IMAGE, "")                                                      \
  X(kDestroyImage, DestroyImage, VRSCAP_DESTROY_IMAGE, "")                                                   \
  X(kBufferRequirements, BufferRequirements, VRSCAP_BUFFER_REQUIREMENTS, "")                                 \
  X(kImageRequirements, ImageRequirements, VRSCAP_IMAGE_REQUIREMENTS, "")                                    \
  X(kBindBuffer, BindBuffer, VRSCAP_BIND_BUFFER, "")                                                         \
  X(kBindImage, BindImage, VRSCAP_BIND_IMAGE, "")                                                            \
  X(kPresent, Present, VRSCAP_PRESENT, "")                                                                   \
  X(kObjectName, ObjectName, VRSCAP_OBJECT_NAME, "string name (empty: the name was removed)")              \
  X(kStack, Stack, VRSCAP_STACK, "u64 pc[frameCount]")                                                      \
  X(kSymbol, Symbol, VRSCAP_SYMBOL, "string modulePath, string symbolName (demangled where possible; empty if unknown)")

static_assert(sizeof(StreamHeader) == 32, "stream header is 32 bytes");
static_assert(sizeof(RecordHeader) == 24, "record header is 24 bytes");

}  // namespace vrscap
