#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: system packages, npm packages, the native addon.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
if [ -f native/binding.gyp ]; then npm run --silent build:native; fi
if [ -f native/layer/Makefile ]; then npm run --silent build:layer; fi
if [ -f src-renderer/main.tsx ]; then npm run --silent build:renderer; fi
echo "set-up done"
