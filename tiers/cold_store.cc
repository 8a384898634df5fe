#include "tiers/cold_store.h"

#include <algorithm>
#include <cstring>

#include "core/assert.h"

namespace tierkv::tiers {
namespace {

constexpr uint64_t kBlock = kPageSize;
constexpr uint64_t kAlign = 64;                // blobs start on 64-byte boundaries
constexpr uint64_t kBatchBlocks = 256;         // 1 MiB written at a time
constexpr uint64_t kMaxNodeBytes = 8ULL << 20; // a decompressed node larger than this is corrupt
constexpr int kLevel = 1;                      // zstd's fastest level: moves run on the shard

uint64_t MakeId(uint64_t offset, uint64_t length) {
  TK_ASSERT(offset % kAlign == 0 && length <= kMaxColdBlob && offset / kAlign < (1ULL << 39));
  return kColdBit | (offset / kAlign) << 24 | length;
}
uint64_t IdOffset(uint64_t id) { return ((id & ~kColdBit) >> 24) * kAlign; }
uint64_t IdLength(uint64_t id) { return id & kMaxColdBlob; }

}  // namespace

Result<std::unique_ptr<ColdStore>> ColdStore::Open(Env& env, const std::string& dir) {
  TK_RETURN_IF_ERROR_R(env.CreateDir(dir));
  std::string path = JoinPath(dir, "cold");
  auto file = env.OpenFile(path, {.create = true, .direct = true});
  if (!file) return Err(file.error());
  auto size = (*file)->Size();
  if (!size) return Err(size.error());
  TK_RETURN_IF_ERROR_R(env.SyncDir(dir));
  return std::unique_ptr<ColdStore>(new ColdStore(std::move(*file), path, *size / kBlock));
}

ColdStore::ColdStore(std::unique_ptr<File> file, std::string path, uint64_t file_blocks)
    : file_(std::move(file)),
      path_(std::move(path)),
      blocks_(file_blocks),
      cctx_(ZSTD_createCCtx()),
      dctx_(ZSTD_createDCtx()) {
  TK_ASSERT(cctx_ != nullptr && dctx_ != nullptr);
  (void)ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, kLevel);
}

ColdStore::~ColdStore() {
  ZSTD_freeCCtx(cctx_);
  ZSTD_freeDCtx(dctx_);
}

void ColdStore::AddLive(uint64_t offset, uint64_t length, int64_t delta) {
  uint64_t end = offset + length;
  for (uint64_t block = offset / kBlock; block * kBlock < end; block++) {
    if (block >= live_.size()) live_.resize(block + 1, 0);
    uint64_t from = std::max(offset, block * kBlock), to = std::min(end, (block + 1) * kBlock);
    int64_t bytes = static_cast<int64_t>(to - from) * delta;
    TK_ASSERT(static_cast<int64_t>(live_[block]) + bytes >= 0);
    live_[block] = static_cast<uint32_t>(static_cast<int64_t>(live_[block]) + bytes);
    if (delta > 0 && !blocks_.IsUsed(block)) blocks_.MarkUsed(block, 1);
    if (delta < 0 && live_[block] == 0) blocks_.Free(block, 1);
  }
}

Status ColdStore::StartBatch(uint64_t min_blocks) {
  TK_RETURN_IF_ERROR(Flush());
  batch_blocks_ = std::max(kBatchBlocks, min_blocks);
  batch_first_ = blocks_.Allocate(batch_blocks_);
  if (batch_.size() < batch_blocks_ * kBlock) batch_ = AlignedBuffer(batch_blocks_ * kBlock);
  std::memset(batch_.data(), 0, batch_blocks_ * kBlock);
  batch_used_ = 0;
  return Status::Ok();
}

Result<std::optional<uint64_t>> ColdStore::Add(std::span<const std::byte> pages) {
  size_t bound = ZSTD_compressBound(pages.size()) + 8;
  if (bound > kMaxColdBlob) return std::optional<uint64_t>();
  uint64_t need = (bound + kBlock - 1) / kBlock + 1;
  if (batch_blocks_ == 0 || batch_used_ + bound > batch_blocks_ * kBlock) {
    TK_RETURN_IF_ERROR_R(StartBatch(need));
  }
  uint64_t offset = batch_first_ * kBlock + batch_used_;
  std::byte* out = batch_.data() + batch_used_;
  size_t frame = ZSTD_compress2(cctx_, out + 8, bound - 8, pages.data(), pages.size());
  TK_ASSERT_MSG(!ZSTD_isError(frame), ZSTD_getErrorName(frame));
  std::memcpy(out, &offset, 8);
  uint64_t length = 8 + frame;
  AddLive(offset, length, +1);
  batch_used_ = (batch_used_ + length + kAlign - 1) / kAlign * kAlign;
  stats_.moved_out++;
  stats_.raw_bytes += pages.size();
  stats_.stored_bytes += length;
  return std::optional<uint64_t>(MakeId(offset, length));
}

Status ColdStore::Flush() {
  if (batch_blocks_ == 0) return Status::Ok();
  uint64_t used_blocks = (batch_used_ + kBlock - 1) / kBlock;
  // Return the reserved blocks no blob reached.
  for (uint64_t block = batch_first_ + used_blocks; block < batch_first_ + batch_blocks_; block++) {
    if (blocks_.IsUsed(block) && (block >= live_.size() || live_[block] == 0)) blocks_.Free(block, 1);
  }
  uint64_t first = batch_first_;
  batch_blocks_ = 0;
  if (used_blocks == 0) return Status::Ok();
  return file_->Write(first * kBlock, batch_.span().first(used_blocks * kBlock));
}

Status ColdStore::Sync() { return file_->DataSync(); }

Result<AlignedBuffer> ColdStore::Read(uint64_t id) {
  auto corrupt = [&](const std::string& what) {
    return Err(StatusCode::kCorruption, "cold node " + std::to_string(id & ~kColdBit) + " of " +
                                            path_ + ": " + what);
  };
  uint64_t offset = IdOffset(id), length = IdLength(id);
  if (length < 8) return corrupt("bad id");
  uint64_t first = offset / kBlock, last = (offset + length - 1) / kBlock;
  AlignedBuffer raw((last - first + 1) * kBlock);
  auto n = file_->Read(first * kBlock, raw.span());
  if (!n) return Err(n.error());
  if (*n != raw.size()) return corrupt("past the end of the file");
  stats_.reads++;
  const std::byte* blob = raw.data() + (offset - first * kBlock);
  uint64_t tag = 0;
  std::memcpy(&tag, blob, 8);
  if (tag != offset) return corrupt("blob names another place");
  unsigned long long size = ZSTD_getFrameContentSize(blob + 8, length - 8);
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size == 0 ||
      size % kPageSize != 0 || size > kMaxNodeBytes) {
    return corrupt("bad zstd frame");
  }
  AlignedBuffer pages(size);
  size_t got = ZSTD_decompressDCtx(dctx_, pages.data(), size, blob + 8, length - 8);
  if (ZSTD_isError(got) || got != size) return corrupt("zstd: cannot decompress");
  uint64_t page_id = ReadHeader(pages.span()).page_id;
  for (uint64_t i = 0; i < size / kPageSize; i++) {
    std::span<const std::byte, kPageSize> page(pages.data() + i * kPageSize, kPageSize);
    Status verified = VerifyPage(page, page_id + i, path_);
    if (!verified.ok()) return corrupt(verified.message());
  }
  return pages;
}

void ColdStore::Load(const std::vector<uint32_t>& live) {
  TK_ASSERT(live_.empty() && batch_blocks_ == 0);
  live_ = live;
  for (uint64_t block = 0; block < live_.size(); block++) {
    if (live_[block] > 0 && !blocks_.IsUsed(block)) blocks_.MarkUsed(block, 1);
  }
}

void ColdStore::Subtract(std::vector<uint32_t>& live, uint64_t id) {
  uint64_t offset = IdOffset(id), end = offset + IdLength(id);
  for (uint64_t block = offset / kBlock; block * kBlock < end && block < live.size(); block++) {
    uint64_t from = std::max(offset, block * kBlock), to = std::min(end, (block + 1) * kBlock);
    live[block] -= std::min<uint32_t>(live[block], static_cast<uint32_t>(to - from));
  }
}

void ColdStore::AddTo(std::vector<uint32_t>& live, uint64_t id) {
  uint64_t offset = IdOffset(id), end = offset + IdLength(id);
  for (uint64_t block = offset / kBlock; block * kBlock < end; block++) {
    if (block >= live.size()) live.resize(block + 1, 0);
    uint64_t from = std::max(offset, block * kBlock), to = std::min(end, (block + 1) * kBlock);
    live[block] += static_cast<uint32_t>(to - from);
  }
}

void ColdStore::MarkUsed(uint64_t id) { AddLive(IdOffset(id), IdLength(id), +1); }

void ColdStore::Free(uint64_t id) { AddLive(IdOffset(id), IdLength(id), -1); }

ColdStats ColdStore::stats() const {
  ColdStats s = stats_;
  s.live_blocks = blocks_.used_pages() - kSuperblockPages;
  s.file_blocks = blocks_.size_pages();
  return s;
}

}  // namespace tierkv::tiers
