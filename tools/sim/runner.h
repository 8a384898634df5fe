// Runs one seed of a scenario: the workload plus the scenario's fault schedule (crashes with
// restarts, partitions with heals), then a final crash-and-recover of every node and the check.
#pragma once

#include <cstdint>
#include <string>

#include "tools/sim/scenario.h"

namespace tierkv::simtool {

struct SeedResult {
  bool passed = false;
  std::string failure;
  std::string stats;
  uint64_t trace_hash = 0;
  uint64_t events = 0;
  Duration simulated{0};
};

SeedResult RunSeed(const ScenarioSpec& spec, uint64_t seed, const std::string& log_level);

}  // namespace tierkv::simtool
