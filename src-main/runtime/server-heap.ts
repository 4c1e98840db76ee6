// V8's starting heap limit for the web server: a node flag, so set by what starts `vramscope serve`
// (`npm start`: scripts/start.mjs, and the web-mode benchmarks that time what it gives), not by the server
// itself, as with huge-pages.ts's tunable (`v8.setFlagsFromString` in `serve` comes too late for the main
// thread's heap: it still ran 11 mark-compacts). Flags are process-wide: the main thread and every worker
// (the trace worker, the analysis thread) start with it.
//
// With V8's own small start, the server's main thread, whose heap stays near 9 MB, ran 8-11 full
// mark-compacts while a 152 MB snapshot's upload streamed in. V8 started each from a task with the heap
// at 8 MB of a 15-38 MB limit. With a 64 MB start, none of the server's isolates ran one in the whole open.
// Measured in docs/importers.md (twelfth pass), 64 MB against V8's start, alternating per run:
// - pick → first frame 0.11-0.20 s sooner (3 sets of 8-12 pairs);
// - 0.10-0.23 s less server CPU;
// - peak RSS 8-16 MiB higher.
// 32 MB did not help.
export const serverNodeFlags: readonly string[] = ['--initial-heap-size=64'];
