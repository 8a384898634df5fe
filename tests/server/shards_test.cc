// Shards: slot ranges, one engine per executor, work routed to the owner and results back,
// persistence across a reopen, cancellation of a waiting caller.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <set>

#include "tests/env_harness.h"
#include "server/shards.h"

namespace tierkv::server {
namespace {

TEST_CASE("shards: slot ranges are contiguous, cover every slot and differ by at most one") {
  for (int shards : {1, 2, 3, 4, 7, 16, 64}) {
    int previous = 0;
    std::vector<int> sizes(shards, 0);
    for (uint32_t slot = 0; slot < kSlots; slot++) {
      int owner = ShardOfSlot(static_cast<uint16_t>(slot), shards);
      REQUIRE(owner >= previous);
      REQUIRE(owner <= previous + 1);
      if (owner != previous) CHECK(FirstSlotOf(owner, shards) == slot);
      previous = owner;
      sizes[owner]++;
    }
    CHECK(previous == shards - 1);
    auto [min, max] = std::minmax_element(sizes.begin(), sizes.end());
    CHECK(*max - *min <= 1);
    CHECK(FirstSlotOf(0, shards) == 0);
  }
}

tiers::EngineOptions ShardOptions(const std::string& dir, int shard) {
  tiers::EngineOptions options;
  options.dir = JoinPath(dir, fmt::format("shard-{}", shard));
  options.memory_bytes = 4 << 20;
  options.checkpoint_interval = milliseconds(200);
  return options;
}

std::unique_ptr<ShardSet> MustOpen(Env& env, const std::string& dir) {
  auto set = ShardSet::Open(env, [&](int shard) { return ShardOptions(dir, shard); });
  REQUIRE_MESSAGE(set.has_value(), set.error().ToString());
  return std::move(*set);
}

TEST_CASE("shards: each key lives in its owner's engine; results come back; data survives") {
  testing::RunInBoth(4, [](Env& env, const std::string& dir) {
    std::map<std::string, std::string> model;
    {
      auto shards = MustOpen(env, dir);
      REQUIRE(shards->size() == 4);
      std::set<int> owners;
      for (int i = 0; i < 400; i++) {
        std::string key = fmt::format("user:{}", i), value = fmt::format("v{}", i * 7);
        int owner = shards->OwnerOf(key);
        owners.insert(owner);
        auto set = shards->RunOn<bool>(owner, [&, key, value](Shard& shard) -> Result<bool> {
          // Runs on the owner: its executor is the current one.
          if (&env.CurrentExecutor() != &shard.executor()) return Err(StatusCode::kInvalidArgument, "wrong executor");
          TK_RETURN_IF_ERROR_R(shard.store().Set(0, key, value));
          return true;
        });
        REQUIRE_MESSAGE(set.has_value(), set.error().ToString());
        model[key] = value;
      }
      CHECK(owners.size() == 4);
      // Every shard holds exactly the keys of its slot range.
      for (int shard = 0; shard < 4; shard++) {
        for (const auto& [key, value] : model) {
          auto got = shards->RunOn<std::optional<std::string>>(
              shard, [key](Shard& s) { return s.store().Get(0, key); });
          REQUIRE(got.has_value());
          if (shards->OwnerOf(key) == shard) {
            CHECK(*got == value);
          } else {
            CHECK_FALSE(got->has_value());
          }
        }
      }
      REQUIRE(shards->Close().ok());
    }
    auto shards = MustOpen(env, dir);
    for (const auto& [key, value] : model) {
      auto got = shards->RunOn<std::optional<std::string>>(
          shards->OwnerOf(key), [key](Shard& s) { return s.store().Get(0, key); });
      REQUIRE(got.has_value());
      CHECK(*got == value);
    }
    REQUIRE(shards->Close().ok());
  });
}

TEST_CASE("shards: a caller cancelled while it waits gets Cancelled; the work still completes") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 2, [](Env& env, const std::string& dir) {
    auto shards = MustOpen(env, dir);
    Executor& here = env.CurrentExecutor();
    int remote = 1 - here.index();
    bool ran = false;
    Status outcome;
    FiberHandle caller = here.Spawn("caller", [&] {
      auto result = shards->RunOn<bool>(remote, [&](Shard& shard) -> Result<bool> {
        TK_RETURN_IF_ERROR_R(shard.executor().Sleep(milliseconds(50)));
        TK_RETURN_IF_ERROR_R(shard.store().Set(0, "k", "v"));
        ran = true;
        return true;
      });
      outcome = result ? Status::Ok() : result.error();
    });
    REQUIRE(here.Sleep(milliseconds(10)).ok());
    caller.Cancel();
    REQUIRE(caller.Join().ok());
    CHECK(outcome.code() == StatusCode::kCancelled);
    REQUIRE(here.Sleep(milliseconds(200)).ok());
    CHECK(ran);
    auto got = shards->RunOn<std::optional<std::string>>(
        remote, [](Shard& s) { return s.store().Get(0, "k"); });
    CHECK(got.value() == "v");
    REQUIRE(shards->Close().ok());
  });
}

}  // namespace
}  // namespace tierkv::server
