#include "tiers/row_cache.h"

namespace tierkv::tiers {

// A list node (two pointers, the flag), the std::string key and optional value headers, and the
// index's node and bucket: counted so the bound holds for many small entries.
constexpr uint64_t kEntryOverhead = 128;

uint64_t RowCache::Charge(std::string_view key, const MaybeValue& value) {
  return kEntryOverhead + key.size() + (value ? value->size() : 0);
}

bool RowCache::Cacheable(std::string_view key, const MaybeValue& value) const {
  return Charge(key, value) <= capacity_bytes_ / 64;
}

const MaybeValue* RowCache::Find(std::string_view key) {
  auto found = index_.find(key);
  if (found == index_.end()) {
    misses_++;
    return nullptr;
  }
  hits_++;
  found->second->referenced = true;
  return &found->second->value;
}

void RowCache::Insert(std::string_view key, const MaybeValue& value) {
  if (auto found = index_.find(key); found != index_.end()) Erase(found->second);
  if (!Cacheable(key, value)) return;
  entries_.push_front(Entry{std::string(key), value, false});
  index_.emplace(std::string_view(entries_.front().key), entries_.begin());
  bytes_ += Charge(key, value);
  EvictToFit();
}

void RowCache::Update(std::string_view key, const MaybeValue& value) {
  auto found = index_.find(key);
  if (found == index_.end()) return;
  Entry& entry = *found->second;
  if (!Cacheable(key, value)) {
    Erase(found->second);
    return;
  }
  bytes_ = bytes_ - Charge(key, entry.value) + Charge(key, value);
  entry.value = value;
  EvictToFit();
}

void RowCache::set_capacity(uint64_t capacity_bytes) {
  capacity_bytes_ = capacity_bytes;
  EvictToFit();
}

RowCacheStats RowCache::stats() const { return RowCacheStats{hits_, misses_, bytes_, index_.size()}; }

void RowCache::Erase(List::iterator it) {
  bytes_ -= Charge(it->key, it->value);
  index_.erase(std::string_view(it->key));
  entries_.erase(it);
}

void RowCache::EvictToFit() {
  // Bounded: each pass over an entry clears its bit, so at most two laps evict one.
  while (bytes_ > capacity_bytes_ && !entries_.empty()) {
    auto hand = std::prev(entries_.end());
    if (hand->referenced) {
      hand->referenced = false;
      entries_.splice(entries_.begin(), entries_, hand);  // a second chance
      continue;
    }
    Erase(hand);
  }
}

}  // namespace tierkv::tiers
