#include "tiers/memtable.h"

#include "core/assert.h"

namespace tierkv::tiers {

// Per-entry overhead of a std::map node (pointers, colour, two std::string headers): counted so
// that the memtable's memory bound holds for many small entries too.
constexpr uint64_t kEntryOverhead = 96;

void Memtable::Add(uint64_t seq, std::string_view key, MaybeValue value) {
  bytes_ += kEntryOverhead + key.size() + (value ? value->size() : 0);
  auto [it, inserted] = map_.emplace(InternalKey{std::string(key), seq}, std::move(value));
  TK_ASSERT_MSG(inserted, "sequence number reused");
  max_seq_ = std::max(max_seq_, seq);
}

std::optional<MaybeValue> Memtable::Get(std::string_view key, uint64_t snapshot) const {
  auto it = map_.lower_bound(InternalKey{std::string(key), snapshot});
  if (it == map_.end() || it->first.key != key) return std::nullopt;
  return it->second;
}

}  // namespace tierkv::tiers
