#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: system packages, npm packages, the native addon, and
# the built CLI and UI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
if [ -f native/binding.gyp ]; then npm run --silent build:native; fi
if [ -f native/layer/Makefile ]; then npm run --silent build:layer; fi
# The CLI and its workers (dist/cli, what bin/vramscope.mjs runs) and the UI (dist/renderer).
npm run --silent build
echo "set-up done"
