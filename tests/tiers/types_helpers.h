// Shared by the type encoding tests: a small engine (frequent checkpoints, tiny cache) with a
// TypedStore on it.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tiers/engine.h"
#include "tiers/types.h"

namespace tierkv::tiers {

using Strings = std::vector<std::string>;
using Positions = std::vector<uint64_t>;

// The whole list at `key` (db 0).
inline Strings All(TypedStore& store, std::string_view key) {
  return store.Range(0, key, 0, -1).value();
}

inline EngineOptions StoreTestOptions(const std::string& dir) {
  EngineOptions options;
  options.dir = JoinPath(dir, "types");
  options.memtable_bytes = 256 << 10;
  options.cache_bytes = 256 << 10;
  options.checkpoint_interval = milliseconds(200);
  return options;
}

// Opens an engine and a store, runs `body`, stops and closes both.
inline void WithStore(Env& env, const std::string& dir,
                      const std::function<void(Engine&, TypedStore&)>& body) {
  auto engine = Engine::Open(env, StoreTestOptions(dir));
  REQUIRE_MESSAGE(engine.has_value(), engine.error().ToString());
  {
    TypedStore store(**engine, env.CurrentExecutor(), env.clock());
    body(**engine, store);
    store.Stop();
  }
  REQUIRE((*engine)->Close().ok());
}

}  // namespace tierkv::tiers
