// The registry of workloads, by the name scenario files use.
#include "tools/sim/workload.h"

namespace tierkv::simtool {

std::unique_ptr<Workload> MakePingPong(const ScenarioSpec& spec);

std::unique_ptr<Workload> MakeWorkload(const ScenarioSpec& spec) {
  if (spec.workload == "ping-pong") return MakePingPong(spec);
  return nullptr;
}

}  // namespace tierkv::simtool
