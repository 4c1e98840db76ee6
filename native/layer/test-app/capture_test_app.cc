// capture-test-app: a small Vulkan program that exercises everything the VRAMscope capture layer records, on
// any device (lavapipe in tests), headless (no surface). It prints what it did as one JSON object on stdout so
// tests can compare the captured stream with the truth. Not a VRAMscope component: a plain Vulkan client.
//
// Usage: capture-test-app [options]
//   --device N          physical device index (default 0)
//   --threads N         threads allocating at once (default 8), --per-thread N blocks each (default 4)
//   --leak-memory N     leave N blocks (256 KiB) unfreed at vkDestroyDevice (default 0)
//   --leak-buffers N    leave N buffers undestroyed (default 0)
//   --free-while-bound  free a block while a buffer is still bound to it (destroyed afterwards)
//   --no-names          do not name objects (VK_EXT_debug_utils is still enabled when available)
//   --no-budget         do not enable VK_EXT_memory_budget even when the device has it
//   --extra-devices N   afterwards, N more VkDevices on the same physical device, one after the other, each
//                       with one named block and a buffer bound to it, all released (default 0)
//   --pause-ms N        after the allocations, print "paused" on stderr and sleep N ms before cleaning up
//   --bench N           instead of the scenario: N loops of allocate/map/unmap/create/requirements/bind/
//                       destroy/free of a 64 KiB host-visible block, printing the median ns of each call
// Exit status: 0 on success, 1 on a Vulkan error (message on stderr), 2 on bad usage.
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  uint32_t device = 0;
  uint32_t threads = 8;
  uint32_t perThread = 4;
  uint32_t leakMemory = 0;
  uint32_t leakBuffers = 0;
  bool freeWhileBound = false;
  bool names = true;
  bool budget = true;
  uint32_t pauseMs = 0;
  uint32_t bench = 0;
  uint32_t extraDevices = 0;
};

[[noreturn]] void fail(const char* what, VkResult r) {
  std::fprintf(stderr, "capture-test-app: %s failed: VkResult %d\n", what, static_cast<int>(r));
  std::exit(1);
}

void check(VkResult r, const char* what) {
  if (r != VK_SUCCESS) fail(what, r);
}

template <typename T>
std::string hex(T handle) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "\"0x%" PRIx64 "\"", static_cast<uint64_t>(reinterpret_cast<uintptr_t>(handle)));
  return buf;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

uint32_t gettidNow() { return static_cast<uint32_t>(syscall(SYS_gettid)); }

uint64_t nowNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
}

VkDeviceSize roundUp(VkDeviceSize v, VkDeviceSize a) { return (v + a - 1) / a * a; }

struct Memory {
  VkDevice device;
  VkDeviceMemory handle;
  VkDeviceSize size;
  uint32_t typeIndex;
  std::string name;
  std::string dedicated;  // "buffer", "image" or ""
  uint32_t thread;
  bool freed = false;
  bool mapped = false;
};

struct Resource {
  VkDevice device;
  uint64_t handle;
  bool image;
  VkDeviceSize size;  // buffers: create size; images: 0
  uint32_t usage;
  uint32_t width = 0, height = 0, format = 0, tiling = 0;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkDeviceSize offset = 0;
  std::string name;
  bool destroyed = false;
  uint32_t thread;
};

struct Counts {
  uint32_t allocateMemory = 0, freeMemory = 0, createBuffer = 0, destroyBuffer = 0, createImage = 0, destroyImage = 0,
           bindBuffer = 0, bindImage = 0, mapMemory = 0, unmapMemory = 0, objectNames = 0;
};

class App {
 public:
  explicit App(const Options& o) : opt(o) {}

  void createInstanceAndDevice() {
    uint32_t loaderVersion = VK_API_VERSION_1_0;
    auto enumerateVersion =
        reinterpret_cast<PFN_vkEnumerateInstanceVersion>(vkGetInstanceProcAddr(nullptr, "vkEnumerateInstanceVersion"));
    if (enumerateVersion) enumerateVersion(&loaderVersion);
    apiVersion = loaderVersion >= VK_API_VERSION_1_1 ? VK_API_VERSION_1_1 : VK_API_VERSION_1_0;

    uint32_t count = 0;
    vkEnumerateInstanceExtensionProperties(nullptr, &count, nullptr);
    std::vector<VkExtensionProperties> exts(count);
    vkEnumerateInstanceExtensionProperties(nullptr, &count, exts.data());
    std::vector<const char*> enabled;
    for (auto& e : exts)
      if (std::strcmp(e.extensionName, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) == 0) debugUtils = true;
    if (debugUtils) enabled.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);

    VkApplicationInfo app = {VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "capture-test-app";
    app.applicationVersion = 1;
    app.pEngineName = "none";
    app.apiVersion = apiVersion;
    VkInstanceCreateInfo ici = {VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ici.pApplicationInfo = &app;
    ici.enabledExtensionCount = static_cast<uint32_t>(enabled.size());
    ici.ppEnabledExtensionNames = enabled.data();
    check(vkCreateInstance(&ici, nullptr, &instance), "vkCreateInstance");

    vkEnumeratePhysicalDevices(instance, &count, nullptr);
    std::vector<VkPhysicalDevice> physicalDevices(count);
    vkEnumeratePhysicalDevices(instance, &count, physicalDevices.data());
    if (opt.device >= count) {
      std::fprintf(stderr, "capture-test-app: no device %u (%u devices)\n", opt.device, count);
      std::exit(1);
    }
    physicalDevice = physicalDevices[opt.device];
    vkGetPhysicalDeviceProperties(physicalDevice, &props);
    vkGetPhysicalDeviceMemoryProperties(physicalDevice, &memProps);
    if (props.apiVersion < VK_API_VERSION_1_1) apiVersion = VK_API_VERSION_1_0;

    vkEnumerateDeviceExtensionProperties(physicalDevice, nullptr, &count, nullptr);
    std::vector<VkExtensionProperties> dexts(count);
    vkEnumerateDeviceExtensionProperties(physicalDevice, nullptr, &count, dexts.data());
    std::vector<const char*> denabled;
    for (auto& e : dexts)
      if (opt.budget && std::strcmp(e.extensionName, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) == 0) memoryBudget = true;
    if (memoryBudget) denabled.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);

    float priority = 1.0f;
    VkDeviceQueueCreateInfo qci = {VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qci.queueFamilyIndex = 0;
    qci.queueCount = 1;
    qci.pQueuePriorities = &priority;
    VkDeviceCreateInfo dci = {VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    dci.enabledExtensionCount = static_cast<uint32_t>(denabled.size());
    dci.ppEnabledExtensionNames = denabled.data();
    check(vkCreateDevice(physicalDevice, &dci, nullptr, &device), "vkCreateDevice");
    devices.push_back(device);
    if (debugUtils)
      setName = reinterpret_cast<PFN_vkSetDebugUtilsObjectNameEXT>(
          vkGetInstanceProcAddr(instance, "vkSetDebugUtilsObjectNameEXT"));
    if (apiVersion >= VK_API_VERSION_1_1) {
      bindBuffer2 = reinterpret_cast<PFN_vkBindBufferMemory2>(vkGetDeviceProcAddr(device, "vkBindBufferMemory2"));
      imageReqs2 = reinterpret_cast<PFN_vkGetImageMemoryRequirements2>(
          vkGetDeviceProcAddr(device, "vkGetImageMemoryRequirements2"));
    }
    hostType = findType(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, ~0u);
    deviceType = findType(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, ~0u);
  }

  uint32_t findType(VkMemoryPropertyFlags want, uint32_t bits) {
    for (uint32_t i = 0; i < memProps.memoryTypeCount; i++)
      if ((bits & (1u << i)) && (memProps.memoryTypes[i].propertyFlags & want) == want) return i;
    for (uint32_t i = 0; i < memProps.memoryTypeCount; i++)
      if (bits & (1u << i)) return i;
    std::fprintf(stderr, "capture-test-app: no memory type in bits 0x%x\n", bits);
    std::exit(1);
  }

  void name(VkObjectType type, uint64_t handle, const std::string& n) {
    if (!setName || !opt.names) return;
    VkDebugUtilsObjectNameInfoEXT info = {VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT};
    info.objectType = type;
    info.objectHandle = handle;
    info.pObjectName = n.c_str();
    check(setName(device, &info), "vkSetDebugUtilsObjectNameEXT");
    std::lock_guard<std::mutex> lock(mutex);
    counts.objectNames++;
  }

  size_t allocate(VkDeviceSize size, uint32_t type, const std::string& n, VkBuffer dedicatedBuffer = VK_NULL_HANDLE) {
    VkMemoryAllocateInfo info = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    info.allocationSize = size;
    info.memoryTypeIndex = type;
    VkMemoryDedicatedAllocateInfo dedicated = {VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO};
    if (dedicatedBuffer) {
      dedicated.buffer = dedicatedBuffer;
      info.pNext = &dedicated;
    }
    VkDeviceMemory memory;
    check(vkAllocateMemory(device, &info, nullptr, &memory), "vkAllocateMemory");
    name(VK_OBJECT_TYPE_DEVICE_MEMORY, reinterpret_cast<uint64_t>(memory), n);
    std::lock_guard<std::mutex> lock(mutex);
    counts.allocateMemory++;
    memories.push_back({device, memory, size, type, opt.names && setName ? n : "", dedicatedBuffer ? "buffer" : "",
                        gettidNow()});
    return memories.size() - 1;
  }

  size_t createBuffer(VkDeviceSize size, VkBufferUsageFlags usage, const std::string& n, VkMemoryRequirements* reqs) {
    VkBufferCreateInfo info = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    info.size = size;
    info.usage = usage;
    VkBuffer buffer;
    check(vkCreateBuffer(device, &info, nullptr, &buffer), "vkCreateBuffer");
    if (reqs) vkGetBufferMemoryRequirements(device, buffer, reqs);
    name(VK_OBJECT_TYPE_BUFFER, reinterpret_cast<uint64_t>(buffer), n);
    std::lock_guard<std::mutex> lock(mutex);
    counts.createBuffer++;
    Resource r = {};
    r.device = device;
    r.handle = reinterpret_cast<uint64_t>(buffer);
    r.size = size;
    r.usage = usage;
    r.name = opt.names && setName ? n : "";
    r.thread = gettidNow();
    resources.push_back(r);
    return resources.size() - 1;
  }

  size_t createImage(uint32_t w, uint32_t hgt, VkImageTiling tiling, VkImageUsageFlags usage, const std::string& n,
                     VkMemoryRequirements* reqs) {
    VkImageCreateInfo info = {VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    info.imageType = VK_IMAGE_TYPE_2D;
    info.format = VK_FORMAT_R8G8B8A8_UNORM;
    info.extent = {w, hgt, 1};
    info.mipLevels = 1;
    info.arrayLayers = 1;
    info.samples = VK_SAMPLE_COUNT_1_BIT;
    info.tiling = tiling;
    info.usage = usage;
    info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    VkImage image;
    check(vkCreateImage(device, &info, nullptr, &image), "vkCreateImage");
    if (imageReqs2) {  // the *2 query, so the capture sees both forms
      VkImageMemoryRequirementsInfo2 ri = {VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2, nullptr, image};
      VkMemoryRequirements2 out = {VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
      imageReqs2(device, &ri, &out);
      *reqs = out.memoryRequirements;
    } else {
      vkGetImageMemoryRequirements(device, image, reqs);
    }
    name(VK_OBJECT_TYPE_IMAGE, reinterpret_cast<uint64_t>(image), n);
    std::lock_guard<std::mutex> lock(mutex);
    counts.createImage++;
    Resource r = {};
    r.device = device;
    r.handle = reinterpret_cast<uint64_t>(image);
    r.image = true;
    r.usage = usage;
    r.width = w;
    r.height = hgt;
    r.format = VK_FORMAT_R8G8B8A8_UNORM;
    r.tiling = tiling;
    r.name = opt.names && setName ? n : "";
    r.thread = gettidNow();
    resources.push_back(r);
    return resources.size() - 1;
  }

  void bind(size_t resource, size_t memory, VkDeviceSize offset, bool variant2 = false) {
    Resource r;
    VkDeviceMemory m;
    {
      std::lock_guard<std::mutex> lock(mutex);
      r = resources[resource];
      m = memories[memory].handle;
    }
    if (r.image) {
      check(vkBindImageMemory(device, reinterpret_cast<VkImage>(r.handle), m, offset), "vkBindImageMemory");
    } else if (variant2 && bindBuffer2) {
      VkBindBufferMemoryInfo info = {VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, nullptr,
                                     reinterpret_cast<VkBuffer>(r.handle), m, offset};
      check(bindBuffer2(device, 1, &info), "vkBindBufferMemory2");
    } else {
      check(vkBindBufferMemory(device, reinterpret_cast<VkBuffer>(r.handle), m, offset), "vkBindBufferMemory");
    }
    std::lock_guard<std::mutex> lock(mutex);
    resources[resource].memory = m;
    resources[resource].offset = offset;
    (r.image ? counts.bindImage : counts.bindBuffer)++;
  }

  void destroy(size_t resource) {
    Resource r;
    {
      std::lock_guard<std::mutex> lock(mutex);
      r = resources[resource];
      resources[resource].destroyed = true;
      (r.image ? counts.destroyImage : counts.destroyBuffer)++;
    }
    if (r.image) vkDestroyImage(device, reinterpret_cast<VkImage>(r.handle), nullptr);
    else vkDestroyBuffer(device, reinterpret_cast<VkBuffer>(r.handle), nullptr);
  }

  void freeMemory(size_t memory) {
    VkDeviceMemory m;
    {
      std::lock_guard<std::mutex> lock(mutex);
      m = memories[memory].handle;
      memories[memory].freed = true;
      counts.freeMemory++;
    }
    vkFreeMemory(device, m, nullptr);
  }

  void mapWrite(size_t memory) {
    VkDeviceMemory m;
    VkDeviceSize size;
    {
      std::lock_guard<std::mutex> lock(mutex);
      m = memories[memory].handle;
      size = memories[memory].size;
      memories[memory].mapped = true;
      counts.mapMemory++;
      counts.unmapMemory++;
    }
    void* p = nullptr;
    check(vkMapMemory(device, m, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
    std::memset(p, 0xA5, static_cast<size_t>(size));
    vkUnmapMemory(device, m);
  }

  void runScenario() {
    // 1. A host-visible block sub-allocated by three buffers at chosen offsets; mapped and written.
    VkMemoryRequirements reqs;
    std::vector<size_t> staging;
    const VkDeviceSize chosen[3] = {0, 128 * 1024, 512 * 1024};
    for (int i = 0; i < 3; i++)
      staging.push_back(createBuffer(64 * 1024, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, "staging-" + std::to_string(i), &reqs));
    size_t stagingBlock = allocate(1024 * 1024, findType(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                             VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, reqs.memoryTypeBits),
                                   "staging-block");
    for (int i = 0; i < 3; i++) bind(staging[i], stagingBlock, roundUp(chosen[i], reqs.alignment), i == 2);
    mapWrite(stagingBlock);

    // 2. A device-local block holding two optimal-tiling images side by side.
    VkMemoryRequirements r0, r1;
    size_t tex0 = createImage(256, 256, VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                              "texture-0", &r0);
    size_t tex1 = createImage(128, 128, VK_IMAGE_TILING_OPTIMAL, VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                              "texture-1", &r1);
    VkDeviceSize offset1 = roundUp(r0.size, r1.alignment);
    size_t imageBlock = allocate(std::max<VkDeviceSize>(4 * 1024 * 1024, roundUp(offset1 + r1.size, 65536)),
                                 findType(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, r0.memoryTypeBits & r1.memoryTypeBits),
                                 "image-block");
    bind(tex0, imageBlock, 0);
    bind(tex1, imageBlock, offset1);

    // 3. A dedicated allocation for a storage buffer.
    size_t storage = createBuffer(2 * 1024 * 1024, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, "dedicated-storage", &reqs);
    VkBuffer storageHandle = reinterpret_cast<VkBuffer>(resources[storage].handle);
    size_t storageBlock = allocate(reqs.size, findType(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, reqs.memoryTypeBits),
                                   "dedicated-storage-block", storageHandle);
    bind(storage, storageBlock, 0);

    // 4. Many threads allocating at once (they wait for each other, then go).
    std::atomic<uint32_t> ready{0};
    std::vector<std::thread> workers;
    std::vector<std::vector<std::pair<size_t, size_t>>> perThread(opt.threads);
    for (uint32_t t = 0; t < opt.threads; t++) {
      workers.emplace_back([&, t] {
        {
          std::lock_guard<std::mutex> lock(mutex);
          threadIds.push_back(gettidNow());
        }
        ready.fetch_add(1);
        while (ready.load() < opt.threads) std::this_thread::yield();
        for (uint32_t i = 0; i < opt.perThread; i++) {
          std::string tag = "thread-" + std::to_string(t) + "-" + std::to_string(i);
          VkMemoryRequirements rq;
          size_t b = createBuffer(64 * 1024, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, tag, &rq);
          size_t m = allocate(64 * 1024, findType(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, rq.memoryTypeBits), tag + "-block");
          bind(b, m, 0);
          perThread[t].push_back({b, m});
        }
      });
    }
    for (auto& w : workers) w.join();

    // 5. Deliberate problems.
    for (uint32_t i = 0; i < opt.leakMemory; i++) allocate(256 * 1024, hostType, "leak-" + std::to_string(i));
    for (uint32_t i = 0; i < opt.leakBuffers; i++)
      createBuffer(4096, VK_BUFFER_USAGE_TRANSFER_DST_BIT, "leaked-buffer-" + std::to_string(i), nullptr);
    if (opt.freeWhileBound) {
      size_t b = createBuffer(64 * 1024, VK_BUFFER_USAGE_TRANSFER_DST_BIT, "orphan-buffer", &reqs);
      size_t m = allocate(256 * 1024, findType(0, reqs.memoryTypeBits), "freed-while-bound");
      bind(b, m, 0);
      freeMemory(m);
      destroy(b);
    }

    if (opt.pauseMs) {
      std::fprintf(stderr, "paused\n");
      std::fflush(stderr);
      std::this_thread::sleep_for(std::chrono::milliseconds(opt.pauseMs));
    }

    // 6. Clean up everything except the leaks (threads free their own blocks from their own thread).
    workers.clear();
    for (uint32_t t = 0; t < opt.threads; t++) {
      workers.emplace_back([&, t] {
        for (auto& [b, m] : perThread[t]) {
          destroy(b);
          freeMemory(m);
        }
      });
    }
    for (auto& w : workers) w.join();
    for (size_t r : staging) destroy(r);
    destroy(tex0);
    destroy(tex1);
    destroy(storage);
    freeMemory(stagingBlock);
    freeMemory(imageBlock);
    freeMemory(storageBlock);
  }

  // More devices, one after the other: the capture must keep them apart (one track per device).
  void runExtraDevices() {
    VkDevice first = device;
    for (uint32_t k = 1; k <= opt.extraDevices; k++) {
      float priority = 1.0f;
      VkDeviceQueueCreateInfo qci = {VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
      qci.queueCount = 1;
      qci.pQueuePriorities = &priority;
      VkDeviceCreateInfo dci = {VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
      dci.queueCreateInfoCount = 1;
      dci.pQueueCreateInfos = &qci;
      check(vkCreateDevice(physicalDevice, &dci, nullptr, &device), "vkCreateDevice");
      devices.push_back(device);
      VkMemoryRequirements reqs;
      std::string tag = "device-" + std::to_string(k);
      size_t b = createBuffer(256 * 1024, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, tag + "-buffer", &reqs);
      size_t m = allocate(1024 * 1024, findType(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, reqs.memoryTypeBits), tag + "-block");
      bind(b, m, roundUp(4096, reqs.alignment));
      destroy(b);
      freeMemory(m);
      vkDestroyDevice(device, nullptr);
    }
    device = first;
  }

  void finish() {
    vkDestroyDevice(device, nullptr);
    vkDestroyInstance(instance, nullptr);
  }

  void printScenarioJson() {
    std::string s = "{\n";
    s += "  \"device\": {\"name\": " + quote(props.deviceName) + ", \"vendorId\": " + std::to_string(props.vendorID) +
         ", \"deviceId\": " + std::to_string(props.deviceID) + ", \"apiVersion\": " + std::to_string(props.apiVersion) +
         ", \"heapCount\": " + std::to_string(memProps.memoryHeapCount) +
         ", \"typeCount\": " + std::to_string(memProps.memoryTypeCount) + "},\n";
    s += "  \"apiVersion\": " + std::to_string(apiVersion) + ",\n";
    s += "  \"devices\": [";
    for (size_t i = 0; i < devices.size(); i++) s += (i ? ", " : "") + hex(devices[i]);
    s += "],\n";
    s += std::string("  \"extensions\": {\"debugUtils\": ") + (debugUtils ? "true" : "false") +
         ", \"memoryBudget\": " + (memoryBudget ? "true" : "false") + "},\n";
    s += "  \"memory\": [\n";
    for (size_t i = 0; i < memories.size(); i++) {
      const Memory& m = memories[i];
      s += "    {\"device\": " + hex(m.device) + ", \"handle\": " + hex(m.handle) + ", \"size\": " + std::to_string(m.size) +
           ", \"typeIndex\": " + std::to_string(m.typeIndex) + ", \"name\": " + quote(m.name) +
           ", \"dedicated\": " + quote(m.dedicated) + ", \"thread\": " + std::to_string(m.thread) +
           ", \"freed\": " + (m.freed ? "true" : "false") + ", \"mapped\": " + (m.mapped ? "true" : "false") + "}" +
           (i + 1 < memories.size() ? ",\n" : "\n");
    }
    s += "  ],\n  \"resources\": [\n";
    for (size_t i = 0; i < resources.size(); i++) {
      const Resource& r = resources[i];
      s += std::string("    {\"device\": ") + hex(r.device) + ", \"kind\": " + (r.image ? "\"image\"" : "\"buffer\"") +
           ", \"handle\": " + hex(reinterpret_cast<void*>(r.handle)) + ", \"size\": " + std::to_string(r.size) +
           ", \"usage\": " + std::to_string(r.usage) + ", \"width\": " + std::to_string(r.width) +
           ", \"height\": " + std::to_string(r.height) + ", \"format\": " + std::to_string(r.format) +
           ", \"tiling\": " + std::to_string(r.tiling) + ", \"memory\": " + (r.memory ? hex(r.memory) : "null") +
           ", \"offset\": " + std::to_string(r.offset) + ", \"name\": " + quote(r.name) +
           ", \"thread\": " + std::to_string(r.thread) + ", \"destroyed\": " + (r.destroyed ? "true" : "false") + "}" +
           (i + 1 < resources.size() ? ",\n" : "\n");
    }
    s += "  ],\n";
    s += "  \"counts\": {\"allocateMemory\": " + std::to_string(counts.allocateMemory) +
         ", \"freeMemory\": " + std::to_string(counts.freeMemory) + ", \"createBuffer\": " + std::to_string(counts.createBuffer) +
         ", \"destroyBuffer\": " + std::to_string(counts.destroyBuffer) + ", \"createImage\": " + std::to_string(counts.createImage) +
         ", \"destroyImage\": " + std::to_string(counts.destroyImage) + ", \"bindBuffer\": " + std::to_string(counts.bindBuffer) +
         ", \"bindImage\": " + std::to_string(counts.bindImage) + ", \"mapMemory\": " + std::to_string(counts.mapMemory) +
         ", \"unmapMemory\": " + std::to_string(counts.unmapMemory) + ", \"objectNames\": " + std::to_string(counts.objectNames) +
         "},\n";
    s += "  \"threads\": {\"count\": " + std::to_string(opt.threads) + ", \"perThread\": " + std::to_string(opt.perThread) +
         ", \"tids\": [";
    for (size_t i = 0; i < threadIds.size(); i++) s += (i ? ", " : "") + std::to_string(threadIds[i]);
    s += "]},\n  \"pid\": " + std::to_string(getpid()) + "\n}\n";
    std::fputs(s.c_str(), stdout);
  }

  // Bench: each call timed on its own; prints the median ns per call kind.
  void runBench() {
    enum { kAlloc, kMap, kUnmap, kCreate, kReqs, kBind, kDestroy, kFree, kCalls };
    const char* names[kCalls] = {"vkAllocateMemory", "vkMapMemory", "vkUnmapMemory", "vkCreateBuffer",
                                 "vkGetBufferMemoryRequirements", "vkBindBufferMemory", "vkDestroyBuffer", "vkFreeMemory"};
    std::vector<uint64_t> ns[kCalls];
    for (auto& v : ns) v.reserve(opt.bench);
    VkMemoryAllocateInfo ai = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, nullptr, 64 * 1024, hostType};
    VkBufferCreateInfo bi = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = 64 * 1024;
    bi.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
    for (uint32_t i = 0; i < opt.bench; i++) {
      VkDeviceMemory m;
      VkBuffer b;
      VkMemoryRequirements r;
      void* p;
      uint64_t t0 = nowNs();
      check(vkAllocateMemory(device, &ai, nullptr, &m), "vkAllocateMemory");
      uint64_t t1 = nowNs();
      check(vkMapMemory(device, m, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
      uint64_t t2 = nowNs();
      vkUnmapMemory(device, m);
      uint64_t t3 = nowNs();
      check(vkCreateBuffer(device, &bi, nullptr, &b), "vkCreateBuffer");
      uint64_t t4 = nowNs();
      vkGetBufferMemoryRequirements(device, b, &r);
      uint64_t t5 = nowNs();
      check(vkBindBufferMemory(device, b, m, 0), "vkBindBufferMemory");
      uint64_t t6 = nowNs();
      vkDestroyBuffer(device, b, nullptr);
      uint64_t t7 = nowNs();
      vkFreeMemory(device, m, nullptr);
      uint64_t t8 = nowNs();
      uint64_t t[] = {t0, t1, t2, t3, t4, t5, t6, t7, t8};
      for (int c = 0; c < kCalls; c++) ns[c].push_back(t[c + 1] - t[c]);
    }
    std::string s = "{\"device\": " + quote(props.deviceName) + ", \"loops\": " + std::to_string(opt.bench) +
                    ", \"medianNs\": {";
    for (int c = 0; c < kCalls; c++) {
      std::sort(ns[c].begin(), ns[c].end());
      s += std::string(c ? ", " : "") + quote(names[c]) + ": " + std::to_string(ns[c][ns[c].size() / 2]);
    }
    s += "}}\n";
    std::fputs(s.c_str(), stdout);
  }

  Options opt;
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physicalDevice = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  std::vector<VkDevice> devices;  // every device created, in order (the first is the scenario's)
  VkPhysicalDeviceProperties props = {};
  VkPhysicalDeviceMemoryProperties memProps = {};
  uint32_t apiVersion = VK_API_VERSION_1_0;
  bool debugUtils = false, memoryBudget = false;
  PFN_vkSetDebugUtilsObjectNameEXT setName = nullptr;
  PFN_vkBindBufferMemory2 bindBuffer2 = nullptr;
  PFN_vkGetImageMemoryRequirements2 imageReqs2 = nullptr;
  uint32_t hostType = 0, deviceType = 0;
  std::mutex mutex;
  std::vector<Memory> memories;
  std::vector<Resource> resources;
  std::vector<uint32_t> threadIds;
  Counts counts;
};

bool parseCount(const char* s, uint32_t* out) {
  char* end = nullptr;
  unsigned long v = std::strtoul(s, &end, 10);
  if (!*s || *end || v > 1000000000ul) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    uint32_t* target = nullptr;
    if (a == "--device") target = &opt.device;
    else if (a == "--threads") target = &opt.threads;
    else if (a == "--per-thread") target = &opt.perThread;
    else if (a == "--leak-memory") target = &opt.leakMemory;
    else if (a == "--leak-buffers") target = &opt.leakBuffers;
    else if (a == "--pause-ms") target = &opt.pauseMs;
    else if (a == "--bench") target = &opt.bench;
    else if (a == "--extra-devices") target = &opt.extraDevices;
    else if (a == "--free-while-bound") opt.freeWhileBound = true;
    else if (a == "--no-names") opt.names = false;
    else if (a == "--no-budget") opt.budget = false;
    else {
      std::fprintf(stderr, "capture-test-app: unknown option %s (see the comment at the top of capture_test_app.cc)\n",
                   a.c_str());
      return 2;
    }
    if (target) {
      if (i + 1 >= argc || !parseCount(argv[i + 1], target)) {
        std::fprintf(stderr, "capture-test-app: %s needs a count\n", a.c_str());
        return 2;
      }
      i++;
    }
  }
  App app(opt);
  app.createInstanceAndDevice();
  if (opt.bench) {
    app.runBench();
  } else {
    app.runScenario();
    app.runExtraDevices();
    app.printScenarioJson();
  }
  app.finish();
  return 0;
}
