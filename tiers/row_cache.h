// The engine's row cache: the tree's answers to recent point reads (key -> value, or absent),
// bounded in bytes, so that a read of a key no memtable holds is one hash probe instead of a tree
// descent (RocksDB's row cache). A descent costs a binary search per level over entries whose
// keys live on the heap, which is a cache miss per comparison: it was half of a GET's CPU time.
//
// Consistency (engine.cc and engine_checkpoint.cc keep it): the cache is exclusive of the
// memtables. A reader of the current state looks in the memtables first (they hold the newest
// versions of every key written since the last checkpoint) and here only for keys none of them
// holds, so an entry needs to be the newest value only of keys no memtable holds. Writes do not
// touch the cache. A read fills it with the tree's answer at the current snapshot when no write at
// all happened while it read the tree, where it may have suspended. When a checkpoint has merged a
// frozen memtable into the tree and before it drops that memtable from the version, every cached
// key the memtable held takes the memtable's newest value. Readers of older snapshots do not use
// the cache. Before, the cache was written through by every write and filled by memtable reads: a
// pipelined SET paid the cache's two misses on top of the memtable's, and every key lived in both.
// Layout: an open-addressing table of (hash, entry) slots with linear probing, and each entry one
// allocation holding its key and value bytes: a hit costs about two cache misses (the slot, the
// entry), where std::unordered_map over a list cost four (bucket, node, key string, list node),
// which showed as 30% of a pipelined GET. Deletion shifts the following slots back (no
// tombstones). Eviction: CLOCK over the slots, as the node cache (tiers/node_cache.h): a hit sets
// a bit, the hand gives referenced entries a second chance. Values larger than capacity / 64 are
// not cached.
// Admission (TinyLFU's doorkeeper): a read's answer is cached only when its key was already
// looked up since the doorkeeper was last cleared; the first time only sets the key's two bits in
// a bitset of 16 bits per entry the cache can hold, cleared when an eighth of its bits are set.
// Random reads over data much larger than the cache almost never read a key twice: caching each
// answer evicted another entry per read for a hit ratio of 0.5% (a sixth of a tiered GET's CPU
// time went to eviction); hot keys get in on their second read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/doorkeeper.h"
#include "core/huge_pages.h"
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
  ~RowCache();
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  struct Cached {
    bool present = false;    // false: the key is absent
    std::string_view value;  // valid until the cache next changes
  };
  // The cached answer, or nullopt when the key is not cached.
  // `hash` is Memtable::Hash(key) (the engine hashes a key once for the memtables and here).
  std::optional<Cached> Find(std::string_view key, uint64_t hash);
  std::optional<Cached> Find(std::string_view key);
  // Starts loading the slot of the key with this hash (a Find follows soon); `deep` (the slot
  // was prefetched a while ago): the entry it points to.
  void PrefetchHash(uint64_t hash, bool deep) const;
  // Caches the answer for `key` (replacing any entry), evicting as needed; a key not cached yet
  // gets in only past the doorkeeper, unless `admit`.
  void Insert(std::string_view key, std::optional<std::string_view> value, bool admit = false);
  void Insert(std::string_view key, std::optional<std::string_view> value, bool admit,
              uint64_t hash);
  // A write of `key`: a cached entry takes the new value (or is dropped when it is too large).
  // False when the key was not cached.
  bool Update(std::string_view key, std::optional<std::string_view> value);
  bool Update(std::string_view key, std::optional<std::string_view> value, uint64_t hash);
  void set_capacity(uint64_t capacity_bytes);
  uint64_t capacity() const { return capacity_bytes_; }
  RowCacheStats stats() const;

 private:
  struct Entry;
  struct Slot {
    uint64_t hash = 0;
    Entry* entry = nullptr;  // nullptr: empty
  };

  static uint64_t Charge(std::string_view key, std::optional<std::string_view> value);
  static uint64_t ChargeOf(const Entry& entry);
  bool Cacheable(std::string_view key, std::optional<std::string_view> value) const;
  // The slot holding `key`, or the empty slot where the probe ended (slots_ is never full).
  size_t Probe(std::string_view key, uint64_t hash) const;
  void Grow();
  void EraseAt(size_t index);
  void EvictToFit();
  // True when `hash` was seen since the doorkeeper was last cleared; marks it seen.
  bool Admit(uint64_t hash);

  uint64_t capacity_bytes_;
  uint64_t bytes_ = 0;
  std::vector<Slot, HugePageAllocator<Slot>> slots_;  // a power of two in size, at most half full
  Doorkeeper doorkeeper_;
  size_t entries_ = 0;
  size_t hand_ = 0;  // CLOCK
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace tierkv::tiers
