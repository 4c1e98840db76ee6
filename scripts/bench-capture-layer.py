#!/usr/bin/env python3
"""Capture-layer overhead benchmark. Prints numbers; asserts nothing.

Runs native/layer/build/capture-test-app --bench N (each Vulkan call timed on its own, median per call kind)
alternately without the layer and under VK_LAYER_VRAMSCOPE_capture writing to a file, R times each, and
prints per call: median ns without, with, and the added ns (median over runs). Then the same with
VRAMSCOPE_CAPTURE_STACKS=1, and the delivery latency: how long after the program's last allocation the
records are in the file (the program pauses; the script polls the file every 2 ms).

Usage: python3 scripts/bench-capture-layer.py [--loops N] [--runs R] [--device I] [--build-dir DIR]
Needs: npm run setup (or make -C native/layer). Plain Python 3, no packages (it also runs on machines
without Node).
"""
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_bench(app, env, loops, device):
    out = subprocess.run([app, "--bench", str(loops), "--device", str(device)], env=env, check=True,
                         capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout)


def count_kind(path, kind):
    """Complete records of `kind` in a capture stream (docs/capture.md)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 32:
        return 0
    at, n = 32, 0
    while at + 24 <= len(data):
        k, _flags, size = struct.unpack_from("<HHI", data, at)
        if size < 24 or at + size > len(data):
            break
        n += k == kind
        at += size
    return n


def delivery_latency_ms(app, env, device, expected_allocations):
    """Time from the program's 'paused' line (after its last allocation) to all allocations in the file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "latency.vrscap")
        e = dict(env, VRAMSCOPE_CAPTURE_FILE=path)
        child = subprocess.Popen([app, "--pause-ms", "5000", "--device", str(device)], env=e,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            for line in child.stderr:
                if "paused" in line:
                    break
            start = time.monotonic()
            while count_kind(path, 10) < expected_allocations:
                if time.monotonic() - start > 5:
                    return None
                time.sleep(0.002)
            return (time.monotonic() - start) * 1000
        finally:
            child.kill()
            child.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--device", type=int, default=0)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "native", "layer", "build"))
    args = parser.parse_args()
    build = os.path.abspath(args.build_dir)
    app = os.path.join(build, "capture-test-app")
    if not os.path.exists(app):
        sys.exit(f"{app} not built: run npm run setup (or make -C native/layer)")

    base = {k: v for k, v in os.environ.items() if not k.startswith(("VRAMSCOPE_CAPTURE_", "VK_INSTANCE_LAYERS"))}
    tmp = tempfile.mkdtemp(prefix="vramscope-layer-bench-")
    layer = dict(base, VK_ADD_LAYER_PATH=build, VK_LAYER_PATH=build, VK_INSTANCE_LAYERS="VK_LAYER_VRAMSCOPE_capture",
                 VRAMSCOPE_CAPTURE_FILE=os.path.join(tmp, "bench.vrscap"))
    stacks = dict(layer, VRAMSCOPE_CAPTURE_STACKS="1")

    results = {"without": [], "with": [], "stacks": []}
    device_name = ""
    for _ in range(args.runs):  # alternate so that machine load affects both sides alike
        for label, env in (("without", base), ("with", layer), ("stacks", stacks)):
            r = run_bench(app, env, args.loops, args.device)
            device_name = r["device"]
            results[label].append(r["medianNs"])
    # Sanity: the layer really recorded the loops (8 calls x loops, plus requirements after each bind).
    recorded = count_kind(layer["VRAMSCOPE_CAPTURE_FILE"], 10)

    calls = list(results["without"][0].keys())
    print(f"capture layer overhead on {device_name}: {args.loops} loops x {args.runs} runs "
          f"(median of per-run medians, ns per call; cpus={os.cpu_count()}, load={os.getloadavg()[0]:.2f})")
    print(f"{'call':32} {'without':>9} {'with':>9} {'added':>9} {'stacks':>9} {'added':>9}")
    added_all = []
    for c in calls:
        wo = statistics.median(r[c] for r in results["without"])
        w = statistics.median(r[c] for r in results["with"])
        s = statistics.median(r[c] for r in results["stacks"])
        added_all.append(w - wo)
        print(f"{c:32} {wo:9.0f} {w:9.0f} {w - wo:9.0f} {s:9.0f} {s - wo:9.0f}")
    print(f"median added per intercepted call: {statistics.median(added_all):.0f} ns "
          f"(max {max(added_all):.0f} ns; target <= 2000 ns)")
    print(f"records check: {recorded} AllocateMemory records in the last run's stream (expected {args.loops})")
    latency = delivery_latency_ms(app, layer, args.device, 3 + 8 * 4)
    print("delivery latency (last allocation -> in the file): " +
          (f"{latency:.1f} ms (target <= 250 ms)" if latency is not None else "not seen within 5 s"))


if __name__ == "__main__":
    main()
