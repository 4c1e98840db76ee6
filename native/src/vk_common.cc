#include "vk_common.h"

#include <cmath>
#include <cstdio>

namespace vramscope {

const char* VkResultName(VkResult result) {
  switch (result) {
#define VRAMSCOPE_CASE(name) \
  case name:                 \
    return #name;
    VRAMSCOPE_CASE(VK_SUCCESS)
    VRAMSCOPE_CASE(VK_NOT_READY)
    VRAMSCOPE_CASE(VK_TIMEOUT)
    VRAMSCOPE_CASE(VK_EVENT_SET)
    VRAMSCOPE_CASE(VK_EVENT_RESET)
    VRAMSCOPE_CASE(VK_INCOMPLETE)
    VRAMSCOPE_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    VRAMSCOPE_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    VRAMSCOPE_CASE(VK_ERROR_INITIALIZATION_FAILED)
    VRAMSCOPE_CASE(VK_ERROR_DEVICE_LOST)
    VRAMSCOPE_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    VRAMSCOPE_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    VRAMSCOPE_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    VRAMSCOPE_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    VRAMSCOPE_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    VRAMSCOPE_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    VRAMSCOPE_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    VRAMSCOPE_CASE(VK_ERROR_FRAGMENTED_POOL)
    VRAMSCOPE_CASE(VK_ERROR_UNKNOWN)
    VRAMSCOPE_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
    VRAMSCOPE_CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    VRAMSCOPE_CASE(VK_ERROR_FRAGMENTATION)
    VRAMSCOPE_CASE(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    VRAMSCOPE_CASE(VK_ERROR_SURFACE_LOST_KHR)
    VRAMSCOPE_CASE(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR)
    VRAMSCOPE_CASE(VK_ERROR_OUT_OF_DATE_KHR)
    VRAMSCOPE_CASE(VK_ERROR_INCOMPATIBLE_DISPLAY_KHR)
    VRAMSCOPE_CASE(VK_ERROR_VALIDATION_FAILED_EXT)
    VRAMSCOPE_CASE(VK_ERROR_INVALID_SHADER_NV)
    VRAMSCOPE_CASE(VK_ERROR_NOT_PERMITTED_KHR)
#undef VRAMSCOPE_CASE
    default:
      return "VK_ERROR_UNKNOWN";
  }
}

std::string FormatApiVersion(uint32_t version) {
  return std::to_string(VK_API_VERSION_MAJOR(version)) + "." + std::to_string(VK_API_VERSION_MINOR(version)) +
         "." + std::to_string(VK_API_VERSION_PATCH(version));
}

std::string FormatDriverVersion(uint32_t vendor_id, uint32_t version) {
  if (vendor_id == 0x10de) {  // NVIDIA: 10.8.8.(6..10) bits, printed like vulkaninfo does.
    return std::to_string((version >> 22) & 0x3ff) + "." + std::to_string((version >> 14) & 0xff) + "." +
           std::to_string((version >> 6) & 0xff) + "." + std::to_string(version & 0x3ff);
  }
  return FormatApiVersion(version);
}

void ThrowCoded(Napi::Env env, ErrorKind kind, const char* code, const std::string& message) {
  Napi::Error error = kind == ErrorKind::kTypeError    ? Napi::TypeError::New(env, message)
                      : kind == ErrorKind::kRangeError ? Napi::RangeError::New(env, message)
                                                       : Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  throw error;
}

void ThrowVk(Napi::Env env, const char* call, VkResult result, const std::string& detail) {
  const char* name = VkResultName(result);
  Napi::Error error = Napi::Error::New(env, std::string(call) + " failed with " + name +
                                                (detail.empty() ? std::string() : " (" + detail + ")"));
  error.Set("code", Napi::String::New(env, name));
  error.Set("vkResult", Napi::Number::New(env, static_cast<double>(result)));
  throw error;
}

const char* JsTypeName(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_boolean:
      return "boolean";
    case napi_number:
      return "number";
    case napi_string:
      return "string";
    case napi_symbol:
      return "symbol";
    case napi_object:
      return "object";
    case napi_function:
      return "function";
    case napi_external:
      return "external";
    case napi_bigint:
      return "bigint";
  }
  return "value";
}

uint64_t ReadSafeInteger(Napi::Env env, const Napi::Value& value, const char* what, uint64_t min) {
  if (!value.IsNumber()) {
    ThrowCoded(env, ErrorKind::kTypeError, kErrArgument,
               std::string(what) + " must be a number, got " + JsTypeName(value));
  }
  const double d = value.As<Napi::Number>().DoubleValue();
  constexpr double kMaxSafe = 9007199254740991.0;
  if (!std::isfinite(d) || std::trunc(d) != d || d < static_cast<double>(min) || d > kMaxSafe) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               std::string(what) + " must be an integer between " + std::to_string(min) +
                   " and 2^53-1, got " + value.ToString().Utf8Value());
  }
  return static_cast<uint64_t>(d);
}

uint32_t ReadUint32(Napi::Env env, const Napi::Value& value, const char* what, uint32_t max) {
  const uint64_t v = ReadSafeInteger(env, value, what, 0);
  if (v > max) {
    ThrowCoded(env, ErrorKind::kRangeError, kErrArgument,
               std::string(what) + " must be at most " + std::to_string(max) + ", got " + std::to_string(v));
  }
  return static_cast<uint32_t>(v);
}

uint32_t ReadUint32Or(Napi::Env env, const Napi::Value& value, const char* what, uint32_t max, uint32_t fallback) {
  if (value.IsUndefined()) return fallback;
  return ReadUint32(env, value, what, max);
}

bool ReadBool(Napi::Env env, const Napi::Value& value, const char* what, bool fallback) {
  if (value.IsUndefined()) return fallback;
  if (!value.IsBoolean()) {
    ThrowCoded(env, ErrorKind::kTypeError, kErrArgument,
               std::string(what) + " must be a boolean, got " + JsTypeName(value));
  }
  return value.As<Napi::Boolean>().Value();
}

std::string HexBits(uint32_t bits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", bits);
  return buf;
}

double ToJsSize(uint64_t value) {
  constexpr uint64_t kMaxSafe = 9007199254740991ULL;
  return static_cast<double>(value > kMaxSafe ? kMaxSafe : value);
}

}  // namespace vramscope
