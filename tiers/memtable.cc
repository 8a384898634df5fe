#include "tiers/memtable.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "core/assert.h"
#include "core/hash.h"

namespace tierkv::tiers {

// Bytes counted per version (its record, alignment) and per distinct key (its record with the
// tree links, its index slot at most 3/4 full in a table that doubles, its pending pointer), on
// top of the key and value bytes: so that the memtable's memory bound holds for many small
// entries too.
constexpr uint64_t kVersionOverhead = 40;
constexpr uint64_t kKeyOverhead = 56 + 48 + 8;

namespace {
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
  auto old = std::move(index_);
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
  auto* version = new (memory)
      MemVersion{seq, nullptr, nullptr, static_cast<uint32_t>(size), static_cast<uint32_t>(size)};
  if (value) {
    char* bytes = reinterpret_cast<char*>(version + 1);
    if (size > 0) std::memcpy(bytes, value->data(), size);
    version->value = bytes;
  }
  return version;
}

void Memtable::Add(uint64_t seq, std::string_view key, std::optional<std::string_view> value,
                   uint64_t replace_above) {
  TK_ASSERT(value.value_or("").size() <= UINT32_MAX && key.size() <= UINT32_MAX);
  max_seq_ = std::max(max_seq_, seq);
  if ((keys_ + 1) * 4 > index_.size() * 3) GrowIndex();
  const uint64_t hash = Hash(key);
  IndexSlot& slot = index_[Probe(key, hash)];
  if (slot.key != nullptr) {
    if (slot.key->writes < UINT32_MAX) slot.key->writes++;
    MemVersion* head = slot.key->newest;
    if (head->seq > replace_above && seq > head->seq) {
      const size_t size = value ? value->size() : 0;
      replaced_++;
      if (size <= head->capacity) {
        char* bytes = reinterpret_cast<char*>(head + 1);
        if (size > 0) std::memcpy(bytes, value->data(), size);
        head->seq = seq;
        head->value = value ? bytes : nullptr;
        head->size = static_cast<uint32_t>(size);
        return;
      }
      // Too large for its bytes: a new version takes the head's place in the chain (the old
      // one's arena bytes stay counted until the memtable goes).
      MemVersion* version = NewVersion(seq, value);
      bytes_ += kVersionOverhead + size;
      version->older = head->older;
      slot.key->newest = version;
      return;
    }
    bytes_ += kVersionOverhead + (value ? value->size() : 0);
    versions_++;
    MemVersion* version = NewVersion(seq, value);
    // Versions are applied in sequence order nearly always: this is the chain's head.
    MemVersion** at = &slot.key->newest;
    while (*at != nullptr && (*at)->seq > seq) at = &(*at)->older;
    TK_ASSERT_MSG(*at == nullptr || (*at)->seq != seq, "sequence number reused");
    version->older = *at;
    *at = version;
    return;
  }
  bytes_ += kVersionOverhead + (value ? value->size() : 0);
  versions_++;
  // The key record, then its first version right behind it: a lookup reads them in address
  // order (slot -> key -> version), which the hardware prefetcher follows.
  void* memory = arena_.allocate(sizeof(MemKey) + key.size(), alignof(MemKey));
  MemVersion* version = NewVersion(seq, value);
  auto* entry = new (memory) MemKey();
  entry->head = KeyHead(key);
  entry->hash = hash;
  entry->newest = version;
  entry->size = static_cast<uint32_t>(key.size());
  entry->writes = 1;
  if (!key.empty()) std::memcpy(reinterpret_cast<char*>(entry + 1), key.data(), key.size());
  slot = IndexSlot{hash, entry};
  keys_++;
  if (!key.empty()) MarkFirstByte(static_cast<uint8_t>(key[0]));
  bytes_ += kKeyOverhead + key.size();
  pending_.push_back(entry);
}

void Memtable::PrefetchHash(uint64_t hash, bool deep) const {
  if (index_.empty()) return;
  const IndexSlot& slot = index_[hash & (index_.size() - 1)];
  if (!deep) {
    __builtin_prefetch(&slot);
  } else if (slot.hash == hash) {  // its home slot (a hint: a displaced key is not followed)
    __builtin_prefetch(slot.key);
    __builtin_prefetch(reinterpret_cast<const char*>(slot.key) + 64);
  }
}

std::optional<ValueView> Memtable::Get(std::string_view key, uint64_t snapshot,
                                       uint64_t hash) const {
  if (keys_ == 0) return std::nullopt;
  const IndexSlot& slot = index_[Probe(key, hash)];
  if (slot.key == nullptr) return std::nullopt;
  const MemVersion* version = slot.key->Visible(snapshot);
  if (version == nullptr) return std::nullopt;
  return version->view();
}

namespace {

using Sortable = Memtable::SortableKey;

// The length of the prefix all `keys` share.
size_t SharedPrefix(const std::vector<MemKey*>& keys) {
  if (keys.empty()) return 0;
  const std::string_view first = keys.front()->key();
  size_t shared = first.size();
  for (const MemKey* key : keys) {
    const std::string_view k = key->key();
    const size_t n = std::min(shared, k.size());
    size_t i = 0;
    while (i < n && k[i] == first[i]) i++;
    shared = i;
    if (shared == 0) break;
  }
  return shared;
}

// Keys to sort, each with the head of its bytes after the prefix they all share: keys that
// differ only past their first 8 bytes (redis-benchmark's "key:000000012345", a database and
// type byte in front) still differ in the heads, and most comparisons read no key bytes (with
// heads of the whole keys, sorting 100k such keys was a memcmp per comparison: a quarter of a
// checkpoint's CPU time).
// A second head, of the 8 bytes after the first, settles most ties between keys that share
// their first 8 bytes after the prefix (a metadata key's slot, database and "key:0": about six
// of redis-benchmark's 100k keys per slot): a comparison reads key bytes only on equal 16 bytes.
struct Sorter {
  size_t prefix;
  bool operator()(const Sortable& a, const Sortable& b) const {
    if (a.head != b.head) return a.head < b.head;
    if (a.next != b.next) return a.next < b.next;
    return a.key->key().substr(prefix) < b.key->key().substr(prefix);  // (heads zero-pad)
  }
};

std::vector<Sortable> Sortables(const std::vector<MemKey*>& keys, size_t prefix) {
  std::vector<Sortable> out;
  out.reserve(keys.size());
  for (MemKey* key : keys) {
    const std::string_view rest = key->key().substr(prefix);
    out.push_back(Sortable{KeyHead(rest), KeyHead(rest.substr(std::min<size_t>(8, rest.size()))), key});
  }
  return out;
}

}  // namespace

void Memtable::Link(const std::vector<Sortable>& sorted) const {
  if (ordered_.empty()) {
    for (const Sortable& s : sorted) ordered_.push_back(*s.key);  // in order: no descent
  } else {
    // Descending, each right before the previous one: constant time whenever no older key lies
    // between two new ones, a descent otherwise.
    auto hint = ordered_.end();
    for (auto s = sorted.rbegin(); s != sorted.rend(); ++s) hint = ordered_.insert(hint, *s->key);
  }
  pending_.clear();
  orderings_++;
}

const Memtable::Keys& Memtable::keys() const {
  if (pending_.empty()) return ordered_;
  const Sorter sorter{SharedPrefix(pending_)};
  std::vector<Sortable> sorted = Sortables(pending_, sorter.prefix);
  std::sort(sorted.begin(), sorted.end(), sorter);
  Link(sorted);
  return ordered_;
}

std::vector<const MemKey*> Memtable::SortedInSteps(const std::function<void()>& pause,
                                                   size_t step) const {
  TK_ASSERT(step > 0);
  auto walk = [this] {
    std::vector<const MemKey*> out;
    out.reserve(keys_);
    for (const MemKey& key : keys()) out.push_back(&key);
    return out;
  };
  if (pending_.empty()) return walk();
  const uint64_t orderings = orderings_;
  // Bottom-up merge sort: sorted runs of `step` keys, then passes that merge pairs of runs,
  // pausing every `step` keys; a keys() call during a pause orders the keys itself, and then
  // this walks them.
  const Sorter sorter{SharedPrefix(pending_)};
  std::vector<Sortable> sorted = Sortables(pending_, sorter.prefix);
  const size_t n = sorted.size();
  auto paused = [&] {
    pause();
    return orderings_ == orderings;  // false: ordered meanwhile
  };
  for (size_t at = 0; at < n; at += step) {
    std::sort(sorted.begin() + at, sorted.begin() + std::min(n, at + step), sorter);
    if (!paused()) return walk();
  }
  std::vector<Sortable> merged(n);
  for (size_t width = step; width < n; width *= 2) {
    size_t out = 0, since_pause = 0;
    for (size_t left = 0; left < n; left += 2 * width) {
      size_t a = left, b = std::min(n, left + width);
      const size_t a_end = b, b_end = std::min(n, left + 2 * width);
      while (a < a_end || b < b_end) {
        const bool take_b = a == a_end || (b < b_end && sorter(sorted[b], sorted[a]));
        merged[out++] = take_b ? sorted[b++] : sorted[a++];
        if (++since_pause == step) {
          since_pause = 0;
          if (!paused()) return walk();
        }
      }
    }
    sorted.swap(merged);
  }
  TK_ASSERT_MSG(pending_.size() == n, "SortedInSteps on a memtable being written");
  // Keys an iterator walked before the freeze are in the ordered index: merged in.
  std::vector<const MemKey*> out;
  out.reserve(keys_);
  auto older = ordered_.begin();
  const MemKeyLess less;
  for (const Sortable& s : sorted) {
    while (older != ordered_.end() && less(*older, *s.key)) out.push_back(&*older++);
    out.push_back(s.key);
  }
  while (older != ordered_.end()) out.push_back(&*older++);
  return out;
}

}  // namespace tierkv::tiers
