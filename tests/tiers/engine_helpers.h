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

}  // namespace tierkv::tiers::testing_helpers
