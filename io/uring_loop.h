// One executor thread of the production Env: an Executor, its io_uring, its mailbox for messages
// from other threads, and the loop that ties them together.
//
// Loop: run ready fibers -> drain the mailbox -> submit SQEs -> if nothing is ready, sleep in
// io_uring_submit_and_wait_timeout until a completion, the next fiber timer, or a wake-up
// (an eventfd read kept armed in the ring; other threads write it only when this thread is
// about to sleep, so busy executors pay no syscalls for messages).
// Every in-flight operation's user_data points to a Completion on the waiting fiber's stack;
// RunOp never returns before the kernel has finished with it (on timeout or cancellation it
// submits IORING_OP_ASYNC_CANCEL and waits for the original completion uninterruptibly), so a
// buffer is never released while the kernel may still write it.
// Rejected: MSG_RING for wake-ups (it needs a ring on the sending side, and the main thread and
// signal paths have none); a separate timer thread (timers come from the fiber timer heap).
#pragma once

#include <liburing.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/executor.h"
#include "core/status.h"

namespace tierkv::io {

class UringLoop : public ExecutorHost {
 public:
  UringLoop(const Clock& clock, int index, Log log);
  ~UringLoop() override;

  Executor& executor() { return *executor_; }
  const Clock& clock() const override { return clock_; }
  void OnReady(Executor&) override {}
  void OnTimerArmed(Executor&, TimePoint) override {}

  // Thread-safe: queues `fn` to run in a new fiber on this loop.
  void Post(std::function<void()> fn);
  // Thread-safe: makes Run() return after the current tick.
  void Stop();
  // Runs the loop on the calling thread until Stop(). Fibers still alive are destroyed after.
  void Run();

  // From a fiber on this loop: submits the operation `prepare` fills in and suspends until it
  // completes. Returns the CQE result (negative errno), or TimedOut/Cancelled when the deadline or
  // a cancellation came first and the kernel confirmed the cancel.
  // `start_now`: hand it to the kernel soon (with at most a few others: kStartBatch) instead of
  // with the rest of this turn's submissions at the loop's next wait (device reads: see the .cc).
  Result<int> RunOp(const std::function<void(io_uring_sqe*)>& prepare, Deadline deadline,
                    bool interruptible = true, bool start_now = false);
  // Hands start_now operations still waiting for their group to the kernel now.
  void StartPending() {
    if (unstarted_ == 0) return;
    io_uring_submit(&ring_);
    unstarted_ = 0;
  }

 private:
  void InitRing();
  io_uring_sqe* GetSqe();
  void ArmWakeup();
  void Reap();
  void DrainMailbox();
  void Tick();

  const Clock& clock_;
  io_uring ring_{};
  bool ring_ready_ = false;
  unsigned unstarted_ = 0;  // start_now operations prepared since the last submit
  int wake_fd_ = -1;
  uint64_t wake_buffer_ = 0;
  std::unique_ptr<Executor> executor_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> sleeping_{false};
  std::mutex mailbox_mutex_;
  std::vector<std::function<void()>> mailbox_;
  std::atomic<bool> mailbox_nonempty_{false};
};

// Maps a negative errno from a CQE or syscall to a Status with `what` in the message.
Status ErrnoStatus(int error, const std::string& what);

}  // namespace tierkv::io
