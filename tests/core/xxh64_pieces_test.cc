// Xxh64Pieces: XXH64 of the concatenation, whatever the split and on both sides of the one-shot
// limit (the WALs' record checksums depend on it: docs/format.md).
#include "core/xxh64_pieces.h"

#include <doctest/doctest.h>

#include <string>

#include "core/random.h"

namespace tierkv {
namespace {

std::span<const std::byte> Bytes(const std::string& s, size_t from, size_t to) {
  return std::as_bytes(std::span(s.data() + from, to - from));
}

TEST_CASE("Xxh64Pieces is XXH64 of the concatenation, for any split and size") {
  Prng prng(7);
  for (size_t size : {0, 1, 8, 24, 60, 255, 256, 257, 300, 4096}) {
    std::string data(size, '\0');
    for (char& c : data) c = static_cast<char>(prng.Uniform(256));
    for (uint64_t seed : {uint64_t{0}, uint64_t{0x9e3779b97f4a7c15}}) {
      const uint64_t want = XXH64(data.data(), data.size(), seed);
      CAPTURE(size);
      CHECK(Xxh64Pieces({Bytes(data, 0, size)}, seed) == want);
      for (size_t cut = 0; cut <= size; cut += (size < 64 ? 1 : 37)) {
        const size_t second = cut + (size - cut) / 2;
        CAPTURE(cut);
        CHECK(Xxh64Pieces({Bytes(data, 0, cut), Bytes(data, cut, size)}, seed) == want);
        CHECK(Xxh64Pieces({Bytes(data, 0, cut), Bytes(data, cut, second),
                           Bytes(data, second, size)}, seed) == want);
      }
    }
  }
}

}  // namespace
}  // namespace tierkv
