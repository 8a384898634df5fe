// The cold tier: tree leaves not read for `cold-after` seconds move from the page file to a file in
// `cold-dir` (meant for a cheaper device), compressed with zstd; a read of a cold leaf makes the
// next checkpoint move it back (promotion). docs/storage.md has the policy, docs/format.md the
// layout.
//
// A cold node is named by a cold id in place of a page id: bit 63 set, the byte offset of its
// blob in 64-byte units in bits 24..62, the blob's length in bits 0..23. The tree refers to it
// exactly like to a page, so a checkpoint that moves a leaf rewrites the inner nodes above it
// (copy-on-write), and a crash before the superblock leaves the previous tree intact.
// A blob is `u64 offset | zstd frame of the node's pages` (pages as the page file had them,
// checksums included): the offset catches a blob read from the wrong place, the page checksums
// anything else, and a failure is Corruption naming the cold file and the id.
// Space: blobs are packed into 4 KiB blocks, written whole with direct I/O into blocks that are
// free (never over a live one); a block is free again when the last blob in it is freed. Freed
// blobs come back through the engine's free list, like pages, so no snapshot or older
// checkpoint can still need them. The block map is rebuilt at open from the tree.
#pragma once

#include <zstd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/env.h"
#include "tiers/format.h"
#include "tiers/page_file.h"

namespace tierkv::tiers {

inline constexpr uint64_t kColdBit = 1ULL << 63;
inline bool IsCold(uint64_t page_id) { return (page_id & kColdBit) != 0; }
// Largest blob a cold id can name (24 bits of length); larger nodes stay hot.
inline constexpr uint64_t kMaxColdBlob = (1ULL << 24) - 1;

struct ColdStats {
  uint64_t moved_out = 0;    // nodes moved to the cold tier
  uint64_t promoted = 0;     // nodes moved back
  uint64_t reads = 0;        // cold nodes read (cache misses served from the cold file)
  uint64_t raw_bytes = 0;    // node bytes moved out, before compression
  uint64_t stored_bytes = 0; // blob bytes written for them
  uint64_t live_blocks = 0;  // 4 KiB blocks in use
  uint64_t file_blocks = 0;
};

class ColdStore {
 public:
  // Opens (creating) `<dir>/cold` with direct I/O. Suspends.
  static Result<std::unique_ptr<ColdStore>> Open(Env& env, const std::string& dir);
  ~ColdStore();

  // Compresses a node's pages into the current batch; returns its cold id, or nullopt when the
  // blob would be too large to name (the node stays hot). Suspends (writes full batches).
  Result<std::optional<uint64_t>> Add(std::span<const std::byte> pages);
  // Writes what the batch holds. Suspends.
  Status Flush();
  Status Sync();
  // The node's pages, decompressed and verified. Suspends.
  Result<AlignedBuffer> Read(uint64_t id);
  // At open: the tree references blob `id`.
  void MarkUsed(uint64_t id);
  // The blob is no longer referenced by any tree.
  void Free(uint64_t id);
  // Live bytes per block, for a checkpoint to save, and their replacement by a saved map at open.
  const std::vector<uint32_t>& live() const { return live_; }
  void Load(const std::vector<uint32_t>& live);
  // Takes blob `id`'s bytes out of a copy of the live map (a blob freed but not yet released).
  static void Subtract(std::vector<uint32_t>& live, uint64_t id);
  // Adds blob `id`'s bytes to a live map (a checker rebuilding one).
  static void AddTo(std::vector<uint32_t>& live, uint64_t id);
  // Counts a promotion (for stats).
  void CountPromotion() { stats_.promoted++; }
  ColdStats stats() const;
  const std::string& path() const { return path_; }

 private:
  ColdStore(std::unique_ptr<File> file, std::string path, uint64_t file_blocks);
  void AddLive(uint64_t offset, uint64_t length, int64_t delta);
  Status StartBatch(uint64_t min_blocks);

  std::unique_ptr<File> file_;
  std::string path_;
  PageAllocator blocks_;
  std::vector<uint32_t> live_;  // live blob bytes per block
  ZSTD_CCtx* cctx_ = nullptr;
  ZSTD_DCtx* dctx_ = nullptr;
  // The batch: blocks [batch_first_, batch_first_ + batch_blocks_) reserved, filled to batch_used_.
  AlignedBuffer batch_;
  uint64_t batch_first_ = 0;
  uint64_t batch_blocks_ = 0;
  uint64_t batch_used_ = 0;
  ColdStats stats_;
};

}  // namespace tierkv::tiers
