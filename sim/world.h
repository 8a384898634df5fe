// The deterministic simulated world (FoundationDB's sim2, TigerBeetle's VOPR).
//
// Every simulated node and every executor (thread) of every node runs in this one OS thread.
// Time is virtual: the world keeps a queue of events ordered by (time, random tie-break, sequence)
// and jumps to the next one, so a simulated hour of mostly idle timers runs in milliseconds. One
// PRNG, seeded from the run's seed, decides event tie-breaks, latencies and faults, so the same
// seed replays the same run exactly; the trace hash (XXH64 over every event executed) proves it.
//
// Nodes are processes: a crash destroys everything a node's Env held (executors, fibers, sockets,
// open files) and keeps only its disk and PMem, resolved by the crash rules (sim/sim_disk.h,
// sim/sim_pmem.h). Events aimed at a node carry its generation and are dropped after a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "core/executor.h"
#include "core/log.h"
#include "core/random.h"
#include "core/time_point.h"

namespace tierkv::sim {

class SimNode;
class SimNetwork;
class SimEnv;

// Fault knobs. Probabilities apply per operation; each kind of fault also has a budget (how many
// may be injected in one run), so a correct system can survive a run: a failure is a bug, not
// bad luck.
struct FaultOptions {
  double disk_error_probability = 0;  // per read/write/sync
  int disk_error_budget = 0;
  double slow_io_probability = 0;  // an operation takes 20x its normal latency
  uint64_t disk_capacity_bytes = UINT64_MAX;  // writes beyond it fail with NoSpace
  double net_reset_probability = 0;  // per socket write
  int net_reset_budget = 0;
  Duration max_clock_skew = Duration(0);  // each node's clock is offset by up to this
  Duration link_latency_min = microseconds(50);
  Duration link_latency_max = microseconds(500);
};

struct NodeSpec {
  std::string name;
  int executors = 1;
  // The node's program: runs in a fiber on executor 0 at boot and at every restart. When it
  // returns, the node has exited (its Env is torn down).
  std::function<void(SimEnv&)> boot;
};

class World {
 public:
  World(uint64_t seed, FaultOptions faults, const std::string& log_level = "warn");
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  uint64_t seed() const { return seed_; }
  Prng& prng() { return prng_; }
  const FaultOptions& faults() const { return faults_; }
  TimePoint Now() const { return now_; }
  SimNetwork& network() { return *network_; }
  std::shared_ptr<spdlog::logger> logger() const { return logger_; }

  // --- events ---
  // Runs `fn` at `at` (not earlier than now). `label` is mixed into the trace hash.
  void Schedule(TimePoint at, uint64_t label, std::function<void()> fn);
  void ScheduleAfter(Duration delay, uint64_t label, std::function<void()> fn) {
    Schedule(now_ + delay, label, std::move(fn));
  }
  // Runs one event. False when no event is left.
  bool Step();
  // Runs events until `until` (virtual) or none are left. Returns false if the event limit hit.
  bool RunUntil(TimePoint until);
  bool RunFor(Duration duration) { return RunUntil(now_ + duration); }
  uint64_t trace_hash() const;
  uint64_t events_run() const { return events_run_; }

  // --- nodes ---
  SimNode& AddNode(NodeSpec spec);  // boots it now
  SimNode& node(const std::string& name);
  std::vector<SimNode*> nodes();
  // Crash: the node stops at once; disk and PMem keep what the crash rules keep.
  void Crash(const std::string& name);
  // Boots a crashed or exited node again.
  void Restart(const std::string& name);
  // Asks the node to stop gracefully (its Env::WaitForStopRequest returns).
  void RequestStop(const std::string& name);

  // --- the executor running now (Env::CurrentExecutor in simulation) ---
  Executor* current_executor() const { return current_executor_; }
  SimNode* current_node() const { return current_node_; }
  void SetCurrent(SimNode* node, Executor* executor) {
    current_node_ = node;
    current_executor_ = executor;
  }

  // Takes one unit from a fault budget when a fault with probability `p` fires.
  bool InjectFault(double probability, int& budget);
  int& disk_error_budget() { return disk_error_budget_; }
  int& net_reset_budget() { return net_reset_budget_; }

 private:
  struct Event {
    TimePoint at;
    uint64_t tie_break;
    uint64_t seq;
    uint64_t label;
    std::function<void()> fn;
    bool operator>(const Event& other) const {
      if (at != other.at) return at > other.at;
      if (tie_break != other.tie_break) return tie_break > other.tie_break;
      return seq > other.seq;
    }
  };

  const uint64_t seed_;
  Prng prng_;
  FaultOptions faults_;
  TimePoint now_;
  uint64_t seq_ = 0;
  uint64_t events_run_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  struct TraceHasher;
  std::unique_ptr<TraceHasher> hasher_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<SimNetwork> network_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  Executor* current_executor_ = nullptr;
  SimNode* current_node_ = nullptr;
  int disk_error_budget_;
  int net_reset_budget_;
};

// Labels for the trace hash: what kind of event, for which node and executor.
enum class EventKind : uint64_t {
  kRunExecutor = 1,
  kTimer,
  kMessage,
  kDiskOp,
  kNetDeliver,
  kNetConnect,
  kNodeLifecycle,
  kScenario,
};
inline uint64_t EventLabel(EventKind kind, int node, int executor = 0) {
  return (static_cast<uint64_t>(kind) << 48) | (static_cast<uint64_t>(node & 0xffff) << 16) |
         static_cast<uint64_t>(executor & 0xffff);
}

}  // namespace tierkv::sim
