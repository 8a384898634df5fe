// Storage engine: operations, snapshots, iterators, checkpoints and reopen, large values,
// reclamation, the PMem WAL and tier. Basic cases run on both Envs. Crashes, corruption and
// failed writes: engine_faults_test.cc.
#include <doctest/doctest.h>
#include <xxhash.h>

#include <map>

#include "core/aligned_buffer.h"
#include "core/random.h"
#include "tests/env_harness.h"
#include "tests/tiers/engine_helpers.h"
#include "tests/sim/sim_helpers.h"
#include "tiers/engine.h"

namespace tierkv::tiers {
namespace {

using testing::RunInBoth;

using testing_helpers::Key;
using testing_helpers::MustOpen;
using testing_helpers::SmallOptions;
using testing_helpers::Value;

std::map<std::string, std::string> ScanAll(EngineIterator& it) {
  std::map<std::string, std::string> out;
  REQUIRE(it.SeekToFirst().ok());
  while (it.Valid()) {
    out[it.key()] = it.value().value();
    REQUIRE(it.Next().ok());
  }
  return out;
}

TEST_CASE("engine: put, get, delete, overwrite, batch; survives checkpoint and reopen") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    {
      auto engine = MustOpen(env, options);
      REQUIRE(engine->Put("a", "1").ok());
      REQUIRE(engine->Put("b", "2").ok());
      REQUIRE(engine->Put("a", "3").ok());
      REQUIRE(engine->Delete("b").ok());
      WriteBatch batch;
      batch.Put("c", "4");
      batch.Put("d", "5");
      batch.Delete("c");
      REQUIRE(engine->Write(batch).ok());
      CHECK(engine->Get("a").value() == "3");
      CHECK_FALSE(engine->Get("b").value().has_value());
      CHECK_FALSE(engine->Get("c").value().has_value());
      CHECK(engine->Get("d").value() == "5");
      REQUIRE(engine->Checkpoint().ok());
      CHECK(engine->Get("a").value() == "3");
      REQUIRE(engine->Put("e", "6").ok());  // only in the WAL at reopen
      REQUIRE(engine->Close().ok());
    }
    auto engine = MustOpen(env, options);
    CHECK(engine->Get("a").value() == "3");
    CHECK_FALSE(engine->Get("b").value().has_value());
    CHECK(engine->Get("d").value() == "5");
    CHECK(engine->Get("e").value() == "6");
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: many keys through several checkpoints, iteration both ways from any key") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    auto engine = MustOpen(env, SmallOptions(dir));
    std::map<std::string, std::string> model;
    for (int round = 0; round < 3; round++) {
      for (int i = round; i < 3000; i += 3) {
        REQUIRE(engine->Put(Key(i), Value(i + round)).ok());
        model[Key(i)] = Value(i + round);
      }
      REQUIRE(engine->Checkpoint().ok());
    }
    for (int i = 0; i < 3000; i += 7) {
      REQUIRE(engine->Delete(Key(i)).ok());
      model.erase(Key(i));
    }
    CHECK(engine->stats().checkpoints >= 3);
    auto it = engine->NewIterator();
    CHECK(ScanAll(*it) == model);
    // Reverse from the end.
    REQUIRE(it->SeekToLast().ok());
    auto expected = model.rbegin();
    int steps = 0;
    while (it->Valid() && steps < 500) {
      REQUIRE(expected != model.rend());
      CHECK(it->key() == expected->first);
      ++expected;
      ++steps;
      REQUIRE(it->Prev().ok());
    }
    // Seek / SeekForPrev from keys present and absent.
    for (std::string probe : std::vector<std::string>{Key(0), Key(7), Key(1500), "key001500x", "zzz", ""}) {
      REQUIRE(it->Seek(probe).ok());
      auto ge = model.lower_bound(probe);
      CHECK(it->Valid() == (ge != model.end()));
      if (it->Valid()) CHECK(it->key() == ge->first);
      REQUIRE(it->SeekForPrev(probe).ok());
      auto le = model.upper_bound(probe);
      bool has = le != model.begin();
      CHECK(it->Valid() == has);
      if (has) CHECK(it->key() == std::prev(le)->first);
    }
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: reads of absent keys skip leaves by their filters; present keys always found") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    auto engine = MustOpen(env, SmallOptions(dir));
    // Even keys present, odd ones never written or deleted; through checkpoints that rewrite
    // leaves (and so their filters) after deletions and overwrites, and a reopen.
    for (int i = 0; i < 4000; i += 2) REQUIRE(engine->Put(Key(i), Value(i, 100)).ok());
    REQUIRE(engine->Checkpoint().ok());
    for (int i = 1; i < 4000; i += 10) REQUIRE(engine->Put(Key(i), Value(i, 100)).ok());
    REQUIRE(engine->Checkpoint().ok());
    for (int i = 1; i < 4000; i += 10) REQUIRE(engine->Delete(Key(i)).ok());
    REQUIRE(engine->Checkpoint().ok());
    REQUIRE(engine->Close().ok());
    engine.reset();
    engine = MustOpen(env, SmallOptions(dir));
    const uint64_t reads_before = engine->stats().page_reads;
    for (int i = 0; i < 4000; i++) {
      auto got = engine->Get(Key(i));
      REQUIRE(got.has_value());
      CHECK_MESSAGE(got->has_value() == (i % 2 == 0), Key(i));
      if (i % 2 == 0 && got->has_value()) CHECK(**got == Value(i, 100));
    }
    const EngineStats stats = engine->stats();
    // ~25 keys per leaf of 100-byte values: nearly all of the 2000 absent keys are ruled out
    // (the 64-bit filters of kInner pages ruled out 1100-1400).
    CHECK(stats.leaf_filter_skips > 1900);
    CHECK(stats.leaf_filter_skips < 2000);
    MESSAGE("filter skips: " << stats.leaf_filter_skips << ", page reads: "
                             << stats.page_reads - reads_before);
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: a data file of format 1 is refused with an error naming the format") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    REQUIRE(env.CreateDir(options.dir).ok());
    // Format 1's superblocks: magic TIERKVS1 and an XXH64 checksum seeded with the page id.
    AlignedBuffer pages(2 * kPageSize);
    for (uint64_t slot = 0; slot < 2; slot++) {
      std::span<std::byte, kPageSize> page(pages.data() + slot * kPageSize, kPageSize);
      EncodeSuperblock(Superblock{}, slot, page);
      std::memcpy(page.data() + kPageHeaderSize, "TIERKVS1", 8);
      PageHeader header = ReadHeader(page);
      header.checksum = XXH64(page.data() + 8, kPageSize - 8, slot);
      WriteHeader(page, header);
    }
    auto file = env.OpenFile(JoinPath(options.dir, "data"), {.create = true});
    REQUIRE(file.has_value());
    REQUIRE((*file)->Write(0, pages.span()).ok());
    REQUIRE((*file)->Sync().ok());
    file->reset();
    auto engine = Engine::Open(env, options);
    REQUIRE_FALSE(engine.has_value());
    CHECK(engine.error().ToString().find("format 1") != std::string::npos);
  });
}

TEST_CASE("engine: a snapshot is a consistent view while writes and checkpoints go on") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    auto engine = MustOpen(env, SmallOptions(dir));
    for (int i = 0; i < 500; i++) REQUIRE(engine->Put(Key(i), "old").ok());
    auto snapshot = engine->GetSnapshot();
    std::map<std::string, std::string> at_snapshot;
    for (int i = 0; i < 500; i++) at_snapshot[Key(i)] = "old";
    for (int i = 0; i < 500; i += 2) REQUIRE(engine->Put(Key(i), "new").ok());
    for (int i = 1; i < 500; i += 4) REQUIRE(engine->Delete(Key(i)).ok());
    REQUIRE(engine->Put("zz-after", "x").ok());
    REQUIRE(engine->Checkpoint().ok());
    REQUIRE(engine->Checkpoint().ok());
    CHECK(engine->Get(Key(0), snapshot.get()).value() == "old");
    CHECK(engine->Get(Key(1), snapshot.get()).value() == "old");
    CHECK_FALSE(engine->Get("zz-after", snapshot.get()).value().has_value());
    auto it = engine->NewIterator(snapshot);
    auto scanned = ScanAll(*it);
    CHECK(scanned.size() == at_snapshot.size());
    for (const auto& [k, v] : at_snapshot) {
      auto f = scanned.find(k);
      if (f == scanned.end() || f->second != v) {
        auto after = scanned.lower_bound(k);
        FAIL_CHECK("snapshot scan differs at " << k << ": " << (f == scanned.end() ? std::string("<missing>") : f->second)
                   << " next scanned " << (after == scanned.end() ? std::string("<end>") : after->first)
                   << " stats gen " << engine->stats().generation);
        break;
      }
    }
    CHECK(engine->Get(Key(0)).value() == "new");
    CHECK_FALSE(engine->Get(Key(1)).value().has_value());
    it.reset();
    snapshot.reset();
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: overwrites replace memtable versions only when no snapshot can see them") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    options.memtable_bytes = 1 << 20;  // no checkpoint in between
    options.checkpoint_interval = seconds(3600);
    auto engine = MustOpen(env, options);
    REQUIRE(engine->Put("k", "v0000").ok());
    // No snapshot: a key written again and again keeps one version (values of any length).
    for (int i = 1; i <= 200; i++) REQUIRE(engine->Put("k", "v" + std::to_string(i * 37 % 1000)).ok());
    CHECK(engine->stats().memtable_entries == 1);
    CHECK(engine->Get("k").value() == "v" + std::to_string(200 * 37 % 1000));
    // A snapshot, held through overwrites of the same length and longer, and a delete.
    REQUIRE(engine->Put("k", "before").ok());
    auto snapshot = engine->GetSnapshot();
    auto iterator = engine->NewIterator(snapshot);
    for (int i = 0; i < 50; i++) REQUIRE(engine->Put("k", i % 2 ? "after!" : "after, longer").ok());
    REQUIRE(engine->Delete("k").ok());
    CHECK(engine->Get("k", snapshot.get()).value() == "before");
    REQUIRE(iterator->Seek("k").ok());
    REQUIRE(iterator->Valid());
    CHECK(iterator->value().value() == "before");
    CHECK_FALSE(engine->Get("k").value().has_value());
    // The versions after the snapshot collapsed into one: "before" and the newest.
    CHECK(engine->stats().memtable_entries == 2);
    iterator.reset();
    snapshot.reset();
    const uint64_t entries = engine->stats().memtable_entries;
    for (int i = 0; i < 50; i++) REQUIRE(engine->Put("k", "again").ok());
    CHECK(engine->stats().memtable_entries == entries);
    CHECK(engine->Get("k").value() == "again");
    REQUIRE(engine->Close().ok());
    engine.reset();
    // Recovery replays every record and ends at the newest value.
    auto reopened = MustOpen(env, options);
    CHECK(reopened->Get("k").value() == "again");
    REQUIRE(reopened->Close().ok());
  });
}

TEST_CASE("engine: a forward walk sees its snapshot while keys are written around its position") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    options.background_checkpoints = false;
    auto engine = MustOpen(env, options);
    // Even keys exist before the walk: some in the tree, the rest in the memtable.
    for (int i = 0; i < 200; i += 2) REQUIRE(engine->Put(Key(i), "v" + std::to_string(i)).ok());
    REQUIRE(engine->Checkpoint().ok());
    for (int i = 200; i < 400; i += 2) REQUIRE(engine->Put(Key(i), "v" + std::to_string(i)).ok());
    auto it = engine->NewIterator();
    REQUIRE(it->Seek(Key(0)).ok());
    std::vector<std::string> seen;
    for (int step = 0; it->Valid() && step < 1000; step++) {
      seen.push_back(it->key() + "=" + it->value().value());
      // Around the position: new keys just behind and just ahead (not in the snapshot),
      // overwrites and deletes of keys ahead (the walk keeps their old values), and now and then
      // a checkpoint, which freezes the memtable the walk is reading.
      const int at = std::stoi(it->key().substr(3));
      REQUIRE(engine->Put(Key(at + 1), "new").ok());
      if (at > 0) REQUIRE(engine->Put(Key(at - 1), "new").ok());
      REQUIRE(engine->Put(Key(at + 4), "changed").ok());
      if (at % 10 == 0) REQUIRE(engine->Delete(Key(at + 6)).ok());
      if (at % 64 == 0) REQUIRE(engine->Checkpoint().ok());
      REQUIRE(it->Next().ok());
    }
    std::vector<std::string> expected;
    for (int i = 0; i < 400; i += 2) expected.push_back(Key(i) + "=v" + std::to_string(i));
    CHECK(seen == expected);
    // A Prev, then forward again, after all that.
    REQUIRE(it->SeekForPrev(Key(101)).ok());
    REQUIRE(it->Valid());
    CHECK(it->key() == Key(100));
    REQUIRE(it->Prev().ok());
    CHECK(it->key() == Key(98));
    REQUIRE(it->Next().ok());
    CHECK(it->key() == Key(100));
    REQUIRE(it->Next().ok());
    CHECK(it->key() == Key(102));
    it.reset();
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: an iterator confined to a prefix seeks into it from below and from above") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    options.background_checkpoints = false;
    auto engine = MustOpen(env, options);
    // Keys below, inside and above the prefix "k", in the tree and in the memtable; a tombstone
    // and a live key above it, the regression's shape (a backward seek from above stopped at them).
    for (const char* key : {"a1", "k1", "k2", "m1"}) REQUIRE(engine->Put(key, "tree").ok());
    REQUIRE(engine->Checkpoint().ok());
    for (const char* key : {"a2", "k3", "m2", "m3", "\xff"}) REQUIRE(engine->Put(key, "mem").ok());
    REQUIRE(engine->Delete("m2").ok());
    auto it = engine->NewIterator(nullptr, "k");
    REQUIRE(it->SeekForPrev("m2").ok());
    REQUIRE(it->Valid());
    CHECK(it->key() == "k3");
    REQUIRE(it->Prev().ok());
    CHECK(it->key() == "k2");
    REQUIRE(it->SeekToLast().ok());
    CHECK(it->key() == "k3");
    REQUIRE(it->SeekForPrev("k2").ok());
    CHECK(it->key() == "k2");
    REQUIRE(it->Seek("a").ok());
    CHECK(it->key() == "k1");
    REQUIRE(it->SeekToFirst().ok());
    CHECK(it->key() == "k1");
    REQUIRE(it->Seek("k4").ok());
    CHECK_FALSE(it->Valid());
    REQUIRE(it->SeekForPrev("j").ok());
    CHECK_FALSE(it->Valid());
    // A prefix of 0xff bytes has no successor; a backward seek from the end still finds its keys.
    it = engine->NewIterator(nullptr, "\xff");
    REQUIRE(it->SeekToLast().ok());
    REQUIRE(it->Valid());
    CHECK(it->key() == "\xff");
    it.reset();
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: large values span overflow pages; range reads read only what they need") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    std::string big(3 << 20, '\0');
    for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>('A' + (i * 7 + i / 4096) % 26);
    {
      auto engine = MustOpen(env, options);
      REQUIRE(engine->Put("big", big).ok());
      REQUIRE(engine->Put("medium", std::string(5000, 'm')).ok());
      REQUIRE(engine->Checkpoint().ok());
      REQUIRE(engine->Close().ok());
    }
    auto engine = MustOpen(env, options);
    CHECK(engine->Get("big").value() == big);
    CHECK(engine->Get("medium").value() == std::string(5000, 'm'));
    auto range = engine->GetRange("big", 1'000'000, 10'000);
    CHECK(range.value() == big.substr(1'000'000, 10'000));
    CHECK(engine->GetRange("big", big.size() - 5, 100).value() == big.substr(big.size() - 5));
    REQUIRE(engine->Delete("big").ok());
    REQUIRE(engine->Checkpoint().ok());
    REQUIRE(engine->Checkpoint().ok());
    CHECK(engine->stats().used_pages < 100);  // the 3 MiB extent was reclaimed
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: a 512 MiB value (Redis's proto-max-bulk-len) round-trips; ranges read pages only") {
  testing::RunInEnv(testing::EnvKind::kProduction, 1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    options.memtable_bytes = 1 << 20;  // the value alone passes it: checkpointed at once
    constexpr uint64_t kSize = 512ULL << 20;
    std::string big(kSize, '\0');
    for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
    {
      auto engine = MustOpen(env, options);
      REQUIRE(engine->Put("huge", big).ok());
      REQUIRE(engine->Close().ok());
    }
    auto engine = MustOpen(env, options);
    uint64_t reads_before = engine->stats().page_reads;
    for (uint64_t offset : {uint64_t{0}, kSize / 2 + 123, kSize - 10}) {
      auto range = engine->GetRange("huge", offset, 8192);
      REQUIRE(range.has_value());
      CHECK(**range == big.substr(offset, 8192));
    }
    // A few pages per range (and the leaf), not the 131072 pages of the value.
    CHECK(engine->stats().page_reads - reads_before < 16);
    auto whole = engine->Get("huge");
    REQUIRE(whole.has_value());
    CHECK((*whole)->size() == kSize);
    CHECK(**whole == big);
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: reopen loads the saved allocation map instead of walking the tree") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    uint64_t used = 0;
    {
      auto engine = MustOpen(env, options);
      for (int i = 0; i < 5000; i++) REQUIRE(engine->Put(Key(i), Value(i, 60)).ok());
      for (int i = 0; i < 5000; i += 3) REQUIRE(engine->Delete(Key(i)).ok());
      REQUIRE(engine->Checkpoint().ok());
      used = engine->stats().used_pages;
      REQUIRE(engine->Close().ok());
    }
    auto engine = MustOpen(env, options);
    EngineStats stats = engine->stats();
    MESSAGE("open read " << stats.page_reads << " pages; " << stats.used_pages << " in use");
    CHECK(stats.used_pages > 50);
    CHECK(stats.page_reads < 10);  // superblocks and the map, not the tree's pages
    CHECK(stats.used_pages <= used + 10);
    Status verified = engine->VerifyAllocation();
    CHECK_MESSAGE(verified.ok(), verified.ToString());
    // Space freed before the restart is reused, not leaked: more churn keeps the file bounded.
    uint64_t file_pages = stats.file_pages;
    for (int round = 0; round < 3; round++) {
      for (int i = 1; i < 5000; i += 3) REQUIRE(engine->Put(Key(i), Value(i + round, 60)).ok());
      REQUIRE(engine->Checkpoint().ok());
    }
    CHECK(engine->stats().file_pages < 2 * file_pages);
    verified = engine->VerifyAllocation();
    CHECK_MESSAGE(verified.ok(), verified.ToString());
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: a second engine on the same directory is refused while the first is open") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    auto first = MustOpen(env, options);
    REQUIRE(first->Put("k", "v").ok());
    auto second = Engine::Open(env, options);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code() == StatusCode::kBusy);
    CHECK(second.error().message().find("in use") != std::string::npos);
    REQUIRE(first->Close().ok());
    first.reset();  // releases the lock
    auto again = MustOpen(env, options);
    CHECK(again->Get("k").value() == "v");
    REQUIRE(again->Close().ok());
  });
}

TEST_CASE("engine: keys over the limit are refused with a clear error") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    auto engine = MustOpen(env, SmallOptions(dir));
    Status status = engine->Put(std::string(kMaxKeySize + 1, 'k'), "v");
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK(status.message().find("limit") != std::string::npos);
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: keys up to 64 KiB and beyond live in wide nodes, mixed with small keys") {
  RunInBoth(7, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    Prng prng(7);
    std::map<std::string, std::string> model;
    // Long keys share long prefixes, so inner nodes need long separators (wide inner nodes).
    auto long_key = [&](size_t length) {
      std::string key(length, 'p');
      for (size_t i = length - 8; i < length; i++) key[i] = static_cast<char>('a' + prng.Uniform(26));
      return key;
    };
    {
      auto engine = MustOpen(env, options);
      for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 40; i++) {
          std::string key;
          switch (prng.Uniform(4)) {
            case 0: key = long_key(64 << 10); break;             // exactly 64 KiB
            case 1: key = long_key(1000 + prng.Uniform(6000)); break;  // around a page
            case 2: key = long_key(100 << 10); break;            // beyond 64 KiB
            default: key = Key(static_cast<int>(prng.Uniform(1000))); break;
          }
          std::string value = Value(i, prng.Uniform(3) == 0 ? 5000 : 30);
          REQUIRE(engine->Put(key, value).ok());
          model[key] = value;
        }
        // Delete a few, so merges rewrite wide nodes too.
        for (int d = 0; d < 5 && !model.empty(); d++) {
          auto it = model.begin();
          std::advance(it, prng.Uniform(model.size()));
          REQUIRE(engine->Delete(it->first).ok());
          model.erase(it);
        }
        REQUIRE(engine->Checkpoint().ok());
      }
      REQUIRE(engine->Put(std::string(kMaxKeySize, 'z'), "max").ok());
      model[std::string(kMaxKeySize, 'z')] = "max";
      REQUIRE(engine->Close().ok());
    }
    auto engine = MustOpen(env, options);  // small cache: the wide nodes are read back from disk
    for (const auto& [key, value] : model) {
      auto got = engine->Get(key);
      REQUIRE(got.has_value());
      REQUIRE(got->has_value());
      CHECK(**got == value);
    }
    auto it = engine->NewIterator();
    CHECK(ScanAll(*it) == model);
    // Backwards from the end matches the model in reverse.
    REQUIRE(it->SeekToLast().ok());
    for (auto m = model.rbegin(); m != model.rend(); ++m) {
      REQUIRE(it->Valid());
      CHECK(it->key() == m->first);
      REQUIRE(it->Prev().ok());
    }
    CHECK_FALSE(it->Valid());
    REQUIRE(engine->Checkpoint().ok());
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: steady overwrites keep the file within 2x the live data plus a fixed amount") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    auto engine = MustOpen(env, SmallOptions(dir));
    const int kKeys = 2000;
    for (int round = 0; round < 20; round++) {
      for (int i = 0; i < kKeys; i++) REQUIRE(engine->Put(Key(i), Value(i + round, 100)).ok());
      REQUIRE(engine->Checkpoint().ok());
    }
    EngineStats stats = engine->stats();
    uint64_t live_bytes = kKeys * (Key(0).size() + 100);
    uint64_t file_bytes = stats.file_pages * kPageSize;
    MESSAGE("live " << live_bytes << " bytes, file " << file_bytes << " bytes");
    CHECK(file_bytes <= 2 * live_bytes + (1 << 20));
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: random inserts through small checkpoints keep leaves at least half full") {
  // Each checkpoint merges a few hundred random keys into a tree of many leaves, as a node whose
  // data is far larger than its memtable does. Packing each rewritten leaf's entries greedily
  // left a full leaf and a nearly empty one per insert (the file grew to many times the data).
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    options.background_checkpoints = false;
    options.memtable_bytes = 1 << 20;
    auto engine = MustOpen(env, options);
    Prng prng(11);
    uint64_t live_bytes = 0;
    for (int round = 0; round < 30; round++) {
      for (int i = 0; i < 300; i++) {
        std::string key = Key(static_cast<int>(prng.Uniform(1'000'000)));
        std::string value = Value(i, 100);
        auto old = engine->Get(key);
        REQUIRE(old.has_value());
        if (!*old) live_bytes += key.size() + value.size();
        REQUIRE(engine->Put(key, value).ok());
      }
      REQUIRE(engine->Checkpoint().ok());
    }
    EngineStats stats = engine->stats();
    MESSAGE(stats.live_entries << " entries, " << live_bytes << " bytes in " << stats.used_pages
                               << " pages");
    CHECK(stats.used_pages * kNodeCapacity <= 2 * live_bytes + 16 * kPageSize);
    Status verified = engine->VerifyAllocation();
    CHECK_MESSAGE(verified.ok(), verified.ToString());
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: a checkpoint reads the leaves it rewrites concurrently") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    options.background_checkpoints = false;
    options.memtable_bytes = 1 << 20;
    {
      auto engine = MustOpen(env, options);
      for (int i = 0; i < 4000; i++) REQUIRE(engine->Put(Key(i), Value(i, 100)).ok());
      REQUIRE(engine->Close().ok());
    }
    auto engine = MustOpen(env, options);  // nothing cached
    for (int i = 0; i < 4000; i += 20) REQUIRE(engine->Put(Key(i), Value(i + 1, 100)).ok());
    // A point read waits for one page at a time; the checkpoint keeps many leaf reads in flight.
    REQUIRE(engine->Get(Key(2001)).has_value());
    CHECK(engine->stats().peak_page_reads_in_flight == 1);
    engine->ResetPeakReads();
    const uint64_t reads = engine->stats().page_reads;
    REQUIRE(engine->Checkpoint().ok());
    const uint64_t read = engine->stats().page_reads - reads;
    const uint64_t peak = engine->stats().peak_page_reads_in_flight;
    MESSAGE("checkpoint read " << read << " pages, up to " << peak << " at once");
    CHECK(read > 100);
    CHECK(peak >= 16);
    for (int i = 0; i < 4000; i += 7) {
      auto value = engine->Get(Key(i));
      REQUIRE(value.has_value());
      CHECK(**value == Value(i % 20 == 0 ? i + 1 : i, 100));
    }
    REQUIRE(engine->Close().ok());
  });
}

}  // namespace
}  // namespace tierkv::tiers

namespace tierkv::tiers {
namespace {

EngineOptions PmemWalOptions(const std::string& dir) {
  EngineOptions options = SmallOptions(dir);
  options.memtable_bytes = 1 << 20;  // the ring, not the memtable, forces the checkpoints
  options.pmem_path = JoinPath(dir, "pmem");
  options.pmem_bytes = 256 << 10;
  options.pmem_wal_bytes = 64 << 10;
  return options;
}

TEST_CASE("engine: a WAL in PMem: a full ring forces checkpoints, nothing acknowledged is lost") {
  RunInBoth(11, [](Env& env, const std::string& dir) {
    EngineOptions options = PmemWalOptions(dir);
    {
      auto engine = MustOpen(env, options);
      for (int i = 0; i < 2000; i++) REQUIRE(engine->Put(Key(i), Value(i, 100)).ok());
      EngineStats stats = engine->stats();
      CHECK(stats.checkpoints >= 3);  // ~250 KB of records through a 64 KiB ring
      CHECK(stats.wal.records >= 2000);
      WriteBatch huge;
      huge.Put("huge", std::string(40 << 10, 'h'));
      Status status = engine->Write(huge);
      CHECK(status.code() == StatusCode::kInvalidArgument);
      CHECK(status.message().find("PMem WAL") != std::string::npos);
      REQUIRE(engine->Close().ok());
    }
    auto exists = env.Exists(JoinPath(options.dir, "wal"));
    CHECK_FALSE(exists.value());  // no segment files: the log is in PMem
    auto engine = MustOpen(env, options);
    for (int i = 0; i < 2000; i++) REQUIRE(engine->Get(Key(i)).value() == Value(i, 100));
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: writes acknowledged through the PMem WAL survive a crash") {
  for (uint64_t seed = 1; seed <= 10; seed++) {
    sim::World world(seed, {});
    testing::CrashBetween(
        world,
        [](sim::SimEnv& env) {
          auto engine = MustOpen(env, PmemWalOptions("/"));
          for (int i = 0; i < 700; i++) REQUIRE(engine->Put(Key(i), Value(i, 100)).ok());
          static std::unique_ptr<Engine> keep;  // stays open until the crash
          keep = std::move(engine);
        },
        [seed](sim::SimEnv& env) {
          auto engine = MustOpen(env, PmemWalOptions("/"));
          for (int i = 0; i < 700; i++) {
            auto got = engine->Get(Key(i));
            REQUIRE_MESSAGE(got.value() == Value(i, 100), "seed " << seed << " key " << i);
          }
          REQUIRE(engine->Close().ok());
        });
  }
}

TEST_CASE("engine: a PMem second tier catches nodes evicted from a small DRAM tier") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    EngineOptions options = SmallOptions(dir);
    options.cache_bytes = 16 << 10;  // a few nodes
    options.pmem_path = JoinPath(dir, "pmem");
    options.pmem_bytes = 8 << 20;
    auto engine = MustOpen(env, options);
    for (int i = 0; i < 5000; i++) REQUIRE(engine->Put(Key(i), Value(i, 60)).ok());
    REQUIRE(engine->Checkpoint().ok());
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 5000; i += 13) CHECK(engine->Get(Key(i)).value() == Value(i, 60));
    }
    EngineStats stats = engine->stats();
    CHECK(stats.pmem.inserts > 0);
    CHECK(stats.pmem.hits > 0);
    CHECK(stats.pmem.bad_copies == 0);
    MESSAGE("DRAM hits " << stats.cache.hits << " misses " << stats.cache.misses << "; PMem hits "
                         << stats.pmem.hits << " misses " << stats.pmem.misses);
    // Freed pages leave both tiers: rewriting everything and reading again stays correct.
    for (int i = 0; i < 5000; i++) REQUIRE(engine->Put(Key(i), Value(i + 1, 60)).ok());
    REQUIRE(engine->Checkpoint().ok());
    REQUIRE(engine->Checkpoint().ok());
    for (int i = 0; i < 5000; i += 7) CHECK(engine->Get(Key(i)).value() == Value(i + 1, 60));
    REQUIRE(engine->Close().ok());
  });
}

}  // namespace
}  // namespace tierkv::tiers
