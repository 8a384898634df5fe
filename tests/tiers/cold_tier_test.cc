// The cold tier: unread leaves move to cold-dir compressed, reads work through it and promote
// leaves back, reopen rebuilds its space map, and damage is reported, never a wrong answer.
#include <doctest/doctest.h>

#include <map>

#include "tests/env_harness.h"
#include "tests/tiers/engine_helpers.h"
#include "tests/sim/sim_helpers.h"
#include "tiers/engine.h"

namespace tierkv::tiers {
namespace {

EngineOptions ColdOptions(const std::string& dir) {
  EngineOptions options;
  options.dir = JoinPath(dir, "engine");
  options.cache_bytes = 64 << 10;
  options.memtable_bytes = 256 << 10;
  options.checkpoint_interval = milliseconds(100);
  options.cold_dir = JoinPath(dir, "cold");
  options.cold_after = milliseconds(400);
  return options;
}

using testing_helpers::Key;
using testing_helpers::MustOpen;

// Compressible, like most real values: a short varying head and a repeated tail.
std::string Value(int i) { return fmt::format("v{}-", i) + std::string(150, 'a' + i % 3); }

constexpr int kKeys = 3000;
constexpr int kHotKeys = 100;

// Reads the hot keys every 100 ms for `rounds` rounds, so their leaves stay hot.
void KeepHot(Env& env, Engine& engine, int rounds) {
  for (int round = 0; round < rounds; round++) {
    for (int i = 0; i < kHotKeys; i++) REQUIRE(engine.Get(Key(i)).value() == Value(i));
    REQUIRE(env.CurrentExecutor().Sleep(milliseconds(100)).ok());
  }
}

TEST_CASE("engine: cold tier moves unread leaves out compressed, reads promote them back") {
  testing::RunInBoth(5, [](Env& env, const std::string& dir) {
    EngineOptions options = ColdOptions(dir);
    {
      auto engine = MustOpen(env, options);
      for (int i = 0; i < kKeys; i++) REQUIRE(engine->Put(Key(i), Value(i)).ok());
      REQUIRE(engine->Checkpoint().ok());
      uint64_t hot_pages = engine->stats().used_pages;
      KeepHot(env, *engine, 12);  // more than two cold-after periods
      EngineStats stats = engine->stats();
      MESSAGE("moved out " << stats.cold.moved_out << " nodes, " << stats.cold.raw_bytes
                           << " bytes stored in " << stats.cold.stored_bytes << "; page file "
                           << hot_pages << " -> " << stats.used_pages << " pages");
      CHECK(stats.cold.moved_out > 100);
      CHECK(stats.cold.stored_bytes * 3 < stats.cold.raw_bytes);  // zstd on compressible values
      // ~130 leaves of which the hot keys need a few (in the simulator, where the writes take
      // simulated seconds, a cold pass may have run before the first count).
      CHECK(stats.used_pages < 30);
      uint64_t reads_before = stats.cold.reads;
      // Cold reads are transparent; half of the keys, so some leaves stay cold for the reopen.
      for (int i = kHotKeys; i < kKeys / 2; i++) REQUIRE(engine->Get(Key(i)).value() == Value(i));
      CHECK(engine->stats().cold.reads > reads_before);
      REQUIRE(engine->Checkpoint().ok());
      CHECK(engine->stats().cold.promoted > 0);
      REQUIRE(engine->Close().ok());
    }
    {
      // Without its cold-dir the tree cannot be read: a clear error, not a silent loss.
      EngineOptions no_cold = options;
      no_cold.cold_dir.clear();
      auto engine = Engine::Open(env, no_cold);
      REQUIRE_FALSE(engine.has_value());
      CHECK(engine.error().ToString().find("cold-dir") != std::string::npos);
    }
    auto engine = MustOpen(env, options);
    std::map<std::string, std::string> want;
    for (int i = 0; i < kKeys; i++) want[Key(i)] = Value(i);
    std::map<std::string, std::string> got;
    auto it = engine->NewIterator();
    REQUIRE(it->SeekToFirst().ok());
    while (it->Valid()) {
      got[it->key()] = it->value().value();
      REQUIRE(it->Next().ok());
    }
    CHECK(got == want);
    // Overwrite and delete cold keys: merges rewrite cold leaves into hot pages.
    for (int i = kKeys / 2; i < kKeys; i += 7) REQUIRE(engine->Delete(Key(i)).ok());
    REQUIRE(engine->Put(Key(kKeys - 2), "new").ok());
    REQUIRE(engine->Checkpoint().ok());
    REQUIRE(engine->Checkpoint().ok());  // frees what the first one replaced
    CHECK(engine->Get(Key(kKeys - 2)).value() == "new");
    CHECK_FALSE(engine->Get(Key(kKeys / 2)).value().has_value());
    CHECK(engine->Get(Key(kKeys / 2 + 1)).value() == Value(kKeys / 2 + 1));
    REQUIRE(engine->Close().ok());
  });
}

TEST_CASE("engine: a damaged cold blob is reported naming the cold file, never a wrong answer") {
  // (The error found last is checked.)
  sim::World world(9, {});
  std::string error;
  testing::CrashBetween(
      world,
      [](sim::SimEnv& env) {
        auto engine = MustOpen(env, ColdOptions("/"));
        for (int i = 0; i < kKeys; i++) REQUIRE(engine->Put(Key(i), Value(i)).ok());
        REQUIRE(engine->Checkpoint().ok());
        REQUIRE(env.CurrentExecutor().Sleep(seconds(2)).ok());
        REQUIRE(engine->stats().cold.moved_out > 0);
        REQUIRE(engine->Close().ok());
        auto file = env.OpenFile("/cold/cold", {});
        REQUIRE(file.has_value());
        uint64_t size = (*file)->Size().value();
        for (uint64_t offset = 2 * kPageSize + 200; offset < size; offset += 1000) {
          std::byte b{0x5a};
          REQUIRE((*file)->Write(offset, std::span(&b, 1)).ok());
        }
        REQUIRE((*file)->Sync().ok());
      },
      [&](sim::SimEnv& env) {
        // Open reads the saved allocation map, not the leaves: the damage is found by the reads,
        // each of which returns the right value or an error.
        auto engine = Engine::Open(env, ColdOptions("/"));
        REQUIRE(engine.has_value());
        for (int i = 0; i < kKeys; i++) {
          auto got = (*engine)->Get(Key(i));
          if (!got) {
            error = got.error().ToString();
            continue;
          }
          REQUIRE(got->has_value());
          CHECK(**got == Value(i));
        }
        (void)(*engine)->Close();  // its checkpoint may fail too: promotions read the damage
      });
  CHECK(error.find("Corruption") != std::string::npos);
  CHECK(error.find("/cold/cold") != std::string::npos);
}

}  // namespace
}  // namespace tierkv::tiers
