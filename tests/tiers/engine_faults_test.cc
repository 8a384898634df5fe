// Storage engine under faults: a corrupt page, a failed WAL write, crashes right after an
// acknowledged batch and anywhere in the very first open (all in the simulator).
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "tests/env_harness.h"
#include "tests/sim/sim_helpers.h"
#include "tests/tiers/engine_helpers.h"
#include "tiers/engine.h"

namespace tierkv::tiers {
namespace {

using testing_helpers::Key;
using testing_helpers::MustOpen;
using testing_helpers::SmallOptions;
using testing_helpers::Value;

TEST_CASE("engine: a corrupt page is reported with file and page, never a wrong answer") {
  sim::World world(3, {});
  std::string error;
  testing::CrashBetween(
      world,
      [](sim::SimEnv& env) {
        auto engine = MustOpen(env, SmallOptions("/"));
        for (int i = 0; i < 2000; i++) {
          Status put = engine->Put(Key(i), Value(i, 50));
          REQUIRE_MESSAGE(put.ok(), put.ToString());
        }
        REQUIRE(engine->Close().ok());
        // Flip one byte in every tree page past the superblocks.
        auto file = env.OpenFile("/engine/data", {});
        REQUIRE(file.has_value());
        uint64_t size = (*file)->Size().value();
        for (uint64_t page = 2; page < size / kPageSize; page++) {
          std::byte b{0x5a};
          REQUIRE((*file)->Write(page * kPageSize + 100, std::span(&b, 1)).ok());
        }
        REQUIRE((*file)->Sync().ok());
      },
      [&](sim::SimEnv& env) {
        // Open reads the saved allocation map (damaged too: it falls back to walking the tree,
        // which finds the damage); whatever open does, no read may return a wrong value.
        auto engine = Engine::Open(env, SmallOptions("/"));
        if (!engine) {
          error = engine.error().ToString();
          return;
        }
        for (int i = 0; i < 2000; i++) {
          auto got = (*engine)->Get(Key(i));
          if (!got) {
            error = got.error().ToString();
            continue;
          }
          REQUIRE(got->has_value());
          CHECK(**got == Value(i, 50));
        }
        REQUIRE((*engine)->Close().ok());
      });
  CHECK(error.find("Corruption") != std::string::npos);
  CHECK(error.find("/engine/data") != std::string::npos);
  CHECK(error.find("page") != std::string::npos);
}

TEST_CASE("engine: a failed WAL write refuses that write and every later one") {
  sim::FaultOptions faults;
  faults.disk_error_probability = 1.0;
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    auto& sim_env = static_cast<sim::SimEnv&>(env);
    auto engine = MustOpen(env, SmallOptions(dir));
    REQUIRE(engine->Put("ok", "1").ok());
    sim_env.world().disk_error_budget() = 1;
    Status failed = engine->Put("lost", "2");
    CHECK_FALSE(failed.ok());
    CHECK(failed.message().find("not durable") != std::string::npos);
    CHECK_FALSE(engine->Put("after", "3").ok());  // the disk works again, but durability is unknown
    CHECK(engine->Get("ok").value() == "1");
    // The refused write was applied in memory before its record failed, so a read may see it;
    // but whoever answers that read must wait for its durability first, and that wait fails.
    CHECK(engine->unsynced_lsn() != 0);
    CHECK_FALSE(engine->AwaitDurable(engine->unsynced_lsn()).ok());
    (void)engine->Close();
  }, 1, faults);
}



TEST_CASE("engine: an acknowledged batch survives a crash right after it (regression)") {
  for (uint64_t seed = 1; seed <= 20; seed++) {
    sim::World world(seed, {});
    testing::CrashBetween(
        world,
        [](sim::SimEnv& env) {
          auto engine = MustOpen(env, SmallOptions("/"));
          WriteBatch batch;
          for (int i = 0; i < 5; i++) batch.Put(Key(i), Value(i));
          REQUIRE(engine->Write(batch).ok());
          static std::unique_ptr<Engine> keep;  // stays open until the crash
          keep = std::move(engine);
        },
        [seed](sim::SimEnv& env) {
          auto engine = MustOpen(env, SmallOptions("/"));
          for (int i = 0; i < 5; i++) {
            auto got = engine->Get(Key(i));
            CHECK_MESSAGE(got.value() == Value(i), "seed " << seed << " key " << i);
          }
          REQUIRE(engine->Close().ok());
        });
  }
}

TEST_CASE("engine: a crash anywhere in the first open leaves a directory that opens (regression)") {
  // engine-crash scenario, seed 1686: the new data file's generation-0 superblock was written in
  // place, a crash before its fsync tore that page, and no later open found a valid superblock.
  // Crash after each number of simulator steps into the very first open (the crash tears or drops
  // unsynced writes as the seed decides), then open again, write and read.
  int crashed_inside = 0;
  for (int steps = 1; steps <= 50; steps++) {
    sim::World world(steps, {});
    bool first_open = false, reopened = false;
    world.AddNode(sim::NodeSpec{"n1", 1, [&](sim::SimEnv& env) {
      if (env.node().boots() == 1) {
        auto engine = Engine::Open(env, SmallOptions("/"));
        REQUIRE(engine.has_value());
        first_open = true;
        static std::unique_ptr<Engine> keep;  // stays open until the crash
        keep = std::move(*engine);
        (void)env.CurrentExecutor().Sleep(std::chrono::hours(24));
        return;
      }
      auto engine = Engine::Open(env, SmallOptions("/"));
      REQUIRE_MESSAGE(engine.has_value(), "crash after " << steps << " steps: " << engine.error().ToString());
      REQUIRE((*engine)->Put("k", "v").ok());
      CHECK((*engine)->Get("k").value() == "v");
      REQUIRE((*engine)->Close().ok());
      reopened = true;
    }});
    for (int i = 0; i < steps && world.Step(); i++) {
    }
    if (!first_open) crashed_inside++;
    world.Crash("n1");
    world.Restart("n1");
    const TimePoint limit = world.Now() + std::chrono::hours(1);
    while (!reopened && world.Now() < limit && world.Step()) {
    }
    REQUIRE(reopened);
  }
  // Most crashes land inside the first open (it is what this test is for), some after it.
  CHECK(crashed_inside > 30);
  CHECK(crashed_inside < 50);
}

}  // namespace
}  // namespace tierkv::tiers
