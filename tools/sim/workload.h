// A workload: the node programs of a scenario plus the checker that judges the run.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/world.h"
#include "tools/sim/scenario.h"

namespace tierkv::simtool {

class Workload {
 public:
  virtual ~Workload() = default;
  // Adds the nodes to the world (they boot at once).
  virtual void Setup(sim::World& world) = 0;
  // Traffic stops; nodes keep running so the final check can read their state.
  virtual void StopTraffic() = 0;
  // Called after the run, once every node has been crashed and restarted one last time and has
  // had time to recover. Returns the failures found ("" when the run is correct).
  virtual std::string Check() = 0;
  // Failures found while running (e.g. at a restart), "" if none so far.
  virtual std::string EarlyFailure() const = 0;
  // A few numbers for the summary line ("acked=123 ...").
  virtual std::string Stats() const = 0;
};

std::unique_ptr<Workload> MakeWorkload(const ScenarioSpec& spec);

}  // namespace tierkv::simtool
