// tierkv-sim: runs a scenario under the deterministic simulator.
//   tierkv-sim --scenario NAME --seed N      one run; last line "trace-hash: <16 hex>"
//   tierkv-sim --scenario NAME --seeds A..B  a sweep; one replay line per failure, then the
//                                            simulated/wall ratio and "seeds: N passed, M failed"
// Options: --scenario-dir DIR (default: the source tree's scenarios/), --log-level LEVEL.
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "io/prod_env.h"
#include "tools/sim/runner.h"
#include "tools/sim/workload.h"

#ifndef TIERKV_SCENARIO_DIR
#define TIERKV_SCENARIO_DIR "scenarios"
#endif

namespace {

using namespace tierkv;

int Usage() {
  std::fprintf(stderr,
               "usage: tierkv-sim --scenario NAME (--seed N | --seeds A..B)\n"
               "                  [--scenario-dir DIR] [--log-level warn|info|debug]\n");
  return 2;
}

bool ParseRange(const std::string& text, uint64_t& first, uint64_t& last) {
  size_t dots = text.find("..");
  try {
    if (dots == std::string::npos) {
      first = last = std::stoull(text);
    } else {
      first = std::stoull(text.substr(0, dots));
      last = std::stoull(text.substr(dots + 2));
    }
  } catch (const std::exception&) {
    return false;
  }
  return first <= last;
}

}  // namespace

int main(int argc, char** argv) {
  std::string scenario, dir = TIERKV_SCENARIO_DIR, log_level = "error", range;
  bool sweep = false;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--scenario") scenario = value();
    else if (arg == "--scenario-dir") dir = value();
    else if (arg == "--log-level") log_level = value();
    else if (arg == "--seed") range = value();
    else if (arg == "--seeds") {
      range = value();
      sweep = true;
    } else return Usage();
  }
  uint64_t first = 0, last = 0;
  if (scenario.empty() || !ParseRange(range, first, last)) return Usage();
  auto spec = simtool::LoadScenario(dir, scenario);
  if (!spec) {
    std::fprintf(stderr, "tierkv-sim: %s\n", spec.error().ToString().c_str());
    return 2;
  }
  if (!simtool::MakeWorkload(*spec)) {
    std::fprintf(stderr, "tierkv-sim: unknown workload '%s'\n", spec->workload.c_str());
    return 2;
  }

  io::ProdClock wall;  // only to report simulated-to-wall speed
  TimePoint wall_start = wall.Now();
  uint64_t passed = 0, failed = 0, events = 0;
  Duration simulated{0};
  for (uint64_t seed = first; seed <= last; seed++) {
    simtool::SeedResult result = simtool::RunSeed(*spec, seed, log_level);
    events += result.events;
    simulated += result.simulated;
    if (result.passed) {
      passed++;
    } else {
      failed++;
      fmt::print("FAIL seed {}: {}\n  replay: build/tools/tierkv-sim --scenario {} --seed {}\n",
                 seed, result.failure, scenario, seed);
    }
    if (!sweep) {
      fmt::print("scenario {} seed {}: {} ({}; {} events, {:.1f}s simulated)\n", scenario, seed,
                 result.passed ? "passed" : "FAILED", result.stats, result.events,
                 ToSeconds(result.simulated));
      fmt::print("trace-hash: {:016x}\n", result.trace_hash);
    }
    std::fflush(stdout);
  }
  double wall_seconds = std::max(1e-9, ToSeconds(wall.Now() - wall_start));
  if (sweep) {
    fmt::print("speed: {:.0f} events/s, simulated/wall time {:.1f}x ({:.1f}s simulated in {:.2f}s)\n",
               events / wall_seconds, ToSeconds(simulated) / wall_seconds, ToSeconds(simulated),
               wall_seconds);
    fmt::print("seeds: {} passed, {} failed\n", passed, failed);
  }
  return failed == 0 ? 0 : 1;
}
