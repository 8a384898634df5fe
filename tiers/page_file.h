// The data file of a shard: 4 KiB pages through direct I/O, checksums verified on every read,
// plus the in-memory allocation bitmap (rebuilt at open from the live checkpoint's tree).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/env.h"
#include "tiers/format.h"

namespace tierkv::tiers {

class PageFile {
 public:
  // Opens (creating) `path` with O_DIRECT. Suspends.
  static Result<std::unique_ptr<PageFile>> Open(Env& env, const std::string& path);

  // Reads page `id` into `page` and verifies it. Corruption names the file and page; a page past
  // the end of the file is Corruption too (a checkpoint referenced it). Suspends.
  Status Read(uint64_t id, std::span<std::byte, kPageSize> page);
  // Reads `count` contiguous pages starting at `first` into `buffer` (count * kPageSize bytes,
  // aligned), verifying each. Suspends.
  Status ReadRun(uint64_t first, uint64_t count, std::span<std::byte> buffer);
  // Writes sealed pages starting at `first`. Suspends.
  Status Write(uint64_t first, std::span<const std::byte> pages);
  Status Sync();
  uint64_t size_pages() const { return size_pages_; }
  const std::string& path() const { return path_; }
  uint64_t reads() const { return reads_; }
  // The most reads that were waiting for the device at once since the last reset (how much the
  // callers overlap their reads).
  uint64_t peak_reads_in_flight() const { return peak_in_flight_; }
  void reset_peak_reads_in_flight() { peak_in_flight_ = in_flight_; }
  uint64_t writes() const { return writes_; }

 private:
  PageFile(std::unique_ptr<File> file, std::string path, uint64_t size_pages)
      : file_(std::move(file)), path_(std::move(path)), size_pages_(size_pages) {}

  std::unique_ptr<File> file_;
  std::string path_;
  uint64_t size_pages_;
  uint64_t reads_ = 0;
  uint64_t in_flight_ = 0;
  uint64_t peak_in_flight_ = 0;
  uint64_t writes_ = 0;
};

// Which pages are in use. Free pages are handed out lowest first, so the file stays compact and
// reclaimed space is reused before the file grows.
class PageAllocator {
 public:
  explicit PageAllocator(uint64_t size_pages);
  // A run of `count` contiguous free pages (growing the logical size if needed).
  uint64_t Allocate(uint64_t count);
  void MarkUsed(uint64_t first, uint64_t count);
  void Free(uint64_t first, uint64_t count);
  bool IsUsed(uint64_t page) const { return page < used_.size() && used_[page]; }
  uint64_t size_pages() const { return used_.size(); }
  uint64_t used_pages() const { return used_count_; }
  // The whole map, for a checkpoint to save, and its replacement by a saved one at open.
  const std::vector<bool>& bits() const { return used_; }
  void Load(const std::vector<bool>& used);

 private:
  std::vector<bool> used_;
  uint64_t used_count_ = 0;
  uint64_t search_from_ = kSuperblockPages;
};

}  // namespace tierkv::tiers
