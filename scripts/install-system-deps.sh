#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages VRAMscope needs, only those missing: the Vulkan loader and headers,
# Mesa's lavapipe CPU device, the Khronos validation layer, vulkaninfo, and Chromium for UI tests.
# Uses sudo when not root.
set -euo pipefail
packages=(libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-tools xvfb xauth chromium g++ make python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
echo "system packages: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
