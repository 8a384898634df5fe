// The keyspace building blocks of the type encoding (tiers/types_keyspace.cc): key walks per db
// and slot range, FLUSHDB, DUMP/RESTORE, CopyKey, and active expiry (bounded cycles, stale index
// records, the expire loop's schedule, a reopen).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/env_harness.h"
#include "tests/tiers/types_helpers.h"
#include "tiers/types_internal.h"

namespace tierkv::tiers {
namespace {

// Every live key ScanKeys visits for `db` in [first_slot, end_slot) from `from`, in order.
std::vector<std::string> KeysOf(TypedStore& store, int db, uint32_t first_slot = 0,
                                std::string from = "", uint32_t end_slot = 16384) {
  std::vector<std::string> keys;
  REQUIRE(store
              .ScanKeys(db, first_slot, from, end_slot,
                        [&](uint16_t slot, std::string_view key, const Metadata&) {
                          CHECK(slot == KeySlot(key));
                          keys.emplace_back(key);
                          return true;
                        })
              .ok());
  return keys;
}

TEST_CASE("types: ScanKeys walks one db in (slot, key) order, skipping other dbs and expired keys") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [&](Engine&, TypedStore& store) {
      CHECK(KeysOf(store, 0).empty());
      std::vector<std::pair<uint16_t, std::string>> expected;
      for (int i = 0; i < 50; i++) {
        const std::string key = "k" + std::to_string(i);
        REQUIRE(store.Set(i % 3, key, "v").ok());  // dbs 0, 1, 2 interleaved in every slot
        if (i % 3 == 1) expected.emplace_back(KeySlot(key), key);
      }
      REQUIRE(store.HSet(1, "{k1}h", "f", "v").has_value());  // k1's slot: two keys
      expected.emplace_back(KeySlot("{k1}h"), "{k1}h");
      std::sort(expected.begin(), expected.end());
      std::vector<std::string> names;
      for (const auto& [slot, key] : expected) names.push_back(key);
      CHECK(KeysOf(store, 1) == names);
      // From a position: the first key >= `from` in the first slot, then the later slots.
      const uint16_t slot = KeySlot("k1");
      std::vector<std::string> tail;
      for (const auto& [key_slot, key] : expected) {
        if (key_slot > slot || (key_slot == slot && key >= "k1")) tail.push_back(key);
      }
      CHECK(KeysOf(store, 1, slot, "k1") == tail);
      CHECK(KeysOf(store, 1, slot, "k1", slot + 1) == std::vector<std::string>{"k1", "{k1}h"});
      CHECK(KeysOf(store, 1, slot, "k2", slot + 1) == std::vector<std::string>{"{k1}h"});
      // Expired keys are not visited.
      const int64_t now_ms = env.clock().UnixMicros() / 1000;
      REQUIRE(store.Expire(1, "k1", now_ms + 10).value());
      REQUIRE(env.CurrentExecutor().Sleep(milliseconds(20)).ok());
      CHECK(KeysOf(store, 1).size() == names.size() - 1);
      CHECK(KeysOf(store, 5).empty());
    });
  });
}

TEST_CASE("types: Flush removes one db or all, expired keys too; collections go to the reclaimer") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [&](Engine& engine, TypedStore& store) {
      for (int i = 0; i < 3000; i++) {  // more than one flush batch
        REQUIRE(store.Set(i % 2, "k" + std::to_string(i), "v").ok());
      }
      REQUIRE(store.Push(0, "list", {"a", "b"}, false).has_value());
      const int64_t now_ms = env.clock().UnixMicros() / 1000;
      REQUIRE(store.Set(0, "expired", "v", now_ms + 10).ok());
      REQUIRE(env.CurrentExecutor().Sleep(milliseconds(20)).ok());
      CHECK(store.Flush(0).value() == 1501);  // live keys only
      CHECK(KeysOf(store, 0).empty());
      CHECK_FALSE(engine.Get(types_internal::MetaKey(0, "expired")).value().has_value());
      CHECK(KeysOf(store, 1).size() == 1500);
      REQUIRE(store.ReclaimOnce().ok());
      CHECK(store.reclaimed_subkeys() == 2);
      CHECK(store.Flush(-1).value() == 1500);
      CHECK(KeysOf(store, 1).empty());
      CHECK(store.Flush(-1).value() == 0);
    });
  });
}

TEST_CASE("types: Dump and Restore round-trip every type; bad payloads are refused") {
  testing::RunInBoth(1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [&](Engine&, TypedStore& store) {
      REQUIRE(store.Set(0, "s", std::string("a\0b", 3)).ok());
      REQUIRE(store.HSet(0, "h", "f1", "v1").has_value());
      REQUIRE(store.HSet(0, "h", "f2", "").has_value());
      REQUIRE(store.Push(0, "l", {"x", "y", "x"}, false).has_value());
      REQUIRE(store.Push(0, "l", {"w"}, true).has_value());
      REQUIRE(store.SAdd(0, "set", "m").has_value());
      REQUIRE(store.ZAdd(0, "z", "a", -1.5).has_value());
      REQUIRE(store.ZAdd(0, "z", "b", 1e300).has_value());
      CHECK_FALSE(store.Dump(0, "nope").value().has_value());
      for (std::string key : {"s", "h", "l", "set", "z"}) {
        const std::string payload = store.Dump(0, key).value().value();
        CHECK(store.CheckPayload(payload).ok());
        CHECK_FALSE(store.Restore(0, key, payload, 0, /*replace=*/false).value());
        CHECK(store.Restore(1, key, payload, 0, false).value());
        CHECK(store.Dump(1, key).value().value() == payload);
        CHECK(store.Type(1, key).value() == store.Type(0, key).value());
        // Replacing a collection by itself twice: fresh versions, the same contents.
        CHECK(store.Restore(1, key, payload, 0, /*replace=*/true).value());
        CHECK(store.Dump(1, key).value().value() == payload);
        std::string damaged = payload;
        damaged[damaged.size() / 2] ^= 0x10;
        CHECK(store.Restore(2, key, damaged, 0, false).error().message() ==
              "ERR DUMP payload version or checksum are wrong");
      }
      CHECK(store.Get(1, "s").value() == std::string("a\0b", 3));
      CHECK(store.Range(1, "l", 0, -1).value() == std::vector<std::string>{"w", "x", "y", "x"});
      CHECK(store.HGet(1, "h", "f2").value() == "");
      CHECK(store.ZRange(1, "z", 0, -1).value() ==
            std::vector<std::pair<std::string, double>>{{"a", -1.5}, {"b", 1e300}});
      CHECK(store.Push(1, "l", {"z"}, false).value() == 5);  // a restored list grows as any other
      const int64_t at = env.clock().UnixMicros() / 1000 + 100000;
      CHECK(store.Restore(2, "s", store.Dump(0, "s").value().value(), at, false).value());
      CHECK(store.ExpireTime(2, "s").value() == at);
      CHECK(store.CheckPayload("").message() == "ERR DUMP payload version or checksum are wrong");
      CHECK_FALSE(store.Type(2, "h").value() != RedisType::kNone);
    });
  });
}

TEST_CASE("types: CopyKey copies or moves every type between keys and dbs in one write") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [&](Engine&, TypedStore& store) {
      using Outcome = TypedStore::CopyOutcome;
      const int64_t at = env.clock().UnixMicros() / 1000 + 100000;
      REQUIRE(store.SAdd(0, "set", "a").has_value());
      REQUIRE(store.SAdd(0, "set", "b").has_value());
      REQUIRE(store.Expire(0, "set", at).value());
      const std::string payload = store.Dump(0, "set").value().value();
      CHECK(store.CopyKey(0, "nope", 0, "x", false, false).value() == Outcome::kNoSource);
      CHECK(store.CopyKey(0, "set", 0, "copy", false, false).value() == Outcome::kCopied);
      CHECK(store.SMembers(0, "copy").value() == std::vector<std::string>{"a", "b"});
      CHECK(store.ExpireTime(0, "copy").value() == at);
      // The copy is independent of the source.
      REQUIRE(store.SRem(0, "copy", "a").has_value());
      CHECK(store.SCard(0, "set").value() == 2);
      REQUIRE(store.Set(0, "str", "v").ok());
      CHECK(store.CopyKey(0, "set", 0, "str", false, false).value() == Outcome::kTargetExists);
      CHECK(store.Get(0, "str").value() == "v");
      CHECK(store.CopyKey(0, "set", 0, "str", true, true).value() == Outcome::kCopied);
      CHECK(store.Type(0, "set").value() == RedisType::kNone);
      CHECK(store.Dump(0, "str").value().value() == payload);
      CHECK(store.CopyKey(0, "str", 3, "str", false, true).value() == Outcome::kCopied);
      CHECK(store.Type(0, "str").value() == RedisType::kNone);
      CHECK(store.SCard(3, "str").value() == 2);
      // The moved-from versions are reclaimed; the live copies keep theirs.
      REQUIRE(store.ReclaimOnce().ok());
      CHECK(store.reclaimed_subkeys() == 4);  // "set" and the first move's "str": 2 members each
      CHECK(store.SCard(3, "str").value() == 2);
      CHECK(store.SCard(0, "copy").value() == 1);
    });
  });
}

}  // namespace
}  // namespace tierkv::tiers

// Active expiry: the 'E' index and the background fiber.
namespace tierkv::tiers {
namespace {

size_t CountExpiryRecords(Engine& engine) {
  size_t count = 0;
  auto it = engine.NewIterator();
  REQUIRE(it->Seek("E").ok());
  while (it->Valid() && it->key().starts_with("E") && count < 100000) {
    count++;
    REQUIRE(it->Next().ok());
  }
  return count;
}

TEST_CASE("types: active expiry deletes due keys in bounded cycles and drops stale index records") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [&](Engine& engine, TypedStore& store) {
      std::vector<std::string> notified;
      store.OnExpired([&](int db, std::string_view key) {
        CHECK(db == 2);
        notified.emplace_back(key);
      });
      const int64_t at = env.clock().UnixMicros() / 1000 + 5000;  // the writes take virtual time
      for (int i = 0; i < 450; i++) {
        REQUIRE(store.Set(2, "s" + std::to_string(i), "v", at).ok());
      }
      REQUIRE(store.HSet(2, "h", "f", "v").has_value());
      REQUIRE(store.Expire(2, "h", at).value());
      REQUIRE(store.HSet(2, "h", "g", "v").has_value());  // rewrites the same index record
      REQUIRE(store.Set(2, "later", "v", at).ok());
      REQUIRE(store.Expire(2, "later", at + 100000).value());  // the old record goes
      REQUIRE(store.Set(2, "kept", "v", at).ok());
      REQUIRE(store.Expire(2, "kept", 0).value());  // PERSIST
      REQUIRE(store.Set(2, "plain", "v").ok());
      REQUIRE(store.Push(2, "list", {"a"}, false).has_value());
      REQUIRE(store.Expire(2, "list", at).value());
      REQUIRE(store.Pop(2, "list", true).has_value());  // emptied: key and record go
      REQUIRE(store.Set(2, "deleted", "v", at).ok());
      REQUIRE(store.Delete(2, "deleted").value());
      CHECK(CountExpiryRecords(engine) == 450 + 2);  // s*, h, later
      CHECK(store.expired_keys() == 0);
      // Due: a direct cycle honours its limit.
      CHECK(env.clock().UnixMicros() / 1000 < at);
      REQUIRE(env.CurrentExecutor().Sleep(
                      milliseconds(at + 10 - env.clock().UnixMicros() / 1000)).ok());
      const uint64_t before = store.expired_keys();
      const uint64_t expired = store.ExpireOnce(10).value();
      CHECK(expired <= 10);
      CHECK(store.expired_keys() == before + expired);
      // The fiber finishes the rest within a few cycles (at most 200 keys each).
      for (int wait = 0; wait < 50 && store.expired_keys() < 451; wait++) {
        REQUIRE(env.CurrentExecutor().Sleep(milliseconds(100)).ok());
      }
      CHECK(store.expired_keys() == 451);
      CHECK(notified.size() == 451);
      std::sort(notified.begin(), notified.end());
      CHECK(std::binary_search(notified.begin(), notified.end(), "h"));
      CHECK_FALSE(std::binary_search(notified.begin(), notified.end(), "later"));
      CHECK(CountExpiryRecords(engine) == 1);  // later's
      CHECK_FALSE(engine.Get(types_internal::MetaKey(2, "s7")).value().has_value());
      CHECK_FALSE(engine.Get(types_internal::MetaKey(2, "h")).value().has_value());
      CHECK(store.Get(2, "later").value() == "v");
      CHECK(store.Get(2, "kept").value() == "v");
      CHECK(store.Get(2, "plain").value() == "v");
      REQUIRE(store.ReclaimOnce().ok());
      CHECK(store.reclaimed_subkeys() == 2);  // h's two fields (the popped list had none left)
    });
  });
}

TEST_CASE("types: the expire loop skips scans until a record falls due, and sees new records at once") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [&](Engine& engine, TypedStore& store) {
      // The loop has scanned the empty index (it runs every 100 ms) and knows nothing is due.
      REQUIRE(env.CurrentExecutor().Sleep(milliseconds(300)).ok());
      const int64_t at = env.clock().UnixMicros() / 1000 + 150;
      REQUIRE(store.Set(0, "soon", "v", at).ok());
      REQUIRE(store.Set(0, "never", "v").ok());
      // Expired by the loop well before its once-a-second rescan would find it.
      for (int wait = 0; wait < 6 && store.expired_keys() < 1; wait++) {
        REQUIRE(env.CurrentExecutor().Sleep(milliseconds(100)).ok());
      }
      CHECK(store.expired_keys() == 1);
      CHECK(CountExpiryRecords(engine) == 0);
      CHECK(store.Get(0, "never").value() == "v");
    });
  });
}

TEST_CASE("types: the expiry index survives a reopen; Flush and CopyKey keep it in step") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    int64_t at = 0;
    WithStore(env, dir, [&](Engine& engine, TypedStore& store) {
      at = env.clock().UnixMicros() / 1000 + 5000;
      REQUIRE(store.Set(0, "a", "v", at).ok());
      REQUIRE(store.Set(0, "b", "v", at).ok());
      REQUIRE(store.Set(1, "f", "v", at).ok());
      CHECK(store.CopyKey(0, "b", 0, "c", false, /*remove_source=*/true).value() ==
            TypedStore::CopyOutcome::kCopied);
      CHECK(store.Flush(1).value() == 1);
      CHECK(CountExpiryRecords(engine) == 2);  // a and c
    });
    WithStore(env, dir, [&](Engine& engine, TypedStore& store) {
      CHECK(store.ExpireTime(0, "c").value() == at);
      for (int wait = 0; wait < 100 && store.expired_keys() < 2; wait++) {
        REQUIRE(env.CurrentExecutor().Sleep(milliseconds(100)).ok());
      }
      CHECK(store.expired_keys() == 2);
      CHECK(CountExpiryRecords(engine) == 0);
    });
  });
}

}  // namespace
}  // namespace tierkv::tiers
