// Entry point of the vramscope_vulkan addon: enumerateDevices(), loaderVersion() and the VulkanContext class.
// A per-env Registry of open contexts is closed by an env cleanup hook, so process exit releases every device.
#include <napi.h>

#include "context.h"
#include "device_info.h"
#include "vk_common.h"
#include "vk_tables.h"

namespace vramscope {
namespace {

// enumerateDevices() -> description of every physical device (a short-lived instance, no validation).
Napi::Value EnumerateDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t api = ChooseInstanceApiVersion(env);
  VkInstance instance = CreateInstance(env, api, false, nullptr);
  try {
    std::vector<PhysicalDeviceInfo> devices = QueryPhysicalDevices(env, instance, api);
    Napi::Array out = Napi::Array::New(env, devices.size());
    for (uint32_t i = 0; i < devices.size(); ++i) out.Set(i, ToJs(env, devices[i]));
    vkDestroyInstance(instance, nullptr);
    return out;
  } catch (...) {
    vkDestroyInstance(instance, nullptr);
    throw;
  }
}

Napi::Value DriverAnchorHeldJs(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), DriverAnchorHeld());
}

Napi::Value LoaderVersion(const Napi::CallbackInfo& info) {
  uint32_t version = VK_API_VERSION_1_0;
  VkResult r = vkEnumerateInstanceVersion(&version);
  if (r != VK_SUCCESS) ThrowVk(info.Env(), "vkEnumerateInstanceVersion", r, "");
  return Napi::String::New(info.Env(), FormatApiVersion(version));
}

template <size_t N>
Napi::Object BitTable(Napi::Env env, const NamedBit (&table)[N]) {
  Napi::Object o = Napi::Object::New(env);
  for (const NamedBit& b : table) o.Set(b.name, Napi::Number::New(env, b.bit));
  return o;
}

// The values createBuffer/createImage accept and their defaults (vk_tables.h), for the test that checks them
// against allocator/capture/vulkan-names.ts.
Napi::Object ArgumentTables(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("bufferUsage", BitTable(env, kBufferUsageBits));
  o.Set("imageUsage", BitTable(env, kImageUsageBits));
  o.Set("maxCoreFormat", Napi::Number::New(env, kMaxCoreFormat));
  o.Set("defaultBufferUsage", Napi::Number::New(env, kDefaultBufferUsage));
  o.Set("defaultImageUsage", Napi::Number::New(env, kDefaultImageUsage));
  o.Set("defaultImageFormat", Napi::Number::New(env, kDefaultImageFormat));
  o.Freeze();
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* registry = new Registry();
  env.SetInstanceData<Registry>(registry);  // deleted by Node-API at env teardown (after the hook below)
  env.AddCleanupHook([registry]() { registry->CloseAll(); });
  exports.Set("enumerateDevices", Napi::Function::New(env, EnumerateDevices, "enumerateDevices"));
  exports.Set("loaderVersion", Napi::Function::New(env, LoaderVersion, "loaderVersion"));
  exports.Set("driverAnchorHeld", Napi::Function::New(env, DriverAnchorHeldJs, "driverAnchorHeld"));
  exports.Set("VulkanContext", Context::Init(env));
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  exports.Set("argumentTables", ArgumentTables(env));
  return exports;
}

}  // namespace
}  // namespace vramscope

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return vramscope::Init(env, exports); }

NODE_API_MODULE(vramscope_vulkan, InitAddon)
