// Shared by the string and bitmap command tests (cmd_strings_test.cc, cmd_bits_test.cc): a
// two-shard node in the simulator with the body handed the Env and the Server, and Redis's error
// texts these tests compare against.
#pragma once

#include <doctest/doctest.h>
#include <fmt/core.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "server/server.h"
#include "tests/env_harness.h"
#include "tests/server/command_harness.h"

namespace tierkv::server::string_tests {

inline constexpr int64_t kNoKey = -2;
inline constexpr int64_t kNoExpiry = -1;

// WithServer (tests/server/command_harness.cc) that also hands the body the Env and the Server.
struct Node {
  Env& env;
  Server& server;

  int64_t NowMs() const { return env.clock().UnixMicros() / 1000; }
  // Milliseconds left before `key` (db 0) expires; kNoKey or kNoExpiry like PTTL.
  int64_t TtlMs(const std::string& key) {
    auto expiry = server.shards().RunOn<std::optional<int64_t>>(
        server.shards().OwnerOf(key),
        [&](Shard& shard) { return shard.store().ExpireTime(0, key); });
    REQUIRE(expiry.has_value());
    if (!*expiry) return kNoKey;
    if (**expiry == 0) return kNoExpiry;
    return **expiry - NowMs();
  }
  // A hash key (for WRONGTYPE), made on the store so these tests need no hash command.
  void MakeHash(const std::string& key) {
    auto made = server.shards().RunOn<bool>(server.shards().OwnerOf(key), [&](Shard& shard) {
      return shard.store().HSet(0, key, "field", "value");
    });
    REQUIRE(made.has_value());
  }
  void Sleep(std::chrono::milliseconds duration) {
    REQUIRE(env.CurrentExecutor().Sleep(duration).ok());
  }
};

inline void WithNode(const std::function<void(testing::Client& c, Node& node)>& body, int shards = 2) {
  testing::RunInEnv(
      testing::EnvKind::kSimulation, shards,
      [&](Env& env, const std::string& dir) {
        auto set = ShardSet::Open(env, [&](int shard) {
          tiers::EngineOptions engine;
          engine.dir = JoinPath(dir, fmt::format("shard-{}", shard));
          engine.memory_bytes = 8 << 20;
          return engine;
        });
        REQUIRE_MESSAGE(set.has_value(), set.error().ToString());
        {
          Server server(env, **set, Config{});
          Node node{env, server};
          testing::Client client(server, 0);
          body(client, node);
          // A multi-shard command releases its remote locks by messages it does not wait for
          // (Server::UnlockAll): a round trip to every shard lets them run before the Server is
          // destroyed (messages between two executors run in order).
          for (int i = 0; i < server.shards().size(); i++) {
            REQUIRE(server.shards().RunOn<bool>(i, [](Shard&) -> Result<bool> { return true; }));
          }
        }
        CHECK((*set)->Close().ok());
      },
      /*seed=*/1);
}

inline const std::string kWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value";
inline const std::string kNotInteger = "-ERR value is not an integer or out of range";
inline const std::string kSyntax = "-ERR syntax error";

inline std::string Arity(std::string_view name) {
  return "-ERR wrong number of arguments for '" + std::string(name) + "' command";
}

}  // namespace tierkv::server::string_tests
