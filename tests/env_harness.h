// Runs one test body against either Env, so the contract suite is written once (LevelDB's
// env_test over both PosixEnv and MemEnv). The body runs in a fiber on executor 0 of a node with
// `executors` executors and gets a fresh directory.
#pragma once

#include <functional>
#include <string>

#include "core/env.h"
#include "sim/world.h"

namespace tierkv::testing {

enum class EnvKind { kProduction, kSimulation };

inline const char* EnvKindName(EnvKind kind) {
  return kind == EnvKind::kProduction ? "production" : "simulation";
}

using EnvBody = std::function<void(Env& env, const std::string& dir)>;

// Production: a ProdEnv with real threads, in a directory under build/test-tmp/.
// Simulation: a one-node World seeded with `seed`; runs until the body returns (at most 1 hour of
// virtual time).
void RunInEnv(EnvKind kind, int executors, const EnvBody& body, uint64_t seed = 1,
              sim::FaultOptions faults = {});

// Runs the body in both.
void RunInBoth(int executors, const EnvBody& body);

}  // namespace tierkv::testing
