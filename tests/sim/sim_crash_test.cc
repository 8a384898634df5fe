// Simulator-only behaviour: what a crash keeps, drops and tears, on disk and in PMem.
#include <doctest/doctest.h>

#include <cstring>
#include <set>

#include "tests/env_harness.h"
#include "tests/sim/sim_helpers.h"

namespace tierkv {
namespace {

using testing::AsBytes;
using testing::CrashBetween;
using testing::ReadAll;

void MustOk(const Status& status) { REQUIRE_MESSAGE(status.ok(), status.ToString()); }

TEST_CASE("synced data and names survive a crash") {
  sim::World world(7, {});
  CrashBetween(
      world,
      [](sim::SimEnv& env) {
        MustOk(env.CreateDir("/d"));
        auto file = env.OpenFile("/d/f", {.create = true});
        REQUIRE(file.has_value());
        MustOk((*file)->Write(0, AsBytes("synced")));
        MustOk((*file)->Sync());
        MustOk(env.SyncDir("/d"));
      },
      [](sim::SimEnv& env) { CHECK(ReadAll(env, "/d/f") == "synced"); });
}

TEST_CASE("a file whose directory was never synced disappears in a crash") {
  sim::World world(7, {});
  CrashBetween(
      world,
      [](sim::SimEnv& env) {
        MustOk(env.CreateDir("/d"));
        auto file = env.OpenFile("/d/f", {.create = true});
        REQUIRE(file.has_value());
        MustOk((*file)->Write(0, AsBytes("data")));
        MustOk((*file)->Sync());
      },
      [](sim::SimEnv& env) { CHECK_FALSE(env.Exists("/d/f").value()); });
}

TEST_CASE("an unsynced rename reverts; a synced one sticks") {
  sim::World world(3, {});
  CrashBetween(
      world,
      [](sim::SimEnv& env) {
        MustOk(env.CreateDir("/d"));
        for (const char* name : {"/d/a", "/d/b"}) {
          auto file = env.OpenFile(name, {.create = true});
          REQUIRE(file.has_value());
          MustOk((*file)->Write(0, AsBytes(name)));
          MustOk((*file)->Sync());
        }
        MustOk(env.SyncDir("/d"));
        MustOk(env.RenameFile("/d/a", "/d/a2"));
        MustOk(env.SyncDir("/d"));
        MustOk(env.RenameFile("/d/b", "/d/b2"));  // never synced
      },
      [](sim::SimEnv& env) {
        CHECK(ReadAll(env, "/d/a2") == "/d/a");
        CHECK(ReadAll(env, "/d/b") == "/d/b");
        CHECK_FALSE(env.Exists("/d/b2").value());
      });
}

TEST_CASE("unsynced writes are kept, dropped or torn at sector granularity, across seeds") {
  // 8 sectors of 'A' synced, then 3 sectors of 'B' over the first ones without sync. After the
  // crash every sector is all-A or all-B (never a mix inside a sector), and over many seeds all
  // three outcomes (all kept, all dropped, torn) appear.
  std::set<std::string> outcomes;
  for (uint64_t seed = 1; seed <= 40; seed++) {
    sim::World world(seed, {});
    std::string after;
    CrashBetween(
        world,
        [](sim::SimEnv& env) {
          auto file = env.OpenFile("/f", {.create = true});
          REQUIRE(file.has_value());
          MustOk((*file)->Write(0, AsBytes(std::string(4096, 'A'))));
          MustOk((*file)->Sync());
          MustOk(env.SyncDir("/"));
          MustOk((*file)->Write(0, AsBytes(std::string(1536, 'B'))));
        },
        [&](sim::SimEnv& env) { after = ReadAll(env, "/f"); });
    REQUIRE(after.size() == 4096);
    std::string pattern;
    for (size_t sector = 0; sector < 8; sector++) {
      std::string_view s(after.data() + sector * 512, 512);
      bool all_a = s.find_first_not_of('A') == std::string_view::npos;
      bool all_b = s.find_first_not_of('B') == std::string_view::npos;
      REQUIRE((all_a || all_b));
      pattern += all_a ? 'A' : 'B';
    }
    CHECK(pattern.substr(3) == "AAAAA");
    std::string written = pattern.substr(0, 3);
    outcomes.insert(written == "AAA" ? "dropped" : written == "BBB" ? "kept" : "torn");
  }
  CHECK(outcomes.size() == 3);
}

TEST_CASE("an unsynced append may vanish; the synced prefix never does") {
  for (uint64_t seed = 1; seed <= 20; seed++) {
    sim::World world(seed, {});
    std::string after;
    CrashBetween(
        world,
        [](sim::SimEnv& env) {
          auto file = env.OpenFile("/log", {.create = true});
          REQUIRE(file.has_value());
          MustOk((*file)->Write(0, AsBytes("committed;")));
          MustOk((*file)->DataSync());
          MustOk(env.SyncDir("/"));
          MustOk((*file)->Write(10, AsBytes(std::string(2000, 'x'))));
        },
        [&](sim::SimEnv& env) { after = ReadAll(env, "/log"); });
    REQUIRE(after.substr(0, 10) == "committed;");
    CHECK(after.size() <= 2010);
  }
}

TEST_CASE("fsyncgate: after a failed sync the data is lost even if a later sync succeeds") {
  sim::FaultOptions faults;
  faults.disk_error_probability = 1.0;
  faults.disk_error_budget = 0;  // enabled below, for exactly one sync
  sim::World world(11, faults);
  bool saw_error = false;
  CrashBetween(
      world,
      [&](sim::SimEnv& env) {
        auto file = env.OpenFile("/f", {.create = true});
        REQUIRE(file.has_value());
        MustOk((*file)->Write(0, AsBytes("old!")));
        MustOk((*file)->Sync());
        MustOk(env.SyncDir("/"));
        MustOk((*file)->Write(0, AsBytes("new!")));
        env.world().disk_error_budget() = 1;
        Status failed = (*file)->Sync();
        saw_error = failed.code() == StatusCode::kIoError;
        MustOk((*file)->Sync());  // "succeeds", but the pages were already dropped
        CHECK(ReadAll(env, "/f") == "new!");  // the page cache still shows them
      },
      [](sim::SimEnv& env) { CHECK(ReadAll(env, "/f") == "old!"); });
  CHECK(saw_error);
}

TEST_CASE("out of space: writes beyond capacity fail with NoSpace") {
  sim::FaultOptions faults;
  faults.disk_capacity_bytes = 10000;
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    auto file = env.OpenFile(JoinPath(dir, "big"), {.create = true});
    REQUIRE(file.has_value());
    MustOk((*file)->Write(0, AsBytes(std::string(8000, 'a'))));
    Status full = (*file)->Write(8000, AsBytes(std::string(8000, 'b')));
    CHECK(full.code() == StatusCode::kNoSpace);
    MustOk((*file)->Write(0, AsBytes(std::string(8000, 'c'))));  // overwrite in place still works
  }, 1, faults);
}

TEST_CASE("pmem: persisted lines survive, unpersisted lines are kept, lost or torn") {
  std::set<std::string> outcomes;
  for (uint64_t seed = 1; seed <= 30; seed++) {
    sim::World world(seed, {});
    std::string persisted, unpersisted;
    std::unique_ptr<PmemRegion> keep;  // the mapping stays alive until the crash
    CrashBetween(
        world,
        [&](sim::SimEnv& env) {
          auto region = env.MapPmem("/pmem", 4096);
          REQUIRE(region.has_value());
          std::memset((*region)->data(), 'P', 64);
          (*region)->Persist(0, 64);
          std::memset((*region)->data() + 64, 'U', 64);  // never persisted
          keep = std::move(*region);
        },
        [&](sim::SimEnv& env) {
          auto region = env.MapPmem("/pmem", 4096);
          REQUIRE(region.has_value());
          persisted.assign(reinterpret_cast<char*>((*region)->data()), 64);
          unpersisted.assign(reinterpret_cast<char*>((*region)->data()) + 64, 64);
        });
    CHECK(persisted == std::string(64, 'P'));
    size_t u = std::count(unpersisted.begin(), unpersisted.end(), 'U');
    outcomes.insert(u == 64 ? "kept" : u == 0 ? "lost" : "torn");
    if (u != 0 && u != 64) CHECK(u % 8 == 0);  // torn at 8-byte words
  }
  CHECK(outcomes.size() == 3);
}

TEST_CASE("same seed, same trace hash; different seeds, different hashes") {
  auto run = [](uint64_t seed) {
    sim::World world(seed, {});
    for (const char* name : {"a", "b"}) {
      world.AddNode(sim::NodeSpec{name, 2, [](sim::SimEnv& env) {
                                    auto file = env.OpenFile("/f", {.create = true});
                                    REQUIRE(file.has_value());
                                    for (int i = 0; i < 20; i++) {
                                      MustOk((*file)->Write(i * 10, testing::AsBytes("0123456789")));
                                      if (i % 5 == 0) MustOk((*file)->Sync());
                                      env.Post(1, [] {});
                                    }
                                  }});
    }
    world.RunFor(seconds(10));
    return world.trace_hash();
  };
  CHECK(run(42) == run(42));
  CHECK(run(42) != run(43));
}

}  // namespace
}  // namespace tierkv
