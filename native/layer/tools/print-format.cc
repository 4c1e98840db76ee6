// Prints the "Stream format" tables of docs/capture.md from the field lists in capture_format.h, and checks
// that every payload has no implicit padding and naturally aligned fields. Run by tests/integration/
// capture-layer.test.ts, which compares its output with the document, so the two cannot drift apart.
// Usage: print-format  (writes Markdown to stdout; exit status 1 if a layout rule is broken)
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

#include "../capture_format.h"

using namespace vrscap;

namespace {

bool g_ok = true;

template <typename T>
const char* typeName();
template <> const char* typeName<u16>() { return "u16"; }
template <> const char* typeName<u32>() { return "u32"; }
template <> const char* typeName<i32>() { return "i32"; }
template <> const char* typeName<u64>() { return "u64"; }
template <> const char* typeName<f32>() { return "f32"; }

struct Row {
  size_t offset;
  size_t size;
  size_t elementSize;
  std::string type;
  std::string name;
  int count;
  std::string desc;
};

void printTable(const char* title, const Row* rows, size_t n, size_t structSize, size_t base, const char* tail) {
  std::printf("#### %s\n\n", title);
  std::printf("| offset | type | field | meaning |\n| ---: | --- | --- | --- |\n");
  size_t expected = 0;
  for (size_t i = 0; i < n; i++) {
    const Row& r = rows[i];
    if (r.offset != expected || r.offset % r.elementSize != 0) {
      std::fprintf(stderr, "%s.%s: offset %zu, expected %zu (implicit padding or misalignment)\n", title,
                   r.name.c_str(), r.offset, expected);
      g_ok = false;
    }
    expected = r.offset + r.size;
    std::string type = r.type;
    if (r.count > 1) type += "[" + std::to_string(r.count) + "]";
    std::printf("| %zu | %s | %s | %s |\n", base + r.offset, type.c_str(), r.name.c_str(), r.desc.c_str());
  }
  if (expected != structSize) {
    std::fprintf(stderr, "%s: fields end at %zu but the struct is %zu bytes\n", title, expected, structSize);
    g_ok = false;
  }
  if (tail && *tail) {
    std::printf("| %zu | tail | | %s |\n", base + structSize, tail);
    std::printf("\nFixed part: %zu bytes; record size: %zu + tail, rounded up to a multiple of 8.\n\n",
                base + structSize, base + structSize);
  } else {
    size_t total = (base + structSize + 7) / 8 * 8;
    std::printf("\nRecord size: %zu bytes.\n\n", total);
    if (total != base + structSize) {
      std::fprintf(stderr, "%s: fixed-size record is not a multiple of 8\n", title);
      g_ok = false;
    }
  }
}

#define MAKE_ROW(type, name, count, desc) \
  Row{offsetof(CurrentStruct, name), sizeof(type) * (count), sizeof(type), typeName<type>(), #name, count, desc},

}  // namespace

int main() {
  {
    typedef StreamHeader CurrentStruct;
    const Row rows[] = {VRSCAP_STREAM_HEADER(MAKE_ROW)};
    printTable("Stream header", rows, sizeof(rows) / sizeof(rows[0]), sizeof(CurrentStruct), 0, "");
  }
  {
    typedef RecordHeader CurrentStruct;
    const Row rows[] = {VRSCAP_RECORD_HEADER(MAKE_ROW)};
    printTable("Record header", rows, sizeof(rows) / sizeof(rows[0]), sizeof(CurrentStruct), 0, "");
  }
#define PRINT_RECORD(kind, Struct, LIST, tail)                                                              \
  {                                                                                                        \
    typedef Struct CurrentStruct;                                                                          \
    const Row rows[] = {LIST(MAKE_ROW)};                                                                   \
    std::string title = std::string(#Struct) + " (kind " + std::to_string(static_cast<int>(kind)) + ")"; \
    printTable(title.c_str(), rows, sizeof(rows) / sizeof(rows[0]), sizeof(CurrentStruct), sizeof(RecordHeader), tail); \
  }
  VRSCAP_ALL_RECORDS(PRINT_RECORD)
  return g_ok ? 0 : 1;
}
