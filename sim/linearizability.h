// A linearizability checker for histories recorded by simulated clients (Porcupine's algorithm:
// Wing & Gong's search with Lowe's memoisation of (linearized set, state) pairs).
//
// A history is the operations of several clients on one object (one key), each with the time it
// was called and the time it returned, as the clients saw them. It is linearizable when the
// operations can be put in one order that respects real time (an operation that returned before
// another was called comes first) and in which every operation's result is what the sequential
// model gives. An operation whose outcome is unknown (the connection broke, the server crashed)
// may have taken effect at any moment after its call, or never: it is treated as returning at
// infinity with its output unchecked, so the search may place it anywhere after its call,
// including after everything (which is the same as never).
// Per-key checking is sound because keys are independent objects (Herlihy & Wing's locality).
// States are strings (the models encode theirs); the memo keeps a 64-bit hash of each state next
// to the set of operations linearized so far, so a search explores each (set, state) once.
// Rejected: Knossos's full configuration search (exponential memory on histories this long).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/time_point.h"

namespace tierkv::sim {

struct Operation {
  int client = 0;
  TimePoint call{};
  std::optional<TimePoint> returned;  // nullopt: outcome unknown
  std::string input;                  // the model's encoding of the request
  std::string output;                 // the model's encoding of the result (when returned)
  // False for an operation whose result was not seen (unknown outcome), also when a checker
  // has bounded its `returned` by a later operation that observed its effect.
  bool output_known = true;
};

struct Model {
  std::string initial_state;
  // The operation applied to `state`: its next state, or nullopt when the operation, from this
  // state, would not have returned op.output. With check_output false (unknown outcome) the
  // output is not compared.
  std::function<std::optional<std::string>(const std::string& state, const Operation& op,
                                            bool check_output)>
      step;
  // One line about an operation, for failure reports.
  std::function<std::string(const Operation& op)> describe;
};

struct LinearizabilityResult {
  bool linearizable = true;
  bool gave_up = false;     // the search passed max_steps (reported, never a pass)
  uint64_t steps = 0;
  std::string explanation;  // on failure: where the search got stuck
};

// Checks one object's history. Bounded by max_steps search steps.
LinearizabilityResult CheckLinearizable(const Model& model, const std::vector<Operation>& history,
                                        uint64_t max_steps = 20'000'000);

}  // namespace tierkv::sim
