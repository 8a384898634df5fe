#include "tiers/memtable.h"

#include <xxhash.h>

#include "core/assert.h"

namespace tierkv::tiers {

// Per-entry overhead of a std::map node (pointers, colour, two std::string headers): counted so
// that the memtable's memory bound holds for many small entries too. And per distinct key, its
// index slot (24 bytes, at most 3/4 full, and the table doubles).
constexpr uint64_t kEntryOverhead = 96;
constexpr uint64_t kIndexOverhead = 64;

namespace {
uint64_t Hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }
constexpr size_t kInitialIndexSlots = 64;
}  // namespace

Memtable::Memtable()
    : map_(*new (arena_.allocate(sizeof(Map), alignof(Map))) Map(&arena_)) {}

// The map and everything in it are in the arena: no destructor needs to run (pmr strings and
// nodes would only hand their memory back to the arena, which ignores it).
Memtable::~Memtable() = default;

size_t Memtable::Probe(std::string_view key, uint64_t hash) const {
  const size_t mask = newest_.size() - 1;
  for (size_t index = hash & mask;; index = (index + 1) & mask) {
    const IndexSlot& slot = newest_[index];
    if (!slot.used || (slot.hash == hash && slot.newest->first.key == key)) return index;
  }
}

void Memtable::GrowIndex() {
  std::vector<IndexSlot> old = std::move(newest_);
  newest_.assign(old.empty() ? kInitialIndexSlots : old.size() * 2, IndexSlot{});
  const size_t mask = newest_.size() - 1;
  for (const IndexSlot& slot : old) {
    if (!slot.used) continue;
    size_t index = slot.hash & mask;
    while (newest_[index].used) index = (index + 1) & mask;
    newest_[index] = slot;
  }
}

void Memtable::Add(uint64_t seq, std::string_view key, std::optional<std::string_view> value) {
  bytes_ += kEntryOverhead + key.size() + (value ? value->size() : 0);
  max_seq_ = std::max(max_seq_, seq);
  if ((keys_ + 1) * 4 > newest_.size() * 3) GrowIndex();
  const uint64_t hash = Hash(key);
  IndexSlot& slot = newest_[Probe(key, hash)];
  if (slot.used && slot.newest->first.seq < seq) {
    // A newer version of a key already here sorts right before its newest one: insert with that
    // hint, amortised constant time instead of a descent of string compares (which was 40% of
    // a pipelined SET).
    const size_t before = map_.size();
    slot.newest = map_.emplace_hint(slot.newest, InternalKey{std::pmr::string(key, &arena_), seq},
                                    Stored(value));
    TK_ASSERT_MSG(map_.size() == before + 1, "sequence number reused");
    return;
  }
  auto [it, inserted] = map_.emplace(InternalKey{std::pmr::string(key, &arena_), seq}, Stored(value));
  TK_ASSERT_MSG(inserted, "sequence number reused");
  if (!slot.used) {
    slot = IndexSlot{hash, it, true};
    keys_++;
    bytes_ += kIndexOverhead;
  }
}

StoredValue Memtable::Stored(std::optional<std::string_view> value) {
  if (!value) return std::nullopt;
  return StoredValue(std::in_place, *value, &arena_);
}

std::optional<std::optional<std::string_view>> Memtable::Get(std::string_view key,
                                                             uint64_t snapshot) const {
  if (keys_ == 0) return std::nullopt;
  const IndexSlot& slot = newest_[Probe(key, Hash(key))];
  if (!slot.used) return std::nullopt;
  // Versions of a key are adjacent, newest first: the first one at or below the snapshot.
  for (auto it = slot.newest; it != map_.end() && it->first.key == key; ++it) {
    if (it->first.seq > snapshot) continue;
    if (!it->second) return std::optional<std::string_view>();
    return std::optional<std::string_view>(*it->second);
  }
  return std::nullopt;
}

}  // namespace tierkv::tiers
