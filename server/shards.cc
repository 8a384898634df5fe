#include "server/shards.h"

#include <numeric>

#include "core/assert.h"

namespace tierkv::server {

Status RunOnExecutors(Env& env, std::span<const int> executors,
                      const std::function<Status(int)>& task) {
  Executor& home = env.CurrentExecutor();
  struct Gather {
    explicit Gather(Executor& executor) : done(executor) {}
    WaitQueue done;
    size_t pending = 0;
    Status first_error;
  };
  // Shared: the last reference may be dropped on another executor after the caller returned.
  auto gather = std::make_shared<Gather>(home);
  gather->pending = executors.size();
  const int home_index = home.index();
  for (int index : executors) {
    env.Post(index, [&env, gather, task, index, home_index] {
      Status status = task(index);
      env.Post(home_index, [gather, status] {
        if (!status.ok() && gather->first_error.ok()) gather->first_error = status;
        gather->pending--;
        gather->done.NotifyAll();
      });
    });
  }
  while (gather->pending > 0) {  // bounded: one wake-up per executor
    WakeReason reason = gather->done.Wait(kNoDeadline, /*interruptible=*/false);
    TK_ASSERT(reason == WakeReason::kWoken);
  }
  return gather->first_error;
}

Shard::Shard(Executor& executor, std::unique_ptr<tiers::Engine> engine, const Clock& clock)
    : executor_(executor),
      engine_(std::move(engine)),
      store_(std::make_unique<tiers::TypedStore>(*engine_, executor, clock)) {
  // The server answers only after waiting for durability (Server::AwaitDurable), once for a
  // whole pipeline: the store's writes return once applied.
  store_->set_defer_durability(true);
}

// A simulated crash unwinds the owner's stack without closing: the executor is shutting down.
Shard::~Shard() { TK_ASSERT_MSG(closed_ || executor_.shutting_down(), "shard destroyed without Close()"); }

Result<std::unique_ptr<Shard>> Shard::Open(Env& env, const tiers::EngineOptions& options) {
  auto engine = tiers::Engine::Open(env, options);
  if (!engine) return Err(engine.error());
  return std::unique_ptr<Shard>(new Shard(env.CurrentExecutor(), std::move(*engine), env.clock()));
}

Status Shard::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  store_->Stop();
  store_.reset();
  return engine_->Close();
}

Result<std::unique_ptr<ShardSet>> ShardSet::Open(
    Env& env, const std::function<tiers::EngineOptions(int shard)>& options_for) {
  std::unique_ptr<ShardSet> set(new ShardSet(env));
  set->shards_.resize(env.ExecutorCount());
  Status opened = set->ForEachShard([&](int index) -> Status {
    auto shard = Shard::Open(env, options_for(index));
    if (!shard) return shard.error();
    set->shards_[index] = std::move(*shard);
    return Status::Ok();
  });
  if (!opened.ok()) {
    (void)set->Close();
    return Err(opened);
  }
  return set;
}

ShardSet::~ShardSet() {
  // A simulated crash unwinds ServeNode without closing, also in the middle of Open, before any
  // shard is there to ask.
  bool crashed = home_.shutting_down();
  for (const auto& shard : shards_) crashed = crashed || (shard && shard->executor().shutting_down());
  TK_ASSERT_MSG(closed_ || crashed, "shard set destroyed without Close()");
}

Status ShardSet::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  return ForEachShard([&](int index) -> Status {
    if (!shards_[index]) return Status::Ok();
    Status closed = shards_[index]->Close();
    shards_[index].reset();
    return closed;
  });
}

Status ShardSet::ForEachShard(const std::function<Status(int)>& task) {
  std::vector<int> indexes(shards_.size());
  std::iota(indexes.begin(), indexes.end(), 0);
  return RunOnExecutors(env_, indexes, task);
}

}  // namespace tierkv::server
