// core/hash.h: the inlined XXH3 and XXH64 give the shared library's values at every length class
// (the leaf filters and WAL checksums on disk depend on it: docs/format.md); core/huge_pages.h:
// both allocation paths give usable, aligned memory, in containers too.
#include "core/hash.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/huge_pages.h"
#include "core/random.h"

namespace tierkv {
namespace testing {
uint64_t LibraryXxh3(std::string_view bytes, uint64_t seed);
uint64_t LibraryXxh3(std::string_view bytes);
uint64_t LibraryXxh64(std::string_view bytes, uint64_t seed);
}  // namespace testing
namespace {

TEST_CASE("the inlined XXH3 and XXH64 are the library's, at every length") {
  // Published values of the empty input, then the library's own at each of XXH3's length
  // classes (0, 1-3, 4-8, 9-16, 17-128, 129-240, long) and around them.
  CHECK(Xxh3("") == 0x2D06800538D394C2ULL);
  CHECK(XXH64("", 0, 0) == 0xEF46DB3751D8E999ULL);
  Prng prng(11);
  for (size_t size : {0, 1, 3, 4, 8, 9, 16, 17, 60, 128, 129, 240, 241, 1000, 4096}) {
    CAPTURE(size);
    std::string data(size, '\0');
    for (char& c : data) c = static_cast<char>(prng.Uniform(256));
    CHECK(Xxh3(data) == testing::LibraryXxh3(data));
    for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{0x9E3779B97F4A7C15}}) {
      CHECK(Xxh3(data, seed) == testing::LibraryXxh3(data, seed));
      CHECK(XXH64(data.data(), data.size(), seed) == testing::LibraryXxh64(data, seed));
    }
  }
}

TEST_CASE("AllocateHuge: small sizes as new, large ones in whole aligned huge pages") {
  for (size_t bytes : {size_t{1}, size_t{4096}, kHugePageBytes - 1, kHugePageBytes,
                       kHugePageBytes + 1, 3 * kHugePageBytes}) {
    CAPTURE(bytes);
    auto* memory = static_cast<unsigned char*>(AllocateHuge(bytes));
    REQUIRE(memory != nullptr);
    const auto address = reinterpret_cast<uintptr_t>(memory);
    CHECK(address % 64 == 0);
    if (bytes >= kHugePageBytes) CHECK(address % kHugePageBytes == 0);
    memory[bytes - 1] = 2;  // the whole range is usable
    memory[0] = 1;
    CHECK(memory[0] == 1);
    CHECK(memory[bytes - 1] == (bytes == 1 ? 1 : 2));
    FreeHuge(memory, bytes);
  }
  FreeHuge(nullptr, kHugePageBytes);  // a no-op, like delete of nullptr
}

TEST_CASE("HugePageAllocator: a vector grows across the huge-page threshold and keeps its data") {
  std::vector<uint64_t, HugePageAllocator<uint64_t>> table;
  const size_t n = 3 * kHugePageBytes / sizeof(uint64_t);
  for (size_t i = 0; i < n; i++) table.push_back(i * 7);  // reallocates through both paths
  for (size_t i = 0; i < n; i += 4099) CHECK(table[i] == i * 7);
  CHECK(table.back() == (n - 1) * 7);
  auto moved = std::move(table);
  CHECK(moved.size() == n);
}

}  // namespace
}  // namespace tierkv
