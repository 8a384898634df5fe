#include "tiers/node.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/assert.h"

namespace tierkv::tiers {
namespace {

// Heap bytes glibc malloc takes for a request: the request plus its 8-byte chunk header, rounded
// up to 16 (none for an empty vector or a string short enough to live inline).
size_t HeapBytes(size_t request) { return request == 0 ? 0 : (request + 8 + 15) / 16 * 16; }

}  // namespace

LeafEntry Node::leaf_entry(size_t i) const {
  LeafEntry entry;
  entry.key = std::string(key(i));
  entry.overflow = overflow(i);
  if (entry.overflow) {
    entry.ref = ref(i);
  } else {
    entry.value = std::string(value(i));
  }
  return entry;
}

std::vector<InnerEntry> Node::inner_entries() const {
  std::vector<InnerEntry> out;
  out.reserve(size());
  for (size_t i = 0; i < size(); i++) out.push_back(inner_entry(i));
  return out;
}

size_t Node::Bound(std::string_view k, size_t from, bool upper) const {
  size_t lo = from, hi = size();
  if (lo >= hi) return lo;
  if (heads_.size() != size()) {  // not sealed: compare the keys
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (upper ? key(mid) <= k : key(mid) < k) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
  // Against the shared prefix first: a key outside it sorts before or after every entry.
  const std::string_view prefix = key(0).substr(0, prefix_);
  const int against_prefix = k.substr(0, prefix_).compare(prefix);
  if (against_prefix < 0) return lo;
  if (against_prefix > 0) return hi;
  const std::string_view rest = k.substr(prefix_);
  const uint64_t head = KeyHead(rest);
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    bool left;  // key(mid) < k, or <= k when `upper`
    if (heads_[mid] != head) {
      left = heads_[mid] < head;
    } else {
      const int c = key(mid).substr(prefix_).compare(rest);
      left = upper ? c <= 0 : c < 0;
    }
    if (left) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

size_t Node::ChildIndex(std::string_view k, bool strict) const {
  // The last entry from 1 on whose key is < k (strict) or <= k; entry 0 when there is none.
  return Bound(k, 1, /*upper=*/!strict) - 1;
}

void Node::Reserve(size_t entries, size_t bytes) {
  records_.reserve(entries);
  if (type == PageType::kInner) filters_.reserve(entries);
  bytes_.reserve(bytes);
}

void Node::AddLeaf(std::string_view k, bool is_overflow, std::string_view value_or_ref) {
  TK_ASSERT(!is_overflow || value_or_ref.size() == kOverflowRefSize);
  records_.push_back(Record{static_cast<uint32_t>(bytes_.size()), static_cast<uint32_t>(k.size()),
                            value_or_ref.size() | (is_overflow ? kOverflowBit : 0)});
  bytes_ += k;
  bytes_ += value_or_ref;
}

void Node::AddInner(std::string_view k, uint64_t child_page, const LeafKeyFilter& filter) {
  records_.push_back(
      Record{static_cast<uint32_t>(bytes_.size()), static_cast<uint32_t>(k.size()), child_page});
  bytes_ += k;
  filters_.push_back(filter);
}

void Node::Seal() {
  // Keys are in order: what the first and the last share, all share.
  prefix_ = 0;
  if (!records_.empty()) {
    const std::string_view first = key(0), last = key(size() - 1);
    const size_t n = std::min(first.size(), last.size());
    while (prefix_ < n && first[prefix_] == last[prefix_]) prefix_++;
  }
  heads_.resize(size());
  for (size_t i = 0; i < size(); i++) heads_[i] = KeyHead(key(i).substr(prefix_));
  constexpr size_t kInline = 15;  // libstdc++'s short-string capacity
  // The node and its shared_ptr control block (one allocation), the cache's index entry.
  memory_bytes = HeapBytes(sizeof(Node) + 16) + 32;
  memory_bytes += HeapBytes(records_.capacity() * sizeof(Record));
  if (bytes_.capacity() > kInline) memory_bytes += HeapBytes(bytes_.capacity() + 1);
  memory_bytes += HeapBytes(filters_.capacity() * sizeof(LeafKeyFilter));
  memory_bytes += HeapBytes(heads_.capacity() * sizeof(uint64_t));
}

Result<std::shared_ptr<Node>> DecodeNode(std::span<const std::byte> bytes, uint64_t page_id,
                                         const std::string& file) {
  auto node = std::make_shared<Node>();
  node->page_id = page_id;
  const PageHeader header = ReadHeader(bytes);
  node->generation = header.generation;
  node->pages = static_cast<uint32_t>(bytes.size() / kPageSize);
  const PageType type = static_cast<PageType>(header.type);
  // Both inner page types are PageType::kInner in memory.
  const bool inner = type == PageType::kInner || type == PageType::kInnerWide;
  if (inner) node->type = PageType::kInner;  // Reserve sizes by type
  // The entries' bytes are at most the payload's.
  node->Reserve(header.count, header.used);
  Status status;
  if (type == PageType::kLeaf) {
    node->type = PageType::kLeaf;
    status = VisitLeaf(bytes, file, [&](std::string_view key, bool overflow, std::string_view value) {
      node->AddLeaf(key, overflow, value);
    });
  } else if (inner) {
    status = VisitInner(bytes, file,
                        [&](std::string_view key, uint64_t child, const LeafKeyFilter& filter) {
                          node->AddInner(key, child, filter);
                        });
  } else {
    status = Status(StatusCode::kCorruption,
                    "page " + std::to_string(page_id) + " of " + file + " is not a tree node");
  }
  if (!status.ok()) return Err(status);
  node->Seal();
  return node;
}

namespace {

template <typename Entry>
std::shared_ptr<Node> MakeNode(std::span<const Entry> entries) {
  constexpr bool kLeaf = std::is_same_v<Entry, LeafItem>;
  auto node = std::make_shared<Node>();
  node->type = kLeaf ? PageType::kLeaf : PageType::kInner;
  size_t bytes = 0;
  for (const Entry& entry : entries) {
    bytes += entry.key.size();
    if constexpr (kLeaf) bytes += entry.value.size();
  }
  node->Reserve(entries.size(), bytes);
  for (const Entry& entry : entries) {
    if constexpr (kLeaf) {
      node->AddLeaf(entry.key, entry.overflow, entry.value);
    } else {
      node->AddInner(entry.key, entry.child, entry.filter);
    }
  }
  if constexpr (kLeaf) {
    node->pages = LeafPages(entries);
  } else {
    node->pages = InnerPages(entries);
  }
  node->Seal();
  return node;
}

std::vector<LeafItem> LeafItems(const Node& node) {
  std::vector<LeafItem> items;
  items.reserve(node.size());
  for (size_t i = 0; i < node.size(); i++) items.push_back(node.leaf_item(i));
  return items;
}

}  // namespace

std::shared_ptr<Node> MakeLeafNode(std::span<const LeafItem> entries) { return MakeNode(entries); }

std::shared_ptr<Node> MakeInnerNode(std::span<const InnerEntry> entries) {
  return MakeNode(entries);
}

void EncodeNode(const Node& node, std::span<std::byte> pages) {
  TK_ASSERT(pages.size() == size_t{node.pages} * kPageSize);
  if (node.type == PageType::kLeaf) {
    EncodeLeaf(LeafItems(node), node.page_id, node.generation, pages);
  } else {
    EncodeInner(node.inner_entries(), node.page_id, node.generation, pages);
  }
}

}  // namespace tierkv::tiers
