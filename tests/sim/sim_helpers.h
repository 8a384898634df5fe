// Helpers for simulator tests: run a node program, crash the node at a chosen point, restart it
// and run a second program that inspects what survived.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "sim/sim_env.h"
#include "sim/world.h"

namespace tierkv::testing {

// Boot 1 runs `before`, then the node idles until the world crashes it; boot 2 runs `after`.
inline void CrashBetween(sim::World& world, const std::function<void(sim::SimEnv&)>& before,
                         const std::function<void(sim::SimEnv&)>& after) {
  bool before_done = false, after_done = false;
  world.AddNode(sim::NodeSpec{"n1", 1, [&](sim::SimEnv& env) {
                                if (env.node().boots() == 1) {
                                  before(env);
                                  before_done = true;
                                  (void)env.CurrentExecutor().Sleep(std::chrono::hours(24));
                                } else {
                                  after(env);
                                  after_done = true;
                                }
                              }});
  TimePoint limit = world.Now() + std::chrono::hours(1);
  while (!before_done && world.Now() < limit && world.Step()) {
  }
  REQUIRE(before_done);
  world.Crash("n1");
  world.Restart("n1");
  while (!after_done && world.Now() < limit && world.Step()) {
  }
  REQUIRE(after_done);
}

inline std::span<const std::byte> AsBytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

inline std::string ReadAll(Env& env, const std::string& path) {
  auto file = env.OpenFile(path, {});
  if (!file) return "<" + file.error().ToString() + ">";
  std::string out(1 << 16, '\0');
  auto n = (*file)->Read(0, std::as_writable_bytes(std::span(out.data(), out.size())));
  REQUIRE(n.has_value());
  out.resize(*n);
  return out;
}

}  // namespace tierkv::testing
