// Fiber-aware synchronisation for fibers of ONE executor: wait queue, event, mutex, condition
// variable and bounded channel. They never block the thread, only the calling fiber, and every
// wait takes a deadline and honours cancellation. Crossing executors is done with messages
// (Env::Post), never with these: shared-nothing means no cross-thread locks above the seam.
#pragma once

#include <deque>
#include <optional>
#include <utility>

#include "core/assert.h"
#include "core/executor.h"

namespace tierkv {

// FIFO list of parked fibers; the building block of the others.
class WaitQueue {
 public:
  explicit WaitQueue(Executor& executor) : executor_(executor) {}
  // Waiters remove themselves even when their stacks unwind at teardown; the executor unwinds
  // the newest fibers first, so a waiter normally goes before the owner of what it waits on.
  ~WaitQueue() {
    TK_ASSERT_MSG(waiters_.empty() || executor_.shutting_down(), "WaitQueue destroyed with waiters");
  }

  // Suspends the calling fiber until notified, the deadline, or cancellation.
  WakeReason Wait(Deadline deadline = kNoDeadline, bool interruptible = true) {
    Fiber* self = executor_.current();
    TK_ASSERT_MSG(self != nullptr, "WaitQueue::Wait outside a fiber");
    waiters_.push_back(self);
    // Removes this fiber from the queue however the park ends: timeout, cancellation, or the
    // stack unwinding when the executor is torn down (shutdown or simulated crash).
    struct Dequeue {
      std::deque<Fiber*>& waiters;
      Fiber* self;
      ~Dequeue() { std::erase(waiters, self); }
    } dequeue{waiters_, self};
    return executor_.Park(deadline, interruptible);
  }
  // Wakes the longest waiter; returns it, or null when none waits.
  Fiber* NotifyOne() {
    if (waiters_.empty()) return nullptr;
    Fiber* fiber = waiters_.front();
    waiters_.pop_front();
    executor_.Unpark(fiber);
    return fiber;
  }
  void NotifyAll() {
    while (NotifyOne() != nullptr) {
    }
  }
  bool empty() const { return waiters_.empty(); }
  Executor& executor() const { return executor_; }

 private:
  Executor& executor_;
  std::deque<Fiber*> waiters_;
};

// A flag fibers wait for; Set() wakes all waiters and later waits return at once.
class Event {
 public:
  explicit Event(Executor& executor) : queue_(executor) {}
  void Set() {
    set_ = true;
    queue_.NotifyAll();
  }
  void Reset() { set_ = false; }
  bool is_set() const { return set_; }
  // Suspends until set. Returns Ok, TimedOut or Cancelled.
  Status Wait(Deadline deadline = kNoDeadline) {
    while (!set_) {
      WakeReason reason = queue_.Wait(deadline);
      if (reason != WakeReason::kWoken) return WakeStatus(reason, "event wait");
    }
    return Status::Ok();
  }

 private:
  WaitQueue queue_;
  bool set_ = false;
};

// Mutual exclusion between fibers of one executor (held across suspensions, e.g. an fsync).
// FIFO handoff: Unlock passes ownership to the longest waiter, so no waiter starves.
class Mutex {
 public:
  explicit Mutex(Executor& executor) : queue_(executor) {}
  // Suspends until acquired. Returns Ok, TimedOut or Cancelled (then the lock is not held).
  Status Lock(Deadline deadline = kNoDeadline, bool interruptible = true) {
    Fiber* self = queue_.executor().current();
    TK_ASSERT(self != nullptr && owner_ != self);
    if (owner_ == nullptr) {
      owner_ = self;
      return Status::Ok();
    }
    WakeReason reason = queue_.Wait(deadline, interruptible);
    if (reason != WakeReason::kWoken) return WakeStatus(reason, "mutex lock");
    TK_ASSERT(owner_ == self);  // ownership was handed over by Unlock
    return Status::Ok();
  }
  bool TryLock() {
    if (owner_ != nullptr) return false;
    owner_ = queue_.executor().current();
    return true;
  }
  void Unlock() {
    TK_ASSERT_MSG(owner_ != nullptr, "unlock of an unlocked mutex");
    owner_ = queue_.NotifyOne();  // hand over to the longest waiter, or leave unlocked
  }
  bool locked() const { return owner_ != nullptr; }

 private:
  WaitQueue queue_;
  Fiber* owner_ = nullptr;
};

// RAII holder for Mutex; check status() before using the protected state.
class [[nodiscard]] MutexLock {
 public:
  explicit MutexLock(Mutex& mutex, Deadline deadline = kNoDeadline)
      : mutex_(mutex), status_(mutex.Lock(deadline)) {}
  ~MutexLock() {
    if (status_.ok()) mutex_.Unlock();
  }
  const Status& status() const { return status_; }

 private:
  Mutex& mutex_;
  Status status_;
};

// Condition variable for Mutex. Wait re-acquires the mutex before returning, even on timeout or
// cancellation (uninterruptibly), so the caller always holds it afterwards.
class CondVar {
 public:
  explicit CondVar(Executor& executor) : queue_(executor) {}
  Status Wait(Mutex& mutex, Deadline deadline = kNoDeadline) {
    mutex.Unlock();
    WakeReason reason = queue_.Wait(deadline);
    Status relock = mutex.Lock(kNoDeadline, /*interruptible=*/false);
    TK_ASSERT(relock.ok());
    return WakeStatus(reason, "condition wait");
  }
  void NotifyOne() { queue_.NotifyOne(); }
  void NotifyAll() { queue_.NotifyAll(); }

 private:
  WaitQueue queue_;
};

// Bounded FIFO channel between fibers of one executor. Close() wakes everyone: senders get
// Closed, receivers drain what is left and then get Closed.
template <typename T>
class Channel {
 public:
  Channel(Executor& executor, size_t capacity)
      : capacity_(capacity), readers_(executor), writers_(executor) {
    TK_ASSERT(capacity > 0);
  }

  // Suspends while the channel is full. Returns Ok, Closed, TimedOut or Cancelled.
  Status Send(T value, Deadline deadline = kNoDeadline) {
    while (!closed_ && items_.size() >= capacity_) {
      WakeReason reason = writers_.Wait(deadline);
      if (reason != WakeReason::kWoken) return WakeStatus(reason, "channel send");
    }
    if (closed_) return Status(StatusCode::kClosed, "channel closed");
    items_.push_back(std::move(value));
    readers_.NotifyOne();
    return Status::Ok();
  }
  // Never suspends: false when full or closed.
  bool TrySend(T value) {
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::move(value));
    readers_.NotifyOne();
    return true;
  }
  // Suspends while empty. Returns the oldest item, or Closed/TimedOut/Cancelled.
  Result<T> Receive(Deadline deadline = kNoDeadline) {
    while (items_.empty() && !closed_) {
      WakeReason reason = readers_.Wait(deadline);
      if (reason != WakeReason::kWoken) return Err(WakeStatus(reason, "channel receive"));
    }
    if (items_.empty()) return Err(StatusCode::kClosed, "channel closed");
    T value = std::move(items_.front());
    items_.pop_front();
    writers_.NotifyOne();
    return value;
  }
  void Close() {
    closed_ = true;
    readers_.NotifyAll();
    writers_.NotifyAll();
  }
  size_t size() const { return items_.size(); }
  bool closed() const { return closed_; }

 private:
  size_t capacity_;
  bool closed_ = false;
  std::deque<T> items_;
  WaitQueue readers_;
  WaitQueue writers_;
};

}  // namespace tierkv
