// Does vkAllocateMemory scale across threads, and what does each memory type cost? `threads` threads each
// allocate (and then free) `per` blocks of `mib` MiB of one memory type on Vulkan device 0; prints the wall
// time of each phase. A measurement tool for docs/allocator.md ("What the driver charges on the H200"), not
// part of the product or of the tests; built and run by hand where a Vulkan loader and driver exist:
//   g++ -O2 -std=c++17 scripts/driver-thread-scaling.cc -o /tmp/driver-thread-scaling -lvulkan -lpthread
//   /tmp/driver-thread-scaling <threads> <blocks per thread> <MiB per block> [type index | -1] [map 0|1]
#include <vulkan/vulkan.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>
int main(int argc, char** argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1, per = argc > 2 ? atoi(argv[2]) : 8, mib = argc > 3 ? atoi(argv[3]) : 128;
  // argv[4]: memory type index (-1: the first DEVICE_LOCAL-only type); argv[5]: 1 = map each block whole.
  int wanted = argc > 4 ? atoi(argv[4]) : -1, doMap = argc > 5 ? atoi(argv[5]) : 0;
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO}; app.apiVersion = VK_API_VERSION_1_1;
  VkInstanceCreateInfo ici{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO}; ici.pApplicationInfo = &app;
  VkInstance inst; if (vkCreateInstance(&ici, nullptr, &inst)) { puts("no instance"); return 1; }
  uint32_t n = 0; vkEnumeratePhysicalDevices(inst, &n, nullptr); std::vector<VkPhysicalDevice> pds(n);
  vkEnumeratePhysicalDevices(inst, &n, pds.data()); VkPhysicalDevice pd = pds[0];
  VkPhysicalDeviceProperties props; vkGetPhysicalDeviceProperties(pd, &props);
  VkPhysicalDeviceMemoryProperties mp; vkGetPhysicalDeviceMemoryProperties(pd, &mp);
  int type = wanted;
  for (uint32_t i = 0; type < 0 && i < mp.memoryTypeCount; i++)
    if (mp.memoryTypes[i].propertyFlags == VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) type = (int)i;
  float prio = 1; VkDeviceQueueCreateInfo q{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO}; q.queueCount = 1; q.pQueuePriorities = &prio;
  VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO}; dci.queueCreateInfoCount = 1; dci.pQueueCreateInfos = &q;
  VkDevice dev; if (vkCreateDevice(pd, &dci, nullptr, &dev)) { puts("no device"); return 1; }
  std::vector<std::vector<VkDeviceMemory>> mem(threads, std::vector<VkDeviceMemory>(per));
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; t++) ts.emplace_back([&, t] {
    for (int k = 0; k < per; k++) {
      VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO}; ai.allocationSize = (VkDeviceSize)mib << 20; ai.memoryTypeIndex = type;
      if (vkAllocateMemory(dev, &ai, nullptr, &mem[t][k])) { puts("alloc failed"); exit(1); }
      void* p = nullptr;
      if (doMap && vkMapMemory(dev, mem[t][k], 0, VK_WHOLE_SIZE, 0, &p)) { puts("map failed"); exit(1); }
    }
  });
  for (auto& t : ts) t.join();
  double alloc = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  t0 = std::chrono::steady_clock::now(); ts.clear();
  for (int t = 0; t < threads; t++) ts.emplace_back([&, t] { for (auto m : mem[t]) vkFreeMemory(dev, m, nullptr); });
  for (auto& t : ts) t.join();
  double fr = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  printf("%s type=%d flags=0x%x map=%d threads=%d blocks=%d mib=%d total_mib=%d alloc_ms=%.2f free_ms=%.2f alloc_us_per_mib=%.1f\n", props.deviceName, type, mp.memoryTypes[type].propertyFlags, doMap, threads,
         threads * per, mib, threads * per * mib, alloc, fr, alloc * 1000 / (threads * per * mib));
  vkDestroyDevice(dev, nullptr); vkDestroyInstance(inst, nullptr);
}
