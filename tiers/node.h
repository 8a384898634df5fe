// A tree node in memory (the node cache holds these; tiers/btree.h reads and builds them).
//
// Compact: one byte buffer with every key and its inline value (or overflow reference) back to
// back, and one 16-byte record per entry; two allocations per node, and about the bytes the
// entries take on the page. The previous form, a vector of entries each with heap strings for
// key and value, took twice the page in memory and an allocation per string: allocating and
// freeing those was a third of the CPU time of reads that miss the cache, and half as many nodes
// fit in the same memory (inner nodes of a tree 20x larger than memory did not). Nodes are
// immutable once built (tree pages are copy-on-write), so views into a node stay valid as long as
// the caller holds its NodeRef.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tiers/format.h"
#include "tiers/memtable.h"  // KeyHead

namespace tierkv::tiers {

class Node {
 public:
  PageType type = PageType::kLeaf;
  uint64_t page_id = kNoPage;
  uint64_t generation = 0;  // of the checkpoint that wrote it (re-encoding reproduces the pages)
  uint32_t pages = 1;       // contiguous pages from page_id (more than one: a wide node)
  size_t memory_bytes = 0;  // set by Seal()

  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  std::string_view key(size_t i) const {
    return std::string_view(bytes_).substr(records_[i].offset, records_[i].key_size);
  }
  // Leaf entries: an inline value (the view is empty for an overflow entry) or a reference.
  bool overflow(size_t i) const { return (records_[i].aux & kOverflowBit) != 0; }
  std::string_view value(size_t i) const {
    const Record& r = records_[i];
    return overflow(i) ? std::string_view() : ValueBytes(r);
  }
  OverflowRef ref(size_t i) const { return GetOverflowRef(ValueBytes(records_[i])); }
  LeafEntry leaf_entry(size_t i) const;
  // The same by views into the node (an overflow entry's value is its encoded reference).
  LeafItem leaf_item(size_t i) const {
    return LeafItem{key(i), overflow(i), ValueBytes(records_[i])};
  }
  // Inner entries.
  uint64_t child(size_t i) const { return records_[i].aux; }
  // The index of the child covering `key`: the last entry whose key is <= key (< when `strict`);
  // entry 0 stands for everything below entry 1.
  size_t ChildIndex(std::string_view key, bool strict) const;
  // The key filter of child i (Any() for inner children; tiers/format.h).
  const LeafKeyFilter& filter(size_t i) const { return filters_[i]; }
  InnerEntry inner_entry(size_t i) const {
    return InnerEntry{std::string(key(i)), child(i), filter(i)};
  }
  // All entries, materialized (encoding and relocation; lookups use the accessors).
  std::vector<InnerEntry> inner_entries() const;
  // Index of the first entry whose key is >= key (LowerBound) or > key (UpperBound). A binary
  // search over the entries' 8-byte heads (the bytes after the prefix all the node's keys
  // share), which sit together in heads_: most probes compare two integers and read no key
  // bytes, which are scattered over the node (each probe of bytes_ was a cache miss in a node
  // not recently read: 6% of a pipelined SET whose old headers came from the tree).
  size_t LowerBound(std::string_view key) const { return Bound(key, 0, /*upper=*/false); }
  size_t UpperBound(std::string_view key) const { return Bound(key, 0, /*upper=*/true); }

  // Building: reserve, add entries in key order, then Seal (sizes the memory charge).
  void Reserve(size_t entries, size_t bytes);
  void AddLeaf(std::string_view key, bool overflow, std::string_view value_or_ref);
  void AddInner(std::string_view key, uint64_t child, const LeafKeyFilter& filter);
  void Seal();

 private:
  static constexpr uint64_t kOverflowBit = uint64_t{1} << 63;
  struct Record {
    uint32_t offset;    // of the key in bytes_; a leaf's value follows it
    uint32_t key_size;
    uint64_t aux;       // leaf: value size | kOverflowBit; inner: child page
  };
  std::string_view ValueBytes(const Record& r) const {
    return std::string_view(bytes_).substr(r.offset + r.key_size, r.aux & ~kOverflowBit);
  }
  // The first index in [from, size()) whose key is >= key (> key when `upper`).
  size_t Bound(std::string_view key, size_t from, bool upper) const;

  std::string bytes_;
  std::vector<Record> records_;
  std::vector<LeafKeyFilter> filters_;  // inner nodes: per entry
  // Set by Seal: the length of the prefix every key shares, and per entry the KeyHead of the
  // bytes after it (memtable.h: comparing heads orders keys whenever they differ).
  size_t prefix_ = 0;
  std::vector<uint64_t> heads_;
};
using NodeRef = std::shared_ptr<const Node>;

// Decodes a node from its verified pages.
Result<std::shared_ptr<Node>> DecodeNode(std::span<const std::byte> pages, uint64_t page_id,
                                         const std::string& file);
// Builds a node of these entries (in key order); `pages` and `memory_bytes` are set.
std::shared_ptr<Node> MakeLeafNode(std::span<const LeafItem> entries);
std::shared_ptr<Node> MakeInnerNode(std::span<const InnerEntry> entries);
// Encodes a node back into its node.pages pages (byte-identical to what the checkpoint wrote).
void EncodeNode(const Node& node, std::span<std::byte> pages);

}  // namespace tierkv::tiers
