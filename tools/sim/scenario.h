// Scenario definitions: small declarative files in scenarios/ (FoundationDB's tests/*.toml).
// A file names a workload (code in tools/sim/) and sets the world's size, duration and fault
// knobs; `key = value` lines, '#' comments. Unknown keys are an error, so a typo cannot silently
// turn a fault off.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/status.h"
#include "sim/world.h"

namespace tierkv::simtool {

struct ScenarioSpec {
  std::string name;
  std::string workload;
  int nodes = 3;
  int executors = 2;
  Duration duration = seconds(30);
  int crashes = 0;     // node crashes during the run (each followed by a restart)
  int partitions = 0;  // partitions during the run (each healed later)
  sim::FaultOptions faults;
  std::map<std::string, std::string> workload_options;  // keys starting with "workload."
};

// Parses scenario text; `name` is used in errors.
Result<ScenarioSpec> ParseScenario(const std::string& name, const std::string& text);
// Reads scenarios/NAME.scenario from `dir`.
Result<ScenarioSpec> LoadScenario(const std::string& dir, const std::string& name);

}  // namespace tierkv::simtool
