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
  auto [it, inserted] = map_.emplace(InternalKey{std::string(key), seq}, std::move(value));
  TK_ASSERT_MSG(inserted, "sequence number reused");
  max_seq_ = std::max(max_seq_, seq);
  auto [slot, added] = newest_.try_emplace(std::string_view(it->first.key), it);
  if (added) {
    bytes_ += kIndexOverhead;
  } else if (slot->second->first.seq < seq) {
    slot->second = it;  // the key's view stays valid: the older node is never removed
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
