// The memtable: every write since the last checkpoint, kept in memory as versioned entries.
//
// Entries are ordered by (user key ascending, sequence number descending), so the newest version
// of a key comes first and a reader at snapshot sequence S takes the first version with seq <= S.
// A delete is a tombstone entry. Entries are never removed: a checkpoint freezes the whole
// memtable, merges it into the copy-on-write tree, and drops it when no snapshot needs it.
// std::map keeps iterators valid across inserts, which is what lets a scan suspend (reading tree
// pages) while writers insert. Rejected: a skiplist (no concurrent threads to serve here; a
// shard's memtable is touched by one executor only).
// Point reads go through a hash index from each key to its newest version (a node of the map:
// nodes never move): one hash probe instead of a tree descent of ~log2(entries) string compares,
// which was half of a GET's CPU time. A reader at an older snapshot walks on from there to the
// version it may see (the next map entries). A write of a key already here inserts with that
// node as the hint.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory_resource>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tiers/arena.h"

namespace tierkv::tiers {

// The first 8 bytes of a key, big-endian and zero-padded: comparing two heads orders the keys
// whenever the heads differ, without reading the key bytes (which live elsewhere in the arena: a
// cache miss per comparison made half of a memtable insert's time).
inline uint64_t KeyHead(std::string_view key) {
  uint64_t head = 0;
  const size_t n = std::min<size_t>(8, key.size());
  for (size_t i = 0; i < n; i++) head |= uint64_t{static_cast<uint8_t>(key[i])} << (56 - 8 * i);
  return head;
}

// A key version as the memtable stores it: its bytes live in the memtable's arena.
struct InternalKey {
  InternalKey(std::pmr::string k, uint64_t s) : head(KeyHead(k)), seq(s), key(std::move(k)) {}
  uint64_t head;
  uint64_t seq;
  std::pmr::string key;
};
// A key version to look up (no copy of the key).
struct KeyRef {
  KeyRef(std::string_view k, uint64_t s) : head(KeyHead(k)), seq(s), key(k) {}
  uint64_t head;
  uint64_t seq;
  std::string_view key;
};

struct InternalKeyLess {
  using is_transparent = void;
  template <typename A, typename B>
  static bool Less(const A& a, const B& b) {
    if (a.head != b.head) return a.head < b.head;
    int c = std::string_view(a.key).compare(std::string_view(b.key));
    return c != 0 ? c < 0 : a.seq > b.seq;
  }
  bool operator()(const InternalKey& a, const InternalKey& b) const { return Less(a, b); }
  bool operator()(const InternalKey& a, const KeyRef& b) const { return Less(a, b); }
  bool operator()(const KeyRef& a, const InternalKey& b) const { return Less(a, b); }
};

// A value or a tombstone.
using MaybeValue = std::optional<std::string>;
// A value or a tombstone as the memtable stores it (in its arena).
using StoredValue = std::optional<std::pmr::string>;
inline MaybeValue ToMaybeValue(const StoredValue& value) {
  return value ? MaybeValue(std::string(*value)) : std::nullopt;
}

class Memtable {
 public:
  using Map = std::pmr::map<InternalKey, StoredValue, InternalKeyLess>;

  Memtable();
  ~Memtable();
  Memtable(const Memtable&) = delete;
  Memtable& operator=(const Memtable&) = delete;

  // `value` nullopt: a tombstone.
  void Add(uint64_t seq, std::string_view key, std::optional<std::string_view> value);
  // The newest version of `key` with seq <= snapshot: found (a value, or nullopt for a
  // tombstone) or not present. The view points into the memtable's arena.
  std::optional<std::optional<std::string_view>> Get(std::string_view key, uint64_t snapshot) const;

  const Map& map() const { return map_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t entries() const { return map_.size(); }
  uint64_t max_seq() const { return max_seq_; }

 private:
  StoredValue Stored(std::optional<std::string_view> value);
  // The slot of `key` in newest_, or the empty slot where its probe ends.
  size_t Probe(std::string_view key, uint64_t hash) const;
  void GrowIndex();

  // Every node and string of the map lives in the arena, and so does the map itself, which is
  // never destroyed: dropping the memtable frees the arena's blocks, not millions of nodes one by
  // one (tiers/arena.h).
  Arena arena_;
  Map& map_;
  // key -> its newest version: open addressing with linear probing over (hash, node) slots, a
  // power of two in size and at most 3/4 full; entries are never removed (a memtable only grows),
  // so there are no tombstones. One cache miss for the slot instead of std::unordered_map's bucket
  // and node.
  struct IndexSlot {
    uint64_t hash = 0;
    Map::const_iterator newest;
    bool used = false;
  };
  std::vector<IndexSlot> newest_;
  size_t keys_ = 0;
  uint64_t bytes_ = 0;
  uint64_t max_seq_ = 0;
};

}  // namespace tierkv::tiers
