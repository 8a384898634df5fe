// The linearizability checker (sim/linearizability.h) on small register histories with known
// answers: real-time order, concurrency, unknown outcomes, and the stale read it must reject.
#include "sim/linearizability.h"

#include <doctest/doctest.h>

namespace tierkv::sim {
namespace {

// A register: input "w:<v>" (output "ok") or "r" (output the value, "" for none).
Model Register() {
  Model model;
  model.step = [](const std::string& state, const Operation& op,
                  bool check_output) -> std::optional<std::string> {
    if (op.input.starts_with("w:")) return op.input.substr(2);
    if (check_output && op.output != state) return std::nullopt;
    return state;
  };
  model.describe = [](const Operation& op) { return op.input + " -> " + op.output; };
  return model;
}

TimePoint T(int ms) { return TimePoint(std::chrono::milliseconds(ms)); }

Operation Op(int client, int call, std::optional<int> ret, std::string input,
             std::string output = "") {
  Operation op;
  op.client = client;
  op.call = T(call);
  if (ret) op.returned = T(*ret);
  op.input = std::move(input);
  op.output = std::move(output);
  return op;
}

}  // namespace

TEST_CASE("linearizability: sequential and concurrent histories") {
  const Model model = Register();
  // Sequential: write 1, read 1, write 2, read 2.
  CHECK(CheckLinearizable(model, {Op(0, 0, 1, "w:1", "ok"), Op(1, 2, 3, "r", "1"),
                                  Op(0, 4, 5, "w:2", "ok"), Op(1, 6, 7, "r", "2")})
            .linearizable);
  // A read concurrent with a write may see either value.
  CHECK(CheckLinearizable(model, {Op(0, 0, 1, "w:1", "ok"), Op(0, 2, 6, "w:2", "ok"),
                                  Op(1, 3, 4, "r", "1")})
            .linearizable);
  CHECK(CheckLinearizable(model, {Op(0, 0, 1, "w:1", "ok"), Op(0, 2, 6, "w:2", "ok"),
                                  Op(1, 3, 4, "r", "2")})
            .linearizable);
  // But two reads cannot see the new value and then the old one.
  LinearizabilityResult flip = CheckLinearizable(
      model, {Op(0, 0, 1, "w:1", "ok"), Op(0, 2, 10, "w:2", "ok"), Op(1, 3, 4, "r", "2"),
              Op(2, 5, 6, "r", "1")});
  CHECK_FALSE(flip.linearizable);
  CHECK_FALSE(flip.gave_up);
  CHECK(flip.explanation.find("not linearizable") == 0);
}

TEST_CASE("linearizability: a stale read after an acknowledged write is caught") {
  const Model model = Register();
  LinearizabilityResult stale = CheckLinearizable(
      model, {Op(0, 0, 1, "w:1", "ok"), Op(0, 2, 3, "w:2", "ok"), Op(1, 4, 5, "r", "1")});
  CHECK_FALSE(stale.linearizable);
  // A lost acknowledged write (the read after it sees nothing) too.
  CHECK_FALSE(CheckLinearizable(model, {Op(0, 0, 1, "w:1", "ok"), Op(1, 2, 3, "r", "")})
                  .linearizable);
}

TEST_CASE("linearizability: unknown outcomes may or may not have happened") {
  const Model model = Register();
  // The write's connection broke: a later read may see it or not, but not flip back.
  CHECK(CheckLinearizable(model, {Op(0, 0, std::nullopt, "w:1"), Op(1, 5, 6, "r", "")})
            .linearizable);
  CHECK(CheckLinearizable(model, {Op(0, 0, std::nullopt, "w:1"), Op(1, 5, 6, "r", "1")})
            .linearizable);
  CHECK_FALSE(CheckLinearizable(model, {Op(0, 0, std::nullopt, "w:1"), Op(1, 5, 6, "r", "1"),
                                        Op(1, 7, 8, "r", "")})
                  .linearizable);
  // A value nobody wrote is never explained.
  CHECK_FALSE(CheckLinearizable(model, {Op(0, 0, std::nullopt, "w:1"), Op(1, 5, 6, "r", "3")})
                  .linearizable);
}

TEST_CASE("linearizability: many concurrent clients, a long valid history") {
  const Model model = Register();
  std::vector<Operation> history;
  // Rounds of 4 overlapping writes, then a read of the last-called write (a valid order exists).
  for (int round = 0; round < 200; round++) {
    const int base = round * 100;
    for (int c = 0; c < 4; c++) {
      history.push_back(Op(c, base + c, base + 10 + c, "w:" + std::to_string(round * 4 + c), "ok"));
    }
    history.push_back(Op(9, base + 50, base + 60, "r", std::to_string(round * 4 + 2)));
  }
  LinearizabilityResult result = CheckLinearizable(model, history);
  CHECK(result.linearizable);
  CHECK(result.steps < 100000);
}

}  // namespace tierkv::sim
