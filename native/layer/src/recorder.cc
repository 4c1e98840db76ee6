// Recorder implementation: per-thread record buffers, the writer thread, the transports (file or Unix socket),
// call stacks and their symbols. Design notes in docs/capture.md ("Threading").
#include "recorder.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace vrscap {
namespace {

constexpr size_t kThreadBufferLimit = 16u << 20;  // bytes per thread between two drains; beyond: Dropped
constexpr size_t kMaxString = 4096;               // bytes; longer strings are cut (flag Truncated)
constexpr int kMaxFrames = 48;                    // return addresses captured per call (stacks on)
constexpr uint64_t kIdle = UINT64_MAX;            // ThreadBuffer::inflight when no append is in progress
constexpr auto kDrainInterval = std::chrono::milliseconds(50);

void logLine(const char* fmt, const char* arg) {
  std::fprintf(stderr, "[vramscope-capture] ");
  std::fprintf(stderr, fmt, arg);
  std::fprintf(stderr, "\n");
}

// Growable byte buffer with amortised doubling; realloc instead of std::vector so growth does not zero-fill.
struct ByteBuffer {
  uint8_t* data = nullptr;
  size_t size = 0;
  size_t capacity = 0;

  uint8_t* grow(size_t n) {
    if (size + n > capacity) {
      size_t c = capacity ? capacity * 2 : 64 * 1024;
      while (c < size + n) c *= 2;
      void* p = std::realloc(data, c);
      if (!p) return nullptr;
      data = static_cast<uint8_t*>(p);
      capacity = c;
    }
    uint8_t* at = data + size;
    size += n;
    return at;
  }
};

void swapBuffers(ByteBuffer& a, ByteBuffer& b) {
  ByteBuffer t = a;
  a = b;
  b = t;
}

// One application thread's records. `active` is appended to by its thread and swapped out by the writer
// thread, both under `mutex` (held only for a memcpy-sized critical section). `draining` belongs to the
// writer thread. `inflight` is a lower bound of the sequence being appended (kIdle otherwise): the writer
// uses it to compute the Flush watermark.
struct ThreadBuffer {
  std::mutex mutex;
  ByteBuffer active;
  uint64_t dropped = 0;  // records lost since the last drain (guarded by mutex)
  ByteBuffer draining;
  std::atomic<uint64_t> inflight{kIdle};
  std::atomic<bool> retired{false};
};

struct State {
  std::atomic<bool> recording{false};
  std::atomic<bool> stacks{false};
  std::atomic<uint64_t> sequence{0};
  std::once_flag startOnce;
  int fd = -1;
  bool isSocket = false;
  bool forkedChild = false;

  std::mutex registryMutex;
  std::vector<ThreadBuffer*> threads;  // guarded by registryMutex

  std::mutex wakeMutex;
  std::condition_variable wake;
  bool stopping = false;  // guarded by wakeMutex
  std::thread writer;
  void (*timerHook)() = nullptr;

  std::mutex finishMutex;
  bool finished = false;

  // Writer-thread state (and finish() after the writer thread has been joined).
  ByteBuffer out;
  std::vector<ThreadBuffer*> snapshot;
  std::unordered_set<uint64_t> describedPcs;
  uint64_t bytesWritten = 0;
  uint64_t recordsWritten = 0;
  uint64_t droppedTotal = 0;
  bool writeFailed = false;

  uintptr_t selfBegin = 0;  // address range of this library's code, to cut the layer's own stack frames
  uintptr_t selfEnd = 0;
};

// Never destroyed: threads still calling Vulkan while the process exits must find valid memory.
State& st() {
  static State* s = new State();
  return *s;
}

// Thread identity and buffer. `tlsExited` (trivially destructible) marks a thread whose buffer was retired.
thread_local uint32_t tlsTid = 0;
thread_local bool tlsExited = false;
struct ThreadSlot {
  ThreadBuffer* buffer = nullptr;
  ~ThreadSlot() {
    if (buffer) buffer->retired.store(true, std::memory_order_release);
    buffer = nullptr;
    tlsExited = true;
  }
};
thread_local ThreadSlot tlsSlot;

uint32_t threadId() {
  if (!tlsTid) tlsTid = static_cast<uint32_t>(syscall(SYS_gettid));
  return tlsTid;
}

ThreadBuffer* threadBuffer() {
  if (tlsSlot.buffer) return tlsSlot.buffer;
  if (tlsExited) return nullptr;
  ThreadBuffer* tb = new ThreadBuffer();
  {
    std::lock_guard<std::mutex> lock(st().registryMutex);
    st().threads.push_back(tb);
  }
  tlsSlot.buffer = tb;
  return tb;
}

size_t align(size_t v, size_t a) { return (v + a - 1) / a * a; }

// Cuts a string to at most kMaxString bytes at a UTF-8 character boundary.
size_t cutString(const TailString& s, bool* truncated) {
  if (s.size <= kMaxString) return s.size;
  size_t n = kMaxString;
  while (n > 0 && (static_cast<unsigned char>(s.data[n]) & 0xC0) == 0x80) n--;
  *truncated = true;
  return n;
}

size_t recordBytes(size_t payloadBytes, const TailString* strings, size_t count, size_t extraTail) {
  size_t bytes = sizeof(RecordHeader) + payloadBytes;
  bool ignored = false;
  for (size_t i = 0; i < count; i++) bytes = align(bytes + 4 + cutString(strings[i], &ignored), 4);
  return align(bytes + extraTail, 8);
}

// Serialises one record into `at` (exactly `bytes` = recordBytes(...) bytes).
void writeRecord(uint8_t* at, size_t bytes, Kind kind, uint16_t flags, uint32_t tid, uint64_t seq, uint64_t time,
                 const void* payload, size_t payloadBytes, const TailString* strings, size_t count,
                 const void* extraTail, size_t extraTailBytes) {
  std::memset(at, 0, bytes);
  size_t o = sizeof(RecordHeader);
  std::memcpy(at + o, payload, payloadBytes);
  o += payloadBytes;
  bool truncated = false;
  for (size_t i = 0; i < count; i++) {
    uint32_t n = static_cast<uint32_t>(cutString(strings[i], &truncated));
    std::memcpy(at + o, &n, 4);
    if (n) std::memcpy(at + o + 4, strings[i].data, n);
    o = align(o + 4 + n, 4);
  }
  if (extraTailBytes) std::memcpy(at + o, extraTail, extraTailBytes);
  RecordHeader h;
  h.kind[0] = kind;
  h.flags[0] = static_cast<uint16_t>(flags | (truncated ? kFlagTruncated : 0));
  h.bytes[0] = static_cast<uint32_t>(bytes);
  h.threadId[0] = tid;
  h.sequence[0] = static_cast<uint32_t>(seq);
  h.timeNs[0] = time;
  std::memcpy(at, &h, sizeof h);
}

// Writer-thread helper: a record made by the layer itself goes straight into the output buffer.
void emitDirect(Kind kind, const void* payload, size_t payloadBytes, const TailString* strings = nullptr,
                size_t count = 0) {
  State& s = st();
  size_t bytes = recordBytes(payloadBytes, strings, count, 0);
  uint8_t* at = s.out.grow(bytes);
  if (!at) return;
  uint64_t seq = s.sequence.fetch_add(1);
  writeRecord(at, bytes, kind, 0, threadId(), seq, Recorder::monotonicNs(), payload, payloadBytes, strings, count,
              nullptr, 0);
  s.recordsWritten++;
}

bool writeAll(const uint8_t* p, size_t n) {
  State& s = st();
  if (s.writeFailed || s.fd < 0) return false;
  while (n > 0) {
    ssize_t w = s.isSocket ? ::send(s.fd, p, n, MSG_NOSIGNAL) : ::write(s.fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      s.writeFailed = true;
      s.recording.store(false);
      logLine("writing the capture stream failed (%s): recording stopped, the application goes on",
              std::strerror(errno));
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Adds a Symbol record for every return address in the Stack records of `buf` not described before.
void describeStacks(const ByteBuffer& buf) {
  State& s = st();
  for (size_t o = 0; o + sizeof(RecordHeader) <= buf.size;) {
    RecordHeader h;
    std::memcpy(&h, buf.data + o, sizeof h);
    if (h.kind[0] == kStack) {
      Stack stack;
      std::memcpy(&stack, buf.data + o + sizeof h, sizeof stack);
      const uint8_t* pcs = buf.data + o + sizeof h + sizeof stack;
      for (uint32_t i = 0; i < stack.frameCount[0]; i++) {
        uint64_t pc;
        std::memcpy(&pc, pcs + 8 * i, 8);
        if (!s.describedPcs.insert(pc).second) continue;
        Symbol sym = {};
        sym.pc[0] = pc;
        Dl_info info = {};
        std::string module, name;
        // pc is a return address: look up pc - 1 so a call at the end of a function resolves to it.
        if (dladdr(reinterpret_cast<void*>(pc - 1), &info)) {
          sym.moduleBase[0] = reinterpret_cast<uintptr_t>(info.dli_fbase);
          sym.symbolAddress[0] = reinterpret_cast<uintptr_t>(info.dli_saddr);
          if (info.dli_fname) module = info.dli_fname;
          if (info.dli_sname) {
            int status = 0;
            char* demangled = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
            name = status == 0 && demangled ? demangled : info.dli_sname;
            std::free(demangled);
          }
        }
        TailString strings[2] = {{module.data(), module.size()}, {name.data(), name.size()}};
        emitDirect(kSymbol, &sym, sizeof sym, strings, 2);
      }
    }
    if (h.bytes[0] < sizeof(RecordHeader)) break;  // cannot happen: we wrote it
    o += h.bytes[0];
  }
}

uint64_t countRecords(const ByteBuffer& buf) {
  uint64_t n = 0;
  for (size_t o = 0; o + sizeof(RecordHeader) <= buf.size; n++) {
    uint32_t bytes;
    std::memcpy(&bytes, buf.data + o + 4, 4);
    if (bytes < sizeof(RecordHeader)) break;
    o += bytes;
  }
  return n;
}

// Moves every thread's records to the transport, followed by a Flush record.
void drain() {
  State& s = st();
  uint64_t watermark = s.sequence.load();
  {
    std::lock_guard<std::mutex> lock(s.registryMutex);
    s.snapshot = s.threads;
  }
  for (ThreadBuffer* tb : s.snapshot) {
    uint64_t f = tb->inflight.load();
    if (f < watermark) watermark = f;
  }
  uint64_t dropped = 0;
  bool stacks = s.stacks.load(std::memory_order_relaxed);
  std::vector<ThreadBuffer*> gone;
  for (ThreadBuffer* tb : s.snapshot) {
    bool retired = tb->retired.load(std::memory_order_acquire);  // before the swap: nothing appends after it
    {
      std::lock_guard<std::mutex> lock(tb->mutex);
      swapBuffers(tb->active, tb->draining);
      dropped += tb->dropped;
      tb->dropped = 0;
    }
    if (tb->draining.size) {
      if (stacks) describeStacks(tb->draining);
      uint8_t* at = s.out.grow(tb->draining.size);
      if (at) {
        std::memcpy(at, tb->draining.data, tb->draining.size);
        s.recordsWritten += countRecords(tb->draining);
      } else {
        dropped += countRecords(tb->draining);
      }
      tb->draining.size = 0;
    }
    if (retired) gone.push_back(tb);
  }
  if (!gone.empty()) {
    std::lock_guard<std::mutex> lock(s.registryMutex);
    for (ThreadBuffer* tb : gone) {
      for (size_t i = 0; i < s.threads.size(); i++) {
        if (s.threads[i] == tb) {
          s.threads.erase(s.threads.begin() + static_cast<long>(i));
          break;
        }
      }
      std::free(tb->active.data);
      std::free(tb->draining.data);
      delete tb;
    }
  }
  if (dropped) {
    s.droppedTotal += dropped;
    Dropped d = {};
    d.count[0] = dropped;
    d.reason[0] = 1;
    emitDirect(kDropped, &d, sizeof d);
  }
  if (s.out.size == 0) return;
  Flush f = {};
  f.watermark[0] = static_cast<uint32_t>(watermark);
  f.bytesWritten[0] = s.bytesWritten + s.out.size;
  emitDirect(kFlush, &f, sizeof f);
  if (writeAll(s.out.data, s.out.size)) s.bytesWritten += s.out.size;
  s.out.size = 0;
}

void writerMain() {
  pthread_setname_np(pthread_self(), "vramscope-cap");
  State& s = st();
  for (;;) {
    bool stop;
    {
      std::unique_lock<std::mutex> lock(s.wakeMutex);
      s.wake.wait_for(lock, kDrainInterval, [&] { return s.stopping; });
      stop = s.stopping;
    }
    if (!stop && s.timerHook && s.recording.load()) s.timerHook();
    drain();
    if (stop || s.writeFailed) break;
  }
}

int findSelfRange(struct dl_phdr_info* info, size_t, void* data) {
  uintptr_t probe = reinterpret_cast<uintptr_t>(&findSelfRange);
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    uintptr_t b = info->dlpi_addr + ph.p_vaddr;
    uintptr_t e = b + ph.p_memsz;
    if (probe >= b && probe < e) {
      State* s = static_cast<State*>(data);
      s->selfBegin = b;
      s->selfEnd = e;
      return 1;
    }
  }
  return 0;
}

int openSocket(const char* path) {
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::strcpy(addr.sun_path, path);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  // A reader that stops reading must not hang the application forever: give up after 10 s.
  timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

std::string readProcFile(const char* path) {
  std::string text;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

void afterForkInChild() {
  // The writer thread does not exist in the child; the child records nothing (a new exec starts afresh).
  State& s = st();
  s.forkedChild = true;
  s.recording.store(false);
}

void doStart() {
  State& s = st();
  const char* socketPath = std::getenv("VRAMSCOPE_CAPTURE_SOCKET");
  const char* filePath = std::getenv("VRAMSCOPE_CAPTURE_FILE");
  if (socketPath && *socketPath) {
    s.fd = openSocket(socketPath);
    s.isSocket = true;
    if (s.fd < 0) {
      logLine("cannot connect to VRAMSCOPE_CAPTURE_SOCKET (%s): forwarding calls without recording",
              std::strerror(errno));
      return;
    }
  } else if (filePath && *filePath) {
    std::string path;
    for (const char* p = filePath; *p; p++) {
      if (p[0] == '%' && p[1] == 'p') {
        path += std::to_string(getpid());
        p++;
      } else {
        path += *p;
      }
    }
    s.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s.fd < 0) {
      logLine("cannot create VRAMSCOPE_CAPTURE_FILE (%s): forwarding calls without recording", std::strerror(errno));
      return;
    }
  } else {
    logLine("%s", "neither VRAMSCOPE_CAPTURE_SOCKET nor VRAMSCOPE_CAPTURE_FILE is set: forwarding calls without recording");
    return;
  }
  const char* stacksEnv = std::getenv("VRAMSCOPE_CAPTURE_STACKS");
  bool stacks = stacksEnv && std::strcmp(stacksEnv, "1") == 0;
  if (stacks) {
    void* warm[4];
    backtrace(warm, 4);  // the first call loads libgcc_s; do it here, not on the hot path
    dl_iterate_phdr(findSelfRange, &s);
  }

  timespec real;
  clock_gettime(CLOCK_REALTIME, &real);
  uint64_t startMono = Recorder::monotonicNs();
  StreamHeader header = {};
  std::memcpy(header.magic, kMagic, 8);
  header.version[0] = kFormatVersion;
  header.headerBytes[0] = sizeof(StreamHeader);
  header.pid[0] = static_cast<uint32_t>(getpid());
  header.startMonotonicNs[0] = startMono;

  ProcessStart ps = {};
  ps.pid[0] = static_cast<uint32_t>(getpid());
  ps.layerVersion[0] = 1;
  ps.realtimeNs[0] = static_cast<uint64_t>(real.tv_sec) * 1000000000ull + static_cast<uint64_t>(real.tv_nsec);
  ps.options[0] = stacks ? 1 : 0;
  std::string exe(4096, '\0');
  ssize_t n = readlink("/proc/self/exe", &exe[0], exe.size());
  exe.resize(n > 0 ? static_cast<size_t>(n) : 0);
  std::string cmdline = readProcFile("/proc/self/cmdline");
  while (!cmdline.empty() && cmdline.back() == '\0') cmdline.pop_back();
  TailString strings[2] = {{exe.data(), exe.size()}, {cmdline.data(), cmdline.size()}};

  ByteBuffer first;
  std::memcpy(first.grow(sizeof header), &header, sizeof header);
  size_t bytes = recordBytes(sizeof ps, strings, 2, 0);
  writeRecord(first.grow(bytes), bytes, kProcessStart, 0, threadId(), s.sequence.fetch_add(1), startMono, &ps,
              sizeof ps, strings, 2, nullptr, 0);
  bool ok = writeAll(first.data, first.size);
  std::free(first.data);
  if (!ok) return;
  s.bytesWritten = first.size;
  s.recordsWritten = 1;
  s.stacks.store(stacks);
  s.recording.store(true);
  pthread_atfork(nullptr, nullptr, afterForkInChild);

  // The writer thread takes no signals: the application's handlers keep running on its own threads.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  s.writer = std::thread(writerMain);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace

uint64_t Recorder::monotonicNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
}

bool Recorder::start() {
  std::call_once(st().startOnce, doStart);
  return st().recording.load();
}

bool Recorder::recording() { return st().recording.load(std::memory_order_relaxed); }
bool Recorder::stacksEnabled() { return st().stacks.load(std::memory_order_relaxed); }
void Recorder::setTimerHook(void (*hook)()) { st().timerHook = hook; }

uint32_t Recorder::append(Kind kind, uint16_t flags, const void* payload, size_t payloadBytes,
                          const TailString* strings, size_t stringCount, bool withStack) {
  State& s = st();
  if (!s.recording.load(std::memory_order_relaxed)) return 0;
  ThreadBuffer* tb = threadBuffer();
  if (!tb) return 0;

  uint64_t pcs[kMaxFrames];
  uint32_t frameCount = 0;
  if (withStack && s.stacks.load(std::memory_order_relaxed)) {
    void* frames[kMaxFrames];
    int n = backtrace(frames, kMaxFrames);
    int first = 0;
    while (first < n && reinterpret_cast<uintptr_t>(frames[first]) >= s.selfBegin &&
           reinterpret_cast<uintptr_t>(frames[first]) < s.selfEnd)
      first++;
    for (int i = first; i < n; i++) pcs[frameCount++] = reinterpret_cast<uintptr_t>(frames[i]);
  }

  size_t bytes = recordBytes(payloadBytes, strings, stringCount, 0);
  size_t stackBytes = frameCount ? recordBytes(sizeof(Stack), nullptr, 0, 8 * frameCount) : 0;
  uint32_t tid = threadId();

  // inflight is a lower bound of the sequence taken next: the writer's watermark never passes a record
  // that has its sequence but is not yet in the buffer.
  tb->inflight.store(s.sequence.load());
  uint64_t seq = s.sequence.fetch_add(frameCount ? 2 : 1);
  uint64_t now = monotonicNs();
  {
    std::lock_guard<std::mutex> lock(tb->mutex);
    uint8_t* at = nullptr;
    if (tb->active.size + bytes + stackBytes <= kThreadBufferLimit) at = tb->active.grow(bytes + stackBytes);
    if (!at) {
      tb->dropped += frameCount ? 2 : 1;
    } else {
      writeRecord(at, bytes, kind, flags, tid, seq, now, payload, payloadBytes, strings, stringCount, nullptr, 0);
      if (frameCount) {
        Stack stack = {};
        stack.ofSequence[0] = static_cast<uint32_t>(seq);
        stack.frameCount[0] = frameCount;
        writeRecord(at + bytes, stackBytes, kStack, 0, tid, seq + 1, now, &stack, sizeof stack, nullptr, 0, pcs,
                    8 * frameCount);
      }
    }
  }
  tb->inflight.store(kIdle);
  return static_cast<uint32_t>(seq);
}

void Recorder::finish() {
  State& s = st();
  std::lock_guard<std::mutex> lock(s.finishMutex);
  if (s.finished || s.forkedChild) return;
  s.finished = true;
  if (!s.writer.joinable()) return;  // never started recording
  {
    std::lock_guard<std::mutex> wakeLock(s.wakeMutex);
    s.stopping = true;
  }
  s.wake.notify_all();
  s.writer.join();  // its last loop drained every buffer
  bool wasRecording = s.recording.exchange(false);
  if (wasRecording && !s.writeFailed) {
    drain();  // records appended while the writer stopped
    ProcessEnd end = {};
    end.recordsWritten[0] = s.recordsWritten;
    end.recordsDropped[0] = s.droppedTotal;
    end.reason[0] = 1;
    emitDirect(kProcessEnd, &end, sizeof end);
    writeAll(s.out.data, s.out.size);
    s.out.size = 0;
  }
  if (s.fd >= 0) ::close(s.fd);
  s.fd = -1;
}

}  // namespace vrscap
