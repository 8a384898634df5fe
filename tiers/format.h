// On-disk format of a shard's data file (docs/format.md has the full picture).
//
// The file is an array of 4 KiB pages, read and written with direct I/O. Every page starts with
// a 32-byte header whose checksum (XXH3-64 over the rest of the page, seeded with the page id, so
// a page written to the wrong place is caught too) is verified on every read.
//   page 0, 1      superblocks, written alternately; the valid one with the highest generation
//                  names the current checkpoint (tree root, WAL position, sequence number)
//   other pages    B+tree inner and leaf nodes, and overflow pages holding large values
// Pages are never overwritten while a checkpoint references them (copy-on-write), so a crash in
// the middle of a checkpoint leaves the previous one intact.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tierkv::tiers {

inline constexpr size_t kPageSize = 4096;
inline constexpr size_t kPageHeaderSize = 32;
inline constexpr size_t kPagePayload = kPageSize - kPageHeaderSize;
inline constexpr uint64_t kSuperblockPages = 2;  // pages 0 and 1
inline constexpr uint64_t kNoPage = 0;           // page 0 is a superblock: never a tree node

// Largest key+value stored inside a leaf; larger values go to overflow pages (a leaf then holds
// a 20-byte reference). Four such entries fit in a page.
inline constexpr size_t kMaxInlineEntry = 960;
// Largest key the engine accepts: 1 MiB, so a 64 KiB Redis key with a long hash field still fits.
// Keys are always stored whole in leaves and inner nodes (ordering needs them); a node holding a
// key too long for one page spans several contiguous pages (a "wide" node, below).
inline constexpr size_t kMaxKeySize = 1 << 20;

enum class PageType : uint16_t {
  kFree = 0,
  kSuperblock = 1,
  kLeaf = 2,
  kInner = 3,
  kOverflow = 4,
  kContinuation = 5,  // second and later pages of a wide node
  kAllocMap = 6,      // the allocation map a checkpoint saves (open need not walk the tree)
  // An inner node whose entries carry 256-bit leaf filters (LeafKeyFilter). Written since
  // session eight; kInner pages (64-bit filters of another layout) are still read, their filters
  // as "any key", so a tree written before keeps working and gains filters as it is rewritten.
  kInnerWide = 7,
};

struct PageHeader {
  uint64_t checksum;
  uint64_t page_id;
  uint64_t generation;  // checkpoint generation that wrote the page
  uint16_t type;
  uint16_t count;  // entries in a node
  uint32_t used;   // payload bytes in use
};
static_assert(sizeof(PageHeader) == kPageHeaderSize);

// Fills in the checksum of a page whose header fields are set.
void SealPage(std::span<std::byte, kPageSize> page);
// Verifies checksum and page id; Corruption naming `file` and the page otherwise.
Status VerifyPage(std::span<const std::byte, kPageSize> page, uint64_t page_id,
                  const std::string& file);
inline PageHeader ReadHeader(std::span<const std::byte> page) {
  PageHeader header;
  std::memcpy(&header, page.data(), sizeof(header));
  return header;
}
inline void WriteHeader(std::span<std::byte> page, const PageHeader& header) {
  std::memcpy(page.data(), &header, sizeof(header));
}

// --- superblock ---

struct Superblock {
  uint64_t generation = 0;  // 0: no checkpoint yet
  uint64_t root = kNoPage;  // tree root, kNoPage for an empty tree
  uint32_t height = 0;      // levels; 1 = the root is a leaf
  uint64_t wal_lsn = 1;     // replay the WAL from this LSN
  uint64_t next_seq = 1;    // first sequence number not used by the checkpoint
  uint64_t page_count = kSuperblockPages;  // pages in the file covered by this checkpoint
  uint64_t live_entries = 0;
  // The allocation map of this checkpoint: `alloc_map_pages` pages from `alloc_map_page`
  // (kNoPage: none; open then walks the tree).
  uint64_t alloc_map_page = kNoPage;
  uint32_t alloc_map_pages = 0;
};

// The allocation map's payload, spread over kAllocMap pages (each page's `count` is its index in
// the run, `used` its payload bytes): u64 page bits | the page bitmap (bit i of byte i/8: page i
// is used) | u64 cold blocks | u32 live bytes per cold block.
struct AllocMap {
  std::vector<bool> pages;
  std::vector<uint32_t> cold_live;
};
// Pages the encoded map takes.
uint32_t AllocMapPages(const AllocMap& map);
// Encodes into `pages` (AllocMapPages * kPageSize bytes) starting at page id `first`, sealed.
void EncodeAllocMap(const AllocMap& map, uint64_t first, uint64_t generation,
                    std::span<std::byte> pages);
// Decodes verified pages; Corruption when malformed.
Result<AllocMap> DecodeAllocMap(std::span<const std::byte> pages, uint64_t first,
                                const std::string& file);
void EncodeSuperblock(const Superblock& superblock, uint64_t page_id,
                      std::span<std::byte, kPageSize> page);
Result<Superblock> DecodeSuperblock(std::span<const std::byte, kPageSize> page, uint64_t page_id,
                                    const std::string& file);

// --- tree nodes ---

// A value too large for a leaf: `pages` contiguous overflow pages from `first_page`.
struct OverflowRef {
  uint64_t first_page = kNoPage;
  uint32_t pages = 0;
  uint64_t length = 0;
};

// An overflow reference as a leaf stores it (in place of the value): first page, pages, length.
inline constexpr size_t kOverflowRefSize = 20;
void PutOverflowRef(const OverflowRef& ref, char* out);  // kOverflowRefSize bytes
OverflowRef GetOverflowRef(std::string_view bytes);

// A leaf entry as a seek answers it (copies that outlive the node).
struct LeafEntry {
  std::string key;
  std::string value;  // inline value (when !overflow)
  bool overflow = false;
  OverflowRef ref;
};

// A leaf entry by views: the key, and the inline value or the kOverflowRefSize-byte reference
// (PutOverflowRef). The checkpoint's merge builds leaves from these, pointing into the old node
// and the memtable: materializing a LeafEntry (two strings) per entry was most of its
// allocations.
struct LeafItem {
  std::string_view key;
  bool overflow = false;
  std::string_view value;
  size_t EncodedSize(bool wide = false) const {
    return (wide ? 8 : 4) + 1 + 4 + key.size() + value.size();
  }
};

// A leaf entry's value as it lies in a page or a node (views valid while they are).
struct LeafValueView {
  bool overflow = false;
  std::string_view value;  // the inline value (when !overflow)
  OverflowRef ref;         // when overflow
};

// A leaf's key filter, kept in its parent's entry for it (LevelDB's filter blocks, at the
// granularity of a leaf): a blocked Bloom filter of four 64-bit words, where a key sets three bits
// of the one word its hash picks. A point read whose key's bits are not all set knows the leaf
// does not hold the key without reading it. With the 20-30 keys of a leaf of 100-byte values
// about 2% of the reads of absent keys still read the leaf (the single 64-bit word of two bits per
// key that kInner pages carried let 20-45% through: a bulk load of new keys read a leaf for a
// third of its SETs). A leaf of many more keys saturates its filter: no skip, never a wrong
// answer. Inner children, whose keys their own entries summarize, carry Any().
inline constexpr size_t kFilterWords = 4;
struct LeafKeyFilter {
  std::array<uint64_t, kFilterWords> words{};
  static constexpr LeafKeyFilter Any() {
    LeafKeyFilter any;
    any.words.fill(~uint64_t{0});
    return any;
  }
  bool operator==(const LeafKeyFilter&) const = default;
};
// Where a key's bits are: computed once per point read, checked at the leaf's parent.
struct KeyFilterProbe {
  uint32_t word = 0;
  uint64_t bits = 0;
};
KeyFilterProbe ProbeFor(std::string_view key);
inline bool MayHold(const LeafKeyFilter& filter, const KeyFilterProbe& probe) {
  return (filter.words[probe.word] & probe.bits) == probe.bits;
}
inline void AddToFilter(LeafKeyFilter& filter, const KeyFilterProbe& probe) {
  filter.words[probe.word] |= probe.bits;
}
LeafKeyFilter LeafFilter(std::span<const LeafItem> entries);

struct InnerEntry {
  std::string key;  // first key of the child (empty for the leftmost child)
  uint64_t child = kNoPage;
  LeafKeyFilter filter = LeafKeyFilter::Any();  // the child leaf's key filter
  size_t EncodedSize(bool wide = false) const {
    return (wide ? 8 : 4) + key.size() + 8 + 8 * kFilterWords;
  }
};

// Node payload (after the first page's header): offsets[count] (relative to the payload), then
// the entries.
//   leaf entry:  key length | u8 kind (0 inline, 1 overflow) | u32 value length | key | value
//                (overflow: value = u64 first page | u32 pages | u64 length)
//   inner entry: key length | key | u64 child | 4 x u64 child's key filter (kInnerWide; a
//                kInner page's entries have one u64 of an older filter layout, read as Any())
// A narrow node fits one page and uses u16 offsets and key lengths. A wide node (only a node
// holding a key too long for that) uses u32 ones and spans NodePages(used) contiguous pages: the
// first page's header has the type, count and the payload's total length (`used`); every further
// page is a kContinuation page (own header and checksum) carrying the next kPagePayload bytes.
inline constexpr size_t kNodeCapacity = kPagePayload;
inline uint32_t NodePages(uint64_t used) {
  return used <= kPagePayload ? 1 : static_cast<uint32_t>((used + kPagePayload - 1) / kPagePayload);
}
size_t LeafSize(std::span<const LeafItem> entries, bool wide = false);
size_t InnerSize(std::span<const InnerEntry> entries, bool wide = false);
// Pages a node of these entries takes.
uint32_t LeafPages(std::span<const LeafItem> entries);
uint32_t InnerPages(std::span<const InnerEntry> entries);
// Encode into `pages` (LeafPages/InnerPages * kPageSize bytes), every page sealed.
void EncodeLeaf(std::span<const LeafItem> entries, uint64_t page_id, uint64_t generation,
                std::span<std::byte> pages);
void EncodeInner(std::span<const InnerEntry> entries, uint64_t page_id, uint64_t generation,
                 std::span<std::byte> pages);
// Visit a node's entries, in order, from its verified pages (all NodePages(header.used) of
// them): a leaf's key and value (the inline value, or the kOverflowRefSize-byte reference when
// `overflow`), an inner node's key and child. The views point into `pages`. Every offset and
// length is checked first, and the continuation pages' type and ids, so pages that passed their
// checksums but are malformed (a bug) are reported as Corruption instead of read out of bounds.
Status VisitLeaf(std::span<const std::byte> pages, const std::string& file,
                 const std::function<void(std::string_view key, bool overflow,
                                          std::string_view value)>& visit);
Status VisitInner(std::span<const std::byte> pages, const std::string& file,
                  const std::function<void(std::string_view key, uint64_t child,
                                           const LeafKeyFilter& filter)>& visit);
// A point lookup in a leaf's verified pages without decoding it: a binary search over the
// entries as they lie in the pages, each one checked as VisitLeaf checks it. Calls `found` with
// the value of `key` (views into `pages`, valid during the call) and returns true, or returns
// false when the leaf has no such key.
Result<bool> FindInLeaf(std::span<const std::byte> pages, std::string_view key,
                        const std::string& file,
                        const std::function<void(const LeafValueView& value)>& found);

// Pages needed for an overflow value of `length` bytes.
inline uint32_t OverflowPages(uint64_t length) {
  return static_cast<uint32_t>((length + kPagePayload - 1) / kPagePayload);
}

}  // namespace tierkv::tiers
