#include "sim/sim_env.h"

#include "core/aligned_buffer.h"
#include "core/assert.h"
#include "core/limits.h"
#include "sim/sim_net.h"

namespace tierkv::sim {
namespace {

// 2026-01-01T00:00:00Z: simulated wall clocks start here, so runs do not depend on the date.
constexpr int64_t kEpochUnixMicros = 1'767'225'600'000'000;

}  // namespace

int64_t SimClock::UnixMicros() const {
  return kEpochUnixMicros + std::chrono::duration_cast<microseconds>(Now().time_since_epoch()).count();
}

// ---------------------------------------------------------------------------------------------
// Executor hosting: an executor asks for a run when it has ready fibers or a timer; the world
// runs it in an event, with a little random jitter standing in for thread scheduling.

class SimEnv::Host final : public ExecutorHost {
 public:
  Host(SimEnv& env, int index) : env_(env) {
    executor_ = std::make_unique<Executor>(*this, index, env.MakeLog(index));
  }
  ~Host() override { executor_.reset(); }

  Executor& executor() { return *executor_; }
  const Clock& clock() const override { return env_.clock(); }

  void OnReady(Executor&) override {
    if (run_scheduled_) return;
    run_scheduled_ = true;
    Duration jitter(env_.world().prng().Uniform(2000));
    env_.world().ScheduleAfter(jitter, env_.EventLabelFor(EventKind::kRunExecutor),
                               env_.node().Guard([this] {
                                 run_scheduled_ = false;
                                 Run();
                               }));
  }

  void OnTimerArmed(Executor&, TimePoint deadline) override {
    TimePoint world_time = deadline - env_.node().clock().offset();
    if (world_time >= timer_at_) return;  // an earlier wake-up is already scheduled
    timer_at_ = world_time;
    env_.world().Schedule(std::max(world_time, env_.world().Now()),
                          env_.EventLabelFor(EventKind::kTimer),
                          env_.node().Guard([this, world_time] {
                            if (timer_at_ == world_time) timer_at_ = TimePoint::max();
                            Run();
                          }));
  }

 private:
  void Run() {
    World& world = env_.world();
    SimNode* previous_node = world.current_node();
    Executor* previous_executor = world.current_executor();
    world.SetCurrent(&env_.node(), executor_.get());
    executor_->RunReady();
    world.SetCurrent(previous_node, previous_executor);
  }

  SimEnv& env_;
  std::unique_ptr<Executor> executor_;
  bool run_scheduled_ = false;
  TimePoint timer_at_ = TimePoint::max();
};

// ---------------------------------------------------------------------------------------------
// SimNode

SimNode::SimNode(World& world, NodeSpec spec, int index, Duration clock_offset)
    : world_(world),
      spec_(std::move(spec)),
      index_(index),
      clock_(world, clock_offset),
      disk_(world.faults().disk_capacity_bytes) {}

SimNode::~SimNode() { TearDown(); }

std::function<void()> SimNode::Guard(std::function<void()> fn) {
  return [this, generation = generation_, fn = std::move(fn)] {
    if (generation_ == generation && env_ != nullptr) fn();
  };
}

void SimNode::Boot() {
  TK_ASSERT(env_ == nullptr);
  // A new process, a new generation: events the old one's teardown scheduled (fibers unwinding
  // can make an executor ready again after TearDown bumped the generation) must not run against
  // this process's objects.
  generation_++;
  boots_++;
  env_ = std::make_unique<SimEnv>(world_, *this, spec_.executors);
  SimEnv* env = env_.get();
  env->GetExecutor(0).Spawn("boot", [this, env] {
    spec_.boot(*env);
    // The program returned: the process exits. Tear down from a world event, not from inside
    // one of the fibers being destroyed.
    world_.ScheduleAfter(Duration(0), EventLabel(EventKind::kNodeLifecycle, index_),
                         Guard([this] { TearDown(); }));
  });
}

void SimNode::TearDown() {
  if (env_ == nullptr) return;
  generation_++;  // every event aimed at the old process is now void
  std::unique_ptr<SimEnv> env = std::move(env_);
  env.reset();
}

void SimNode::Crash() {
  // Power loss: even a node whose process already exited loses its unsynced page cache.
  if (env_ != nullptr) {
    pmem_.Crash(world_.prng());
    TearDown();
  }
  disk_.Crash(world_.prng());
}

void SimNode::RequestStop() {
  if (env_) env_->RequestStop();
}

// ---------------------------------------------------------------------------------------------
// SimEnv: executors, messages, lifecycle

SimEnv::SimEnv(World& world, SimNode& node, int executors)
    : world_(world), node_(node), logger_(world.logger()) {
  TK_ASSERT(executors >= 1 && executors <= limits::kMaxExecutors);
  for (int i = 0; i < executors; i++) hosts_.push_back(std::make_unique<Host>(*this, i));
  last_post_.assign(executors + 1, std::vector<TimePoint>(executors, TimePoint::min()));
  stop_waiters_ = std::make_unique<WaitQueue>(hosts_[0]->executor());
}

SimEnv::~SimEnv() {
  // Fibers first (their stacks unwind and release sockets, files and regions) while every
  // executor object is still reachable through GetExecutor, then the rest.
  // Executor 0 last: the node's program runs there and its stack owns what the other executors'
  // fibers use (a server's shards, engines, listeners), so those fibers must unwind first.
  for (auto& host : hosts_) host->executor().BeginShutdown();
  for (auto it = hosts_.rbegin(); it != hosts_.rend(); ++it) (*it)->executor().Shutdown();
  stop_waiters_.reset();
  hosts_.clear();
}

Log SimEnv::MakeLog(int shard) const { return Log(logger_, node_.name(), shard, &node_.clock()); }

uint64_t SimEnv::EventLabelFor(EventKind kind) {
  Executor* current = world_.current_executor();
  int executor = world_.current_node() == &node_ && current ? current->index() : 0;
  return EventLabel(kind, node_.index(), executor);
}

Executor& SimEnv::GetExecutor(int index) {
  TK_ASSERT(index >= 0 && index < ExecutorCount());
  return hosts_[index]->executor();
}

Executor& SimEnv::CurrentExecutor() {
  TK_ASSERT_MSG(world_.current_node() == &node_ && world_.current_executor() != nullptr,
                "not on an executor of this node");
  return *world_.current_executor();
}

void SimEnv::Post(int to, std::function<void()> fn) {
  TK_ASSERT(to >= 0 && to < ExecutorCount());
  int from = world_.current_node() == &node_ && world_.current_executor()
                 ? world_.current_executor()->index()
                 : -1;
  // A cross-thread message takes a few microseconds; messages between one pair stay in order.
  TimePoint at = world_.Now() + Duration(1000 + world_.prng().Uniform(20000));
  TimePoint& last = last_post_[from + 1][to];
  if (at <= last) at = last + Duration(1);
  last = at;
  world_.Schedule(at, EventLabel(EventKind::kMessage, node_.index(), to),
                  node_.Guard([this, to, fn = std::move(fn)]() mutable {
                    hosts_[to]->executor().Spawn("message", std::move(fn));
                  }));
}

void SimEnv::RequestStop() {
  stop_requested_ = true;
  if (stop_waiters_) stop_waiters_->NotifyAll();
}

Status SimEnv::WaitForStopRequest() {
  while (!stop_requested_) {
    TK_ASSERT_MSG(&CurrentExecutor() == &hosts_[0]->executor(),
                  "WaitForStopRequest runs on executor 0 in simulation");
    WakeReason reason = stop_waiters_->Wait();
    if (reason != WakeReason::kWoken) return WakeStatus(reason, "wait for stop");
  }
  return Status::Ok();
}

Duration SimEnv::DiskLatency(Duration min, Duration max) {
  Duration latency = min + Duration(world_.prng().Uniform((max - min).count() + 1));
  if (world_.prng().Chance(world_.faults().slow_io_probability)) latency *= 20;
  return latency;
}

Result<std::unique_ptr<PmemRegion>> SimEnv::MapPmem(const std::string& path, uint64_t size) {
  return node_.pmem().Map(path, size);
}

}  // namespace tierkv::sim
