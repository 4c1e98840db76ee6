#!/usr/bin/env bash
# The capture layer on whatever Vulkan device a machine has (an NVIDIA GPU, say): runs the capture test
# program under the layer (8 threads, planted leaks, a 1.5 s pause so that timer budget samples show), prints
# the stream summary, then the overhead benchmark. Needs only bash, python3 and a Vulkan loader + driver (set
# VK_DRIVER_FILES to pick a driver); no Node. Usage:
#   bash scripts/capture-layer-device-check.sh [BUILD_DIR] [OUT_DIR]
# BUILD_DIR: the folder with the layer, its manifest and capture-test-app (default native/layer/build; it can be
# copied anywhere). OUT_DIR: where the streams and the program's JSON go (default: a temporary folder).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$repo/native/layer/build}" && pwd)
out=${2:-$(mktemp -d)}
mkdir -p "$out"
layer=(env VK_ADD_LAYER_PATH="$build" VK_LAYER_PATH="$build" VK_INSTANCE_LAYERS=VK_LAYER_VRAMSCOPE_capture)
if ! "$build/capture-test-app" --bench 1 > /dev/null; then
  echo "the test program cannot open a Vulkan device; the loader says:"
  VK_LOADER_DEBUG=error,warn,driver "$build/capture-test-app" --bench 1 2>&1 | tail -25
  exit 1
fi
echo "== the test program under the layer (8 threads x 4 blocks, leaks, 1.5 s pause)"
"${layer[@]}" VRAMSCOPE_CAPTURE_FILE="$out/app.vrscap" "$build/capture-test-app" --leak-memory 2 --leak-buffers 1 \
  --free-while-bound --pause-ms 1500 > "$out/app.json"
echo "exit status $?"
python3 "$repo/scripts/capture-stream-summary.py" "$out/app.vrscap"
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print('the program says:', j['counts'], j['extensions'])" "$out/app.json"
echo "== with call stacks"
"${layer[@]}" VRAMSCOPE_CAPTURE_FILE="$out/stacks.vrscap" VRAMSCOPE_CAPTURE_STACKS=1 "$build/capture-test-app" > /dev/null
echo "exit status $?"
python3 "$repo/scripts/capture-stream-summary.py" "$out/stacks.vrscap" | tail -2
echo "== overhead"
python3 "$repo/scripts/bench-capture-layer.py" --build-dir "$build" --loops 5000 --runs 5
echo "streams in $out"
