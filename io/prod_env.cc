#include "io/prod_env.h"

#include <malloc.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <ctime>
#include <thread>

#include "core/assert.h"
#include "core/limits.h"
#include "core/random.h"

namespace tierkv::io {
namespace {

// The loop that runs on this thread; set by each executor thread for its lifetime. This is the
// one thread-local of the production Env (core has none: it asks Env::CurrentExecutor()).
thread_local UringLoop* current_loop = nullptr;

int64_t ReadClock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

TimePoint ProdClock::Now() const { return TimePoint(Duration(ReadClock(CLOCK_MONOTONIC))); }

int64_t ProdClock::UnixMicros() const { return ReadClock(CLOCK_REALTIME) / 1000; }

ProdEnv::ProdEnv(ProdEnvOptions options) : options_(std::move(options)) {
  TK_ASSERT(options_.executors >= 1 && options_.executors <= limits::kMaxExecutors);
  logger_ = MakeStderrLogger("tierkv." + options_.node_name, options_.log_level);
  if (options_.handle_signals) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    // Block before any thread starts so every thread inherits the mask and the signals queue up
    // for the signalfd instead of killing the process.
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    stop_fd_ = signalfd(-1, &mask, SFD_CLOEXEC);
  } else {
    stop_fd_ = eventfd(0, EFD_CLOEXEC);
  }
  TK_ASSERT_MSG(stop_fd_ >= 0, "signalfd/eventfd failed");
  signal(SIGPIPE, SIG_IGN);  // a write to a reset socket must return EPIPE, not kill the node
  for (int i = 0; i < options_.executors; i++) {
    loops_.push_back(std::make_unique<UringLoop>(clock_, i, MakeLog(i)));
  }
}

ProdEnv::~ProdEnv() {
  loops_.clear();
  close(stop_fd_);
}

Log ProdEnv::MakeLog(int shard) const { return Log(logger_, options_.node_name, shard, &clock_); }

Executor& ProdEnv::GetExecutor(int index) {
  TK_ASSERT(index >= 0 && index < ExecutorCount());
  return loops_[index]->executor();
}

UringLoop& ProdEnv::CurrentLoop() {
  TK_ASSERT_MSG(current_loop != nullptr, "not on an executor thread");
  return *current_loop;
}

Executor& ProdEnv::CurrentExecutor() { return CurrentLoop().executor(); }

void ProdEnv::Post(int to, std::function<void()> fn) {
  TK_ASSERT(to >= 0 && to < ExecutorCount());
  loops_[to]->Post(std::move(fn));
}

void ProdEnv::ReleaseFreeMemory() {
#if !defined(__SANITIZE_ADDRESS__)
  malloc_trim(0);
#endif
  // Under ASan the heap is ASan's own: glibc's arenas, which malloc_trim walks, are not in use,
  // and trimming them from several threads broke glibc's arena bookkeeping at thread exit.
}

uint64_t ProdEnv::RandomU64() {
  thread_local Prng prng([] {
    uint64_t seed = 0;
    ssize_t n = getrandom(&seed, sizeof(seed), 0);
    TK_ASSERT(n == sizeof(seed));
    return seed;
  }());
  return prng.Next();
}

void ProdEnv::Run(std::function<void()> main) {
  loops_[0]->Post([this, main = std::move(main)] {
    main();
    for (auto& loop : loops_) loop->Stop();
  });
  std::vector<std::thread> threads;
  for (auto& loop : loops_) {
    UringLoop* raw = loop.get();
    threads.emplace_back([raw] {
      current_loop = raw;
      raw->Run();
      current_loop = nullptr;
    });
  }
  for (auto& thread : threads) thread.join();
}

void ProdEnv::RequestStop() {
  if (options_.handle_signals) {
    kill(getpid(), SIGTERM);
    return;
  }
  uint64_t one = 1;
  ssize_t n = write(stop_fd_, &one, sizeof(one));
  (void)n;
}

Status ProdEnv::WaitForStopRequest() {
  UringLoop& loop = CurrentLoop();
  alignas(8) std::byte buffer[sizeof(signalfd_siginfo)];
  size_t length = options_.handle_signals ? sizeof(signalfd_siginfo) : sizeof(uint64_t);
  auto result = loop.RunOp(
      [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, stop_fd_, buffer, length, 0); },
      kNoDeadline);
  if (!result) return result.error();
  if (*result < 0) return ErrnoStatus(*result, "wait for stop request");
  return Status::Ok();
}

}  // namespace tierkv::io
