#include "tiers/memtable.h"

#include "core/assert.h"

namespace tierkv::tiers {

// Per-entry overhead of a std::map node (pointers, colour, two std::string headers): counted so
// that the memtable's memory bound holds for many small entries too. And per distinct key, its
// hash index entry (node, bucket, string_view and iterator).
constexpr uint64_t kEntryOverhead = 96;
constexpr uint64_t kIndexOverhead = 56;

void Memtable::Add(uint64_t seq, std::string_view key, MaybeValue value) {
  bytes_ += kEntryOverhead + key.size() + (value ? value->size() : 0);
  max_seq_ = std::max(max_seq_, seq);
  auto slot = newest_.find(key);
  if (slot != newest_.end() && slot->second->first.seq < seq) {
    // A newer version of a key already here sorts right before its newest one: insert with that
    // hint, amortised constant time instead of a descent of string compares (which was 40% of
    // a pipelined SET). The index keeps its view into the older node, which is never removed.
    const size_t before = map_.size();
    slot->second = map_.emplace_hint(slot->second, InternalKey{std::string(key), seq}, std::move(value));
    TK_ASSERT_MSG(map_.size() == before + 1, "sequence number reused");
    return;
  }
  auto [it, inserted] = map_.emplace(InternalKey{std::string(key), seq}, std::move(value));
  TK_ASSERT_MSG(inserted, "sequence number reused");
  if (slot == newest_.end()) {
    newest_.emplace(std::string_view(it->first.key), it);
    bytes_ += kIndexOverhead;
  }
}

std::optional<MaybeValue> Memtable::Get(std::string_view key, uint64_t snapshot) const {
  auto slot = newest_.find(key);
  if (slot == newest_.end()) return std::nullopt;
  // Versions of a key are adjacent, newest first: the first one at or below the snapshot.
  for (auto it = slot->second; it != map_.end() && it->first.key == key; ++it) {
    if (it->first.seq <= snapshot) return it->second;
  }
  return std::nullopt;
}

}  // namespace tierkv::tiers
