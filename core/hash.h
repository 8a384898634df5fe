// Hashes on hot paths (a key's hash for the memtable, the row cache and the key locks; a WAL
// record's checksum), compiled in: libxxhash-dev's header with XXH_INLINE_ALL, so a short key's
// XXH3 is a few inlined instructions instead of a call through the shared library's PLT into
// its length dispatcher (~4% of a pipelined SET's server time went to libxxhash). The values are
// the library's: XXH3 and XXH64 are fixed algorithms, so on-disk formats that store them (leaf
// filters, WAL checksums) do not change.
#pragma once

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace tierkv {

inline uint64_t Xxh3(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

inline uint64_t Xxh3(std::string_view bytes, uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

}  // namespace tierkv
