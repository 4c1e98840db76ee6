# node-gyp build of the VRAMscope Vulkan addon: node-addon-api 8 (C++ exceptions on), Node-API version pinned,
# C++17, hidden symbols, linked to the system Vulkan loader. Build: `npm run build:native` (uses --nodedir=/usr
# on this machine so no headers are downloaded); Electron Forge rebuilds it for Electron on packaging.
{
  "targets": [
    {
      "target_name": "vramscope_vulkan",
      "sources": ["src/addon.cc", "src/vk_common.cc", "src/device_info.cc", "src/context.cc", "src/transfer.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fvisibility=hidden", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", {"libraries": ["-lvulkan"]}],
        ["OS=='mac'", {
          "libraries": ["-lvulkan"],
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
            "OTHER_CFLAGS": ["-fvisibility=hidden"]
          }
        }],
        ["OS=='win'", {
          "defines": ["_HAS_EXCEPTIONS=1"],
          "include_dirs": ["$(VULKAN_SDK)/Include"],
          "libraries": ["$(VULKAN_SDK)/Lib/vulkan-1.lib"],
          "msvs_settings": {"VCCLCompilerTool": {"ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"]}}
        }]
      ]
    }
  ]
}
