#include "tiers/format.h"

#include <xxhash.h>

#include "core/assert.h"

namespace tierkv::tiers {
namespace {

constexpr char kMagic[8] = {'T', 'I', 'E', 'R', 'K', 'V', 'S', '1'};

uint64_t PageChecksum(std::span<const std::byte, kPageSize> page, uint64_t page_id) {
  return XXH64(page.data() + 8, kPageSize - 8, page_id);
}

Status Malformed(const std::string& file, uint64_t page_id, const char* what) {
  return Status(StatusCode::kCorruption,
                "malformed page " + std::to_string(page_id) + " of " + file + ": " + what);
}

template <typename T>
void Put(std::byte*& out, T value) {
  std::memcpy(out, &value, sizeof(T));
  out += sizeof(T);
}

// Bounds-checked reader over a page.
class Reader {
 public:
  Reader(std::span<const std::byte> bytes, size_t offset) : bytes_(bytes), pos_(offset) {}
  template <typename T>
  bool Get(T& value) {
    if (pos_ + sizeof(T) > bytes_.size()) return false;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(size_t length, std::string& out) {
    if (pos_ + length > bytes_.size()) return false;
    out.assign(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
    pos_ += length;
    return true;
  }

 private:
  std::span<const std::byte> bytes_;
  size_t pos_;
};

}  // namespace

void SealPage(std::span<std::byte, kPageSize> page) {
  PageHeader header = ReadHeader(page);
  header.checksum = PageChecksum(page, header.page_id);
  WriteHeader(page, header);
}

Status VerifyPage(std::span<const std::byte, kPageSize> page, uint64_t page_id,
                  const std::string& file) {
  PageHeader header = ReadHeader(page);
  if (header.checksum != PageChecksum(page, page_id)) {
    return Status(StatusCode::kCorruption, "checksum mismatch in page " + std::to_string(page_id) +
                                               " of " + file);
  }
  if (header.page_id != page_id) {
    return Status(StatusCode::kCorruption, "page " + std::to_string(page_id) + " of " + file +
                                               " claims to be page " +
                                               std::to_string(header.page_id));
  }
  return Status::Ok();
}

void EncodeSuperblock(const Superblock& sb, uint64_t page_id, std::span<std::byte, kPageSize> page) {
  std::memset(page.data(), 0, kPageSize);
  WriteHeader(page, PageHeader{0, page_id, sb.generation,
                               static_cast<uint16_t>(PageType::kSuperblock), 0, 0});
  std::byte* out = page.data() + kPageHeaderSize;
  std::memcpy(out, kMagic, sizeof(kMagic));
  out += sizeof(kMagic);
  Put(out, sb.generation);
  Put(out, sb.root);
  Put(out, sb.height);
  Put(out, sb.wal_lsn);
  Put(out, sb.next_seq);
  Put(out, sb.page_count);
  Put(out, sb.live_entries);
  SealPage(page);
}

Result<Superblock> DecodeSuperblock(std::span<const std::byte, kPageSize> page, uint64_t page_id,
                                    const std::string& file) {
  TK_RETURN_IF_ERROR_R(VerifyPage(page, page_id, file));
  if (ReadHeader(page).type != static_cast<uint16_t>(PageType::kSuperblock) ||
      std::memcmp(page.data() + kPageHeaderSize, kMagic, sizeof(kMagic)) != 0) {
    return Err(Malformed(file, page_id, "not a tierkv superblock"));
  }
  Reader in(page, kPageHeaderSize + sizeof(kMagic));
  Superblock sb;
  bool ok = in.Get(sb.generation) && in.Get(sb.root) && in.Get(sb.height) && in.Get(sb.wal_lsn) &&
            in.Get(sb.next_seq) && in.Get(sb.page_count) && in.Get(sb.live_entries);
  if (!ok) return Err(Malformed(file, page_id, "short superblock"));
  return sb;
}

size_t LeafEntry::EncodedSize() const {
  return 2 + 2 + 1 + 4 + key.size() + (overflow ? 20 : value.size());
}

size_t LeafSize(const std::vector<LeafEntry>& entries) {
  size_t total = 0;
  for (const LeafEntry& entry : entries) total += entry.EncodedSize();
  return total;
}

size_t InnerSize(const std::vector<InnerEntry>& entries) {
  size_t total = 0;
  for (const InnerEntry& entry : entries) total += 2 + entry.EncodedSize();
  return total;
}

void EncodeLeaf(const std::vector<LeafEntry>& entries, uint64_t page_id, uint64_t generation,
                std::span<std::byte, kPageSize> page) {
  TK_ASSERT(LeafSize(entries) <= kNodeCapacity && entries.size() < 65536);
  std::memset(page.data(), 0, kPageSize);
  std::byte* offsets = page.data() + kPageHeaderSize;
  std::byte* out = offsets + 2 * entries.size();
  for (const LeafEntry& entry : entries) {
    uint16_t offset = static_cast<uint16_t>(out - page.data());
    Put(offsets, offset);
    Put(out, static_cast<uint16_t>(entry.key.size()));
    Put(out, static_cast<uint8_t>(entry.overflow ? 1 : 0));
    Put(out, static_cast<uint32_t>(entry.overflow ? 20 : entry.value.size()));
    std::memcpy(out, entry.key.data(), entry.key.size());
    out += entry.key.size();
    if (entry.overflow) {
      Put(out, entry.ref.first_page);
      Put(out, entry.ref.pages);
      Put(out, entry.ref.length);
    } else {
      std::memcpy(out, entry.value.data(), entry.value.size());
      out += entry.value.size();
    }
  }
  uint32_t used = static_cast<uint32_t>(out - page.data() - kPageHeaderSize);
  WriteHeader(page, PageHeader{0, page_id, generation, static_cast<uint16_t>(PageType::kLeaf),
                               static_cast<uint16_t>(entries.size()), used});
  SealPage(page);
}

void EncodeInner(const std::vector<InnerEntry>& entries, uint64_t page_id, uint64_t generation,
                 std::span<std::byte, kPageSize> page) {
  TK_ASSERT(InnerSize(entries) <= kNodeCapacity && !entries.empty());
  std::memset(page.data(), 0, kPageSize);
  std::byte* offsets = page.data() + kPageHeaderSize;
  std::byte* out = offsets + 2 * entries.size();
  for (const InnerEntry& entry : entries) {
    uint16_t offset = static_cast<uint16_t>(out - page.data());
    Put(offsets, offset);
    Put(out, static_cast<uint16_t>(entry.key.size()));
    std::memcpy(out, entry.key.data(), entry.key.size());
    out += entry.key.size();
    Put(out, entry.child);
  }
  uint32_t used = static_cast<uint32_t>(out - page.data() - kPageHeaderSize);
  WriteHeader(page, PageHeader{0, page_id, generation, static_cast<uint16_t>(PageType::kInner),
                               static_cast<uint16_t>(entries.size()), used});
  SealPage(page);
}

Result<std::vector<LeafEntry>> DecodeLeaf(std::span<const std::byte, kPageSize> page,
                                          const std::string& file) {
  PageHeader header = ReadHeader(page);
  if (header.type != static_cast<uint16_t>(PageType::kLeaf)) {
    return Err(Malformed(file, header.page_id, "expected a leaf"));
  }
  std::vector<LeafEntry> entries(header.count);
  Reader offsets(page, kPageHeaderSize);
  for (LeafEntry& entry : entries) {
    uint16_t offset = 0, key_length = 0;
    uint8_t kind = 0;
    uint32_t value_length = 0;
    if (!offsets.Get(offset) || offset < kPageHeaderSize) {
      return Err(Malformed(file, header.page_id, "bad offset"));
    }
    Reader in(page, offset);
    if (!in.Get(key_length) || !in.Get(kind) || !in.Get(value_length) ||
        !in.GetString(key_length, entry.key) || kind > 1) {
      return Err(Malformed(file, header.page_id, "bad leaf entry"));
    }
    entry.overflow = kind == 1;
    if (entry.overflow) {
      if (value_length != 20 || !in.Get(entry.ref.first_page) || !in.Get(entry.ref.pages) ||
          !in.Get(entry.ref.length)) {
        return Err(Malformed(file, header.page_id, "bad overflow reference"));
      }
    } else if (!in.GetString(value_length, entry.value)) {
      return Err(Malformed(file, header.page_id, "bad value length"));
    }
  }
  return entries;
}

Result<std::vector<InnerEntry>> DecodeInner(std::span<const std::byte, kPageSize> page,
                                            const std::string& file) {
  PageHeader header = ReadHeader(page);
  if (header.type != static_cast<uint16_t>(PageType::kInner) || header.count == 0) {
    return Err(Malformed(file, header.page_id, "expected an inner node"));
  }
  std::vector<InnerEntry> entries(header.count);
  Reader offsets(page, kPageHeaderSize);
  for (InnerEntry& entry : entries) {
    uint16_t offset = 0, key_length = 0;
    if (!offsets.Get(offset) || offset < kPageHeaderSize) {
      return Err(Malformed(file, header.page_id, "bad offset"));
    }
    Reader in(page, offset);
    if (!in.Get(key_length) || !in.GetString(key_length, entry.key) || !in.Get(entry.child)) {
      return Err(Malformed(file, header.page_id, "bad inner entry"));
    }
  }
  return entries;
}

}  // namespace tierkv::tiers
