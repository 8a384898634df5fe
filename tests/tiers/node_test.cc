// Point lookups in leaves: FindInLeaf on encoded pages against a model and against the decoded
// node, malformed pages as Corruption, and the node cache's doorkeeper for leaves read by point
// lookups (searched in the read buffer the first time, cached when read again soon).
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <array>
#include <bit>
#include <map>
#include <set>

#include "core/aligned_buffer.h"
#include "tests/env_harness.h"
#include "tiers/format.h"
#include "tiers/node.h"
#include "tiers/node_cache.h"
#include "tiers/page_file.h"

namespace tierkv::tiers {
namespace {

const std::string kFile = "test-file";

// Owning entries as the views (LeafItem) the leaf builders take; valid while this lives.
struct Items {
  explicit Items(const std::vector<LeafEntry>& entries) : refs(entries.size()) {
    for (size_t i = 0; i < entries.size(); i++) {
      const LeafEntry& entry = entries[i];
      if (!entry.overflow) {
        items.push_back(LeafItem{entry.key, false, entry.value});
        continue;
      }
      PutOverflowRef(entry.ref, refs[i].data());
      items.push_back(LeafItem{entry.key, true, std::string_view(refs[i].data(), kOverflowRefSize)});
    }
  }
  std::vector<std::array<char, kOverflowRefSize>> refs;
  std::vector<LeafItem> items;
};

AlignedBuffer Encode(const std::vector<LeafEntry>& entries, uint64_t page_id) {
  const Items items(entries);
  AlignedBuffer pages(size_t{LeafPages(items.items)} * kPageSize);
  EncodeLeaf(items.items, page_id, /*generation=*/1, pages.span());
  return pages;
}

LeafEntry Inline(std::string key, std::string value) {
  LeafEntry entry;
  entry.key = std::move(key);
  entry.value = std::move(value);
  return entry;
}

// What FindInLeaf reports, as a comparable string: "-" absent, "v:<value>" or "o:<first page>".
std::string Probe(std::span<const std::byte> pages, std::string_view key) {
  std::string seen;
  auto found = FindInLeaf(pages, key, kFile, [&](const LeafValueView& value) {
    seen = value.overflow ? "o:" + std::to_string(value.ref.first_page)
                          : "v:" + std::string(value.value);
  });
  REQUIRE_MESSAGE(found.has_value(), found.error().ToString());
  CHECK(*found == !seen.empty());
  return *found ? seen : "-";
}

TEST_CASE("property: FindInLeaf answers as the model, narrow and wide leaves, inline and overflow values") {
  bool ok = rc::check("FindInLeaf vs a map", [] {
    // Keys from a small alphabet (neighbours and prefixes of each other), now and then one long
    // enough to make the leaf wide; the payload kept within a few pages.
    std::map<std::string, std::string> model;
    std::vector<LeafEntry> entries;
    const int count = *rc::gen::inRange(0, 40);
    for (int i = 0; i < count; i++) {
      std::string key = *rc::gen::container<std::string>(rc::gen::inRange('a', 'e'));
      if (*rc::gen::inRange(0, 30) == 0) key += std::string(5000, 'k');
      model[key] = "";
    }
    uint64_t next_page = 100;
    for (auto& [key, shown] : model) {
      if (*rc::gen::inRange(0, 5) == 0) {
        LeafEntry entry;
        entry.key = key;
        entry.overflow = true;
        entry.ref = OverflowRef{next_page, 2, 5000};
        shown = "o:" + std::to_string(next_page++);
        entries.push_back(std::move(entry));
      } else {
        std::string value = *rc::gen::container<std::string>(rc::gen::inRange('0', '9'));
        shown = "v:" + value;
        entries.push_back(Inline(key, value));
      }
    }
    AlignedBuffer pages = Encode(entries, 7);
    for (const auto& [key, shown] : model) RC_ASSERT(Probe(pages.span(), key) == shown);
    for (int i = 0; i < 20; i++) {
      std::string key = *rc::gen::container<std::string>(rc::gen::inRange('a', 'f'));
      auto it = model.find(key);
      RC_ASSERT(Probe(pages.span(), key) == (it == model.end() ? "-" : it->second));
    }
    // The leaf's filter holds every key's bits (a missing bit would make a present key absent).
    const LeafKeyFilter filter = LeafFilter(Items(entries).items);
    for (const auto& [key, shown] : model) RC_ASSERT(MayHold(filter, ProbeFor(key)));
    // The decoded node agrees entry by entry.
    auto node = DecodeNode(pages.span(), 7, kFile);
    RC_ASSERT(node.has_value());
    RC_ASSERT((*node)->size() == model.size());
  });
  CHECK(ok);
}

// The child a descent takes, by definition: the last entry (from 1) whose key is <= key (<).
size_t ChildByDefinition(const std::vector<InnerEntry>& entries, std::string_view key, bool strict) {
  size_t child = 0;
  for (size_t i = 1; i < entries.size(); i++) {
    if (strict ? entries[i].key < key : entries[i].key <= key) child = i;
  }
  return child;
}

TEST_CASE("property: inner nodes: ChildIndex picks the child the definition does") {
  bool ok = rc::check("ChildIndex vs a linear scan", [] {
    // Keys with a shared prefix of any length and bytes from a tiny alphabet that includes NUL
    // (keys that are prefixes of each other).
    const std::string prefix = *rc::gen::container<std::string>(rc::gen::inRange('p', 'r'));
    auto gen_key = [&] {
      std::string tail = *rc::gen::container<std::string>(rc::gen::element('\0', 'a', 'b', '\xff'));
      return *rc::gen::inRange(0, 8) == 0 ? tail : prefix + tail;
    };
    std::set<std::string> keys;
    const int count = *rc::gen::inRange(1, 60);
    for (int i = 0; i < count; i++) keys.insert(gen_key());
    std::vector<InnerEntry> entries = {InnerEntry{"", 1}};
    for (const std::string& key : keys) {
      if (!key.empty()) entries.push_back(InnerEntry{key, entries.size() + 1});
    }
    auto node = MakeInnerNode(entries);
    for (int i = 0; i < 30; i++) {
      const std::string key = *rc::gen::inRange(0, 3) == 0
                                  ? entries[*rc::gen::inRange<size_t>(0, entries.size())].key
                                  : gen_key();
      for (bool strict : {false, true}) {
        RC_ASSERT(node->ChildIndex(key, strict) == ChildByDefinition(entries, key, strict));
      }
    }
  });
  CHECK(ok);
}

TEST_CASE("property: leaves: LowerBound and UpperBound by key heads agree with std::lower_bound") {
  bool ok = rc::check("Bound vs the sorted keys", [] {
    // Leaf keys all share a prefix (a node's keys usually do: the searches skip it and compare
    // 8-byte heads of the rest); tails from a tiny alphabet with NUL make equal heads, keys that
    // are prefixes of each other, and tails past 8 bytes. Queries: keys of the node, keys with
    // the prefix, and keys without it (shorter, or sorting before or after every entry).
    const std::string prefix = *rc::gen::container<std::string>(rc::gen::inRange('p', 'r'));
    auto gen_tail = [] {
      return *rc::gen::container<std::string>(rc::gen::element('\0', 'a', 'b', '\xff'));
    };
    std::set<std::string> keys;
    const int count = *rc::gen::inRange(1, 60);
    for (int i = 0; i < count; i++) keys.insert(prefix + gen_tail());
    std::vector<LeafEntry> entries;
    for (const std::string& key : keys) entries.push_back(Inline(key, "v"));
    auto node = MakeLeafNode(Items(entries).items);
    const std::vector<std::string> sorted(keys.begin(), keys.end());
    for (int i = 0; i < 30; i++) {
      std::string key;
      switch (*rc::gen::inRange(0, 4)) {
        case 0: key = sorted[*rc::gen::inRange<size_t>(0, sorted.size())]; break;
        case 1: key = prefix + gen_tail(); break;
        case 2: key = prefix.substr(0, *rc::gen::inRange<size_t>(0, prefix.size() + 1)); break;
        default: key = gen_tail() + gen_tail(); break;
      }
      const auto lower = std::lower_bound(sorted.begin(), sorted.end(), key) - sorted.begin();
      const auto upper = std::upper_bound(sorted.begin(), sorted.end(), key) - sorted.begin();
      RC_ASSERT(node->LowerBound(key) == static_cast<size_t>(lower));
      RC_ASSERT(node->UpperBound(key) == static_cast<size_t>(upper));
    }
  });
  CHECK(ok);
}

TEST_CASE("inner entries keep their child's key filter through encoding and decoding") {
  std::vector<LeafEntry> leaf = {Inline("apple", "1"), Inline("banana", "2"), Inline("cherry", "3")};
  const LeafKeyFilter filter = LeafFilter(Items(leaf).items);
  int bits = 0;
  for (uint64_t word : filter.words) bits += std::popcount(word);
  CHECK(bits <= 9);
  LeafKeyFilter custom;
  custom.words = {0x5, 0, 0, uint64_t{1} << 63};
  std::vector<InnerEntry> entries = {InnerEntry{"", 10, filter},
                                     InnerEntry{"m", 11, LeafKeyFilter::Any()},
                                     InnerEntry{"t", 12, custom}};
  AlignedBuffer pages(kPageSize);
  EncodeInner(entries, 4, 1, pages.span());
  CHECK(ReadHeader(pages.span()).type == static_cast<uint16_t>(PageType::kInnerWide));
  auto node = DecodeNode(pages.span(), 4, kFile);
  REQUIRE(node.has_value());
  CHECK((*node)->type == PageType::kInner);
  REQUIRE((*node)->size() == 3);
  CHECK((*node)->filter(0) == filter);
  CHECK((*node)->filter(1) == LeafKeyFilter::Any());
  CHECK((*node)->filter(2) == custom);
  CHECK((*node)->inner_entry(2).filter == custom);
  CHECK((*node)->child(2) == 12);
}

TEST_CASE("leaf filters rule out almost every absent key of a full leaf") {
  // A leaf of 100-byte values holds 20-30 keys; the 64-bit filter of kInner pages let 20-45% of
  // absent keys through at that size, a bulk load of new keys reading a leaf for a third of them.
  for (int keys : {20, 30}) {
    std::vector<LeafItem> items;
    std::vector<std::string> names;
    for (int i = 0; i < keys; i++) names.push_back("key:" + std::to_string(1000 + i * 37));
    for (const std::string& name : names) items.push_back(LeafItem{name, false, "v"});
    const LeafKeyFilter filter = LeafFilter(items);
    for (const std::string& name : names) CHECK(MayHold(filter, ProbeFor(name)));
    int passed = 0;
    for (int i = 0; i < 10000; i++) passed += MayHold(filter, ProbeFor("absent:" + std::to_string(i)));
    MESSAGE(keys << " keys: " << passed << " of 10000 absent keys pass the filter");
    CHECK(passed < (keys == 20 ? 150 : 400));
  }
}

// An inner page as builds before kInnerWide wrote it: one u64 filter per entry, of another bit
// layout. Narrow: u16 offsets, then u16 key length | key | u64 child | u64 filter.
void EncodeOlderInner(const std::vector<std::pair<std::string, uint64_t>>& children,
                      uint64_t filter, uint64_t page_id, std::span<std::byte> page) {
  std::vector<std::byte> payload(children.size() * 2);
  auto put = [&](const void* data, size_t size) {
    const auto* bytes = static_cast<const std::byte*>(data);
    payload.insert(payload.end(), bytes, bytes + size);
  };
  for (size_t i = 0; i < children.size(); i++) {
    const auto offset = static_cast<uint16_t>(payload.size());
    std::memcpy(payload.data() + 2 * i, &offset, 2);
    const auto length = static_cast<uint16_t>(children[i].first.size());
    put(&length, 2);
    put(children[i].first.data(), length);
    put(&children[i].second, 8);
    put(&filter, 8);
  }
  std::fill(page.begin(), page.end(), std::byte{0});
  WriteHeader(page, PageHeader{0, page_id, 1, static_cast<uint16_t>(PageType::kInner),
                               static_cast<uint16_t>(children.size()),
                               static_cast<uint32_t>(payload.size())});
  std::memcpy(page.data() + kPageHeaderSize, payload.data(), payload.size());
  SealPage(page.first<kPageSize>());
}

TEST_CASE("an inner page of the older filter layout is read, its filters as any key") {
  AlignedBuffer page(kPageSize);
  // Filter bits that ProbeFor would read as ruling keys out: they must not.
  EncodeOlderInner({{"", 20}, {"k", 21}, {"q", 22}}, /*filter=*/0x1, 9, page.span());
  auto node = DecodeNode(page.span(), 9, kFile);
  REQUIRE(node.has_value());
  CHECK((*node)->type == PageType::kInner);
  REQUIRE((*node)->size() == 3);
  CHECK((*node)->key(1) == "k");
  CHECK((*node)->child(2) == 22);
  for (size_t i = 0; i < 3; i++) CHECK((*node)->filter(i) == LeafKeyFilter::Any());
  // Rewritten (a checkpoint copies untouched entries), it becomes a kInnerWide page.
  std::vector<InnerEntry> entries;
  for (size_t i = 0; i < 3; i++) entries.push_back((*node)->inner_entry(i));
  AlignedBuffer rewritten(kPageSize);
  EncodeInner(entries, 9, 2, rewritten.span());
  auto again = DecodeNode(rewritten.span(), 9, kFile);
  REQUIRE(again.has_value());
  CHECK((*again)->filter(1) == LeafKeyFilter::Any());
  CHECK(ReadHeader(rewritten.span()).type == static_cast<uint16_t>(PageType::kInnerWide));
}

TEST_CASE("a data file of format 1 is refused with a clear error") {
  AlignedBuffer page(kPageSize);
  Superblock sb;
  sb.generation = 3;
  EncodeSuperblock(sb, 1, page.span().first<kPageSize>());
  REQUIRE(DecodeSuperblock(page.span().first<kPageSize>(), 1, kFile).has_value());
  page.data()[kPageHeaderSize + 7] = std::byte{'1'};  // the magic's version: TIERKVS1
  SealPage(page.span().first<kPageSize>());
  auto old = DecodeSuperblock(page.span().first<kPageSize>(), 1, kFile);
  REQUIRE_FALSE(old.has_value());
  CHECK(old.error().ToString().find("format 1") != std::string::npos);
}

TEST_CASE("FindInLeaf reports a malformed leaf as Corruption, never reads out of bounds") {
  std::vector<LeafEntry> entries;
  for (int i = 0; i < 20; i++) entries.push_back(Inline("key" + std::to_string(i + 10), "v"));
  AlignedBuffer pages = Encode(entries, 3);
  // Entry 10's offset (u16, the payload's 11th) pointed past the payload.
  const uint16_t past = kPagePayload - 2;
  std::memcpy(pages.data() + kPageHeaderSize + 2 * 10, &past, 2);
  auto found = FindInLeaf(pages.span(), "key20", kFile, [](const LeafValueView&) {});
  REQUIRE_FALSE(found.has_value());
  CHECK(found.error().code() == StatusCode::kCorruption);
  CHECK(found.error().ToString().find("page 3 of test-file") != std::string::npos);
  // An inner node where a leaf belongs.
  std::vector<InnerEntry> inner = {InnerEntry{"", 10}, InnerEntry{"m", 11}};
  AlignedBuffer inner_pages(kPageSize);
  EncodeInner(inner, 4, 1, inner_pages.span());
  auto wrong = FindInLeaf(inner_pages.span(), "m", kFile, [](const LeafValueView&) {});
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().code() == StatusCode::kCorruption);
}

TEST_CASE("node cache: a leaf read by a point lookup is cached only when looked up again soon") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    auto file = PageFile::Open(env, dir + "/data");
    REQUIRE(file.has_value());
    // Page 2: a narrow leaf; pages 3-4: a wide one (a 6000-byte key).
    std::vector<LeafEntry> narrow = {Inline("a", "1"), Inline("b", "2"), Inline("c", "3")};
    std::vector<LeafEntry> wide = {Inline("x", "4"), Inline(std::string(6000, 'y'), "5")};
    REQUIRE(LeafPages(Items(wide).items) == 2);
    REQUIRE((*file)->Write(2, Encode(narrow, 2).span()).ok());
    REQUIRE((*file)->Write(3, Encode(wide, 3).span()).ok());
    NodeCache cache(**file, 1 << 20);
    auto lookup = [&](uint64_t page, std::string_view key) {
      std::string seen = "-";
      auto found = cache.FindInLeaf(page, key, [&](const LeafValueView& value) {
        seen = std::string(value.value);
      });
      REQUIRE_MESSAGE(found.has_value(), found.error().ToString());
      return seen;
    };
    CHECK(lookup(2, "b") == "2");
    CHECK(cache.stats().nodes == 0);  // searched in the read buffer
    CHECK(cache.stats().misses == 1);
    CHECK(lookup(2, "bb") == "-");    // read again soon: decoded and cached
    CHECK(cache.stats().nodes == 1);
    CHECK(lookup(2, "c") == "3");     // from the cached node
    CHECK(cache.stats().hits == 1);
    CHECK((*file)->reads() == 2);
    CHECK(lookup(3, std::string(6000, 'y')) == "5");
    CHECK(lookup(3, "x") == "4");
    CHECK(cache.stats().nodes == 2);
    CHECK(lookup(3, "z") == "-");
    CHECK(cache.stats().hits == 2);
    // Scans and merges read through Get, which caches at once.
    REQUIRE((*file)->Write(5, Encode(narrow, 5).span()).ok());
    auto node = cache.Get(5);
    REQUIRE(node.has_value());
    CHECK(cache.stats().nodes == 3);
    // A damaged page is Corruption naming the file and page, on either path.
    std::byte flip{0x5a};
    REQUIRE((*file)->Write(6, Encode(narrow, 6).span()).ok());
    auto raw = env.OpenFile(dir + "/data", {});
    REQUIRE(raw.has_value());
    REQUIRE((*raw)->Write(6 * kPageSize + 200, std::span(&flip, 1)).ok());
    auto damaged = cache.FindInLeaf(6, "a", [](const LeafValueView&) {});
    REQUIRE_FALSE(damaged.has_value());
    CHECK(damaged.error().code() == StatusCode::kCorruption);
    CHECK(damaged.error().ToString().find("page 6") != std::string::npos);
  });
}

}  // namespace
}  // namespace tierkv::tiers
