#include "tests/env_harness.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>

#include "io/prod_env.h"
#include "sim/sim_env.h"

namespace tierkv::testing {
namespace {

std::string MakeTestDir(Env& env, const std::string& root) {
  Status status = env.CreateDir(root);
  REQUIRE_MESSAGE(status.ok(), status.ToString());
  std::string dir = JoinPath(root, fmt::format("t{:016x}", env.RandomU64()));
  status = env.CreateDir(dir);
  REQUIRE_MESSAGE(status.ok(), status.ToString());
  return dir;
}

}  // namespace

void RunInEnv(EnvKind kind, int executors, const EnvBody& body, uint64_t seed,
              sim::FaultOptions faults) {
  if (kind == EnvKind::kProduction) {
    io::ProdEnvOptions options;
    options.executors = executors;
    options.log_level = "warn";
    std::string dir;
    {
      io::ProdEnv env(options);
      env.Run([&] {
        dir = MakeTestDir(env, "test-tmp");
        body(env, dir);
      });
    }
    // A body that finished leaves nothing behind (hundreds of runs filled a disk); a failed one
    // throws past this and keeps its directory for a look.
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return;
  }
  sim::World world(seed, faults);
  bool finished = false;
  world.AddNode(sim::NodeSpec{"n1", executors, [&](sim::SimEnv& env) {
                                body(env, MakeTestDir(env, "/data"));
                                finished = true;
                              }});
  TimePoint limit = world.Now() + std::chrono::hours(1);
  while (!finished && world.Now() < limit && world.Step()) {
  }
  REQUIRE_MESSAGE(finished, "simulated test body did not finish");
}

void RunInBoth(int executors, const EnvBody& body) {
  for (EnvKind kind : {EnvKind::kProduction, EnvKind::kSimulation}) {
    CAPTURE(EnvKindName(kind));
    RunInEnv(kind, executors, body);
  }
}

}  // namespace tierkv::testing
