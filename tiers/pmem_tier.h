// The second tier of the page cache: raw 4 KiB pages in persistent memory (a libpmem2 mapping of
// `pmem-path`), far larger than the DRAM tier at a fraction of DRAM's cost.
//
// It is a victim cache: nodes evicted from the DRAM node cache are re-encoded (byte-identical:
// pages are immutable, copy-on-write) into a PMem slot; a DRAM miss looks here before reading the
// SSD. A copy never goes stale, because a page id is erased from both tiers when its page is
// freed. Every hit re-verifies the page checksum, so a damaged PMem line costs a re-read from
// the SSD, never a wrong answer. Eviction is CLOCK over slots, like the DRAM tier.
// The tier is a cache, not a store: it starts empty at every open, so the hot path needs no
// persist or drain. Rejected for now: keeping it warm across restarts (it needs a persisted,
// crash-consistent index and a way to tell a reused page id from the copy).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/env.h"
#include "tiers/format.h"

namespace tierkv::tiers {

struct PmemTierStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t inserts = 0;
  uint64_t evictions = 0;
  uint64_t bad_copies = 0;  // checksum failures on a hit (the page is re-read from the SSD)
  uint64_t slots = 0;
  uint64_t used = 0;
};

class PmemTier {
 public:
  explicit PmemTier(std::unique_ptr<PmemRegion> region);

  // Copies page `page_id` into `out` if present and intact.
  bool Lookup(uint64_t page_id, std::span<std::byte, kPageSize> out, const std::string& file);
  void Insert(uint64_t page_id, std::span<const std::byte, kPageSize> page);
  void Erase(uint64_t page_id);
  const PmemTierStats& stats() const { return stats_; }

 private:
  std::byte* Slot(size_t slot) { return region_->data() + slot * kPageSize; }

  std::unique_ptr<PmemRegion> region_;
  std::unordered_map<uint64_t, size_t> index_;
  std::vector<uint64_t> slot_page_;  // kNoPage when free
  std::vector<bool> referenced_;
  size_t hand_ = 0;
  PmemTierStats stats_;
};

}  // namespace tierkv::tiers
