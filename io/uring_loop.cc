#include "io/uring_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/assert.h"
#include "core/limits.h"

namespace tierkv::io {
namespace {
// start_now operations go to the kernel in groups of this many (or at the loop's next wait): one
// at a time, each was a virtio doorbell (a VM exit); in fours, tiered GET did 4% better and the
// first of a group waits only for three more requests' CPU time (~30 us, a device read ~250 us).
constexpr unsigned kStartBatch = 4;

constexpr uint64_t kIgnoreTag = 0;  // completions of cancel requests
constexpr uint64_t kWakeTag = 1;    // the eventfd read

}  // namespace

Status ErrnoStatus(int error, const std::string& what) {
  if (error < 0) error = -error;
  std::string message = what + ": " + std::strerror(error);
  switch (error) {
    case ENOENT: return Status(StatusCode::kNotFound, message);
    case EEXIST: return Status(StatusCode::kAlreadyExists, message);
    case EINVAL: return Status(StatusCode::kInvalidArgument, message);
    case ENOSPC:
    case EDQUOT: return Status(StatusCode::kNoSpace, message);
    case ECONNRESET:
    case EPIPE: return Status(StatusCode::kConnectionReset, message);
    case ECONNREFUSED: return Status(StatusCode::kConnectionRefused, message);
    case EHOSTUNREACH:
    case ENETUNREACH: return Status(StatusCode::kUnreachable, message);
    case ETIMEDOUT: return Status(StatusCode::kTimedOut, message);
    case ECANCELED: return Status(StatusCode::kCancelled, message);
    case EADDRINUSE: return Status(StatusCode::kBusy, message);
    default: return Status(StatusCode::kIoError, message);
  }
}

UringLoop::UringLoop(const Clock& clock, int index, Log log) : clock_(clock) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  TK_ASSERT_MSG(wake_fd_ >= 0, "eventfd failed");
  executor_ = std::make_unique<Executor>(*this, index, std::move(log));
}

void UringLoop::InitRing() {
  // The ring is created on the loop's own thread: with SINGLE_ISSUER only that thread may submit,
  // and DEFER_TASKRUN runs completion work only when this thread asks for events (in its wait),
  // instead of interrupting it; both fit one ring per executor thread and cut per-operation
  // overhead. Older kernels refuse the flags: fall back to a plain ring.
  io_uring_params params{};
  params.flags =
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  int rc = io_uring_queue_init_params(limits::kUringEntries, &ring_, &params);
  if (rc != 0) {
    executor_->log().Warn("io_uring without DEFER_TASKRUN (kernel refused: {})", -rc);
    rc = io_uring_queue_init(limits::kUringEntries, &ring_, 0);
  }
  TK_ASSERT_MSG(rc == 0, "io_uring_queue_init failed (is io_uring allowed here?)");
  ring_ready_ = true;
}

UringLoop::~UringLoop() {
  // Close the ring first: the kernel cancels the operations still in flight while the buffers
  // they point into (on fiber stacks) are alive; then unwind the fibers, which never touch the
  // ring again on their way out.
  if (ring_ready_) io_uring_queue_exit(&ring_);
  executor_->Shutdown();
  executor_.reset();
  close(wake_fd_);
}

io_uring_sqe* UringLoop::GetSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {  // submission queue full: hand what we have to the kernel
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void UringLoop::ArmWakeup() {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_read(sqe, wake_fd_, &wake_buffer_, sizeof(wake_buffer_), 0);
  io_uring_sqe_set_data64(sqe, kWakeTag);
}

void UringLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mailbox_mutex_);
    mailbox_.push_back(std::move(fn));
    mailbox_nonempty_.store(true);
  }
  if (sleeping_.load()) {
    uint64_t one = 1;
    ssize_t n = write(wake_fd_, &one, sizeof(one));
    (void)n;  // a full counter still wakes the reader
  }
}

void UringLoop::Stop() {
  stop_.store(true);
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof(one));
  (void)n;
}

void UringLoop::DrainMailbox() {
  if (!mailbox_nonempty_.load()) return;
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mailbox_mutex_);
    batch.swap(mailbox_);
    mailbox_nonempty_.store(false);
  }
  for (auto& fn : batch) executor_->Spawn("message", std::move(fn));
}

void UringLoop::Reap() {
  unstarted_ = 0;  // Tick submitted everything before reaping
  io_uring_cqe* cqe;
  unsigned head;
  unsigned count = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    count++;
    uint64_t tag = io_uring_cqe_get_data64(cqe);
    if (tag == kWakeTag) {
      ArmWakeup();
    } else if (tag != kIgnoreTag) {
      reinterpret_cast<Completion*>(tag)->Complete(cqe->res);
    }
  }
  io_uring_cq_advance(&ring_, count);
}

void UringLoop::Tick() {
  DrainMailbox();
  executor_->RunReady();
  if (executor_->HasReady() || mailbox_nonempty_.load() || stop_.load()) {
    // Busy: enter the kernel only when there is something to submit or completion work waiting
    // (IORING_SQ_TASKRUN), so fibers that merely yield cost no syscall.
    bool work_pending = IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN;
    if (io_uring_sq_ready(&ring_) > 0 || work_pending) io_uring_submit_and_get_events(&ring_);
    Reap();
    return;
  }
  sleeping_.store(true);
  if (!mailbox_nonempty_.load() && !stop_.load()) {
    TimePoint next = executor_->NextTimer();
    if (next == kNoDeadline) {
      io_uring_submit_and_wait(&ring_, 1);
    } else {
      Duration wait = std::max(Duration(0), next - clock_.Now());
      __kernel_timespec ts{};
      ts.tv_sec = std::chrono::duration_cast<seconds>(wait).count();
      ts.tv_nsec = (wait - seconds(ts.tv_sec)).count();
      io_uring_cqe* cqe = nullptr;
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
  } else {
    io_uring_submit_and_get_events(&ring_);
  }
  sleeping_.store(false);
  Reap();
}

void UringLoop::Run() {
  InitRing();
  ArmWakeup();
  while (!stop_.load()) Tick();
}

Result<int> UringLoop::RunOp(const std::function<void(io_uring_sqe*)>& prepare, Deadline deadline,
                             bool interruptible, bool start_now) {
  Completion done(*executor_);
  io_uring_sqe* sqe = GetSqe();
  prepare(sqe);
  io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(&done));
  if (start_now && ++unstarted_ >= kStartBatch) StartPending();
  WakeReason reason = done.Wait(deadline, interruptible);
  if (reason == WakeReason::kWoken) return static_cast<int>(done.result());
  io_uring_sqe* cancel = GetSqe();
  io_uring_prep_cancel64(cancel, reinterpret_cast<uint64_t>(&done), 0);
  io_uring_sqe_set_data64(cancel, kIgnoreTag);
  WakeReason final_reason = done.Wait(kNoDeadline, /*interruptible=*/false);
  TK_ASSERT(final_reason == WakeReason::kWoken);
  int result = static_cast<int>(done.result());
  if (result == -ECANCELED || result == -EINTR) return Err(WakeStatus(reason, "I/O operation"));
  return result;  // it completed before the cancel reached it
}

}  // namespace tierkv::io
