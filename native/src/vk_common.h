// Shared helpers of the VRAMscope Vulkan addon: VkResult names, version strings, and the errors thrown to
// JavaScript. Every error carries a stable `code`: the VkResult name for Vulkan failures, ERR_VRAMSCOPE_* for
// misuse caught before Vulkan is called (a spec violation is never passed on to the driver).
#pragma once

#include <napi.h>
#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>

namespace vramscope {

// Codes of errors raised by the addon itself (not by Vulkan).
inline constexpr const char* kErrClosed = "ERR_VRAMSCOPE_CLOSED";
inline constexpr const char* kErrHandle = "ERR_VRAMSCOPE_INVALID_HANDLE";
inline constexpr const char* kErrArgument = "ERR_VRAMSCOPE_INVALID_ARGUMENT";
inline constexpr const char* kErrState = "ERR_VRAMSCOPE_INVALID_STATE";
inline constexpr const char* kErrUnsupported = "ERR_VRAMSCOPE_UNSUPPORTED";

enum class ErrorKind { kError, kTypeError, kRangeError };

const char* VkResultName(VkResult result);
std::string FormatApiVersion(uint32_t version);
// Driver versions are vendor-encoded; formatted the way vulkaninfo prints them.
std::string FormatDriverVersion(uint32_t vendor_id, uint32_t version);

// Throws a JS error (as a C++ Napi::Error) with `code` set.
[[noreturn]] void ThrowCoded(Napi::Env env, ErrorKind kind, const char* code, const std::string& message);
// Throws an Error whose code is the VkResult name and whose message says which call failed and why.
[[noreturn]] void ThrowVk(Napi::Env env, const char* call, VkResult result, const std::string& detail);

// Argument readers. `what` names the argument in messages ("size", "memoryTypeIndex", ...).
// A byte count or offset: a JS number that is an integer in [min, 2^53 - 1].
uint64_t ReadSafeInteger(Napi::Env env, const Napi::Value& value, const char* what, uint64_t min);
// An integer in [0, max].
uint32_t ReadUint32(Napi::Env env, const Napi::Value& value, const char* what, uint32_t max);
// The same, or `fallback` when the value is undefined (an omitted argument or field).
uint32_t ReadUint32Or(Napi::Env env, const Napi::Value& value, const char* what, uint32_t max, uint32_t fallback);
bool ReadBool(Napi::Env env, const Napi::Value& value, const char* what, bool fallback);

// "number", "string", "undefined", ... (typeof, with null as "null"), for error messages.
const char* JsTypeName(const Napi::Value& value);
// "0x1f".
std::string HexBits(uint32_t bits);

// Sizes leave the addon as JS numbers; values above 2^53 - 1 (never seen for real sizes) are clamped.
double ToJsSize(uint64_t value);

}  // namespace vramscope
