// Helpers the engine's test files share.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <memory>
#include <string>

#include "tiers/engine.h"

namespace tierkv::tiers::testing_helpers {

inline std::unique_ptr<Engine> MustOpen(Env& env, const EngineOptions& options) {
  auto engine = Engine::Open(env, options);
  REQUIRE_MESSAGE(engine.has_value(), engine.error().ToString());
  return std::move(*engine);
}

inline std::string Key(int i) { return fmt::format("key{:06d}", i); }

inline std::string Value(int i, size_t size = 20) {
  std::string v = fmt::format("value{}-", i);
  while (v.size() < size) v += static_cast<char>('a' + (v.size() + i) % 26);
  return v.substr(0, size);
}

// Small caches and memtables, so that a few thousand keys span checkpoints and evictions.
inline EngineOptions SmallOptions(const std::string& dir) {
  EngineOptions options;
  options.dir = JoinPath(dir, "engine");
  options.cache_bytes = 64 << 10;
  options.memtable_bytes = 32 << 10;
  options.checkpoint_interval = milliseconds(200);
  return options;
}

}  // namespace tierkv::tiers::testing_helpers
