// TinyLFU's doorkeeper: remembers which hashes were seen since it was last cleared, in a bitset
// of two bits per hash (a Bloom filter with k = 2), cleared when an eighth of its bits are set.
// A cache admits an item only on its second sighting inside that window, so a stream of items
// each seen once (random reads over data much larger than the cache) passes with a chance under
// 1/64 instead of evicting something per item. Used by the row cache (keys) and the node cache
// (leaf pages read by point lookups).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace tierkv {

class Doorkeeper {
 public:
  // True when `hash` was seen since the last clear; marks it seen. `bits` (rounded up to a power
  // of two, at least 4096) sizes the window: about bits / 16 hashes before a clear. A new size
  // starts empty.
  bool Seen(uint64_t hash, uint64_t bits) {
    bits = std::bit_ceil(std::max<uint64_t>(4096, bits));
    if (words_.size() * 64 != bits) {
      words_.assign(bits / 64, 0);
      set_ = 0;
    }
    // Two bits from different parts of the hash (tables tend to index by the low ones).
    const uint64_t a = (hash >> 20) & (bits - 1), b = (hash >> 42 | hash << 22) & (bits - 1);
    if (Test(a) && Test(b)) return true;
    for (uint64_t bit : {a, b}) {
      uint64_t& word = words_[bit / 64];
      if (!(word >> (bit % 64) & 1)) set_++;
      word |= uint64_t{1} << (bit % 64);
    }
    if (set_ * 8 > bits) {
      std::fill(words_.begin(), words_.end(), 0);
      set_ = 0;
    }
    return false;
  }

  // Bytes the bitset takes (memory accounting).
  uint64_t bytes() const { return words_.size() * 8; }

 private:
  bool Test(uint64_t bit) const { return words_[bit / 64] >> (bit % 64) & 1; }

  std::vector<uint64_t> words_;  // the bitset, a power of two in bits
  uint64_t set_ = 0;             // bits set
};

}  // namespace tierkv
