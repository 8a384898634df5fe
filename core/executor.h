// The fiber runtime: one Executor per thread (production) or per simulated thread (simulation).
//
// An Executor runs fibers (Boost.Context stackful coroutines) cooperatively: a fiber runs until it
// parks (waits for an I/O completion, a timer, a channel, a mutex...) and the executor then runs
// the next ready fiber. Fibers never move between executors, so code that touches only its own
// executor's state needs no locks. Code above the Env seam is written as plain sequential code.
//
// The Executor itself knows nothing about the outside world. Its host (io/ or sim/) supplies the
// clock and is told when the executor has work (a fiber became ready, or the earliest timer
// deadline changed); the host then calls RunReady(). That is what lets the same runtime run on a
// real thread with io_uring or inside the single-threaded deterministic simulator.
//
// Timeouts and cancellation are built in: every Park() takes a deadline, and a cancelled fiber's
// interruptible parks return kCancelled. Rejected: a thread_local "current executor" (the rule is
// no globals above the seam; Env::CurrentExecutor() answers that question per implementation).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "core/status.h"
#include "core/time_point.h"

namespace tierkv {

class Executor;
class Fiber;
struct FiberState;

enum class WakeReason { kWoken, kTimedOut, kCancelled };

// Status for a wake reason: Ok, TimedOut or Cancelled (with `what` in the message).
Status WakeStatus(WakeReason reason, std::string_view what);

// What an executor needs from the Env implementation that hosts it.
class ExecutorHost {
 public:
  virtual ~ExecutorHost() = default;
  virtual const Clock& clock() const = 0;
  // The executor has ready fibers and wants RunReady() called soon. Called on the executor's own
  // thread (or, in simulation, the world's thread). Must not run fibers itself.
  virtual void OnReady(Executor& executor) = 0;
  // The earliest timer deadline is now `deadline`; the host calls RunReady() at or after it.
  virtual void OnTimerArmed(Executor& executor, TimePoint deadline) = 0;
};

// Handle to a spawned fiber: join it, cancel it, or ask whether it finished. Copyable; outlives
// the fiber safely.
class FiberHandle {
 public:
  FiberHandle() = default;
  explicit FiberHandle(std::shared_ptr<FiberState> state) : state_(std::move(state)) {}

  bool valid() const { return state_ != nullptr; }
  bool done() const;
  // Suspends the calling fiber (which must run on the same executor) until the fiber finishes or
  // the deadline passes. Returns Ok, TimedOut, or Cancelled if the caller is cancelled (only
  // when `interruptible`: otherwise the caller's cancellation does not end the wait).
  Status Join(Deadline deadline = kNoDeadline, bool interruptible = true);
  // Asks the fiber to stop: its current and future interruptible parks return kCancelled. It is up
  // to the fiber to return. Never suspends.
  void Cancel();

 private:
  std::shared_ptr<FiberState> state_;
};

class Executor {
 public:
  Executor(ExecutorHost& host, int index, Log log);
  ~Executor();  // Shutdown()
  // Destroys the remaining fibers, unwinding their stacks (newest first). Idempotent; the
  // executor stays usable as an object (index, log, clock) while and after it runs.
  void Shutdown();
  // Marks the executor as going away before any executor of the process unwinds its fibers, so
  // objects of this executor destroyed from another one's unwinding know (a simulated crash).
  void BeginShutdown() { shutting_down_ = true; }
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  int index() const { return index_; }
  const Log& log() const { return log_; }
  TimePoint Now() const { return host_.clock().Now(); }
  const Clock& clock() const { return host_.clock(); }

  // Creates a fiber that runs `fn`; it starts when the executor next runs ready fibers. Callable
  // from inside or outside a fiber of this executor (same thread only). Never suspends.
  FiberHandle Spawn(std::string name, std::function<void()> fn);

  // --- Calls made from inside a fiber of this executor ---

  // The running fiber; null when called outside any fiber.
  Fiber* current() const { return current_; }
  bool InFiber() const { return current_ != nullptr; }
  // Lets other ready fibers run, then continues. Suspends.
  void Yield();
  // Suspends the current fiber until Unpark(), the deadline, or (if interruptible) cancellation.
  // An interruptible park of an already-cancelled fiber returns kCancelled at once.
  WakeReason Park(Deadline deadline = kNoDeadline, bool interruptible = true);
  // Suspends for `duration`. Returns Ok, or Cancelled.
  Status Sleep(Duration duration);
  Status SleepUntil(TimePoint deadline);
  bool CurrentCancelled() const;
  const std::string& CurrentName() const;

  // --- Calls made by wakers (same thread) ---

  // Makes a parked fiber ready with `reason`. No effect on a fiber that is not parked.
  void Unpark(Fiber* fiber, WakeReason reason = WakeReason::kWoken);

  // --- Calls made by the host ---

  // Fires due timers and runs ready fibers (at most limits::kMaxFibersPerTick). Returns true when
  // fibers are still ready afterwards. Never called from inside a fiber.
  bool RunReady();
  bool HasReady() const { return !ready_.empty(); }
  // Earliest pending timer deadline, or kNoDeadline.
  TimePoint NextTimer();
  size_t FiberCount() const { return fibers_.size(); }
  // True while the destructor unwinds the remaining fibers.
  bool shutting_down() const { return shutting_down_; }
  uint64_t switches() const { return switches_; }

 // Freed fiber stacks kept for reuse (defined in executor.cc).
  struct StackCache;

 private:
  struct Timer {
    TimePoint deadline;
    uint64_t seq;  // insertion order: timers with equal deadlines fire in the order they were set
    uint64_t fiber_id;
    uint64_t park_seq;
    bool operator>(const Timer& other) const {
      return deadline != other.deadline ? deadline > other.deadline : seq > other.seq;
    }
  };

  void MakeReady(Fiber* fiber);
  void Resume(Fiber* fiber);
  void Reap(Fiber* fiber);
  void FireDueTimers();
  void SwitchToScheduler();

  ExecutorHost& host_;
  const int index_;
  Log log_;
  Fiber* current_ = nullptr;
  bool shutting_down_ = false;
  uint64_t next_fiber_id_ = 1;
  uint64_t timer_seq_ = 0;
  uint64_t switches_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Fiber>> fibers_;
  std::deque<Fiber*> ready_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::unique_ptr<StackCache> stacks_;
};

// A one-shot completion that one fiber waits for and a waker (an I/O completion handler, a timer
// or another fiber on the same executor) completes with an integer result.
class Completion {
 public:
  explicit Completion(Executor& executor) : executor_(executor) {}
  // Suspends until Complete() or the deadline. Returns the wake reason; result() is valid only
  // after kWoken.
  WakeReason Wait(Deadline deadline = kNoDeadline, bool interruptible = true);
  void Complete(int64_t result);
  bool done() const { return done_; }
  int64_t result() const { return result_; }

 private:
  Executor& executor_;
  Fiber* waiter_ = nullptr;
  bool done_ = false;
  int64_t result_ = 0;
};

}  // namespace tierkv
