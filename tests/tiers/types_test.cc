// Redis type encoding on the engine: slots, strings, hashes, lists, WRONGTYPE, O(1) DEL with
// background reclamation, lazy expiry, and persistence across reopen.
#include <doctest/doctest.h>

#include "tests/env_harness.h"
#include "tiers/types.h"

namespace tierkv::tiers {
namespace {

EngineOptions Options(const std::string& dir) {
  EngineOptions options;
  options.dir = JoinPath(dir, "types");
  options.memtable_bytes = 256 << 10;
  options.cache_bytes = 256 << 10;
  options.checkpoint_interval = milliseconds(200);
  return options;
}

// Opens an engine and a store, runs `body`, stops and closes both.
void WithStore(Env& env, const std::string& dir,
               const std::function<void(Engine&, TypedStore&)>& body) {
  auto engine = Engine::Open(env, Options(dir));
  REQUIRE_MESSAGE(engine.has_value(), engine.error().ToString());
  {
    TypedStore store(**engine, env.CurrentExecutor(), env.clock());
    body(**engine, store);
    store.Stop();
  }
  REQUIRE((*engine)->Close().ok());
}

TEST_CASE("key slots follow Redis Cluster (CRC16 XMODEM mod 16384, hashtags)") {
  CHECK(KeySlot("foo") == 12182);
  CHECK(KeySlot("123456789") == 12739);
  CHECK(KeySlot("{user1000}.following") == KeySlot("{user1000}.followers"));
  CHECK(KeySlot("{user1000}.following") == KeySlot("user1000"));
  CHECK(KeySlot("foo{}{bar}") == KeySlot("foo{}{bar}"));  // empty tag: the whole key
  CHECK(KeySlot("foo{{bar}}zap") == KeySlot("{bar"));
}

TEST_CASE("types: strings, hashes, lists, WRONGTYPE; everything survives reopen") {
  testing::RunInBoth(1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [](Engine&, TypedStore& store) {
      REQUIRE(store.Set(0, "s", "hello").ok());
      CHECK(store.Get(0, "s").value() == "hello");
      CHECK_FALSE(store.Get(1, "s").value().has_value());  // databases are separate
      CHECK(store.HSet(0, "h", "f1", "v1").value());
      CHECK_FALSE(store.HSet(0, "h", "f1", "v2").value());  // update, not new
      CHECK(store.HSet(0, "h", "f2", "v3").value());
      CHECK(store.HGet(0, "h", "f1").value() == "v2");
      CHECK(store.HLen(0, "h").value() == 2);
      auto all = store.HGetAll(0, "h").value();
      REQUIRE(all.size() == 2);
      CHECK(all[0] == std::pair<std::string, std::string>("f1", "v2"));
      CHECK(store.Push(0, "l", {"b", "c"}, false).value() == 2);  // RPUSH b c
      CHECK(store.Push(0, "l", {"a"}, true).value() == 3);        // LPUSH a
      CHECK(store.Range(0, "l", 0, -1).value() == std::vector<std::string>{"a", "b", "c"});
      CHECK(store.Range(0, "l", -2, 10).value() == std::vector<std::string>{"b", "c"});
      CHECK(store.Range(0, "l", 2, 1).value().empty());
      CHECK(store.Index(0, "l", -1).value() == "c");
      CHECK_FALSE(store.Index(0, "l", 3).value().has_value());
      Status wrong = store.HSet(0, "s", "f", "v").error();
      CHECK(wrong.message() == "WRONGTYPE Operation against a key holding the wrong kind of value");
      CHECK(store.Get(0, "h").error().message().starts_with("WRONGTYPE"));
      CHECK(store.Type(0, "h").value() == RedisType::kHash);
      CHECK(store.Type(0, "nope").value() == RedisType::kNone);
    });
    WithStore(env, dir, [](Engine&, TypedStore& store) {
      CHECK(store.Get(0, "s").value() == "hello");
      CHECK(store.HGet(0, "h", "f2").value() == "v3");
      CHECK(store.Pop(0, "l", true).value() == "a");
      CHECK(store.Pop(0, "l", false).value() == "c");
      CHECK(store.Pop(0, "l", false).value() == "b");
      CHECK_FALSE(store.Pop(0, "l", false).value().has_value());
      CHECK(store.Type(0, "l").value() == RedisType::kNone);  // an empty list does not exist
    });
  });
}

TEST_CASE("types: DEL of a big hash is O(1); the reclaimer removes the old version later") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [](Engine& engine, TypedStore& store) {
      const int kFields = 20000;
      for (int i = 0; i < kFields; i++) {
        REQUIRE(store.HSet(0, "big", "field" + std::to_string(i), "value").has_value());
      }
      CHECK(store.HLen(0, "big").value() == kFields);
      uint64_t seq_before = engine.stats().visible_seq;
      CHECK(store.Delete(0, "big").value());
      CHECK(engine.stats().visible_seq - seq_before == 2);  // metadata delete + garbage record
      CHECK(store.Type(0, "big").value() == RedisType::kNone);
      // A new hash of the same name starts empty: the old fields are invisible at once.
      CHECK(store.HSet(0, "big", "new", "x").value());
      CHECK(store.HLen(0, "big").value() == 1);
      CHECK(store.HGetAll(0, "big").value().size() == 1);
      REQUIRE(store.ReclaimOnce().ok());
      CHECK(store.reclaimed_subkeys() == kFields);
      // Nothing of the old version is left in the engine.
      auto it = engine.NewIterator();
      REQUIRE(it->Seek("G").ok());
      CHECK((!it->Valid() || !it->key().starts_with("G")));
    });
  });
}

TEST_CASE("types: expired keys read as absent; recreating an expired collection starts empty") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [&](Engine&, TypedStore& store) {
      int64_t now_ms = env.clock().UnixMicros() / 1000;
      REQUIRE(store.Set(0, "gone", "v", now_ms + 50).ok());
      REQUIRE(store.Push(0, "list", {"a", "b"}, false).has_value());
      CHECK(store.Expire(0, "list", now_ms + 50).value());
      CHECK(store.ExpireTime(0, "gone").value() == now_ms + 50);
      CHECK(store.Get(0, "gone").value() == "v");
      REQUIRE(env.CurrentExecutor().Sleep(milliseconds(100)).ok());
      CHECK_FALSE(store.Get(0, "gone").value().has_value());
      CHECK_FALSE(store.ExpireTime(0, "gone").value().has_value());
      CHECK(store.LLen(0, "list").value() == 0);
      CHECK(store.Push(0, "list", {"c"}, false).value() == 1);
      CHECK(store.Range(0, "list", 0, -1).value() == std::vector<std::string>{"c"});
      CHECK_FALSE(store.Delete(0, "gone").value());  // expired: DEL reports nothing deleted
    });
  });
}

}  // namespace
}  // namespace tierkv::tiers

namespace tierkv::tiers {
namespace {

TEST_CASE("types: sets and sorted sets (score index beside member -> score)") {
  testing::RunInBoth(1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [](Engine&, TypedStore& store) {
      CHECK(store.SAdd(0, "s", "b").value());
      CHECK(store.SAdd(0, "s", "a").value());
      CHECK_FALSE(store.SAdd(0, "s", "a").value());
      CHECK(store.SCard(0, "s").value() == 2);
      CHECK(store.SIsMember(0, "s", "a").value());
      CHECK(store.SMembers(0, "s").value() == std::vector<std::string>{"a", "b"});
      CHECK(store.SRem(0, "s", "a").value());
      CHECK_FALSE(store.SRem(0, "s", "a").value());
      CHECK(store.ZAdd(0, "z", "x", 2.5).value());
      CHECK(store.ZAdd(0, "z", "y", -1).value());
      CHECK(store.ZAdd(0, "z", "w", 100).value());
      CHECK(store.ZAdd(0, "z", "v", 2.5).value());
      CHECK_FALSE(store.ZAdd(0, "z", "w", -7).value());  // update moves it in the index
      CHECK(store.ZScore(0, "z", "w").value() == -7);
      CHECK(store.ZCard(0, "z").value() == 4);
      using Pairs = std::vector<std::pair<std::string, double>>;
      CHECK(store.ZRange(0, "z", 0, -1).value() ==
            Pairs{{"w", -7}, {"y", -1}, {"v", 2.5}, {"x", 2.5}});
      CHECK(store.ZRange(0, "z", -2, -1).value() == Pairs{{"v", 2.5}, {"x", 2.5}});
      CHECK(store.ZRangeByScore(0, "z", -1, 2.5).value() == Pairs{{"y", -1}, {"v", 2.5}, {"x", 2.5}});
      CHECK(store.ZRangeByScore(0, "z", -100, 100, 1).value() == Pairs{{"w", -7}});
      CHECK(store.ZRem(0, "z", "v").value());
      CHECK(store.ZRange(0, "z", 0, -1).value() == Pairs{{"w", -7}, {"y", -1}, {"x", 2.5}});
      CHECK(store.SAdd(0, "z", "m").error().message().starts_with("WRONGTYPE"));
      CHECK(store.Delete(0, "z").value());
      REQUIRE(store.ReclaimOnce().ok());
      CHECK(store.ZCard(0, "z").value() == 0);
    });
  });
}

}  // namespace
}  // namespace tierkv::tiers
