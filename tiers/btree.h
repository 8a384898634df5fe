// The copy-on-write B+tree of a checkpoint.
//
// A tree is (root page, height). Pages are immutable once written: a checkpoint merges a sorted
// batch of changes into the tree by rewriting only the leaves the changes touch and the inner
// nodes above them, into freshly allocated pages; untouched subtrees are shared. The old pages it
// replaced are returned as `freed` and handed back to the allocator only when nothing (the
// previous superblock, a snapshot) references the old tree any more.
// Inner node entry i covers keys >= entry i's key (entry 0: everything below entry 1); entry
// keys i >= 1 are exactly the smallest key of their child, because every rewrite of a child
// rewrites its parent's entries.
// Values larger than kMaxInlineEntry live in contiguous overflow pages ("extents").
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tiers/cold_store.h"
#include "tiers/memtable.h"
#include "tiers/node_cache.h"
#include "tiers/page_file.h"

namespace tierkv::tiers {

struct TreeRoot {
  uint64_t root = kNoPage;
  uint32_t height = 0;  // 0: empty; 1: the root is a leaf
};

// A run of pages: [first, first + count).
struct PageRun {
  uint64_t first;
  uint64_t count;
};

class Tree {
 public:
  // `executor` runs the fibers a merge reads children with (the engine's own).
  Tree(Executor& executor, PageFile& file, NodeCache& cache, PageAllocator& allocator)
      : executor_(executor), file_(file), cache_(cache), allocator_(allocator) {}

  enum class SeekMode { kGE, kGT, kLE, kLT };
  // The entry nearest `key` in the given direction, or nullopt. When `leaf` is given it is set to
  // the leaf holding the entry (iterators step within it without descending again). Suspends
  // (page reads).
  Result<std::optional<LeafEntry>> Seek(const TreeRoot& tree, std::string_view key, SeekMode mode,
                                        NodeRef* leaf = nullptr);
  // The value of `key` (its bytes from `offset`, at most `length`), or nullopt when absent: one
  // descent and one copy of the bytes asked for (Seek + ReadValueRange copy the entry twice);
  // the leaf is searched through NodeCache::FindInLeaf (not decoded when it is not cached and
  // not read again soon). Suspends (page reads). With `whole_up_to` > 0, a value stored in its
  // leaf and at most that long is returned whole instead (no bytes to read but the leaf's), and
  // `*whole` tells which the answer is: a caller that wanted a part can cache the whole value.
  Result<std::optional<std::string>> Get(const TreeRoot& tree, std::string_view key,
                                         uint64_t offset = 0, uint64_t length = UINT64_MAX,
                                         uint64_t whole_up_to = 0, bool* whole = nullptr);
  // The same answer from `leaf` alone when it is sure to be right: the key lies inside the leaf's
  // key range and the answer is in the leaf (leaves partition the keys, and nodes never change).
  // nullopt: ask Seek.
  static std::optional<LeafEntry> SeekWithin(const Node& leaf, std::string_view key, SeekMode mode);
  Result<std::optional<LeafEntry>> First(const TreeRoot& tree, NodeRef* leaf = nullptr);
  Result<std::optional<LeafEntry>> Last(const TreeRoot& tree, NodeRef* leaf = nullptr);
  // The full value of an entry (reads overflow pages). Suspends.
  Result<std::string> ReadValue(const LeafEntry& entry);
  // `length` bytes of an entry's value from `offset`, reading only the pages needed. Suspends.
  Result<std::string> ReadValueRange(const LeafEntry& entry, uint64_t offset, uint64_t length);
  Result<std::string> ReadOverflowRange(const OverflowRef& ref, uint64_t offset, uint64_t length);
  // Gets of absent keys answered by a leaf's filter, without reading the leaf.
  uint64_t filter_skips() const { return filter_skips_; }

  // Views into the caller's memtable (kept alive for the merge): no copy of the changes.
  struct Change {
    std::string_view key;
    std::optional<std::string_view> value;  // nullopt: delete
  };
  struct MergeResult {
    TreeRoot tree;
    std::vector<PageRun> freed;  // pages of the old tree no longer referenced by the new one
    uint64_t pages_written = 0;
    int64_t entry_delta = 0;
  };
  // Builds the tree `tree` + `changes` (sorted by key, one change per key) in new pages written
  // with `generation`. Suspends (page reads and writes). Does not sync.
  Result<MergeResult> Merge(const TreeRoot& tree, const std::vector<Change>& changes,
                            uint64_t generation);

  // Where a leaf should live; Relocate asks for every leaf but the root.
  enum class Placement { kStay, kHot, kCold };
  // Moves up to `max_moves` leaves between the page file and the cold store as `place` decides,
  // rewriting the inner nodes above them in new pages (copy-on-write, like Merge). Leaves moved
  // out and inner nodes replaced are returned as freed. Flushes page writes, not the cold store.
  // Suspends.
  Result<MergeResult> Relocate(const TreeRoot& tree, uint64_t generation, ColdStore& cold,
                               const std::function<Placement(uint64_t page)>& place,
                               uint64_t max_moves);

  // Calls `visit` for every page run the tree uses (nodes and overflow extents). Suspends.
  Status ForEachPage(const TreeRoot& tree, const std::function<void(PageRun)>& visit);

 private:
  // A node a merge wrote, as its parent's entry for it (first key, page, key filter).
  using Piece = InnerEntry;
  using ChangeIt = std::vector<Change>::const_iterator;

  Result<std::optional<LeafEntry>> SeekNode(uint64_t page, std::string_view key, SeekMode mode,
                                            NodeRef* leaf);
  Result<std::optional<LeafEntry>> Edge(uint64_t page, bool first, NodeRef* leaf = nullptr);
  Result<std::vector<Piece>> MergeNode(const NodeRef& node, ChangeIt begin, ChangeIt end,
                                       MergeResult& result);
  // `old`: the leaf the changes go into (none for an empty tree).
  Result<std::vector<Piece>> MergeLeaf(const Node* old, ChangeIt begin, ChangeIt end,
                                       MergeResult& result);
  template <typename Entry>
  Result<std::vector<Piece>> WriteNodes(std::span<const Entry> entries, MergeResult& result);
  struct RelocateState {
    ColdStore& cold;
    const std::function<Placement(uint64_t)>& place;
    uint64_t max_moves;
    uint64_t moves = 0;
  };
  // The node's new id when it (or anything below it) moved; nullopt when unchanged.
  Result<std::optional<uint64_t>> RelocateNode(uint64_t page, uint32_t height,
                                               RelocateState& state, MergeResult& result);
  Result<OverflowRef> WriteOverflow(std::string_view value, MergeResult& result);
  Status FlushPending();
  Status WritePages(uint64_t first, std::span<const std::byte> bytes);

  uint32_t leaves_since_yield_ = 0;  // MergeLeaf's count towards its next Yield
  uint64_t filter_skips_ = 0;        // Gets answered by a leaf filter without a read
  Executor& executor_;
  PageFile& file_;
  NodeCache& cache_;
  PageAllocator& allocator_;
  uint64_t generation_ = 0;
  // Pages built by a merge, written in coalesced runs.
  std::vector<std::pair<uint64_t, std::vector<std::byte>>> pending_;
  size_t pending_bytes_ = 0;
};

}  // namespace tierkv::tiers
