#include "tiers/format.h"

#include <xxhash.h>

#include <algorithm>

#include "core/assert.h"
#include "core/hash.h"

namespace tierkv::tiers {
namespace {

// Format 2: inner entries carry their child's key filter, page checksums are XXH3. Format 1
// files are refused by name.
constexpr char kMagic[8] = {'T', 'I', 'E', 'R', 'K', 'V', 'S', '2'};
constexpr char kMagicFormat1[8] = {'T', 'I', 'E', 'R', 'K', 'V', 'S', '1'};

uint64_t PageChecksum(std::span<const std::byte, kPageSize> page, uint64_t page_id) {
  // XXH3 (format 2; format 1 used XXH64): about twice as fast over 4 KiB, and every page read
  // from the device is checked (4% of a disk-bound GET's server time with XXH64).
  return XXH3_64bits_withSeed(page.data() + 8, kPageSize - 8, page_id);
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
    std::string_view view;
    if (!GetView(length, view)) return false;
    out.assign(view);
    return true;
  }
  bool GetView(size_t length, std::string_view& out) {
    if (pos_ + length > bytes_.size()) return false;
    out = std::string_view(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
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
  Put(out, sb.alloc_map_page);
  Put(out, sb.alloc_map_pages);
  SealPage(page);
}

Result<Superblock> DecodeSuperblock(std::span<const std::byte, kPageSize> page, uint64_t page_id,
                                    const std::string& file) {
  // Before the checksum: format 1's pages carry XXH64 checksums, which fail format 2's check.
  if (ReadHeader(page).type == static_cast<uint16_t>(PageType::kSuperblock) &&
      std::memcmp(page.data() + kPageHeaderSize, kMagicFormat1, sizeof(kMagicFormat1)) == 0) {
    return Err(StatusCode::kCorruption,
               file + " was written in tierkv's data format 1 (XXH64 page checksums, no leaf "
                      "filters); this build "
                      "reads format 2: start from an empty directory (or load a DUMP of the data)");
  }
  TK_RETURN_IF_ERROR_R(VerifyPage(page, page_id, file));
  if (ReadHeader(page).type != static_cast<uint16_t>(PageType::kSuperblock) ||
      std::memcmp(page.data() + kPageHeaderSize, kMagic, sizeof(kMagic)) != 0) {
    return Err(Malformed(file, page_id, "not a tierkv superblock"));
  }
  Reader in(page, kPageHeaderSize + sizeof(kMagic));
  Superblock sb;
  bool ok = in.Get(sb.generation) && in.Get(sb.root) && in.Get(sb.height) && in.Get(sb.wal_lsn) &&
            in.Get(sb.next_seq) && in.Get(sb.page_count) && in.Get(sb.live_entries) &&
            in.Get(sb.alloc_map_page) && in.Get(sb.alloc_map_pages);
  if (!ok) return Err(Malformed(file, page_id, "short superblock"));
  return sb;
}

KeyFilterProbe ProbeFor(std::string_view key) {
  const uint64_t hash = Xxh3(key);
  return KeyFilterProbe{static_cast<uint32_t>(hash >> 62),
                        uint64_t{1} << (hash & 63) | uint64_t{1} << ((hash >> 6) & 63) |
                            uint64_t{1} << ((hash >> 12) & 63)};
}

LeafKeyFilter LeafFilter(std::span<const LeafItem> entries) {
  LeafKeyFilter filter;
  for (const LeafItem& entry : entries) AddToFilter(filter, ProbeFor(entry.key));
  return filter;
}

size_t LeafSize(std::span<const LeafItem> entries, bool wide) {
  size_t total = 0;
  for (const LeafItem& entry : entries) total += entry.EncodedSize(wide);
  return total;
}

size_t InnerSize(std::span<const InnerEntry> entries, bool wide) {
  size_t total = 0;
  for (const InnerEntry& entry : entries) total += entry.EncodedSize(wide);
  return total;
}

uint32_t LeafPages(std::span<const LeafItem> entries) {
  size_t narrow = LeafSize(entries);
  return narrow <= kNodeCapacity ? 1 : NodePages(LeafSize(entries, true));
}

uint32_t InnerPages(std::span<const InnerEntry> entries) {
  size_t narrow = InnerSize(entries);
  return narrow <= kNodeCapacity ? 1 : NodePages(InnerSize(entries, true));
}

namespace {

// Spreads `payload` over `pages` (kPagePayload bytes each) and seals every page with the header
// `header(i, bytes in page i)` returns.
template <typename HeaderFn>
void ScatterPayload(const std::vector<std::byte>& payload, std::span<std::byte> pages,
                    HeaderFn header) {
  std::memset(pages.data(), 0, pages.size());
  for (size_t i = 0; i < pages.size() / kPageSize; i++) {
    std::span<std::byte, kPageSize> page(pages.data() + i * kPageSize, kPageSize);
    size_t begin = i * kPagePayload;
    size_t length = std::min(kPagePayload, payload.size() - begin);
    if (length > 0) std::memcpy(page.data() + kPageHeaderSize, payload.data() + begin, length);
    WriteHeader(page, header(i, length));
    SealPage(page);
  }
}

// Writes a node's payload into its pages: the first page gets the node header, later pages a
// continuation header.
void SealNode(const std::vector<std::byte>& payload, PageType type, size_t count, uint64_t page_id,
              uint64_t generation, std::span<std::byte> pages) {
  TK_ASSERT(pages.size() == size_t{NodePages(payload.size())} * kPageSize && count < 65536);
  ScatterPayload(payload, pages, [&](size_t i, size_t length) {
    return i == 0 ? PageHeader{0, page_id, generation, static_cast<uint16_t>(type),
                               static_cast<uint16_t>(count), static_cast<uint32_t>(payload.size())}
                  : PageHeader{0, page_id + i, generation,
                               static_cast<uint16_t>(PageType::kContinuation),
                               static_cast<uint16_t>(i), static_cast<uint32_t>(length)};
  });
}

// Serializes entries: offsets first, then each entry through `put_entry`.
class PayloadWriter {
 public:
  PayloadWriter(size_t size, size_t count, bool wide)
      : bytes_(size), wide_(wide), entry_(bytes_.data() + count * (wide ? 4 : 2)) {}
  void StartEntry() {
    PutWidth(static_cast<uint32_t>(entry_ - bytes_.data()), offset_);
  }
  void PutLength(size_t length) { PutWidth(static_cast<uint32_t>(length), entry_); }
  template <typename T>
  void Put(T value) {
    std::memcpy(entry_, &value, sizeof(T));
    entry_ += sizeof(T);
  }
  void PutBytes(std::string_view bytes) {
    std::memcpy(entry_, bytes.data(), bytes.size());
    entry_ += bytes.size();
  }
  std::vector<std::byte> Finish() {
    TK_ASSERT(entry_ == bytes_.data() + bytes_.size());
    return std::move(bytes_);
  }

 private:
  void PutWidth(uint32_t value, std::byte*& out) {
    if (wide_) {
      std::memcpy(out, &value, 4);
      out += 4;
    } else {
      TK_ASSERT(value <= UINT16_MAX);
      uint16_t narrow = static_cast<uint16_t>(value);
      std::memcpy(out, &narrow, 2);
      out += 2;
    }
  }
  std::vector<std::byte> bytes_;
  bool wide_;
  std::byte* offset_ = bytes_.data();
  std::byte* entry_;
};

// A node's payload gathered from its verified pages (copied only for wide nodes).
struct NodePayload {
  PageHeader header;
  std::span<const std::byte> bytes;
  std::vector<std::byte> gathered;
  bool wide = false;
};

Result<NodePayload> GatherPayload(std::span<const std::byte> pages, PageType type,
                                  const std::string& file) {
  NodePayload out;
  TK_ASSERT(pages.size() >= kPageSize);
  out.header = ReadHeader(pages);
  uint64_t id = out.header.page_id;
  const bool older_inner = type == PageType::kInnerWide &&
                           out.header.type == static_cast<uint16_t>(PageType::kInner);
  if (out.header.type != static_cast<uint16_t>(type) && !older_inner) {
    return Err(Malformed(file, id, type == PageType::kLeaf ? "expected a leaf" : "expected an inner node"));
  }
  uint32_t n = NodePages(out.header.used);
  if (pages.size() != size_t{n} * kPageSize) return Err(Malformed(file, id, "bad node length"));
  out.wide = n > 1;
  if (!out.wide) {
    out.bytes = pages.subspan(kPageHeaderSize, out.header.used);
    return out;
  }
  out.gathered.resize(out.header.used);
  for (uint32_t i = 0; i < n; i++) {
    std::span<const std::byte> page = pages.subspan(size_t{i} * kPageSize, kPageSize);
    size_t begin = size_t{i} * kPagePayload;
    size_t length = std::min<size_t>(kPagePayload, out.header.used - begin);
    if (i > 0) {
      PageHeader header = ReadHeader(page);
      if (header.type != static_cast<uint16_t>(PageType::kContinuation) ||
          header.page_id != id + i || header.count != i || header.used != length) {
        return Err(Malformed(file, id + i, "bad continuation page"));
      }
    }
    std::memcpy(out.gathered.data() + begin, page.data() + kPageHeaderSize, length);
  }
  out.bytes = out.gathered;
  return out;
}

// Reads the offset of entry i and a length, narrow or wide.
bool GetWidth(Reader& in, bool wide, uint32_t& value) {
  if (wide) return in.Get(value);
  uint16_t narrow = 0;
  if (!in.Get(narrow)) return false;
  value = narrow;
  return true;
}

}  // namespace

void EncodeLeaf(std::span<const LeafItem> entries, uint64_t page_id, uint64_t generation,
                std::span<std::byte> pages) {
  bool wide = LeafSize(entries) > kNodeCapacity;
  PayloadWriter out(LeafSize(entries, wide), entries.size(), wide);
  for (const LeafItem& entry : entries) {
    out.StartEntry();
    out.PutLength(entry.key.size());
    out.Put(static_cast<uint8_t>(entry.overflow ? 1 : 0));
    out.Put(static_cast<uint32_t>(entry.value.size()));
    out.PutBytes(entry.key);
    out.PutBytes(entry.value);
  }
  SealNode(out.Finish(), PageType::kLeaf, entries.size(), page_id, generation, pages);
}

void EncodeInner(std::span<const InnerEntry> entries, uint64_t page_id, uint64_t generation,
                 std::span<std::byte> pages) {
  TK_ASSERT(!entries.empty());
  bool wide = InnerSize(entries) > kNodeCapacity;
  PayloadWriter out(InnerSize(entries, wide), entries.size(), wide);
  for (const InnerEntry& entry : entries) {
    out.StartEntry();
    out.PutLength(entry.key.size());
    out.PutBytes(entry.key);
    out.Put(entry.child);
    for (uint64_t word : entry.filter.words) out.Put(word);
  }
  SealNode(out.Finish(), PageType::kInnerWide, entries.size(), page_id, generation, pages);
}

namespace {

// Entry `i` of a verified leaf's payload; the views point into the payload.
struct LeafView {
  std::string_view key;
  bool overflow = false;
  std::string_view value;  // the inline value, or the overflow reference's bytes
};

Status ReadLeafEntry(const NodePayload& payload, uint32_t i, const std::string& file,
                     LeafView& out) {
  const uint64_t id = payload.header.page_id;
  const size_t width = payload.wide ? 4 : 2;
  Reader offsets(payload.bytes, size_t{i} * width);
  uint32_t offset = 0, key_length = 0, value_length = 0;
  uint8_t kind = 0;
  if (!GetWidth(offsets, payload.wide, offset)) return Status(Malformed(file, id, "bad offset"));
  Reader in(payload.bytes, offset);
  if (!GetWidth(in, payload.wide, key_length) || !in.Get(kind) || !in.Get(value_length) ||
      !in.GetView(key_length, out.key) || kind > 1) {
    return Status(Malformed(file, id, "bad leaf entry"));
  }
  if (kind == 1 && value_length != kOverflowRefSize) {
    return Status(Malformed(file, id, "bad overflow reference"));
  }
  if (!in.GetView(value_length, out.value)) return Status(Malformed(file, id, "bad value length"));
  out.overflow = kind == 1;
  return Status::Ok();
}

}  // namespace

Status VisitLeaf(std::span<const std::byte> pages, const std::string& file,
                 const std::function<void(std::string_view key, bool overflow,
                                          std::string_view value)>& visit) {
  auto payload = GatherPayload(pages, PageType::kLeaf, file);
  if (!payload) return payload.error();
  LeafView entry;
  for (uint32_t i = 0; i < payload->header.count; i++) {
    TK_RETURN_IF_ERROR(ReadLeafEntry(*payload, i, file, entry));
    visit(entry.key, entry.overflow, entry.value);
  }
  return Status::Ok();
}

Result<bool> FindInLeaf(std::span<const std::byte> pages, std::string_view key,
                        const std::string& file,
                        const std::function<void(const LeafValueView& value)>& found) {
  auto payload = GatherPayload(pages, PageType::kLeaf, file);
  if (!payload) return Err(payload.error());
  // Lower bound over the entries (stored in key order), then one comparison for equality.
  uint32_t lo = 0, hi = payload->header.count;
  LeafView entry;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    TK_RETURN_IF_ERROR_R(ReadLeafEntry(*payload, mid, file, entry));
    if (entry.key < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == payload->header.count) return false;
  TK_RETURN_IF_ERROR_R(ReadLeafEntry(*payload, lo, file, entry));
  if (entry.key != key) return false;
  LeafValueView value;
  value.overflow = entry.overflow;
  if (entry.overflow) {
    value.ref = GetOverflowRef(entry.value);
  } else {
    value.value = entry.value;
  }
  found(value);
  return true;
}

Status VisitInner(std::span<const std::byte> pages, const std::string& file,
                  const std::function<void(std::string_view key, uint64_t child,
                                           const LeafKeyFilter& filter)>& visit) {
  auto payload = GatherPayload(pages, PageType::kInnerWide, file);
  if (!payload) return payload.error();
  uint64_t id = payload->header.page_id;
  const bool older = payload->header.type == static_cast<uint16_t>(PageType::kInner);
  if (payload->header.count == 0) return Status(Malformed(file, id, "empty inner node"));
  Reader offsets(payload->bytes, 0);
  for (uint32_t i = 0; i < payload->header.count; i++) {
    uint32_t offset = 0, key_length = 0;
    if (!GetWidth(offsets, payload->wide, offset)) return Status(Malformed(file, id, "bad offset"));
    Reader in(payload->bytes, offset);
    std::string_view key;
    uint64_t child = kNoPage;
    LeafKeyFilter filter;
    bool ok = GetWidth(in, payload->wide, key_length) && in.GetView(key_length, key) &&
              in.Get(child);
    if (older) {
      // A filter of the older layout: its bits are not where ProbeFor looks; no skips.
      uint64_t ignored = 0;
      ok = ok && in.Get(ignored);
      filter = LeafKeyFilter::Any();
    } else {
      for (uint64_t& word : filter.words) ok = ok && in.Get(word);
    }
    if (!ok) return Status(Malformed(file, id, "bad inner entry"));
    visit(key, child, filter);
  }
  return Status::Ok();
}

void PutOverflowRef(const OverflowRef& ref, char* out) {
  std::memcpy(out, &ref.first_page, 8);
  std::memcpy(out + 8, &ref.pages, 4);
  std::memcpy(out + 12, &ref.length, 8);
}

OverflowRef GetOverflowRef(std::string_view bytes) {
  TK_ASSERT(bytes.size() == kOverflowRefSize);
  OverflowRef ref;
  std::memcpy(&ref.first_page, bytes.data(), 8);
  std::memcpy(&ref.pages, bytes.data() + 8, 4);
  std::memcpy(&ref.length, bytes.data() + 12, 8);
  return ref;
}

namespace {
size_t AllocMapBytes(const AllocMap& map) {
  return 8 + (map.pages.size() + 7) / 8 + 8 + 4 * map.cold_live.size();
}
}  // namespace

uint32_t AllocMapPages(const AllocMap& map) {
  return static_cast<uint32_t>((AllocMapBytes(map) + kPagePayload - 1) / kPagePayload);
}

void EncodeAllocMap(const AllocMap& map, uint64_t first, uint64_t generation,
                    std::span<std::byte> pages) {
  std::vector<std::byte> payload(AllocMapBytes(map));
  std::byte* out = payload.data();
  Put(out, static_cast<uint64_t>(map.pages.size()));
  for (size_t i = 0; i < map.pages.size(); i++) {
    if (map.pages[i]) out[i / 8] |= std::byte{static_cast<uint8_t>(1u << (i % 8))};
  }
  out += (map.pages.size() + 7) / 8;
  Put(out, static_cast<uint64_t>(map.cold_live.size()));
  for (uint32_t live : map.cold_live) Put(out, live);
  TK_ASSERT(pages.size() == size_t{AllocMapPages(map)} * kPageSize);
  ScatterPayload(payload, pages, [&](size_t i, size_t length) {
    return PageHeader{0, first + i, generation, static_cast<uint16_t>(PageType::kAllocMap),
                      static_cast<uint16_t>(i & 0xffff), static_cast<uint32_t>(length)};
  });
}

Result<AllocMap> DecodeAllocMap(std::span<const std::byte> pages, uint64_t first,
                                const std::string& file) {
  std::vector<std::byte> payload;
  for (size_t i = 0; i < pages.size() / kPageSize; i++) {
    std::span<const std::byte> page = pages.subspan(i * kPageSize, kPageSize);
    PageHeader header = ReadHeader(page);
    if (header.type != static_cast<uint16_t>(PageType::kAllocMap) ||
        header.count != (i & 0xffff) || header.used > kPagePayload) {
      return Err(Malformed(file, first + i, "bad allocation map page"));
    }
    auto bytes = page.subspan(kPageHeaderSize, header.used);
    payload.insert(payload.end(), bytes.begin(), bytes.end());
  }
  Reader in(payload, 0);
  AllocMap map;
  uint64_t bits = 0, blocks = 0;
  if (!in.Get(bits) || bits > payload.size() * 8) return Err(Malformed(file, first, "bad map size"));
  std::string bytes;
  if (!in.GetString((bits + 7) / 8, bytes)) return Err(Malformed(file, first, "short map"));
  map.pages.resize(bits);
  for (uint64_t i = 0; i < bits; i++) map.pages[i] = (static_cast<uint8_t>(bytes[i / 8]) >> (i % 8)) & 1;
  if (!in.Get(blocks) || blocks > payload.size()) return Err(Malformed(file, first, "bad cold map"));
  map.cold_live.resize(blocks);
  for (uint32_t& live : map.cold_live) {
    if (!in.Get(live) || live > kPageSize) return Err(Malformed(file, first, "bad cold map"));
  }
  return map;
}

}  // namespace tierkv::tiers
