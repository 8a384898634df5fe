#include "tiers/node_cache.h"

#include <bit>
#include <cstring>

#include "core/aligned_buffer.h"
#include "core/assert.h"
#include "core/linear_probing.h"

namespace tierkv::tiers {

namespace {
// Cold nodes read since the last promotion pass; more are ignored until it runs.
constexpr size_t kMaxPromotions = 1 << 16;
// Page buffers kept for reuse (one per read in flight is all a burst needs).
constexpr size_t kSparePages = 64;
}  // namespace

size_t NodeCache::PageIndex::Probe(uint64_t page_id) const {
  const size_t mask = table_.size() - 1;
  size_t i = Home(page_id);
  while (table_[i].page_id != kNoPage && table_[i].page_id != page_id) i = (i + 1) & mask;
  return i;
}

size_t NodeCache::PageIndex::Find(uint64_t page_id) const {
  if (entries_ == 0) return kAbsent;
  const Entry& entry = table_[Probe(page_id)];
  return entry.page_id == kNoPage ? kAbsent : entry.slot;
}

void NodeCache::PageIndex::Insert(uint64_t page_id, size_t slot) {
  TK_ASSERT(page_id != kNoPage);
  if ((entries_ + 1) * 2 > table_.size()) Grow();
  Entry& entry = table_[Probe(page_id)];
  TK_ASSERT(entry.page_id == kNoPage);
  entry = Entry{page_id, slot};
  entries_++;
}

void NodeCache::PageIndex::Erase(uint64_t page_id) {
  if (entries_ == 0) return;
  const size_t hole = Probe(page_id);
  if (table_[hole].page_id == kNoPage) return;
  entries_--;
  BackwardShiftErase(
      table_, hole, [](const Entry& entry) { return entry.page_id == kNoPage; },
      [this](const Entry& entry) { return Home(entry.page_id); });
}

void NodeCache::PageIndex::Grow() {
  std::vector<Entry> old = std::move(table_);
  const size_t size = old.empty() ? 64 : old.size() * 2;
  table_.assign(size, Entry{});
  shift_ = 64 - std::countr_zero(size);
  entries_ = 0;
  for (const Entry& entry : old) {
    if (entry.page_id != kNoPage) Insert(entry.page_id, entry.slot);
  }
}

void NodeCache::MarkRead(uint64_t page_id) {
  if (IsCold(page_id)) {
    if (promote_.size() < kMaxPromotions) promote_.insert(page_id);
    return;
  }
  if (page_id >= read_.size()) read_.resize(std::max<uint64_t>(page_id + 1, read_.size() * 5 / 4), false);
  read_[page_id] = true;
}

Result<NodeRef> NodeCache::Get(uint64_t page_id, bool track) {
  if (track) MarkRead(page_id);
  if (size_t found = index_.Find(page_id); found != PageIndex::kAbsent) {
    stats_.hits++;
    Slot& slot = slots_[found];
    slot.referenced = true;
    return slot.node;
  }
  stats_.misses++;
  const std::string* source = nullptr;
  auto page = ReadPages(page_id, source);
  if (!page) return Err(page.error());
  return DecodeAndAdd(page_id, std::move(*page), *source);
}

Result<bool> NodeCache::FindInLeaf(uint64_t page_id, std::string_view key,
                                   const std::function<void(const LeafValueView&)>& found) {
  MarkRead(page_id);
  if (size_t slot = index_.Find(page_id); slot != PageIndex::kAbsent) {
    stats_.hits++;
    slots_[slot].referenced = true;
    return FindInNode(*slots_[slot].node, key, found);
  }
  stats_.misses++;
  const std::string* source = nullptr;
  auto page = ReadPages(page_id, source);
  if (!page) return Err(page.error());
  // Leaves a lookup reads again soon go into the cache; the others are searched where they lie.
  // fmix64 (MurmurHash3's finalizer) spreads consecutive page ids over the doorkeeper's bits.
  uint64_t hash = page_id;
  hash = (hash ^ (hash >> 33)) * 0xff51afd7ed558ccdULL;
  hash = (hash ^ (hash >> 33)) * 0xc4ceb9fe1a85ec53ULL;
  hash ^= hash >> 33;
  if (leaf_doorkeeper_.Seen(hash, capacity_bytes_ / kPageSize * 16)) {
    auto node = DecodeAndAdd(page_id, std::move(*page), *source);
    if (!node) return Err(node.error());
    return FindInNode(**node, key, found);
  }
  auto hit = tiers::FindInLeaf(page->span(), key, *source, found);
  Recycle(std::move(*page));
  return hit;
}

Result<bool> NodeCache::FindInNode(const Node& leaf, std::string_view key,
                                   const std::function<void(const LeafValueView&)>& found) {
  if (leaf.type != PageType::kLeaf) {
    return Err(StatusCode::kCorruption, "page " + std::to_string(leaf.page_id) + " of " +
                                            file_.path() + " is an inner node at the leaf level");
  }
  const size_t i = leaf.LowerBound(key);
  if (i == leaf.size() || leaf.key(i) != key) return false;
  LeafValueView value;
  value.overflow = leaf.overflow(i);
  if (value.overflow) {
    value.ref = leaf.ref(i);
  } else {
    value.value = leaf.value(i);
  }
  found(value);
  return true;
}

Result<AlignedBuffer> NodeCache::ReadPages(uint64_t page_id, const std::string*& source) {
  AlignedBuffer page;
  if (spare_pages_.empty()) {
    page = AlignedBuffer(kPageSize);
  } else {
    page = std::move(spare_pages_.back());
    spare_pages_.pop_back();
  }
  std::span<std::byte, kPageSize> bytes(page.data(), kPageSize);
  source = &file_.path();
  if (pmem_ != nullptr && pmem_->Lookup(page_id, bytes, file_.path())) return page;
  if (IsCold(page_id)) {
    if (cold_ == nullptr) {
      return Err(StatusCode::kCorruption, "the tree in " + file_.path() +
                                              " references a cold node but no cold-dir is set");
    }
    Recycle(std::move(page));
    source = &cold_->path();
    return cold_->Read(page_id);
  }
  TK_RETURN_IF_ERROR_R(file_.Read(page_id, bytes));
  const uint32_t pages = NodePages(ReadHeader(bytes).used);
  if (pages == 1) return page;
  // A wide node: the first page says how many follow.
  if (pages > NodePages(kMaxKeySize * 4)) {
    return Err(StatusCode::kCorruption, "page " + std::to_string(page_id) + " of " +
                                            file_.path() + " claims an impossible node size");
  }
  AlignedBuffer all(size_t{pages} * kPageSize);
  std::memcpy(all.data(), page.data(), kPageSize);
  Recycle(std::move(page));
  TK_RETURN_IF_ERROR_R(file_.ReadRun(page_id + 1, pages - 1, all.span().subspan(kPageSize)));
  return all;
}

void NodeCache::Recycle(AlignedBuffer page) {
  // Read buffers serve the next read (aligned_alloc and zeroing 4 KiB per miss otherwise).
  if (page.size() == kPageSize && spare_pages_.size() < kSparePages) {
    spare_pages_.push_back(std::move(page));
  }
}

Result<NodeRef> NodeCache::DecodeAndAdd(uint64_t page_id, AlignedBuffer page,
                                        const std::string& source) {
  auto decoded = DecodeNode(page.span(), page_id, source);
  Recycle(std::move(page));  // the node holds its own copy
  if (!decoded) return Err(decoded.error());
  std::shared_ptr<Node> node = std::move(*decoded);
  // Another fiber may have loaded the same page while this one waited for the read.
  if (size_t again = index_.Find(page_id); again != PageIndex::kAbsent) return slots_[again].node;
  Add(node);
  return NodeRef(std::move(node));
}

Result<std::vector<NodeRef>> NodeCache::GetMany(Executor& executor,
                                               std::span<const uint64_t> pages, size_t parallel) {
  std::vector<NodeRef> nodes(pages.size());
  // Pages to read in worker fibers: misses in the page file (the PMem tier answers without
  // suspending; cold nodes are read one by one below, the cold store reads a blob at a time).
  struct Reads {
    std::vector<uint64_t> ids;  // the pages the workers read
    std::vector<NodeRef> nodes;
    size_t next = 0;
    Status status;
  };
  auto reads = std::make_shared<Reads>();
  std::vector<size_t> wanted;  // indexes into `pages` of reads->ids
  for (size_t i = 0; i < pages.size(); i++) {
    if (index_.Find(pages[i]) == PageIndex::kAbsent && !IsCold(pages[i])) {
      wanted.push_back(i);
      reads->ids.push_back(pages[i]);
    }
  }
  if (wanted.size() > 1 && parallel > 1) {
    reads->nodes.resize(wanted.size());
    std::vector<FiberHandle> workers;
    for (size_t w = 0; w < std::min(parallel, wanted.size()); w++) {
      workers.push_back(executor.Spawn("node-read", [this, reads] {
        while (reads->next < reads->ids.size() && reads->status.ok()) {
          const size_t k = reads->next++;
          auto node = Get(reads->ids[k]);
          if (!node) {
            if (reads->status.ok()) reads->status = node.error();
            return;
          }
          reads->nodes[k] = std::move(*node);
        }
      }));
    }
    // The workers use this cache: never return while one still runs.
    Status joined;
    for (FiberHandle& worker : workers) {
      Status status = worker.Join(kNoDeadline, joined.ok());
      if (!status.ok() && joined.ok()) {
        joined = status;
        for (FiberHandle& other : workers) other.Cancel();
        TK_RETURN_IF_ERROR_R(worker.Join(kNoDeadline, /*interruptible=*/false));
      }
    }
    TK_RETURN_IF_ERROR_R(joined);
    TK_RETURN_IF_ERROR_R(reads->status);
    for (size_t k = 0; k < wanted.size(); k++) nodes[wanted[k]] = std::move(reads->nodes[k]);
  }
  for (size_t i = 0; i < pages.size(); i++) {
    if (nodes[i]) continue;
    auto node = Get(pages[i]);
    if (!node) return Err(node.error());
    nodes[i] = std::move(*node);
  }
  return nodes;
}

void NodeCache::Insert(NodeRef node) {
  TK_ASSERT(node != nullptr);
  if (!IsCold(node->page_id)) MarkRead(node->page_id);  // just written: in use
  Add(std::move(node));
}

void NodeCache::Add(NodeRef node) {
  Erase(node->page_id);
  size_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = slots_.size();
    slots_.emplace_back();
  }
  stats_.bytes += node->memory_bytes;
  if (node->type == PageType::kInner) stats_.inner_bytes += node->memory_bytes;
  stats_.nodes++;
  index_.Insert(node->page_id, slot);
  slots_[slot] = Slot{std::move(node), true};
  EvictIfNeeded();
}

void NodeCache::Forget(uint64_t page_id) {
  Drop(page_id);
  if (pmem_) pmem_->Erase(page_id);
}

void NodeCache::Erase(uint64_t page_id) { Drop(page_id); }

void NodeCache::Drop(uint64_t page_id) {
  const size_t found = index_.Find(page_id);
  if (found == PageIndex::kAbsent) return;
  Slot& slot = slots_[found];
  stats_.bytes -= slot.node->memory_bytes;
  if (slot.node->type == PageType::kInner) stats_.inner_bytes -= slot.node->memory_bytes;
  stats_.nodes--;
  slot.node.reset();
  free_slots_.push_back(found);
  index_.Erase(page_id);
}

void NodeCache::set_capacity(uint64_t bytes) {
  capacity_bytes_ = bytes;
  EvictIfNeeded();
}

void NodeCache::EvictIfNeeded() {
  // Bounded: at most two sweeps of the clock per call (the second finds bits cleared by the first).
  size_t steps = 2 * slots_.size();
  while (stats_.bytes > capacity_bytes_ && steps-- > 0) {
    hand_ = (hand_ + 1) % slots_.size();
    Slot& slot = slots_[hand_];
    if (!slot.node) continue;
    if (slot.referenced) {
      slot.referenced = false;
      continue;
    }
    if (slot.node->type == PageType::kInner && stats_.inner_bytes <= capacity_bytes_ / 4 * 3) continue;
    stats_.evictions++;
    if (pmem_ && slot.node->pages == 1) {
      AlignedBuffer page(kPageSize);
      EncodeNode(*slot.node, page.span());
      pmem_->Insert(slot.node->page_id, page.span().first<kPageSize>());
    }
    Drop(slot.node->page_id);
  }
}

}  // namespace tierkv::tiers
