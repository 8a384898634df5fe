// XXH64 over the concatenation of a few byte pieces (a log record's header fields and its
// payload, which may wrap around a ring), without building the concatenation on the heap.
// Up to kOneShotBytes in all, one XXH64 call over a stack copy; past that, XXH64's streaming
// state. Both give the same value (XXH64's streaming and one-shot forms agree by definition),
// so the choice is invisible in any format; the copy is there because the streaming state's
// set-up cost more than hashing a SET's ~60-byte WAL record (~3% of a pipelined SET's server
// time).
#pragma once

#include "core/hash.h"  // XXH64 inlined, and XXH64_state_t for the stack

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>

namespace tierkv {

inline uint64_t Xxh64Pieces(std::initializer_list<std::span<const std::byte>> pieces,
                            uint64_t seed = 0) {
  constexpr size_t kOneShotBytes = 256;
  size_t total = 0;
  for (const auto& piece : pieces) total += piece.size();
  if (total <= kOneShotBytes) {
    std::byte bytes[kOneShotBytes];
    size_t at = 0;
    for (const auto& piece : pieces) {
      if (!piece.empty()) std::memcpy(bytes + at, piece.data(), piece.size());
      at += piece.size();
    }
    return XXH64(bytes, total, seed);
  }
  XXH64_state_t state;
  XXH64_reset(&state, seed);
  for (const auto& piece : pieces) XXH64_update(&state, piece.data(), piece.size());
  return XXH64_digest(&state);
}

}  // namespace tierkv
