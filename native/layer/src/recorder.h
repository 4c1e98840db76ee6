// Recorder: the capture stream writer of the VRAMscope capture layer. Application threads append fixed-size
// records to their own buffers (one short uncontended mutex per append, never held across a driver call); a
// background writer thread drains every buffer at least every 50 ms into one write() to the file or socket.
// See docs/capture.md ("Threading") for the design and the ordering guarantees (sequence + Flush watermark).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "../capture_format.h"

namespace vrscap {

// One string of a record's tail. `data` need not be NUL-terminated.
struct TailString {
  const char* data;
  size_t size;
};

// Process-wide recorder. All functions are thread-safe. Nothing is ever freed before the process exits, so
// late calls from other threads during exit are harmless (they are dropped once recording has stopped).
class Recorder {
 public:
  // Starts recording once per process (idempotent): reads VRAMSCOPE_CAPTURE_SOCKET / _FILE / _STACKS, opens
  // the transport, writes the stream header and ProcessStart, starts the writer thread. Returns whether
  // records are being written.
  static bool start();
  static bool recording();
  static bool stacksEnabled();

  // Appends one record: header + fixed payload + strings (tail). Returns the record's sequence (low 32 bits
  // of the 64-bit counter). With stacks on and `withStack`, a Stack record for the calling thread's call
  // stack follows. A no-op returning 0 when not recording.
  static uint32_t append(Kind kind, uint16_t flags, const void* payload, size_t payloadBytes,
                         const TailString* strings = nullptr, size_t stringCount = 0, bool withStack = true);

  template <typename P>
  static uint32_t append(Kind kind, uint16_t flags, const P& payload) {
    return append(kind, flags, &payload, sizeof(P));
  }

  // Called by the writer thread before each drain (every ~50 ms), outside every recorder lock: the layer
  // samples memory budgets from it. Set once before start().
  static void setTimerHook(void (*hook)());

  // Stops the writer thread, drains everything, writes ProcessEnd and closes the transport. Called at process
  // exit (library destructor). Later appends are dropped.
  static void finish();

  static uint64_t monotonicNs();
};

}  // namespace vrscap
