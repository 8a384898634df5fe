#include "tiers/row_cache.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#include "core/assert.h"
#include "core/linear_probing.h"

namespace tierkv::tiers {

// One allocation: this header, then the key's bytes, then the value's.
struct RowCache::Entry {
  uint32_t key_size;
  uint32_t value_size;
  bool present;
  bool referenced;

  char* bytes() { return reinterpret_cast<char*>(this + 1); }
  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const { return {bytes(), key_size}; }
  std::string_view value() const { return {bytes() + key_size, value_size}; }

  static Entry* Make(std::string_view key, std::optional<std::string_view> value) {
    const size_t value_size = value ? value->size() : 0;
    void* memory = ::operator new(sizeof(Entry) + key.size() + value_size);
    auto* entry = new (memory) Entry{static_cast<uint32_t>(key.size()),
                                     static_cast<uint32_t>(value_size), value.has_value(), false};
    std::memcpy(entry->bytes(), key.data(), key.size());
    if (value_size > 0) std::memcpy(entry->bytes() + key.size(), value->data(), value_size);
    return entry;
  }
  static void Free(Entry* entry) {
    entry->~Entry();
    ::operator delete(entry);
  }
};

namespace {

// The entry's header and allocation overhead, and its slot at the table's lowest load.
constexpr uint64_t kEntryOverhead = 64;
constexpr size_t kInitialSlots = 64;

uint64_t Hash(std::string_view key) { return Memtable::Hash(key); }

}  // namespace

RowCache::~RowCache() {
  for (Slot& slot : slots_) {
    if (slot.entry != nullptr) Entry::Free(slot.entry);
  }
}

uint64_t RowCache::Charge(std::string_view key, std::optional<std::string_view> value) {
  return kEntryOverhead + key.size() + (value ? value->size() : 0);
}

uint64_t RowCache::ChargeOf(const Entry& entry) {
  return kEntryOverhead + entry.key_size + entry.value_size;
}

bool RowCache::Cacheable(std::string_view key, std::optional<std::string_view> value) const {
  return Charge(key, value) <= capacity_bytes_ / 64;
}

size_t RowCache::Probe(std::string_view key, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t index = hash & mask;; index = (index + 1) & mask) {
    const Slot& slot = slots_[index];
    if (slot.entry == nullptr) return index;
    if (slot.hash == hash && slot.entry->key() == key) return index;
  }
}

void RowCache::PrefetchHash(uint64_t hash, bool deep) const {
  if (entries_ == 0) return;
  const Slot& slot = slots_[hash & (slots_.size() - 1)];
  if (!deep) {
    __builtin_prefetch(&slot);
  } else if (slot.hash == hash) {
    __builtin_prefetch(slot.entry);
  }
}

std::optional<RowCache::Cached> RowCache::Find(std::string_view key) { return Find(key, Hash(key)); }

std::optional<RowCache::Cached> RowCache::Find(std::string_view key, uint64_t hash) {
  if (entries_ > 0) {
    const Slot& slot = slots_[Probe(key, hash)];
    if (slot.entry != nullptr) {
      hits_++;
      slot.entry->referenced = true;
      return Cached{slot.entry->present, slot.entry->value()};
    }
  }
  misses_++;
  return std::nullopt;
}

bool RowCache::Admit(uint64_t hash) {
  // 16 bits per entry of ~100-byte values the capacity holds: a key counts as seen for about as
  // many other keys as the cache holds.
  return doorkeeper_.Seen(hash, capacity_bytes_ / 128 * 16);
}

void RowCache::Insert(std::string_view key, std::optional<std::string_view> value, bool admit) {
  Insert(key, value, admit, Hash(key));
}

void RowCache::Insert(std::string_view key, std::optional<std::string_view> value, bool admit,
                      uint64_t hash) {
  if (!Cacheable(key, value)) {
    Update(key, value, hash);  // drops a cached entry: it would be stale
    return;
  }
  if ((entries_ + 1) * 2 > slots_.size()) Grow();
  const size_t index = Probe(key, hash);
  Slot& slot = slots_[index];
  if (slot.entry == nullptr && !admit && !Admit(hash)) return;
  if (slot.entry != nullptr) {
    bytes_ -= ChargeOf(*slot.entry);
    Entry::Free(slot.entry);
    entries_--;
  }
  slot = Slot{hash, Entry::Make(key, value)};
  entries_++;
  bytes_ += Charge(key, value);
  EvictToFit();
}

bool RowCache::Update(std::string_view key, std::optional<std::string_view> value) {
  return Update(key, value, Hash(key));
}

bool RowCache::Update(std::string_view key, std::optional<std::string_view> value,
                      uint64_t hash) {
  if (entries_ == 0) return false;
  const size_t index = Probe(key, hash);
  Slot& slot = slots_[index];
  if (slot.entry == nullptr) return false;  // not cached: a write does not fill the cache
  if (!Cacheable(key, value)) {
    EraseAt(index);
    return true;
  }
  Entry& entry = *slot.entry;
  const size_t value_size = value ? value->size() : 0;
  if (entry.present == value.has_value() && entry.value_size == value_size) {
    // The same size (an overwrite with a value as long, the common case): in place, no
    // allocation (a checkpoint updates every cached key its memtable held).
    if (value_size > 0) std::memcpy(entry.bytes() + entry.key_size, value->data(), value_size);
    return true;
  }
  const bool referenced = entry.referenced;
  bytes_ -= ChargeOf(*slot.entry);
  Entry::Free(slot.entry);
  slot.entry = Entry::Make(key, value);
  slot.entry->referenced = referenced;
  bytes_ += Charge(key, value);
  EvictToFit();
  return true;
}

void RowCache::set_capacity(uint64_t capacity_bytes) {
  capacity_bytes_ = capacity_bytes;
  EvictToFit();
}

RowCacheStats RowCache::stats() const { return RowCacheStats{hits_, misses_, bytes_, entries_}; }

void RowCache::Grow() {
  auto old = std::move(slots_);
  slots_.assign(old.empty() ? kInitialSlots : old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.entry == nullptr) continue;
    size_t index = slot.hash & mask;
    while (slots_[index].entry != nullptr) index = (index + 1) & mask;
    slots_[index] = slot;
  }
  hand_ = 0;
}

void RowCache::EraseAt(size_t index) {
  Entry* entry = slots_[index].entry;
  TK_ASSERT(entry != nullptr);
  bytes_ -= ChargeOf(*entry);
  Entry::Free(entry);
  entries_--;
  const size_t mask = slots_.size() - 1;
  BackwardShiftErase(
      slots_, index, [](const Slot& slot) { return slot.entry == nullptr; },
      [mask](const Slot& slot) { return slot.hash & mask; });
}

void RowCache::EvictToFit() {
  // Bounded: every step clears a bit, passes an empty slot or evicts, and a lap clears all bits.
  while (bytes_ > capacity_bytes_ && entries_ > 0) {
    hand_ &= slots_.size() - 1;
    Slot& slot = slots_[hand_];
    if (slot.entry == nullptr) {
      hand_++;
    } else if (slot.entry->referenced) {
      slot.entry->referenced = false;
      hand_++;
    } else {
      EraseAt(hand_);  // a later entry may have moved into this slot: look at it next
    }
  }
}

}  // namespace tierkv::tiers
