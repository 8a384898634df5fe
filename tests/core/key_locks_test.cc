// KeyLockTable: all-at-once grants in arrival order, whole-table locks, and the table of held
// ids against a model under many locks and unlocks (growth, deletion without tombstones).
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "core/key_locks.h"
#include "tests/env_harness.h"

namespace tierkv {
namespace {

using testing::RunInBoth;

TEST_CASE("key locks: overlapping requests wait, in arrival order; disjoint ones do not") {
  RunInBoth(1, [](Env& env, const std::string&) {
    Executor& ex = env.CurrentExecutor();
    KeyLockTable table(ex);
    const uint64_t a = LockIdOf("a"), b = LockIdOf("b"), c = LockIdOf("c");
    LockIds ab{a, b};
    table.Lock(ab);
    CHECK(table.IsLocked(a));
    CHECK(table.IsLocked(b));
    CHECK_FALSE(table.IsLocked(c));
    std::string trace;
    // Wants b (held): waits. Then a request for c alone arrives: c is free, but an earlier
    // request waits, so it queues behind it (first come, first served).
    auto first = ex.Spawn("bc", [&] {
      LockIds ids{b, c};
      table.Lock(ids);
      trace += "bc+";
      table.Unlock(ids);
      trace += "bc-";
    });
    auto second = ex.Spawn("c", [&] {
      LockIds ids{c};
      table.Lock(ids);
      trace += "c+";
      table.Unlock(ids);
    });
    ex.Yield();
    ex.Yield();
    CHECK(trace.empty());
    CHECK(table.waiting() == 2);
    table.Unlock(ab);
    REQUIRE(first.Join().ok());
    REQUIRE(second.Join().ok());
    CHECK(trace == "bc+bc-c+");
    CHECK(table.held() == 0);
  });
}

TEST_CASE("key locks: a whole-table lock waits for every holder and holds off later requests") {
  RunInBoth(1, [](Env& env, const std::string&) {
    Executor& ex = env.CurrentExecutor();
    KeyLockTable table(ex);
    LockIds key{LockIdOf("k")};
    table.Lock(key);
    std::string trace;
    auto whole = ex.Spawn("whole", [&] {
      table.Lock(LockIds{}, /*whole=*/true);
      trace += "W+";
      ex.Yield();
      table.Unlock(LockIds{}, true);
      trace += "W-";
    });
    auto later = ex.Spawn("later", [&] {
      LockIds other{LockIdOf("other")};
      table.Lock(other);
      trace += "o+";
      table.Unlock(other);
    });
    ex.Yield();
    CHECK(trace.empty());
    table.Unlock(key);
    REQUIRE(whole.Join().ok());
    REQUIRE(later.Join().ok());
    CHECK(trace == "W+W-o+");
  });
}

TEST_CASE("key locks: held ids match a model through growth and deletions") {
  RunInBoth(1, [](Env& env, const std::string&) {
    KeyLockTable table(env.CurrentExecutor());
    std::set<uint64_t> model;
    uint64_t state = 12345;
    auto next = [&] {  // a fixed LCG: ids clustered in few home slots as well as spread out
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      return state >> 33;
    };
    for (int step = 0; step < 20000; step++) {
      // Small ids collide in the table's home slots (runs that wrap and shift back on delete).
      const uint64_t id = (step % 3 == 0) ? 1 + next() % 64 : LockIdOf(std::to_string(next() % 5000));
      LockIds ids{id};
      if (model.contains(id)) {
        table.Unlock(ids);
        model.erase(id);
      } else {
        table.Lock(ids);
        model.insert(id);
      }
      if (step % 997 == 0) {
        for (uint64_t probe = 1; probe <= 64; probe++) CHECK(table.IsLocked(probe) == model.contains(probe));
        for (uint64_t held : model) CHECK(table.IsLocked(held));
      }
    }
    CHECK(table.held() == model.size());
    for (uint64_t held : model) table.Unlock(LockIds{held});
    CHECK(table.held() == 0);
  });
}

TEST_CASE("key locks: repeated ids are removed, lock ids are never 0") {
  LockIds ids{5, 3, 5, 9, 3};
  DedupLockIds(ids);
  CHECK(std::vector<uint64_t>(ids.begin(), ids.end()) == std::vector<uint64_t>{3, 5, 9});
  CHECK(LockIdOf("") != 0);
  CHECK(LockIdOf("a") != LockIdOf("b"));
}

}  // namespace
}  // namespace tierkv
