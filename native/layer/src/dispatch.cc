// Registries of the capture layer (instances and devices by dispatch key) and budget sampling.
#include "dispatch.h"

#include <chrono>
#include <cstring>
#include <thread>
#include <unordered_map>

#include "recorder.h"

namespace vrscap {
namespace {

const uint64_t kBudgetIntervalNs = 100'000'000;   // at most one Budget per device per 100 ms
const uint64_t kBudgetHeartbeatNs = 1'000'000'000;  // timer samples are written when changed, or after 1 s

// Heap-allocated and never destroyed: at exit, C++ static destructors run before the library's ELF destructor
// that stops the writer thread, which may still be sampling budgets from gDevices.
std::mutex& gInstanceMutex = *new std::mutex();
std::unordered_map<void*, InstanceData*>& gInstances = *new std::unordered_map<void*, InstanceData*>();  // by dispatch key

// Devices by dispatch key (queues share their device's key). DeviceData is never freed, so a stale pointer
// in a thread's cache cannot dangle; the generation counter makes those caches miss after any change.
std::mutex& gDeviceMutex = *new std::mutex();
std::unordered_map<void*, DeviceData*>& gDevices = *new std::unordered_map<void*, DeviceData*>();
std::atomic<uint64_t> gDeviceGeneration{1};
struct DeviceCache {
  void* key = nullptr;
  DeviceData* data = nullptr;
  uint64_t generation = 0;
};
thread_local DeviceCache tlsDeviceCache;

}  // namespace

void registerInstance(VkInstance instance, InstanceData* data) {
  std::lock_guard<std::mutex> lock(gInstanceMutex);
  gInstances[dispatchKey(instance)] = data;
}

InstanceData* unregisterInstance(VkInstance instance) {
  std::lock_guard<std::mutex> lock(gInstanceMutex);
  auto it = gInstances.find(dispatchKey(instance));
  if (it == gInstances.end()) return nullptr;
  InstanceData* id = it->second;
  gInstances.erase(it);
  return id;
}

void registerDevice(VkDevice device, DeviceData* data) {
  std::lock_guard<std::mutex> lock(gDeviceMutex);
  gDevices[dispatchKey(device)] = data;
  gDeviceGeneration.fetch_add(1, std::memory_order_release);
}

std::vector<DeviceData*> devicesOfInstance(const InstanceData* id) {
  std::vector<DeviceData*> out;
  std::lock_guard<std::mutex> lock(gDeviceMutex);
  for (auto& entry : gDevices)
    if (entry.second->instance == id) out.push_back(entry.second);
  return out;
}

InstanceData* instanceData(const void* dispatchable) {
  std::lock_guard<std::mutex> lock(gInstanceMutex);
  auto it = gInstances.find(dispatchKey(dispatchable));
  if (it != gInstances.end()) return it->second;
  return nullptr;
}

// Physical devices share their instance's dispatch key under the loader; with one instance, use it anyway.
InstanceData* instanceForPhysicalDevice(VkPhysicalDevice physicalDevice) {
  std::lock_guard<std::mutex> lock(gInstanceMutex);
  auto it = gInstances.find(dispatchKey(physicalDevice));
  if (it != gInstances.end()) return it->second;
  if (gInstances.size() == 1) return gInstances.begin()->second;
  return nullptr;
}

DeviceData* deviceData(const void* dispatchable) {
  void* key = dispatchKey(dispatchable);
  uint64_t generation = gDeviceGeneration.load(std::memory_order_acquire);
  DeviceCache& cache = tlsDeviceCache;
  if (cache.key == key && cache.generation == generation) return cache.data;
  DeviceData* data = nullptr;
  {
    std::lock_guard<std::mutex> lock(gDeviceMutex);
    auto it = gDevices.find(key);
    if (it != gDevices.end()) data = it->second;
  }
  cache = {key, data, generation};
  return data;
}

// ---- budget ----------------------------------------------------------------------------------------------

void sampleBudget(DeviceData* dd, BudgetTrigger trigger) {
  if (!dd->budgetQuery || !Recorder::recording()) return;
  uint64_t now = Recorder::monotonicNs();
  uint64_t last = dd->lastBudgetNs.load();
  if (trigger != kBudgetDeviceCreate && now - last < kBudgetIntervalNs) return;
  if (!dd->lastBudgetNs.compare_exchange_strong(last, now)) return;  // another thread is sampling right now

  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {};
  budget.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT;
  VkPhysicalDeviceMemoryProperties2 props = {};
  props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2;
  props.pNext = &budget;
  dd->budgetQuery(dd->physicalDevice, &props);

  Budget rec = {};
  rec.device[0] = h(dd->device);
  rec.heapCount[0] = dd->heapCount;
  rec.trigger[0] = trigger;
  for (uint32_t i = 0; i < dd->heapCount && i < kMaxHeaps; i++) {
    rec.heapBudget[i] = budget.heapBudget[i];
    rec.heapUsage[i] = budget.heapUsage[i];
  }
  {
    std::lock_guard<std::mutex> lock(dd->budgetMutex);
    if (trigger == kBudgetTimer && now - dd->writtenNs < kBudgetHeartbeatNs &&
        std::memcmp(dd->writtenBudget, rec.heapBudget, sizeof rec.heapBudget) == 0 &&
        std::memcmp(dd->writtenUsage, rec.heapUsage, sizeof rec.heapUsage) == 0)
      return;
    std::memcpy(dd->writtenBudget, rec.heapBudget, sizeof rec.heapBudget);
    std::memcpy(dd->writtenUsage, rec.heapUsage, sizeof rec.heapUsage);
    dd->writtenNs = now;
  }
  Recorder::append(kBudget, 0, &rec, sizeof rec, nullptr, 0, false);  // no call stack: not an application call
}

void budgetTimer() {
  std::vector<DeviceData*> sampled;
  {
    std::lock_guard<std::mutex> lock(gDeviceMutex);
    for (auto& entry : gDevices) {
      if (!entry.second->budgetQuery) continue;
      entry.second->samplers.fetch_add(1);
      sampled.push_back(entry.second);
    }
  }
  for (DeviceData* dd : sampled) {
    sampleBudget(dd, kBudgetTimer);
    dd->samplers.fetch_sub(1);
  }
}

void unregisterDevice(DeviceData* dd) {
  {
    std::lock_guard<std::mutex> lock(gDeviceMutex);
    auto it = gDevices.find(dispatchKey(dd->device));
    if (it != gDevices.end() && it->second == dd) gDevices.erase(it);
    gDeviceGeneration.fetch_add(1, std::memory_order_release);
  }
  while (dd->samplers.load() != 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

}  // namespace vrscap
