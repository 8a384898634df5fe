// The shared library's XXH3 and XXH64 (plain <xxhash.h>, no XXH_INLINE_ALL), for hash_test.cc to
// compare core/hash.h's inlined copies against. Kept in its own file: one translation unit
// cannot hold both forms.
#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace tierkv::testing {

uint64_t LibraryXxh3(std::string_view bytes, uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

uint64_t LibraryXxh3(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

uint64_t LibraryXxh64(std::string_view bytes, uint64_t seed) {
  return XXH64(bytes.data(), bytes.size(), seed);
}

}  // namespace tierkv::testing
