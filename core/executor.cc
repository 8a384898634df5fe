#include "core/executor.h"

#include <algorithm>

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>

#include "core/assert.h"
#include "core/limits.h"

namespace ctx = boost::context;

namespace tierkv {

struct FiberState {
  Executor* executor = nullptr;
  Fiber* fiber = nullptr;  // null once finished
  bool done = false;
  bool cancelled = false;
  std::vector<Fiber*> joiners;
};

class Fiber {
 public:
  uint64_t id = 0;
  std::string name;
  std::function<void()> fn;
  std::shared_ptr<FiberState> state;
  ctx::fiber context;  // the fiber's own context while it is suspended
  ctx::fiber caller;   // the scheduler's context while the fiber runs
  bool parked = false;
  bool interruptible = false;
  bool finished = false;
  uint64_t park_seq = 0;
  WakeReason wake_reason = WakeReason::kWoken;
};

// Keeps freed fiber stacks for reuse: a fiber per cross-executor message must not cost an mmap,
// an mprotect and a munmap each.
struct Executor::StackCache {
  static constexpr size_t kMaxCached = 64;
  ctx::protected_fixedsize_stack allocator{limits::kFiberStackBytes};
  std::vector<ctx::stack_context> free;

  ~StackCache() {
    for (auto& stack : free) allocator.deallocate(stack);
  }
};

namespace {

// Stack allocator handed to Boost.Context; delegates to the executor's cache.
class CachedStack {
 public:
  explicit CachedStack(Executor::StackCache* cache) : cache_(cache) {}
  ctx::stack_context allocate() {
    if (!cache_->free.empty()) {
      ctx::stack_context stack = cache_->free.back();
      cache_->free.pop_back();
      return stack;
    }
    return cache_->allocator.allocate();
  }
  void deallocate(ctx::stack_context& stack) noexcept {
    if (cache_->free.size() < Executor::StackCache::kMaxCached) {
      cache_->free.push_back(stack);
    } else {
      cache_->allocator.deallocate(stack);
    }
  }

 private:
  Executor::StackCache* cache_;
};

}  // namespace

Status WakeStatus(WakeReason reason, std::string_view what) {
  switch (reason) {
    case WakeReason::kWoken: return Status::Ok();
    case WakeReason::kTimedOut: return Status(StatusCode::kTimedOut, std::string(what) + " timed out");
    case WakeReason::kCancelled: return Status(StatusCode::kCancelled, std::string(what) + " cancelled");
  }
  TK_UNREACHABLE();
}

bool FiberHandle::done() const { return state_ && state_->done; }

Status FiberHandle::Join(Deadline deadline, bool interruptible) {
  TK_ASSERT(state_);
  Executor* executor = state_->executor;
  while (!state_->done) {
    Fiber* self = executor->current();
    TK_ASSERT_MSG(self != nullptr, "Join outside a fiber");
    TK_ASSERT_MSG(state_->fiber != self, "a fiber cannot join itself");
    state_->joiners.push_back(self);
    WakeReason reason = executor->Park(deadline, interruptible);
    if (reason != WakeReason::kWoken) {
      std::erase(state_->joiners, self);
      return WakeStatus(reason, "join");
    }
  }
  return Status::Ok();
}

void FiberHandle::Cancel() {
  if (!state_ || state_->done) return;
  state_->cancelled = true;
  Fiber* fiber = state_->fiber;
  if (fiber && fiber->parked && fiber->interruptible) {
    state_->executor->Unpark(fiber, WakeReason::kCancelled);
  }
}

Executor::Executor(ExecutorHost& host, int index, Log log)
    : host_(host), index_(index), log_(std::move(log)), stacks_(std::make_unique<StackCache>()) {
  TK_ASSERT(index >= 0 && index < limits::kMaxExecutors);
}

Executor::~Executor() { Shutdown(); }

void Executor::Shutdown() {
  TK_ASSERT_MSG(current_ == nullptr, "executor shut down from inside one of its fibers");
  shutting_down_ = true;
  // Destroying a suspended ctx::fiber unwinds its stack (Boost throws forced_unwind inside it), so
  // RAII objects held by fibers are released, as in a clean shutdown or a simulated crash.
  // Newest first: a fiber usually waits on objects owned by an older one (its spawner), so the
  // waiter unwinds (and leaves the wait queue) before the owner's stack frees the queue.
  std::vector<uint64_t> ids;
  for (const auto& [id, fiber] : fibers_) ids.push_back(id);
  std::sort(ids.rbegin(), ids.rend());
  for (uint64_t id : ids) {
    auto it = fibers_.find(id);
    if (it == fibers_.end()) continue;
    std::unique_ptr<Fiber> fiber = std::move(it->second);
    fibers_.erase(it);
    fiber->state->done = true;
    fiber->state->fiber = nullptr;
    fiber->context = ctx::fiber();
  }
}

FiberHandle Executor::Spawn(std::string name, std::function<void()> fn) {
  auto fiber = std::make_unique<Fiber>();
  Fiber* raw = fiber.get();
  raw->id = next_fiber_id_++;
  raw->name = std::move(name);
  raw->fn = std::move(fn);
  raw->state = std::make_shared<FiberState>();
  raw->state->executor = this;
  raw->state->fiber = raw;
  raw->context = ctx::fiber(std::allocator_arg, CachedStack(stacks_.get()),
                            [this, raw](ctx::fiber&& scheduler) {
                              raw->caller = std::move(scheduler);
                              // Boost's ucontext backend (sanitizer builds) enters a fiber that
                              // never ran when it is destroyed; its body must not run then.
                              if (!shutting_down_) raw->fn();
                              raw->fn = nullptr;  // release captures while still on this stack
                              raw->finished = true;
                              return std::move(raw->caller);
                            });
  fibers_.emplace(raw->id, std::move(fiber));
  MakeReady(raw);
  return FiberHandle(raw->state);
}

void Executor::MakeReady(Fiber* fiber) {
  bool was_idle = ready_.empty();
  ready_.push_back(fiber);
  if (was_idle) host_.OnReady(*this);
}

void Executor::SwitchToScheduler() {
  Fiber* self = current_;
  TK_ASSERT(self != nullptr);
  self->caller = std::move(self->caller).resume();
}

void Executor::Yield() {
  Fiber* self = current_;
  TK_ASSERT_MSG(self != nullptr, "Yield outside a fiber");
  MakeReady(self);
  SwitchToScheduler();
}

WakeReason Executor::Park(Deadline deadline, bool interruptible) {
  Fiber* self = current_;
  TK_ASSERT_MSG(self != nullptr, "Park outside a fiber");
  if (interruptible && self->state->cancelled) return WakeReason::kCancelled;
  if (deadline != kNoDeadline && deadline <= Now()) return WakeReason::kTimedOut;
  self->parked = true;
  self->interruptible = interruptible;
  self->park_seq++;
  if (deadline != kNoDeadline) {
    bool earliest = timers_.empty() || deadline < timers_.top().deadline;
    timers_.push(Timer{deadline, timer_seq_++, self->id, self->park_seq});
    if (earliest) host_.OnTimerArmed(*this, deadline);
  }
  SwitchToScheduler();
  TK_ASSERT(!self->parked);
  return self->wake_reason;
}

Status Executor::Sleep(Duration duration) { return SleepUntil(DeadlineAfter(Now(), duration)); }

Status Executor::SleepUntil(TimePoint deadline) {
  WakeReason reason = Park(deadline);
  if (reason == WakeReason::kCancelled) return WakeStatus(reason, "sleep");
  return Status::Ok();
}

bool Executor::CurrentCancelled() const { return current_ && current_->state->cancelled; }

const std::string& Executor::CurrentName() const {
  static const std::string kNone = "<scheduler>";
  return current_ ? current_->name : kNone;
}

void Executor::Unpark(Fiber* fiber, WakeReason reason) {
  TK_ASSERT(fiber != nullptr);
  if (!fiber->parked) return;
  fiber->parked = false;
  fiber->wake_reason = reason;
  MakeReady(fiber);
}

void Executor::FireDueTimers() {
  TimePoint now = Now();
  while (!timers_.empty() && timers_.top().deadline <= now) {
    Timer timer = timers_.top();
    timers_.pop();
    auto it = fibers_.find(timer.fiber_id);
    if (it == fibers_.end()) continue;
    Fiber* fiber = it->second.get();
    if (fiber->parked && fiber->park_seq == timer.park_seq) Unpark(fiber, WakeReason::kTimedOut);
  }
}

TimePoint Executor::NextTimer() {
  // Drop timers whose park already ended, so the host does not wake up for nothing.
  while (!timers_.empty()) {
    const Timer& top = timers_.top();
    auto it = fibers_.find(top.fiber_id);
    if (it != fibers_.end() && it->second->parked && it->second->park_seq == top.park_seq) {
      return top.deadline;
    }
    timers_.pop();
  }
  return kNoDeadline;
}

void Executor::Resume(Fiber* fiber) {
  TK_ASSERT(current_ == nullptr);
  current_ = fiber;
  switches_++;
  fiber->context = std::move(fiber->context).resume();
  current_ = nullptr;
  if (fiber->finished) Reap(fiber);
}

void Executor::Reap(Fiber* fiber) {
  std::shared_ptr<FiberState> state = fiber->state;
  state->done = true;
  state->fiber = nullptr;
  for (Fiber* joiner : state->joiners) Unpark(joiner);
  state->joiners.clear();
  fibers_.erase(fiber->id);  // frees the fiber and returns its stack to the cache
}

bool Executor::RunReady() {
  TK_ASSERT_MSG(current_ == nullptr, "RunReady from inside a fiber");
  FireDueTimers();
  // Run only the fibers ready now; fibers made ready meanwhile wait for the next tick, so I/O
  // completions and messages are polled between ticks.
  size_t budget = std::min<size_t>(ready_.size(), limits::kMaxFibersPerTick);
  for (size_t i = 0; i < budget && !ready_.empty(); i++) {
    Fiber* fiber = ready_.front();
    ready_.pop_front();
    Resume(fiber);
  }
  if (!ready_.empty()) host_.OnReady(*this);
  TimePoint next = NextTimer();
  if (next != kNoDeadline) host_.OnTimerArmed(*this, next);
  return !ready_.empty();
}

WakeReason Completion::Wait(Deadline deadline, bool interruptible) {
  while (!done_) {
    waiter_ = executor_.current();
    TK_ASSERT_MSG(waiter_ != nullptr, "Completion::Wait outside a fiber");
    WakeReason reason = executor_.Park(deadline, interruptible);
    waiter_ = nullptr;
    if (reason != WakeReason::kWoken && !done_) return reason;
  }
  return WakeReason::kWoken;
}

void Completion::Complete(int64_t result) {
  TK_ASSERT(!done_);
  done_ = true;
  result_ = result;
  if (waiter_) executor_.Unpark(waiter_);
}

}  // namespace tierkv
