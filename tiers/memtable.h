// The memtable: every write since the last checkpoint, kept in memory as versioned entries.
//
// Each distinct key is one MemKey in the memtable's arena (its bytes right behind it) with the
// chain of its versions, newest (highest sequence number) first; a reader at snapshot S takes the
// first version with seq <= S. A delete is a tombstone version. A write replaces the newest
// version instead of adding one when no snapshot can see that version (see Add). Keys are never
// removed: a
// checkpoint freezes the whole memtable, merges it into the copy-on-write tree, and drops it when
// no snapshot needs it.
//
// Point reads and writes find a key through a hash index (one probe). A new version of a known
// key goes to the head of its chain: no ordering work. A new key is appended to a pending list
// and joins the ordered index (an intrusive red-black tree of the keys) only when an iterator
// walks the keys in order. Then the pending keys are sorted by an array of (8-byte head of the
// bytes after the prefix they all share, pointer) pairs, where most comparisons touch no key
// bytes, and inserted in order. Inserting each new key straight into the tree cost a
// descent of ~log2(keys) comparisons, most of them cache misses (a quarter of a pipelined SET);
// writes that no walk interleaves with now never pay for order until the checkpoint, which
// sorts the frozen memtable's keys a step at a time into an array (SortedInSteps: a merge sort
// that lets the clients' fibers run every 8192 keys; ordering 200k keys at once held the
// executor for tens of ms).
// The tree keeps iterators valid across inserts, which is what lets a scan suspend (reading tree
// pages) while writers insert. Rejected: a skiplist (no concurrent threads to serve here; a
// shard's memtable is touched by one executor only).
#pragma once

#include <boost/intrusive/set.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/huge_pages.h"
#include "tiers/arena.h"

namespace tierkv::tiers {

// The first 8 bytes of a key, big-endian and zero-padded: comparing two heads orders the keys
// whenever the heads differ, without reading the key bytes.
inline uint64_t KeyHead(std::string_view key) {
  uint64_t head = 0;
  const size_t n = std::min<size_t>(8, key.size());
  for (size_t i = 0; i < n; i++) head |= uint64_t{static_cast<uint8_t>(key[i])} << (56 - 8 * i);
  return head;
}

// A value or a tombstone.
using MaybeValue = std::optional<std::string>;
// A version as a reader sees it: a value (a view into the memtable's arena), or nullopt for a
// tombstone.
using ValueView = std::optional<std::string_view>;

// One version of a key (in the arena; room for `capacity` value bytes follows it).
struct MemVersion {
  uint64_t seq;
  MemVersion* older;   // the next older version of the same key
  const char* value;   // nullptr: a tombstone
  uint32_t size;
  uint32_t capacity;
  ValueView view() const {
    return value == nullptr ? ValueView() : ValueView(std::string_view(value, size));
  }
};

// One distinct key (in the arena; its bytes follow it, on the same cache line when short).
struct MemKey : boost::intrusive::set_base_hook<boost::intrusive::optimize_size<true>,
                                                boost::intrusive::link_mode<boost::intrusive::normal_link>> {
  uint64_t head;
  uint64_t hash;
  MemVersion* newest;
  uint32_t size;
  uint32_t writes;  // versions added, saturating (the checkpoint caches keys written again)
  std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), size}; }
  // The newest version with seq <= snapshot, or nullptr.
  const MemVersion* Visible(uint64_t snapshot) const {
    const MemVersion* v = newest;
    while (v != nullptr && v->seq > snapshot) v = v->older;
    return v;
  }
};

struct MemKeyLess {
  static bool Less(uint64_t ha, std::string_view a, uint64_t hb, std::string_view b) {
    return ha != hb ? ha < hb : a < b;
  }
  bool operator()(const MemKey& a, const MemKey& b) const {
    return Less(a.head, a.key(), b.head, b.key());
  }
  // Heterogeneous lookups by a plain key.
  bool operator()(std::string_view a, const MemKey& b) const {
    return Less(KeyHead(a), a, b.head, b.key());
  }
  bool operator()(const MemKey& a, std::string_view b) const {
    return Less(a.head, a.key(), KeyHead(b), b);
  }
};

class Memtable {
 public:
  using Keys = boost::intrusive::set<MemKey, boost::intrusive::compare<MemKeyLess>,
                                     boost::intrusive::constant_time_size<false>>;

  Memtable() = default;
  ~Memtable();
  Memtable(const Memtable&) = delete;
  Memtable& operator=(const Memtable&) = delete;

  // `value` nullopt: a tombstone. Each seq is used once. When the key's newest version has a
  // seq above `replace_above` (no reader can be at a snapshot that sees it: the engine passes
  // its newest live snapshot's seq) and `seq` is newer still, the new version takes its place,
  // in its bytes when the value fits (RocksDB's inplace_update_support): a key overwritten again
  // and again keeps one version, so the memtable grows with the keys written, not the writes.
  void Add(uint64_t seq, std::string_view key, std::optional<std::string_view> value,
           uint64_t replace_above = UINT64_MAX);
  // The newest version of `key` with seq <= snapshot: found (a value, or nullopt for a
  // tombstone) or not present. The view points into the memtable's arena.
  std::optional<ValueView> Get(std::string_view key, uint64_t snapshot) const {
    return Get(key, snapshot, Hash(key));
  }
  // The same with `key`'s Hash at hand (one hash for every memtable and the row cache).
  std::optional<ValueView> Get(std::string_view key, uint64_t snapshot, uint64_t hash) const;

  // Starts loading the index slot of the key with this Hash (a read or write of it follows
  // soon); `deep` (the slot was prefetched a while ago): the key record it points to.
  void PrefetchHash(uint64_t hash, bool deep) const;
  // The hash the index (and the row cache) use.
  static uint64_t Hash(std::string_view key) { return Xxh3(key); }

  // Every key in order (the pending ones join the ordered index first). Its iterators stay valid
  // while keys are added; keys added after the call appear only in later calls' answers.
  // Logically const: ordering is a cache of the keys a const memtable holds.
  const Keys& keys() const;
  // Every key in order, for a memtable no longer written (a frozen one), sorted in steps:
  // `pause` is called after every `step` keys sorted or merged, so that the caller can let
  // other fibers run (ordering 200k keys at once held the checkpoint's executor for tens of
  // milliseconds). The keys do not join the ordered index (linking them was a cache miss per
  // key, for a walk the checkpoint makes once); a keys() call, during a pause or later, orders
  // them itself.
  static constexpr size_t kOrderStep = 8192;
  std::vector<const MemKey*> SortedInSteps(const std::function<void()>& pause,
                                           size_t step = kOrderStep) const;

  // A key to sort: the heads of its first 16 bytes (after the prefix all keys sorted together
  // share) beside the pointer, so a comparison reads key bytes only on equal heads.
  struct SortableKey {
    uint64_t head;
    uint64_t next;
    MemKey* key;
  };

  // False when no key starts with this byte: an iterator confined to a prefix skips the
  // memtable without ordering its keys (the expiry and garbage scans, every second or so, would
  // otherwise order every new key of a memtable that holds none of theirs).
  bool MayHoldFirstByte(uint8_t byte) const { return (first_bytes_[byte / 64] >> (byte % 64)) & 1; }

  uint64_t bytes() const { return bytes_; }
  uint64_t entries() const { return versions_; }
  uint64_t replaced() const { return replaced_; }  // versions overwritten in place
  uint64_t distinct_keys() const { return keys_; }  // (Keys::size() walks the whole index)
  uint64_t max_seq() const { return max_seq_; }

 private:
  // The slot of `key` in index_, or the empty slot where its probe ends.
  size_t Probe(std::string_view key, uint64_t hash) const;
  void GrowIndex();
  void MarkFirstByte(uint8_t byte) { first_bytes_[byte / 64] |= uint64_t{1} << (byte % 64); }
  MemVersion* NewVersion(uint64_t seq, std::optional<std::string_view> value);
  // Links sorted keys, none of them in the ordered index yet, into it; clears pending_.
  void Link(const std::vector<SortableKey>& sorted) const;

  Arena arena_;
  // key -> its MemKey: open addressing with linear probing over (hash, key) slots, a power of two
  // in size and at most 3/4 full; keys are never removed (a memtable only grows), so there are no
  // tombstones. One cache miss for the slot instead of std::unordered_map's bucket and node.
  struct IndexSlot {
    uint64_t hash = 0;
    MemKey* key = nullptr;
  };
  std::vector<IndexSlot, HugePageAllocator<IndexSlot>> index_;  // huge pages past 2 MiB
  // Keys in order, and keys not yet in it (see keys()).
  mutable Keys ordered_;
  mutable std::vector<MemKey*> pending_;
  mutable uint64_t orderings_ = 0;  // times keys() ordered pending keys
  uint64_t first_bytes_[4] = {};  // bit b: some key starts with byte b
  size_t keys_ = 0;
  uint64_t versions_ = 0;
  uint64_t replaced_ = 0;
  uint64_t bytes_ = 0;
  uint64_t max_seq_ = 0;
};

}  // namespace tierkv::tiers
