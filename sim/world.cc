#include "sim/world.h"

#include <xxhash.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sim/sim_env.h"
#include "sim/sim_net.h"

namespace tierkv::sim {

// XXH64 streaming state over (time, label) of every event run: cheap, well-tested, and the same
// on every platform (why xxhash rather than a hand-rolled hash).
struct World::TraceHasher {
  XXH64_state_t* state = XXH64_createState();
  explicit TraceHasher(uint64_t seed) { XXH64_reset(state, seed); }
  ~TraceHasher() { XXH64_freeState(state); }
  void Add(int64_t time_ns, uint64_t label) {
    uint64_t words[2] = {static_cast<uint64_t>(time_ns), label};
    XXH64_update(state, words, sizeof(words));
  }
  uint64_t Digest() const { return XXH64_digest(state); }
};

World::World(uint64_t seed, FaultOptions faults, const std::string& log_level)
    : seed_(seed),
      prng_(seed),
      faults_(faults),
      now_(TimePoint(seconds(1000))),  // room for negative clock skew
      hasher_(std::make_unique<TraceHasher>(seed)),
      logger_(MakeStderrLogger("tierkv.sim", log_level)),
      network_(std::make_unique<SimNetwork>(*this)),
      disk_error_budget_(faults.disk_error_budget),
      net_reset_budget_(faults.net_reset_budget) {}

World::~World() {
  // Nodes first: their fibers may still reference the network.
  for (auto& node : nodes_) node->Crash();
  nodes_.clear();
  network_.reset();
}

void World::Schedule(TimePoint at, uint64_t label, std::function<void()> fn) {
  if (at < now_) at = now_;
  events_.push(Event{at, prng_.Next(), seq_++, label, std::move(fn)});
}

bool World::Step() {
  if (events_.empty()) return false;
  // priority_queue::top is const; the function is moved out through a const_cast, which is safe
  // because the element is popped right after.
  Event& top = const_cast<Event&>(events_.top());
  TK_ASSERT(top.at >= now_);
  now_ = top.at;
  std::function<void()> fn = std::move(top.fn);
  uint64_t label = top.label;
  events_.pop();
  hasher_->Add(ToNanos(now_), label);
  events_run_++;
  fn();
  return true;
}

bool World::RunUntil(TimePoint until) {
  while (!events_.empty() && events_.top().at <= until) {
    if (events_run_ >= limits::kSimMaxEvents) return false;
    Step();
  }
  if (now_ < until) now_ = until;
  return true;
}

uint64_t World::trace_hash() const { return hasher_->Digest(); }

SimNode& World::AddNode(NodeSpec spec) {
  for (auto& node : nodes_) TK_ASSERT_MSG(node->name() != spec.name, "duplicate node name");
  Duration skew(0);
  if (faults_.max_clock_skew > Duration(0)) {
    skew = Duration(prng_.Range(-faults_.max_clock_skew.count(), faults_.max_clock_skew.count()));
  }
  int index = static_cast<int>(nodes_.size());
  nodes_.push_back(std::make_unique<SimNode>(*this, std::move(spec), index, skew));
  nodes_.back()->Boot();
  return *nodes_.back();
}

SimNode& World::node(const std::string& name) {
  for (auto& node : nodes_) {
    if (node->name() == name) return *node;
  }
  TK_ASSERT_MSG(false, "no such node");
  TK_UNREACHABLE();
}

std::vector<SimNode*> World::nodes() {
  std::vector<SimNode*> out;
  for (auto& node : nodes_) out.push_back(node.get());
  return out;
}

void World::Crash(const std::string& name) {
  TK_ASSERT_MSG(current_executor_ == nullptr, "crash a node from a world event, not a fiber");
  logger_->info("[world {:.6f}s] crash {}", ToSeconds(now_.time_since_epoch()), name);
  node(name).Crash();
}

void World::Restart(const std::string& name) {
  SimNode& target = node(name);
  if (target.running()) return;
  logger_->info("[world {:.6f}s] restart {}", ToSeconds(now_.time_since_epoch()), name);
  target.Boot();
}

void World::RequestStop(const std::string& name) { node(name).RequestStop(); }

bool World::InjectFault(double probability, int& budget) {
  if (budget <= 0 || probability <= 0) return false;
  if (!prng_.Chance(probability)) return false;
  budget--;
  return true;
}

}  // namespace tierkv::sim
