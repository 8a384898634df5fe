// The engine's row cache: its bound, write-through updates, CLOCK's second chance; and in the
// engine, that a read which suspended while the key was written never caches the old value.
#include <doctest/doctest.h>

#include <map>

#include "core/random.h"
#include "core/sync.h"
#include "tests/env_harness.h"
#include "tests/tiers/engine_helpers.h"
#include "tiers/engine.h"
#include "tiers/row_cache.h"

namespace tierkv::tiers {
namespace {

// Inserts an answer the way a key read twice is: the first read only passes the doorkeeper.
void Cache(RowCache& cache, std::string_view key, const MaybeValue& value) {
  cache.Insert(key, value);
  cache.Insert(key, value);
}

// An engine whose caches hold every key of these tests, checkpointing only when asked.
std::unique_ptr<Engine> OpenCachingEngine(Env& env, const std::string& dir) {
  EngineOptions options;
  options.dir = JoinPath(dir, "engine");
  options.cache_bytes = 32 << 20;
  options.background_checkpoints = false;
  return testing_helpers::MustOpen(env, options);
}

TEST_CASE("row cache: finds what was inserted, absent keys too; updates only cached keys") {
  RowCache cache(1 << 20);
  CHECK_FALSE(cache.Find("a").has_value());
  Cache(cache, "a", std::string("1"));
  Cache(cache, "gone", std::nullopt);
  REQUIRE(cache.Find("a").has_value());
  CHECK(cache.Find("a")->present);
  CHECK(cache.Find("a")->value == "1");
  REQUIRE(cache.Find("gone").has_value());
  CHECK_FALSE(cache.Find("gone")->present);
  cache.Update("a", std::string("2"));
  cache.Update("b", std::string("3"));  // not cached: stays out
  CHECK(cache.Find("a")->value == "2");
  CHECK_FALSE(cache.Find("b").has_value());
  cache.Update("a", std::nullopt);  // a delete
  CHECK_FALSE(cache.Find("a")->present);
  RowCacheStats stats = cache.stats();
  CHECK(stats.entries == 2);
  CHECK(stats.hits == 7);
  CHECK(stats.misses == 2);
}

TEST_CASE("row cache: stays within its bytes; a referenced entry outlives unreferenced ones") {
  RowCache cache(64 << 10);
  Cache(cache, "hot", std::string(100, 'h'));
  for (int i = 0; i < 2000; i++) {
    Cache(cache, "key" + std::to_string(i), std::string(100, 'v'));
    CHECK(cache.stats().bytes <= cache.capacity());
    (void)cache.Find("hot");  // referenced at every turn of the hand
  }
  CHECK(cache.Find("hot").has_value());
  CHECK_FALSE(cache.Find("key0").has_value());  // evicted long ago
  CHECK(cache.stats().entries < 2000);
  // Values over capacity / 64 are never cached, and an update that grows one drops it.
  Cache(cache, "big", std::string(2 << 10, 'b'));
  CHECK_FALSE(cache.Find("big").has_value());
  cache.Update("hot", std::string(2 << 10, 'h'));
  CHECK_FALSE(cache.Find("hot").has_value());
  cache.set_capacity(0);
  CHECK(cache.stats().entries == 0);
  CHECK(cache.stats().bytes == 0);
}

TEST_CASE("row cache: random inserts, updates and removals agree with a map (probe chains)") {
  for (uint64_t seed = 1; seed <= 20; seed++) {
    Prng prng(seed);
    RowCache cache(64 << 20);  // no eviction: every removal is an oversized update
    std::map<std::string, MaybeValue> model;
    for (int step = 0; step < 5000; step++) {
      const std::string key = "k" + std::to_string(prng.Next() % 300);
      const uint64_t op = prng.Next() % 4;
      if (op == 0) {
        MaybeValue value;
        if (prng.Next() % 3 != 0) value = std::string(prng.Next() % 20, 'a' + static_cast<char>(step % 26));
        Cache(cache, key, value);
        model[key] = value;
      } else if (op == 1) {
        cache.Update(key, std::string(2 << 20, 'x'));  // too large: a cached entry goes
        model.erase(key);
      } else if (op == 2) {
        // Often as long as the cached value (updated in place), sometimes a tombstone.
        MaybeValue value;
        if (prng.Next() % 4 != 0) value = std::string(prng.Next() % 20, static_cast<char>('u' + step % 3));
        cache.Update(key, value);
        if (model.contains(key)) model[key] = value;
      } else {
        std::optional<RowCache::Cached> cached = cache.Find(key);
        auto it = model.find(key);
        REQUIRE(cached.has_value() == (it != model.end()));
        if (!cached) continue;
        REQUIRE(cached->present == it->second.has_value());
        if (cached->present) REQUIRE(cached->value == *it->second);
      }
      REQUIRE(cache.stats().entries == model.size());
    }
    for (const auto& [key, value] : model) {
      std::optional<RowCache::Cached> cached = cache.Find(key);
      REQUIRE(cached.has_value());
      CHECK(cached->present == value.has_value());
    }
  }
}

TEST_CASE("row cache: a key gets in on its second read; reads of keys never read again evict nothing") {
  RowCache cache(64 << 10);
  cache.Insert("once", std::string("v"));
  CHECK_FALSE(cache.Find("once").has_value());  // first read: only noted
  cache.Insert("once", std::string("v"));
  CHECK(cache.Find("once").has_value());  // second read: cached
  Cache(cache, "hot", std::string(100, 'h'));
  const uint64_t entries = cache.stats().entries;
  // A stream of distinct keys, each read once (random reads over data far larger than memory).
  const uint64_t evictions_allowed = 100000 / 50;  // the doorkeeper's false positives, < 2%
  uint64_t admitted = 0;
  for (int i = 0; i < 100000; i++) {
    const std::string key = "cold" + std::to_string(i);
    cache.Insert(key, std::string(100, 'c'));
    if (cache.Find(key).has_value()) admitted++;
    if (i % 50 == 0) CHECK(cache.Find("hot").has_value());  // a hot key stays
  }
  MESSAGE(admitted << " of 100000 keys read once were cached");
  CHECK(admitted <= evictions_allowed);
  CHECK(cache.stats().entries >= entries);
}

TEST_CASE("engine: a read that suspended while its key was written does not cache the old value") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    EngineOptions options;
    options.dir = JoinPath(dir, "engine");
    options.cache_bytes = 256 << 10;  // the tree is bigger: most reads miss and suspend
    options.background_checkpoints = false;
    auto engine = testing_helpers::MustOpen(env, options);
    for (int first = 0; first < 20000; first += 1000) {
      WriteBatch batch;
      for (int i = first; i < first + 1000; i++) batch.Put(testing_helpers::Key(i), "old");
      REQUIRE(engine->Write(batch).ok());
    }
    REQUIRE(engine->Checkpoint().ok());
    const std::string key = testing_helpers::Key(1234);
    Executor& executor = env.CurrentExecutor();
    std::optional<std::string> read;
    FiberHandle reader = executor.Spawn("reader", [&] { read = engine->Get(key).value(); });
    executor.Yield();
    REQUIRE_FALSE(read.has_value());  // the reader is inside its tree read
    REQUIRE(engine->Put(key, "new").ok());
    REQUIRE(reader.Join().ok());
    CHECK(read == "old");             // it read the tree before the write
    REQUIRE(engine->Checkpoint().ok());  // the memtable goes: reads come from the tree or cache
    CHECK(engine->Get(key).value() == "new");
    CHECK(engine->Get(key).value() == "new");
    // A key read twice at rest is cached, and a later write updates the cached value.
    const std::string other = testing_helpers::Key(99);
    CHECK(engine->Get(other).value() == "old");
    CHECK(engine->Get(other).value() == "old");
    const uint64_t hits = engine->stats().rows.hits;
    CHECK(engine->Get(other).value() == "old");
    CHECK(engine->stats().rows.hits == hits + 1);
    REQUIRE(engine->Put(other, "newer").ok());
    REQUIRE(engine->Checkpoint().ok());
    CHECK(engine->Get(other).value() == "newer");
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: cached keys take a checkpointed memtable's values before it stops shadowing them") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    auto engine = OpenCachingEngine(env, dir);  // every key fits the row cache
    constexpr int kKeys = 20000;  // more than a refresh step: the checkpoint yields among them
    for (int first = 0; first < kKeys; first += 1000) {
      WriteBatch batch;
      for (int i = first; i < first + 1000; i++) batch.Put(testing_helpers::Key(i), "old");
      REQUIRE(engine->Write(batch).ok());
    }
    REQUIRE(engine->Checkpoint().ok());
    for (int pass = 0; pass < 2; pass++) {  // twice: past the doorkeeper
      for (int i = 0; i < kKeys; i++) REQUIRE(engine->Get(testing_helpers::Key(i)).value() == "old");
    }
    REQUIRE(engine->stats().rows.entries == kKeys);
    // Writes go to the memtable only; it answers for the keys it holds.
    for (int i = 0; i < kKeys; i += 2) REQUIRE(engine->Put(testing_helpers::Key(i), "new").ok());
    for (int i = 1; i < kKeys; i += 4) REQUIRE(engine->Delete(testing_helpers::Key(i)).ok());
    auto expected = [](int i) -> std::optional<std::string> {
      if (i % 2 == 0) return "new";
      if (i % 4 == 1) return std::nullopt;
      return "old";
    };
    // A reader runs beside the checkpoint, while it merges and refreshes the cache.
    Executor& executor = env.CurrentExecutor();
    bool done = false;
    int wrong = 0, reads = 0;
    FiberHandle reader = executor.Spawn("reader", [&] {
      for (int i = 0; !done && reads < 200000; i = (i + 7919) % kKeys, reads++) {
        if (engine->Get(testing_helpers::Key(i)).value() != expected(i)) wrong++;
        executor.Yield();
      }
    });
    REQUIRE(engine->Checkpoint().ok());
    done = true;
    REQUIRE(reader.Join().ok());
    CHECK(reads > 0);
    CHECK(wrong == 0);
    for (int i = 0; i < kKeys; i++) {
      if (engine->Get(testing_helpers::Key(i)).value() != expected(i)) {
        FAIL_CHECK("key " << i << " reads a stale value after the checkpoint");
        break;
      }
    }
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: a checkpoint caches the keys its memtable had written more than once") {
  // Hot keys (overwritten since the last checkpoint) are cached as the checkpoint moves them to
  // the tree: their next read (a SET's header read) is a row cache hit, not a tree descent. Keys
  // written once (a bulk load) are not, and a hot key deleted is cached as absent.
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    auto engine = OpenCachingEngine(env, dir);
    constexpr int kKeys = 1000;
    for (int i = 0; i < kKeys; i++) REQUIRE(engine->Put(testing_helpers::Key(i), "v1").ok());
    for (int i = 0; i < kKeys; i += 2) REQUIRE(engine->Put(testing_helpers::Key(i), "v2").ok());
    REQUIRE(engine->Delete(testing_helpers::Key(0)).ok());
    REQUIRE(engine->Checkpoint().ok());
    CHECK(engine->stats().rows.entries == kKeys / 2);
    const uint64_t hits = engine->stats().rows.hits;
    for (int i = 0; i < kKeys; i++) {
      const std::optional<std::string> expected =
          i == 0 ? std::nullopt : std::optional<std::string>(i % 2 == 0 ? "v2" : "v1");
      REQUIRE(engine->Get(testing_helpers::Key(i)).value() == expected);
    }
    CHECK(engine->stats().rows.hits == hits + kKeys / 2);
    // The next memtable's writes: a cached key takes its new value, however often it was written.
    REQUIRE(engine->Put(testing_helpers::Key(2), "v3").ok());
    REQUIRE(engine->Checkpoint().ok());
    CHECK(engine->Get(testing_helpers::Key(2)).value() == "v3");
    CHECK(engine->stats().rows.hits == hits + kKeys / 2 + 1);
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: a part of a short value read from the tree caches the whole value") {
  // SET reads only its old record's header (GetRange); the leaf holds the whole short value, so
  // the read caches it: after a checkpoint empties the memtable, the key's next partial read is a
  // row cache hit, and every read, whole or partial, still sees exactly its bytes.
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    auto engine = OpenCachingEngine(env, dir);
    const std::string small = "0123456789abcdef";  // short: read whole from its leaf
    const std::string long_value(4000, 'L');         // past the whole-read bound: parts only
    REQUIRE(engine->Put("small", small).ok());
    REQUIRE(engine->Put("long", long_value).ok());
    REQUIRE(engine->Checkpoint().ok());
    for (int pass = 0; pass < 2; pass++) {  // twice: past the doorkeeper
      CHECK(engine->GetRange("small", 2, 3).value() == "234");
      CHECK(engine->GetRange("long", 10, 5).value() == "LLLLL");
    }
    CHECK(engine->stats().rows.entries == 1);  // the short value only
    const uint64_t hits = engine->stats().rows.hits;
    CHECK(engine->GetRange("small", 14, 100).value() == "ef");
    CHECK(engine->GetRange("small", 99, 1).value() == "");
    CHECK(engine->Get("small").value() == small);
    CHECK(engine->stats().rows.hits == hits + 3);
    // A write shadows the cached value; the checkpoint hands the cache the new one.
    REQUIRE(engine->Put("small", "new value").ok());
    CHECK(engine->GetRange("small", 0, 3).value() == "new");
    REQUIRE(engine->Checkpoint().ok());
    CHECK(engine->GetRange("small", 4, 100).value() == "value");
    CHECK(engine->stats().rows.hits == hits + 4);
    CHECK(engine->Get("long").value() == long_value);
    REQUIRE(engine->Close().ok());
  });
}

}  // namespace
}  // namespace tierkv::tiers
