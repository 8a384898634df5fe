#include "tiers/page_file.h"

#include <algorithm>

#include "core/assert.h"

namespace tierkv::tiers {

Result<std::unique_ptr<PageFile>> PageFile::Open(Env& env, const std::string& path) {
  auto file = env.OpenFile(path, {.create = true, .direct = true});
  if (!file) return Err(file.error());
  auto size = (*file)->Size();
  if (!size) return Err(size.error());
  // A partial page at the end is the torn tail of a checkpoint that never completed (no
  // superblock references it): ignore it; it is overwritten when its page is next allocated.
  return std::unique_ptr<PageFile>(new PageFile(std::move(*file), path, *size / kPageSize));
}

Status PageFile::Read(uint64_t id, std::span<std::byte, kPageSize> page) {
  return ReadRun(id, 1, page);
}

Status PageFile::ReadRun(uint64_t first, uint64_t count, std::span<std::byte> buffer) {
  TK_ASSERT(buffer.size() == count * kPageSize);
  reads_ += count;
  peak_in_flight_ = std::max(peak_in_flight_, ++in_flight_);
  auto n = file_->Read(first * kPageSize, buffer);
  in_flight_--;
  if (!n) return n.error();
  if (*n != buffer.size()) {
    return Status(StatusCode::kCorruption, "page " + std::to_string(first + *n / kPageSize) +
                                               " of " + path_ + " is past the end of the file");
  }
  for (uint64_t i = 0; i < count; i++) {
    TK_RETURN_IF_ERROR(VerifyPage(std::span<const std::byte, kPageSize>(
                                      buffer.data() + i * kPageSize, kPageSize),
                                  first + i, path_));
  }
  return Status::Ok();
}

Status PageFile::Write(uint64_t first, std::span<const std::byte> pages) {
  TK_ASSERT(pages.size() % kPageSize == 0);
  writes_ += pages.size() / kPageSize;
  TK_RETURN_IF_ERROR(file_->Write(first * kPageSize, pages));
  size_pages_ = std::max(size_pages_, first + pages.size() / kPageSize);
  return Status::Ok();
}

Status PageFile::Sync() { return file_->DataSync(); }

PageAllocator::PageAllocator(uint64_t size_pages)
    : used_(std::max<uint64_t>(size_pages, kSuperblockPages), false) {
  MarkUsed(0, kSuperblockPages);
}

uint64_t PageAllocator::Allocate(uint64_t count) {
  TK_ASSERT(count > 0);
  uint64_t run = 0;
  for (uint64_t page = search_from_; page < used_.size(); page++) {
    run = used_[page] ? 0 : run + 1;
    if (run == count) {
      uint64_t first = page + 1 - count;
      MarkUsed(first, count);
      return first;
    }
  }
  // No run big enough: extend the file (reusing a free tail if there is one).
  uint64_t first = used_.size() - run;
  MarkUsed(first, count);
  return first;
}

void PageAllocator::MarkUsed(uint64_t first, uint64_t count) {
  if (first + count > used_.size()) used_.resize(first + count, false);
  for (uint64_t page = first; page < first + count; page++) {
    TK_ASSERT_MSG(!used_[page], "page allocated twice");
    used_[page] = true;
  }
  used_count_ += count;
  // Keep search_from_ at the lowest free page: without this, once a low hole was refilled every
  // later allocation rescanned the whole used part of the file (61% of a write benchmark's CPU).
  while (search_from_ < used_.size() && used_[search_from_]) search_from_++;
}

void PageAllocator::Load(const std::vector<bool>& used) {
  uint64_t size = std::max<uint64_t>(used_.size(), used.size());
  used_.assign(size, false);
  used_count_ = 0;
  search_from_ = kSuperblockPages;
  for (uint64_t page = 0; page < used.size(); page++) {
    if (used[page]) {
      used_[page] = true;
      used_count_++;
    }
  }
  if (!used_[0]) MarkUsed(0, 1);
  if (!used_[1]) MarkUsed(1, 1);
  while (search_from_ < used_.size() && used_[search_from_]) search_from_++;
}

void PageAllocator::Free(uint64_t first, uint64_t count) {
  TK_ASSERT(first >= kSuperblockPages && first + count <= used_.size());
  for (uint64_t page = first; page < first + count; page++) {
    TK_ASSERT_MSG(used_[page], "page freed twice");
    used_[page] = false;
  }
  used_count_ -= count;
  search_from_ = std::min(search_from_, first);
}

}  // namespace tierkv::tiers
