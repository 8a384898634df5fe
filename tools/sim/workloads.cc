// The registry of workloads, by the name scenario files use.
#include "tools/sim/workload.h"

namespace tierkv::simtool {

std::unique_ptr<Workload> MakePingPong(const ScenarioSpec& spec);
std::unique_ptr<Workload> MakeEngineCrash(const ScenarioSpec& spec);
std::unique_ptr<Workload> MakeServerLinear(const ScenarioSpec& spec);

std::unique_ptr<Workload> MakeWorkload(const ScenarioSpec& spec) {
  if (spec.workload == "ping-pong") return MakePingPong(spec);
  if (spec.workload == "engine-crash") return MakeEngineCrash(spec);
  if (spec.workload == "server-linear") return MakeServerLinear(spec);
  return nullptr;
}

}  // namespace tierkv::simtool
