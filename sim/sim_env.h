// A simulated node (process) and the Env its code sees. See sim/world.h for the big picture.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/sync.h"
#include "sim/sim_disk.h"
#include "sim/sim_pmem.h"
#include "sim/world.h"

namespace tierkv::sim {

// The node's clock: virtual time plus a fixed per-node skew (so it stays monotonic).
class SimClock final : public Clock {
 public:
  SimClock(const World& world, Duration offset) : world_(world), offset_(offset) {}
  TimePoint Now() const override { return world_.Now() + offset_; }
  int64_t UnixMicros() const override;
  Duration offset() const { return offset_; }

 private:
  const World& world_;
  Duration offset_;
};

class SimNode {
 public:
  SimNode(World& world, NodeSpec spec, int index, Duration clock_offset);
  ~SimNode();

  const std::string& name() const { return spec_.name; }
  int index() const { return index_; }
  uint64_t generation() const { return generation_; }
  bool running() const { return env_ != nullptr; }
  int boots() const { return boots_; }
  SimEnv* env() { return env_.get(); }
  SimDisk& disk() { return disk_; }
  SimPmemStore& pmem() { return pmem_; }
  const SimClock& clock() const { return clock_; }
  World& world() { return world_; }

  void Boot();
  void Crash();
  void RequestStop();
  // Wraps `fn` so it runs only if the node has not crashed or exited since.
  std::function<void()> Guard(std::function<void()> fn);

 private:
  void TearDown();

  World& world_;
  NodeSpec spec_;
  int index_;
  SimClock clock_;
  SimDisk disk_;
  SimPmemStore pmem_;
  uint64_t generation_ = 0;
  int boots_ = 0;
  std::unique_ptr<SimEnv> env_;
};

class SimEnv final : public Env {
 public:
  SimEnv(World& world, SimNode& node, int executors);
  ~SimEnv() override;

  SimNode& node() { return node_; }
  World& world() { return world_; }
  bool stop_requested() const { return stop_requested_; }
  void RequestStop() override;

  const std::string& NodeName() const override { return node_.name(); }
  Log MakeLog(int shard) const override;
  const Clock& clock() const override { return node_.clock(); }
  int ExecutorCount() const override { return static_cast<int>(hosts_.size()); }
  Executor& GetExecutor(int index) override;
  Executor& CurrentExecutor() override;
  void Post(int to, std::function<void()> fn) override;
  uint64_t RandomU64() override { return world_.prng().Next(); }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path,
                                         const OpenOptions& options) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  Result<std::unique_ptr<PmemRegion>> MapPmem(const std::string& path, uint64_t size) override;

  Result<std::unique_ptr<Listener>> Listen(const NetAddress& address,
                                           const ListenOptions& options) override;
  Result<std::unique_ptr<Socket>> Connect(const NetAddress& address, Deadline deadline) override;

  Status WaitForStopRequest() override;

  // Suspends the calling fiber for `latency` of virtual time, then runs `apply` in a world event
  // and returns its result. If the node crashes first, the fiber is gone and `apply` never runs.
  // On deadline or cancellation returns TimedOut/Cancelled; `apply` still runs (the device
  // finishes what it started).
  template <typename T>
  Result<T> Await(Duration latency, EventKind kind, std::function<Result<T>()> apply,
                  Deadline deadline = kNoDeadline);

  // Latency of one disk operation of the given kind, with slow-I/O faults.
  Duration DiskLatency(Duration min, Duration max);
  uint64_t EventLabelFor(EventKind kind);

 private:
  class Host;
  World& world_;
  SimNode& node_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::vector<std::vector<TimePoint>> last_post_;  // [from+1][to]: keeps messages in order
  // Paths locked with LockFile by this process (this boot): a crash ends the process and with it
  // its locks. Shared with the lock objects, which may outlive the Env.
  std::shared_ptr<std::set<std::string>> locks_ = std::make_shared<std::set<std::string>>();
  bool stop_requested_ = false;
  std::unique_ptr<WaitQueue> stop_waiters_;
};

template <typename T>
Result<T> SimEnv::Await(Duration latency, EventKind kind, std::function<Result<T>()> apply,
                        Deadline deadline) {
  struct State {
    std::optional<Result<T>> result;
    Fiber* waiter = nullptr;
  };
  Executor& executor = CurrentExecutor();
  auto state = std::make_shared<State>();
  state->waiter = executor.current();
  TK_ASSERT_MSG(state->waiter != nullptr, "simulated I/O outside a fiber");
  world_.ScheduleAfter(latency, EventLabelFor(kind),
                       node_.Guard([state, apply = std::move(apply), &executor] {
                         state->result = apply();
                         if (state->waiter) executor.Unpark(state->waiter);
                       }));
  while (!state->result) {
    WakeReason reason = executor.Park(deadline);
    if (reason != WakeReason::kWoken && !state->result) {
      state->waiter = nullptr;
      return Err(WakeStatus(reason, "simulated I/O"));
    }
  }
  return std::move(*state->result);
}

}  // namespace tierkv::sim
