#include "tiers/memtable.h"

#include <xxhash.h>

#include <cstring>
#include <new>

#include "core/assert.h"

namespace tierkv::tiers {

// Bytes counted per version (its record, alignment) and per distinct key (its record with the
// tree links, its index slot at most 3/4 full in a table that doubles, its pending pointer), on
// top of the key and value bytes: so that the memtable's memory bound holds for many small
// entries too.
constexpr uint64_t kVersionOverhead = 40;
constexpr uint64_t kKeyOverhead = 56 + 48 + 8;

namespace {
uint64_t Hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }
constexpr size_t kInitialIndexSlots = 64;
}  // namespace

// Keys and versions are in the arena and the tree's links are plain (no safe-mode unlinking):
// nothing needs to run for them; dropping the memtable frees the arena's blocks.
Memtable::~Memtable() = default;

size_t Memtable::Probe(std::string_view key, uint64_t hash) const {
  const size_t mask = index_.size() - 1;
  for (size_t index = hash & mask;; index = (index + 1) & mask) {
    const IndexSlot& slot = index_[index];
    if (slot.key == nullptr || (slot.hash == hash && slot.key->key() == key)) return index;
  }
}

void Memtable::GrowIndex() {
  std::vector<IndexSlot> old = std::move(index_);
  index_.assign(old.empty() ? kInitialIndexSlots : old.size() * 2, IndexSlot{});
  const size_t mask = index_.size() - 1;
  for (const IndexSlot& slot : old) {
    if (slot.key == nullptr) continue;
    size_t index = slot.hash & mask;
    while (index_[index].key != nullptr) index = (index + 1) & mask;
    index_[index] = slot;
  }
}

MemVersion* Memtable::NewVersion(uint64_t seq, std::optional<std::string_view> value) {
  const size_t size = value ? value->size() : 0;
  void* memory = arena_.allocate(sizeof(MemVersion) + size, alignof(MemVersion));
  auto* version = new (memory) MemVersion{seq, nullptr, nullptr, static_cast<uint32_t>(size)};
  if (value) {
    char* bytes = reinterpret_cast<char*>(version + 1);
    if (size > 0) std::memcpy(bytes, value->data(), size);
    version->value = bytes;
  }
  return version;
}

void Memtable::Add(uint64_t seq, std::string_view key, std::optional<std::string_view> value) {
  TK_ASSERT(value.value_or("").size() <= UINT32_MAX && key.size() <= UINT32_MAX);
  bytes_ += kVersionOverhead + (value ? value->size() : 0);
  max_seq_ = std::max(max_seq_, seq);
  versions_++;
  if ((keys_ + 1) * 4 > index_.size() * 3) GrowIndex();
  const uint64_t hash = Hash(key);
  IndexSlot& slot = index_[Probe(key, hash)];
  MemVersion* version = NewVersion(seq, value);
  if (slot.key != nullptr) {
    // Versions are applied in sequence order nearly always: this is the chain's head.
    MemVersion** at = &slot.key->newest;
    while (*at != nullptr && (*at)->seq > seq) at = &(*at)->older;
    TK_ASSERT_MSG(*at == nullptr || (*at)->seq != seq, "sequence number reused");
    version->older = *at;
    *at = version;
    return;
  }
  void* memory = arena_.allocate(sizeof(MemKey) + key.size(), alignof(MemKey));
  auto* entry = new (memory) MemKey();
  entry->head = KeyHead(key);
  entry->hash = hash;
  entry->newest = version;
  entry->size = static_cast<uint32_t>(key.size());
  if (!key.empty()) std::memcpy(reinterpret_cast<char*>(entry + 1), key.data(), key.size());
  slot = IndexSlot{hash, entry};
  keys_++;
  bytes_ += kKeyOverhead + key.size();
  pending_.push_back(entry);
}

std::optional<ValueView> Memtable::Get(std::string_view key, uint64_t snapshot) const {
  if (keys_ == 0) return std::nullopt;
  const IndexSlot& slot = index_[Probe(key, Hash(key))];
  if (slot.key == nullptr) return std::nullopt;
  const MemVersion* version = slot.key->Visible(snapshot);
  if (version == nullptr) return std::nullopt;
  return version->view();
}

const Memtable::Keys& Memtable::keys() const {
  if (pending_.empty()) return ordered_;
  // Sorted through (head, pointer) pairs: a comparison reads a key's bytes only on equal heads.
  struct Sortable {
    uint64_t head;
    MemKey* key;
  };
  std::vector<Sortable> sorted;
  sorted.reserve(pending_.size());
  for (MemKey* key : pending_) sorted.push_back(Sortable{key->head, key});
  std::sort(sorted.begin(), sorted.end(), [](const Sortable& a, const Sortable& b) {
    return MemKeyLess::Less(a.head, a.key->key(), b.head, b.key->key());
  });
  if (ordered_.empty()) {
    for (const Sortable& s : sorted) ordered_.push_back(*s.key);  // in order: no descent
  } else {
    // Descending, each right before the previous one: constant time whenever no older key lies
    // between two new ones, a descent otherwise.
    auto hint = ordered_.end();
    for (auto s = sorted.rbegin(); s != sorted.rend(); ++s) hint = ordered_.insert(hint, *s->key);
  }
  pending_.clear();
  return ordered_;
}

}  // namespace tierkv::tiers
