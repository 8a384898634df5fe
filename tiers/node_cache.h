// The DRAM tier of the page cache: decoded tree nodes by page id, bounded in bytes, with CLOCK
// eviction (one reference bit per node; a second chance for nodes used since the hand passed).
// Why CLOCK: lookups touch inner nodes constantly and leaves at random; CLOCK approximates LRU
// without moving list nodes on every hit, and a scan that touches each leaf once cannot evict a
// hot inner node that was referenced since the last sweep.
// Inner nodes are kept in preference to leaves while they take at most 3/4 of the capacity:
// every lookup passes through them and there are ~1% as many, but under random reads of data
// much larger than the cache each is hit only now and then between two sweeps of the hand, and
// losing one costs an extra read on the next lookup below it, while the leaves the cache could
// hold instead are a sliver of the data (with 20x more data than memory, half the cache holds
// 1.7% of the leaves; the inner nodes took 52% of it, and reads per lookup went 1.3 -> 1.0).
// Tree pages are immutable (copy-on-write), so cached nodes are never dirty: eviction is free and
// a node handed out (shared_ptr) stays valid even after eviction or after its page is freed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/doorkeeper.h"
#include "core/executor.h"
#include "tiers/cold_store.h"
#include "tiers/format.h"
#include "tiers/node.h"
#include "tiers/page_file.h"
#include "tiers/pmem_tier.h"

namespace tierkv::tiers {

struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t bytes = 0;
  uint64_t nodes = 0;
  uint64_t inner_bytes = 0;  // of `bytes`, inner nodes
};

class NodeCache {
 public:
  // `pmem` (optional) is the second tier: evicted one-page nodes go there, misses look there
  // first (wide nodes, rare, only ever come from the file).
  NodeCache(PageFile& file, uint64_t capacity_bytes, PmemTier* pmem = nullptr)
      : file_(file), capacity_bytes_(capacity_bytes), pmem_(pmem) {}

  // The node at `page_id`, from memory or read and decoded from the file (or the cold store).
  // Suspends on a miss.
  Result<NodeRef> Get(uint64_t page_id) { return Get(page_id, true); }
  // The nodes at `pages`, in order: cached ones at once, the others read concurrently by up to
  // `parallel` fibers on `executor` (a merge reads the children it rewrites this way: one read
  // at a time would leave the device at queue depth 1). Nodes handed out stay valid even if the
  // cache evicts them meanwhile. Suspends; the caller's cancellation stops the reads.
  Result<std::vector<NodeRef>> GetMany(Executor& executor, std::span<const uint64_t> pages,
                                       size_t parallel);
  // A point lookup in the leaf at `page_id`: calls `found` with the value of `key` (views valid
  // during the call) and returns true, or false when the leaf has no such key. A cached leaf is
  // searched in memory; a leaf read from the device is searched in its read buffer and cached
  // only past a doorkeeper (core/doorkeeper.h: its page was looked up in a recent window), so
  // random point reads over data much larger than the cache do not decode a node and evict
  // another for each read (a quarter of the user CPU time of such a read), while leaves read
  // again soon are cached as before. Scans and merges read through Get. Suspends on a miss.
  Result<bool> FindInLeaf(uint64_t page_id, std::string_view key,
                          const std::function<void(const LeafValueView&)>& found);
  // Caches a node that was just written (a checkpoint's new pages start warm).
  void Insert(NodeRef node);
  // Forgets a page in both tiers (it was freed and may be reused).
  void Forget(uint64_t page_id);
  // Drops a page from the DRAM tier only.
  void Erase(uint64_t page_id);
  const CacheStats& stats() const { return stats_; }
  // The cold tier, where node ids with kColdBit are read from (none: such ids are an error).
  void set_cold(ColdStore* cold) { cold_ = cold; }

  // Access tracking for the cold tier. Every Get of a page-file node marks it read; a Get of a
  // cold node asks for its promotion. `track = false` reads without either (moving it is not
  // a use).
  Result<NodeRef> Get(uint64_t page_id, bool track);
  bool ReadSinceClear(uint64_t page_id) const {
    return page_id < read_.size() && read_[page_id];
  }
  void ClearReads() { read_.assign(read_.size(), false); }
  bool PromotionWanted(uint64_t cold_id) const { return promote_.contains(cold_id); }
  bool HasPromotions() const { return !promote_.empty(); }
  void ClearPromotions() { promote_.clear(); }
  // Bytes the read bitmap takes (memory accounting).
  uint64_t tracking_bytes() const { return read_.size() / 8 + leaf_doorkeeper_.bytes(); }

  // Changes the DRAM tier's capacity, evicting at once if it shrank.
  void set_capacity(uint64_t bytes);
  uint64_t capacity() const { return capacity_bytes_; }

 private:
  struct Slot {
    NodeRef node;
    bool referenced = false;
  };
  void EvictIfNeeded();
  void Drop(uint64_t page_id);

  void MarkRead(uint64_t page_id);
  void Add(NodeRef node);
  // The node's pages from the PMem tier, the cold store or the file; `source` names where.
  Result<AlignedBuffer> ReadPages(uint64_t page_id, const std::string*& source);
  Result<NodeRef> DecodeAndAdd(uint64_t page_id, AlignedBuffer page, const std::string& source);
  Result<bool> FindInNode(const Node& leaf, std::string_view key,
                          const std::function<void(const LeafValueView&)>& found);
  void Recycle(AlignedBuffer page);

  PageFile& file_;
  uint64_t capacity_bytes_;
  PmemTier* pmem_;
  ColdStore* cold_ = nullptr;
  std::vector<bool> read_;                // page-file nodes read since ClearReads()
  std::unordered_set<uint64_t> promote_;  // cold nodes read (bounded)
  // Page id -> slot: open addressing with linear probing (page ids are never kNoPage, which
  // marks an empty entry) and backward-shift deletion; at most half full. std::unordered_map's
  // node per entry was a cache miss more per lookup: 4% of a read that misses.
  class PageIndex {
   public:
    static constexpr size_t kAbsent = SIZE_MAX;
    size_t Find(uint64_t page_id) const;
    void Insert(uint64_t page_id, size_t slot);  // page_id not present
    void Erase(uint64_t page_id);

   private:
    struct Entry {
      uint64_t page_id = kNoPage;
      size_t slot = 0;
    };
    size_t Home(uint64_t page_id) const {
      return static_cast<size_t>((page_id * 0x9E3779B97F4A7C15ULL) >> shift_);
    }
    size_t Probe(uint64_t page_id) const;  // its entry, or the empty one where the probe ends
    void Grow();
    std::vector<Entry> table_;
    size_t entries_ = 0;
    int shift_ = 64;
  };
  PageIndex index_;
  std::vector<Slot> slots_;
  std::vector<size_t> free_slots_;
  std::vector<AlignedBuffer> spare_pages_;  // read buffers to reuse
  Doorkeeper leaf_doorkeeper_;              // leaves FindInLeaf read without caching
  size_t hand_ = 0;
  CacheStats stats_;
};

}  // namespace tierkv::tiers
