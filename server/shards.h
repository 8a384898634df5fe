// The node's shards: one storage engine and Redis type store per executor (shard thread), each
// owning a contiguous range of the 16384 Redis Cluster slots (DESIGN.md §2).
//
// Shard i owns the slots s with floor(s * n / 16384) == i, so every shard's range is contiguous
// and the ranges differ in size by at most one slot. A shard is opened, used and closed only on
// its own executor: its engine and store are single-threaded. Another executor reaches it with
// RunOn, which posts the work to the owner (Env::Post) and posts the result back: two messages,
// no locks, nothing shared but the result's handoff.
// Lifetime: Close must run after every caller of RunOn has stopped (the node stops its
// connections first).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/executor.h"
#include "core/status.h"
#include "core/sync.h"
#include "tiers/engine.h"
#include "tiers/types.h"

namespace tierkv::server {

inline constexpr int kSlots = 16384;

// Runs `task(index)` in a fiber on each executor of `executors` and waits, on the calling
// executor, until all have finished. Returns the first failure, or Ok. Suspends, uninterruptibly:
// the tasks may reference the caller's stack, which must outlive them.
Status RunOnExecutors(Env& env, std::span<const int> executors,
                      const std::function<Status(int)>& task);

// The shard owning `slot` among `shards`.
inline int ShardOfSlot(uint16_t slot, int shards) {
  return static_cast<int>(uint32_t{slot} * static_cast<uint32_t>(shards) / kSlots);
}
// The first slot of shard `shard` (its range ends where the next one's starts, or at 16384).
inline uint32_t FirstSlotOf(int shard, int shards) {
  return (static_cast<uint32_t>(shard) * kSlots + static_cast<uint32_t>(shards) - 1) /
         static_cast<uint32_t>(shards);
}

class Shard {
 public:
  // Opens the engine in options.dir and starts the type store. Runs on the shard's executor.
  // Suspends.
  static Result<std::unique_ptr<Shard>> Open(Env& env, const tiers::EngineOptions& options);
  ~Shard();
  // Stops the store's background work and closes the engine (a final checkpoint). Suspends.
  Status Close();

  tiers::Engine& engine() { return *engine_; }
  tiers::TypedStore& store() { return *store_; }
  Executor& executor() { return executor_; }

 private:
  Shard(Executor& executor, std::unique_ptr<tiers::Engine> engine, const Clock& clock);

  Executor& executor_;
  std::unique_ptr<tiers::Engine> engine_;
  std::unique_ptr<tiers::TypedStore> store_;
  bool closed_ = false;
};

class ShardSet {
 public:
  // Opens one shard per executor of `env`, shard i on executor i with options_for(i), all at
  // once. If any fails, the opened ones are closed and the first error returned. Suspends.
  static Result<std::unique_ptr<ShardSet>> Open(
      Env& env, const std::function<tiers::EngineOptions(int shard)>& options_for);
  ~ShardSet();
  // Closes every shard on its executor. Idempotent. Suspends (uninterruptibly).
  Status Close();

  int size() const { return static_cast<int>(shards_.size()); }
  int OwnerOfSlot(uint16_t slot) const { return ShardOfSlot(slot, size()); }
  int OwnerOf(std::string_view key) const {
    return size() == 1 ? 0 : OwnerOfSlot(tiers::KeySlot(key));  // one shard: no hash needed
  }
  // The calling executor's shard.
  Shard& local() { return *shards_[env_.CurrentExecutor().index()]; }

  // Runs fn on shard `index`'s executor and returns its result. Directly when called there.
  // Suspends. If the caller is cancelled while it waits (only when `interruptible`), fn still
  // runs to its end (its result is dropped) and the caller gets Cancelled.
  template <typename T>
  Result<T> RunOn(int index, std::function<Result<T>(Shard&)> fn, bool interruptible = true);

 private:
  explicit ShardSet(Env& env) : env_(env), home_(env.CurrentExecutor()) {}
  // Runs task(i) for every shard i on its executor at once and waits for all. Uninterruptible.
  Status ForEachShard(const std::function<Status(int)>& task);

  Env& env_;
  Executor& home_;  // the executor that opened the set
  std::vector<std::unique_ptr<Shard>> shards_;
  bool closed_ = false;
};

template <typename T>
Result<T> ShardSet::RunOn(int index, std::function<Result<T>(Shard&)> fn, bool interruptible) {
  Executor& here = env_.CurrentExecutor();
  if (here.index() == index) return fn(*shards_[index]);
  // Shared with the two messages: it outlives a caller that gave up waiting.
  struct Call {
    explicit Call(Executor& executor) : done(executor) {}
    Completion done;
    std::optional<Result<T>> result;
  };
  auto call = std::make_shared<Call>(here);
  Env& env = env_;
  Shard* shard = shards_[index].get();
  const int home = here.index();
  env_.Post(index, [&env, call, shard, fn = std::move(fn), home] {
    auto result = std::make_shared<Result<T>>(fn(*shard));
    env.Post(home, [call, result] {
      call->result = std::move(*result);
      call->done.Complete(0);
    });
  });
  WakeReason reason = call->done.Wait(kNoDeadline, interruptible);
  if (reason != WakeReason::kWoken) return Err(WakeStatus(reason, "shard call"));
  return std::move(*call->result);
}

}  // namespace tierkv::server
