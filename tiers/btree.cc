#include "tiers/btree.h"

#include <algorithm>
#include <array>
#include <deque>
#include <type_traits>

#include "core/aligned_buffer.h"
#include "core/assert.h"

namespace tierkv::tiers {
namespace {

// Pages built by a merge are written in coalesced runs once this many bytes are pending.
constexpr size_t kPendingFlushBytes = 4 << 20;
constexpr uint32_t kMergeLeavesPerYield = 16;
// Children of one inner node a merge reads at once (the device's queue depth for them).
constexpr size_t kMergeReadAhead = 32;

// The answer in a leaf for `mode` (one binary search: the bound the mode needs).
std::optional<LeafEntry> Pick(const Node& leaf, std::string_view key, Tree::SeekMode mode) {
  switch (mode) {
    case Tree::SeekMode::kGE: {
      const size_t lower = leaf.LowerBound(key);
      if (lower != leaf.size()) return leaf.leaf_entry(lower);
      break;
    }
    case Tree::SeekMode::kGT: {
      const size_t upper = leaf.UpperBound(key);
      if (upper != leaf.size()) return leaf.leaf_entry(upper);
      break;
    }
    case Tree::SeekMode::kLE: {
      const size_t upper = leaf.UpperBound(key);
      if (upper != 0) return leaf.leaf_entry(upper - 1);
      break;
    }
    case Tree::SeekMode::kLT: {
      const size_t lower = leaf.LowerBound(key);
      if (lower != 0) return leaf.leaf_entry(lower - 1);
      break;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::optional<LeafEntry>> Tree::Seek(const TreeRoot& tree, std::string_view key,
                                            SeekMode mode, NodeRef* leaf) {
  if (tree.height == 0) return std::nullopt;
  return SeekNode(tree.root, key, mode, leaf);
}

Result<std::optional<std::string>> Tree::Get(const TreeRoot& tree, std::string_view key,
                                             uint64_t offset, uint64_t length,
                                             uint64_t whole_up_to, bool* whole) {
  if (whole != nullptr) *whole = offset == 0 && length == UINT64_MAX;
  if (tree.height == 0) return std::nullopt;
  uint64_t page = tree.root;
  const KeyFilterProbe probe = tree.height > 1 ? ProbeFor(key) : KeyFilterProbe{};
  for (uint32_t level = 1; level < tree.height; level++) {
    auto node = cache_.Get(page);
    if (!node) return Err(node.error());
    const Node& n = **node;
    if (n.type != PageType::kInner) {
      return Err(StatusCode::kCorruption, "page " + std::to_string(page) + " of " + file_.path() +
                                              " is a leaf above the tree's leaf level");
    }
    const size_t child = n.ChildIndex(key, /*strict=*/false);
    // The leaf's filter lacks one of the key's bits: the leaf does not hold it.
    if (level + 1 == tree.height && !MayHold(n.filter(child), probe)) {
      filter_skips_++;
      return std::nullopt;
    }
    page = n.child(child);
  }
  std::optional<std::string> value;
  std::optional<OverflowRef> overflow;
  auto found = cache_.FindInLeaf(page, key, [&](const LeafValueView& entry) {
    if (entry.overflow) {
      overflow = entry.ref;  // read below, once the leaf's buffer is released
    } else if (whole != nullptr && entry.value.size() <= whole_up_to) {
      value.emplace(entry.value);
      *whole = true;
    } else {
      value.emplace(offset >= entry.value.size() ? std::string_view()
                                                  : entry.value.substr(offset, length));
    }
  });
  if (!found) return Err(found.error());
  if (overflow) {
    auto read = ReadOverflowRange(*overflow, offset, length);
    if (!read) return Err(read.error());
    value = std::move(*read);
  }
  return value;
}

std::optional<LeafEntry> Tree::SeekWithin(const Node& leaf, std::string_view key, SeekMode mode) {
  if (leaf.empty() || key < leaf.key(0) || key > leaf.key(leaf.size() - 1)) return std::nullopt;
  // Inside [front, back] an answer in the leaf is the answer in the tree; at the edges the
  // neighbour leaf may hold it.
  return Pick(leaf, key, mode);
}

Result<std::optional<LeafEntry>> Tree::First(const TreeRoot& tree, NodeRef* leaf) {
  if (tree.height == 0) return std::nullopt;
  return Edge(tree.root, true, leaf);
}

Result<std::optional<LeafEntry>> Tree::Last(const TreeRoot& tree, NodeRef* leaf) {
  if (tree.height == 0) return std::nullopt;
  return Edge(tree.root, false, leaf);
}

Result<std::optional<LeafEntry>> Tree::SeekNode(uint64_t page, std::string_view key, SeekMode mode,
                                                NodeRef* leaf) {
  auto node = cache_.Get(page);
  if (!node) return Err(node.error());
  NodeRef n = std::move(*node);
  if (n->type == PageType::kLeaf) {
    if (leaf != nullptr) *leaf = n;
    return Pick(*n, key, mode);
  }
  size_t i = n->ChildIndex(key, mode == SeekMode::kLT);
  auto found = SeekNode(n->child(i), key, mode, leaf);
  if (!found || found->has_value()) return found;
  bool forward = mode == SeekMode::kGE || mode == SeekMode::kGT;
  if (forward && i + 1 < n->size()) return Edge(n->child(i + 1), true, leaf);
  if (!forward && i > 0) return Edge(n->child(i - 1), false, leaf);
  return std::nullopt;
}

Result<std::optional<LeafEntry>> Tree::Edge(uint64_t page, bool first, NodeRef* leaf) {
  while (true) {
    auto node = cache_.Get(page);
    if (!node) return Err(node.error());
    const Node& n = **node;
    if (n.type == PageType::kLeaf) {
      if (leaf != nullptr) *leaf = *node;
      if (n.empty()) return std::nullopt;
      return n.leaf_entry(first ? 0 : n.size() - 1);
    }
    page = n.child(first ? 0 : n.size() - 1);
  }
}

Result<std::string> Tree::ReadValue(const LeafEntry& entry) {
  if (!entry.overflow) return entry.value;
  return ReadValueRange(entry, 0, entry.ref.length);
}

Result<std::string> Tree::ReadValueRange(const LeafEntry& entry, uint64_t offset, uint64_t length) {
  if (!entry.overflow) {
    if (offset >= entry.value.size()) return std::string();
    return entry.value.substr(offset, length);
  }
  return ReadOverflowRange(entry.ref, offset, length);
}

Result<std::string> Tree::ReadOverflowRange(const OverflowRef& ref, uint64_t offset,
                                            uint64_t length) {
  if (offset >= ref.length || length == 0) return std::string();
  length = std::min(length, ref.length - offset);
  uint64_t first = offset / kPagePayload;
  uint64_t last = (offset + length - 1) / kPagePayload;
  TK_ASSERT(last < ref.pages);
  AlignedBuffer buffer((last - first + 1) * kPageSize);
  TK_RETURN_IF_ERROR_R(file_.ReadRun(ref.first_page + first, last - first + 1, buffer.span()));
  std::string out;
  out.reserve(length);
  for (uint64_t page = first; page <= last; page++) {
    const std::byte* payload = buffer.data() + (page - first) * kPageSize + kPageHeaderSize;
    uint64_t page_begin = page * kPagePayload;
    uint64_t from = std::max(offset, page_begin) - page_begin;
    uint64_t to = std::min(offset + length, page_begin + kPagePayload) - page_begin;
    out.append(reinterpret_cast<const char*>(payload) + from, to - from);
  }
  return out;
}

Status Tree::WritePages(uint64_t first, std::span<const std::byte> bytes) {
  TK_ASSERT(bytes.size() % kPageSize == 0);
  for (size_t i = 0; i < bytes.size() / kPageSize; i++) {
    auto page = bytes.subspan(i * kPageSize, kPageSize);
    pending_.emplace_back(first + i, std::vector<std::byte>(page.begin(), page.end()));
  }
  pending_bytes_ += bytes.size();
  if (pending_bytes_ >= kPendingFlushBytes) return FlushPending();
  return Status::Ok();
}

Status Tree::FlushPending() {
  std::sort(pending_.begin(), pending_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t i = 0;
  while (i < pending_.size()) {
    size_t j = i + 1;
    while (j < pending_.size() && pending_[j].first == pending_[j - 1].first + 1) j++;
    AlignedBuffer run((j - i) * kPageSize);
    for (size_t k = i; k < j; k++) {
      std::memcpy(run.data() + (k - i) * kPageSize, pending_[k].second.data(), kPageSize);
    }
    TK_RETURN_IF_ERROR(file_.Write(pending_[i].first, run.span()));
    i = j;
  }
  pending_.clear();
  pending_bytes_ = 0;
  return Status::Ok();
}

Result<OverflowRef> Tree::WriteOverflow(std::string_view value, MergeResult& result) {
  OverflowRef ref;
  ref.length = value.size();
  ref.pages = OverflowPages(value.size());
  ref.first_page = allocator_.Allocate(ref.pages);
  std::vector<std::byte> page(kPageSize);
  for (uint32_t i = 0; i < ref.pages; i++) {
    std::memset(page.data(), 0, kPageSize);
    uint64_t begin = uint64_t{i} * kPagePayload;
    uint32_t used = static_cast<uint32_t>(std::min<uint64_t>(kPagePayload, value.size() - begin));
    std::memcpy(page.data() + kPageHeaderSize, value.data() + begin, used);
    WriteHeader(page, PageHeader{0, ref.first_page + i, generation_,
                                 static_cast<uint16_t>(PageType::kOverflow), 0, used});
    SealPage(std::span<std::byte, kPageSize>(page.data(), kPageSize));
    TK_RETURN_IF_ERROR_R(WritePages(ref.first_page + i, page));
  }
  result.pages_written += ref.pages;
  return ref;
}

// Packs sorted entries into as few nodes as fit a page each, spread evenly over them (every
// rewrite repacks anyway), writes them, and returns (first key, page) per node. Leaves and inner
// nodes alike. Even, not greedy: a full leaf that gains one entry becomes two half-full leaves
// rather than a full one and one holding a single entry, so leaves stay about two-thirds full
// under random inserts (greedy packing left most leaves nearly empty: more pages, more inner
// entries, fewer keys per cached page). An entry too large for a page gets a wide node of
// several pages; an inner node always takes at least two children when there are two, so each
// level above has fewer nodes.
template <typename Entry>
Result<std::vector<Tree::Piece>> Tree::WriteNodes(std::span<const Entry> entries,
                                                  MergeResult& result) {
  constexpr bool kLeaf = std::is_same_v<Entry, LeafItem>;
  constexpr size_t kMinEntries = kLeaf ? 1 : 2;
  std::vector<Piece> pieces;
  size_t remaining = 0;
  for (const Entry& entry : entries) remaining += entry.EncodedSize();
  size_t i = 0;
  while (i < entries.size()) {
    // This node's share of what is left: the left-over bytes over the nodes they need.
    const size_t nodes_left = std::max<size_t>(1, (remaining + kNodeCapacity - 1) / kNodeCapacity);
    const size_t target = (remaining + nodes_left - 1) / nodes_left;
    size_t size = 0, j = i;
    while (j < entries.size()) {
      const size_t next = entries[j].EncodedSize();
      const bool needed = j - i < kMinEntries;
      if (!needed && (size + next > kNodeCapacity || size + next / 2 > target)) break;
      size += next;
      j++;
    }
    remaining -= size;
    TK_ASSERT(j > i);
    const std::span<const Entry> part = entries.subspan(i, j - i);
    std::shared_ptr<Node> node;
    if constexpr (kLeaf) {
      node = MakeLeafNode(part);
    } else {
      node = MakeInnerNode(part);
    }
    node->generation = generation_;
    node->page_id = allocator_.Allocate(node->pages);
    std::string first_key(part.front().key);
    LeafKeyFilter filter = LeafKeyFilter::Any();
    if constexpr (kLeaf) filter = LeafFilter(part);
    std::vector<std::byte> bytes(size_t{node->pages} * kPageSize);
    if constexpr (kLeaf) {
      EncodeLeaf(part, node->page_id, node->generation, bytes);
    } else {
      EncodeInner(part, node->page_id, node->generation, bytes);
    }
    TK_RETURN_IF_ERROR_R(WritePages(node->page_id, bytes));
    pieces.push_back(InnerEntry{std::move(first_key), node->page_id, filter});
    result.pages_written += node->pages;
    cache_.Insert(std::move(node));
    i = j;
  }
  return pieces;
}

Result<std::vector<Tree::Piece>> Tree::MergeLeaf(const Node* old, ChangeIt begin, ChangeIt end,
                                                 MergeResult& result) {
  // A merge whose leaves are all cached suspends only to write (every 4 MiB of pages): let the
  // executor's other fibers run every few leaves instead of holding it for tens of milliseconds.
  if (++leaves_since_yield_ >= kMergeLeavesPerYield && executor_.InFiber()) {
    leaves_since_yield_ = 0;
    executor_.Yield();
  }
  const size_t old_size = old != nullptr ? old->size() : 0;
  // Views into the old leaf and the memtable; the references of values this merge writes to
  // overflow pages are kept here (a deque: they must not move).
  std::vector<LeafItem> merged;
  merged.reserve(old_size + (end - begin));
  std::deque<std::array<char, kOverflowRefSize>> refs;
  auto add = [&](const Change& change) -> Status {
    if (change.key.size() + change.value->size() > kMaxInlineEntry) {
      auto ref = WriteOverflow(*change.value, result);
      if (!ref) return ref.error();
      PutOverflowRef(*ref, refs.emplace_back().data());
      merged.push_back(LeafItem{change.key, true, std::string_view(refs.back().data(), kOverflowRefSize)});
    } else {
      merged.push_back(LeafItem{change.key, false, *change.value});
    }
    return Status::Ok();
  };
  auto drop = [&](size_t i) {
    if (!old->overflow(i)) return;
    const OverflowRef ref = old->ref(i);
    result.freed.push_back(PageRun{ref.first_page, ref.pages});
  };
  size_t o = 0;
  for (ChangeIt c = begin; c != end; ++c) {
    while (o < old_size && old->key(o) < c->key) merged.push_back(old->leaf_item(o++));
    bool existed = o < old_size && old->key(o) == c->key;
    if (existed) drop(o++);
    if (c->value) TK_RETURN_IF_ERROR_R(add(*c));
    result.entry_delta += (c->value ? 1 : 0) - (existed ? 1 : 0);
  }
  while (o < old_size) merged.push_back(old->leaf_item(o++));
  return WriteNodes<LeafItem>(merged, result);
}

Result<std::vector<Tree::Piece>> Tree::MergeNode(const NodeRef& n, ChangeIt begin, ChangeIt end,
                                                 MergeResult& result) {
  result.freed.push_back(PageRun{n->page_id, n->pages});
  if (n->type == PageType::kLeaf) return MergeLeaf(n.get(), begin, end, result);

  // The changes each child gets; the children that get any are read together.
  const size_t children = n->size();
  std::vector<std::pair<ChangeIt, ChangeIt>> ranges(children, {end, end});
  std::vector<uint64_t> touched;
  ChangeIt from = begin;
  for (size_t i = 0; i < children; i++) {
    ChangeIt to = end;
    if (i + 1 < children) {
      to = std::lower_bound(from, end, n->key(i + 1),
                            [](const Change& c, std::string_view k) { return c.key < k; });
    }
    ranges[i] = {from, to};
    if (from != to) touched.push_back(n->child(i));
    from = to;
  }
  auto nodes = cache_.GetMany(executor_, touched, kMergeReadAhead);
  if (!nodes) return Err(nodes.error());
  std::vector<InnerEntry> entries;
  size_t next = 0;
  for (size_t i = 0; i < children; i++) {
    auto [first, last] = ranges[i];
    if (first == last) {
      entries.push_back(n->inner_entry(i));
      continue;
    }
    NodeRef child = std::move((*nodes)[next++]);
    auto pieces = MergeNode(child, first, last, result);
    if (!pieces) return Err(pieces.error());
    entries.insert(entries.end(), std::make_move_iterator(pieces->begin()),
                   std::make_move_iterator(pieces->end()));
  }
  if (entries.empty()) return std::vector<Piece>{};
  return WriteNodes<InnerEntry>(entries, result);
}

Result<Tree::MergeResult> Tree::Merge(const TreeRoot& tree, const std::vector<Change>& changes,
                                      uint64_t generation) {
  TK_ASSERT(std::is_sorted(changes.begin(), changes.end(),
                           [](const Change& a, const Change& b) { return a.key < b.key; }));
  MergeResult result;
  result.tree = tree;
  if (changes.empty()) return result;
  generation_ = generation;
  Result<std::vector<Piece>> pieces;
  if (tree.height == 0) {
    pieces = MergeLeaf(nullptr, changes.begin(), changes.end(), result);
  } else {
    auto root = cache_.Get(tree.root);
    if (!root) return Err(root.error());
    pieces = MergeNode(*root, changes.begin(), changes.end(), result);
  }
  if (!pieces) return Err(pieces.error());
  uint32_t height = std::max<uint32_t>(tree.height, 1);
  while (pieces->size() > 1) {
    pieces = WriteNodes<InnerEntry>(*pieces, result);
    if (!pieces) return Err(pieces.error());
    height++;
  }
  // Write everything before reading any new page back: the cache may already have evicted it.
  TK_RETURN_IF_ERROR_R(FlushPending());
  if (pieces->empty()) {
    result.tree = TreeRoot{};
  } else {
    result.tree = TreeRoot{pieces->front().child, height};
    // A root with a single child adds a level for nothing: drop it (its page was just written
    // and is referenced by nothing else).
    while (result.tree.height > 1) {
      auto root = cache_.Get(result.tree.root);
      if (!root) return Err(root.error());
      if ((*root)->size() != 1) break;
      result.freed.push_back(PageRun{result.tree.root, (*root)->pages});
      result.tree = TreeRoot{(*root)->child(0), result.tree.height - 1};
    }
  }
  return result;
}

Result<std::optional<uint64_t>> Tree::RelocateNode(uint64_t page, uint32_t height,
                                                   RelocateState& state, MergeResult& result) {
  if (height == 1) {
    if (state.moves >= state.max_moves) return std::nullopt;
    Placement placement = state.place(page);
    bool to_cold = placement == Placement::kCold && !IsCold(page);
    bool to_hot = placement == Placement::kHot && IsCold(page);
    if (!to_cold && !to_hot) return std::nullopt;
    auto node = cache_.Get(page, /*track=*/false);
    if (!node) return Err(node.error());
    const Node& old = **node;
    std::vector<std::byte> bytes(size_t{old.pages} * kPageSize);
    if (to_cold) {
      EncodeNode(old, bytes);
      auto id = state.cold.Add(bytes);
      if (!id) return Err(id.error());
      if (!id->has_value()) return std::nullopt;  // too large to name: stays hot
      result.freed.push_back(PageRun{page, old.pages});
      state.moves++;
      return **id;
    }
    auto moved = std::make_shared<Node>(old);
    moved->page_id = allocator_.Allocate(moved->pages);
    moved->generation = generation_;
    EncodeNode(*moved, bytes);
    TK_RETURN_IF_ERROR_R(WritePages(moved->page_id, bytes));
    result.freed.push_back(PageRun{page, 1});
    result.pages_written += moved->pages;
    state.cold.CountPromotion();
    state.moves++;
    uint64_t id = moved->page_id;
    cache_.Insert(std::move(moved));
    return id;
  }
  auto node = cache_.Get(page, /*track=*/false);
  if (!node) return Err(node.error());
  NodeRef n = std::move(*node);
  std::vector<InnerEntry> entries = n->inner_entries();
  bool changed = false;
  for (InnerEntry& entry : entries) {
    auto moved = RelocateNode(entry.child, height - 1, state, result);
    if (!moved) return Err(moved.error());
    if (moved->has_value()) {
      entry.child = **moved;
      changed = true;
    }
  }
  if (!changed) return std::nullopt;
  result.freed.push_back(PageRun{page, n->pages});
  auto pieces = WriteNodes<InnerEntry>(entries, result);
  if (!pieces) return Err(pieces.error());
  TK_ASSERT(pieces->size() == 1);  // the same entries fit the same node
  return pieces->front().child;
}

Result<Tree::MergeResult> Tree::Relocate(const TreeRoot& tree, uint64_t generation,
                                         ColdStore& cold,
                                         const std::function<Placement(uint64_t)>& place,
                                         uint64_t max_moves) {
  MergeResult result;
  result.tree = tree;
  if (tree.height <= 1) return result;  // the root stays where it is
  generation_ = generation;
  RelocateState state{cold, place, max_moves};
  auto root = RelocateNode(tree.root, tree.height, state, result);
  if (!root) return Err(root.error());
  TK_RETURN_IF_ERROR_R(FlushPending());
  if (root->has_value()) result.tree.root = **root;
  return result;
}

Status Tree::ForEachPage(const TreeRoot& tree, const std::function<void(PageRun)>& visit) {
  if (tree.height == 0) return Status::Ok();
  std::vector<uint64_t> stack{tree.root};
  while (!stack.empty()) {
    uint64_t page = stack.back();
    stack.pop_back();
    auto node = cache_.Get(page, /*track=*/false);
    if (!node) return node.error();
    visit(PageRun{page, (*node)->pages});
    const Node& n = **node;
    for (size_t i = 0; i < n.size(); i++) {
      if (n.type == PageType::kInner) {
        stack.push_back(n.child(i));
      } else if (n.overflow(i)) {
        const OverflowRef ref = n.ref(i);
        visit(PageRun{ref.first_page, ref.pages});
      }
    }
  }
  return Status::Ok();
}

}  // namespace tierkv::tiers
