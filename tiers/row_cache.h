// The engine's row cache: the tree's answers to recent point reads (key -> value, or absent),
// bounded in bytes, so that a read of a key no memtable holds is one hash probe instead of a tree
// descent (RocksDB's row cache). A descent costs a binary search per level over entries whose
// keys live on the heap, which is a cache miss per comparison: it was half of a GET's CPU time.
//
// Consistency (engine.cc keeps it): an entry always holds the key's newest value, so a reader of
// the current state looks here first, before the memtables. A write to a cached key replaces the
// entry's value (write-through) before any reader can look; a read fills the cache with what it
// found at the current snapshot (a memtable's newest version, or the tree's answer when no write
// at all happened while it read the tree, where it may have suspended). Readers of older
// snapshots do not use it.
// Eviction: CLOCK, as the node cache (tiers/node_cache.h): a hit sets a bit, the hand gives
// referenced entries a second chance. Values larger than capacity / 64 are not cached.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tiers/memtable.h"

namespace tierkv::tiers {

struct RowCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t bytes = 0;
  uint64_t entries = 0;
};

class RowCache {
 public:
  explicit RowCache(uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  // The cached answer (nullopt inside: the key is absent), or nullptr when the key is not cached.
  const MaybeValue* Find(std::string_view key);
  // Caches the tree's answer for `key` (replacing any entry), evicting as needed.
  void Insert(std::string_view key, const MaybeValue& value);
  // A write of `key`: a cached entry takes the new value (or is dropped when it is too large).
  void Update(std::string_view key, const MaybeValue& value);
  void set_capacity(uint64_t capacity_bytes);
  uint64_t capacity() const { return capacity_bytes_; }
  RowCacheStats stats() const;

 private:
  struct Entry {
    std::string key;
    MaybeValue value;
    bool referenced = false;
  };
  using List = std::list<Entry>;

  static uint64_t Charge(std::string_view key, const MaybeValue& value);
  bool Cacheable(std::string_view key, const MaybeValue& value) const;
  void Erase(List::iterator it);
  void EvictToFit();

  uint64_t capacity_bytes_;
  uint64_t bytes_ = 0;
  List entries_;            // the CLOCK ring: the hand is at the back
  std::unordered_map<std::string_view, List::iterator> index_;  // views into entries_' keys
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace tierkv::tiers
