#include "sim/linearizability.h"

#include <xxhash.h>

#include <algorithm>
#include <unordered_set>

#include "core/assert.h"

namespace tierkv::sim {
namespace {

// The history as a doubly linked list of call and return events in time order (Porcupine's
// entry list): linearizing an operation lifts its two events out; backtracking puts them back.
struct Event {
  int op = -1;  // -1: the head sentinel
  bool is_call = false;
  int prev = -1;
  int next = -1;
};

class Search {
 public:
  Search(const Model& model, const std::vector<Operation>& history)
      : model_(model), history_(history), linearized_((history.size() + 63) / 64, 0) {
    struct Stamp {
      TimePoint time;
      bool is_return;  // at equal times calls come first: such operations count as concurrent
      int op;
    };
    std::vector<Stamp> stamps;
    for (size_t i = 0; i < history.size(); i++) {
      const Operation& op = history[i];
      stamps.push_back({op.call, false, static_cast<int>(i)});
      stamps.push_back({op.returned.value_or(TimePoint::max()), true, static_cast<int>(i)});
    }
    std::stable_sort(stamps.begin(), stamps.end(), [](const Stamp& a, const Stamp& b) {
      if (a.time != b.time) return a.time < b.time;
      return !a.is_return && b.is_return;
    });
    events_.push_back(Event{});  // head
    call_of_.assign(history.size(), -1);
    return_of_.assign(history.size(), -1);
    for (const Stamp& stamp : stamps) {
      const int index = static_cast<int>(events_.size());
      events_.push_back(Event{stamp.op, !stamp.is_return, index - 1, -1});
      events_[index - 1].next = index;
      (stamp.is_return ? return_of_ : call_of_)[stamp.op] = index;
    }
  }

  LinearizabilityResult Run(uint64_t max_steps) {
    LinearizabilityResult result;
    std::string state = model_.initial_state;
    struct Frame {
      int op;
      std::string state;  // before the operation
    };
    std::vector<Frame> calls;
    size_t best_depth = 0;
    int stuck_at = -1;
    int entry = events_[0].next;
    while (events_[0].next != -1) {  // bounded by max_steps
      if (++result.steps > max_steps) {
        result.linearizable = false;
        result.gave_up = true;
        result.explanation = "search gave up after " + std::to_string(max_steps) + " steps";
        return result;
      }
      TK_ASSERT(entry != -1);
      const Event& event = events_[entry];
      if (event.is_call) {
        const Operation& op = history_[static_cast<size_t>(event.op)];
        std::optional<std::string> next =
            model_.step(state, op, op.returned.has_value() && op.output_known);
        bool advanced = false;
        if (next) {
          Set(event.op, true);
          if (memo_.insert(MemoKey(*next)).second) {
            calls.push_back({event.op, std::move(state)});
            state = std::move(*next);
            Lift(event.op);
            entry = events_[0].next;
            advanced = true;
            if (calls.size() > best_depth) {
              best_depth = calls.size();
              stuck_at = entry;
            }
          } else {
            Set(event.op, false);
          }
        }
        if (!advanced) entry = event.next;
      } else {
        // A return whose call is still in the list: something before it must be undone.
        if (calls.empty()) {
          result.linearizable = false;
          result.explanation = Explain(best_depth, stuck_at);
          return result;
        }
        Frame frame = std::move(calls.back());
        calls.pop_back();
        state = std::move(frame.state);
        Set(frame.op, false);
        Unlift(frame.op);
        entry = events_[call_of_[static_cast<size_t>(frame.op)]].next;
      }
    }
    return result;
  }

 private:
  void Set(int op, bool on) {
    uint64_t& word = linearized_[static_cast<size_t>(op) / 64];
    const uint64_t bit = uint64_t{1} << (op % 64);
    word = on ? (word | bit) : (word & ~bit);
  }

  std::string MemoKey(const std::string& state) const {
    std::string key(reinterpret_cast<const char*>(linearized_.data()), linearized_.size() * 8);
    const uint64_t hash = XXH64(state.data(), state.size(), 0);
    key.append(reinterpret_cast<const char*>(&hash), sizeof(hash));
    return key;
  }

  void Remove(int index) {
    Event& event = events_[index];
    events_[event.prev].next = event.next;
    if (event.next != -1) events_[event.next].prev = event.prev;
  }
  void Restore(int index) {
    Event& event = events_[index];
    events_[event.prev].next = index;
    if (event.next != -1) events_[event.next].prev = index;
  }
  void Lift(int op) {
    Remove(call_of_[static_cast<size_t>(op)]);
    Remove(return_of_[static_cast<size_t>(op)]);
  }
  void Unlift(int op) {  // the reverse order of Lift
    Restore(return_of_[static_cast<size_t>(op)]);
    Restore(call_of_[static_cast<size_t>(op)]);
  }

  std::string Explain(size_t best_depth, int stuck_at) const {
    std::string text = "not linearizable: at best " + std::to_string(best_depth) + " of " +
                       std::to_string(history_.size()) +
                       " operations could be ordered; none of these could come next:";
    // The operations whose calls were pending at the deepest point, up to the first return.
    int shown = 0;
    for (int index = stuck_at; index != -1 && shown < 8; index = events_[index].next) {
      const Event& event = events_[index];
      if (!event.is_call) break;
      text += "\n  " + model_.describe(history_[static_cast<size_t>(event.op)]);
      shown++;
    }
    return text;
  }

  const Model& model_;
  const std::vector<Operation>& history_;
  std::vector<Event> events_;
  std::vector<int> call_of_;
  std::vector<int> return_of_;
  std::vector<uint64_t> linearized_;
  std::unordered_set<std::string> memo_;
};

}  // namespace

LinearizabilityResult CheckLinearizable(const Model& model, const std::vector<Operation>& history,
                                        uint64_t max_steps) {
  if (history.empty()) return {};
  Search search(model, history);
  return search.Run(max_steps);
}

}  // namespace tierkv::sim
