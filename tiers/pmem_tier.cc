#include "tiers/pmem_tier.h"

#include <cstring>

#include "core/assert.h"

namespace tierkv::tiers {

PmemTier::PmemTier(std::unique_ptr<PmemRegion> region) : region_(std::move(region)) {
  size_t slots = region_->size() / kPageSize;
  TK_ASSERT(slots > 0);
  slot_page_.assign(slots, kNoPage);
  referenced_.assign(slots, false);
  stats_.slots = slots;
}

bool PmemTier::Lookup(uint64_t page_id, std::span<std::byte, kPageSize> out,
                      const std::string& file) {
  auto it = index_.find(page_id);
  if (it == index_.end()) {
    stats_.misses++;
    return false;
  }
  std::memcpy(out.data(), Slot(it->second), kPageSize);
  if (!VerifyPage(out, page_id, file).ok()) {
    stats_.bad_copies++;
    Erase(page_id);
    return false;
  }
  referenced_[it->second] = true;
  stats_.hits++;
  return true;
}

void PmemTier::Insert(uint64_t page_id, std::span<const std::byte, kPageSize> page) {
  if (index_.contains(page_id)) return;
  // CLOCK: skip slots referenced since the hand last passed (bounded: two sweeps).
  size_t slots = slot_page_.size();
  size_t slot = hand_;
  for (size_t step = 0; step < 2 * slots; step++) {
    slot = hand_;
    hand_ = (hand_ + 1) % slots;
    if (slot_page_[slot] == kNoPage || !referenced_[slot]) break;
    referenced_[slot] = false;
  }
  if (slot_page_[slot] != kNoPage) {
    index_.erase(slot_page_[slot]);
    stats_.evictions++;
    stats_.used--;
  }
  std::memcpy(Slot(slot), page.data(), kPageSize);
  slot_page_[slot] = page_id;
  referenced_[slot] = false;
  index_[page_id] = slot;
  stats_.inserts++;
  stats_.used++;
}

void PmemTier::Erase(uint64_t page_id) {
  auto it = index_.find(page_id);
  if (it == index_.end()) return;
  slot_page_[it->second] = kNoPage;
  referenced_[it->second] = false;
  index_.erase(it);
  stats_.used--;
}

}  // namespace tierkv::tiers
