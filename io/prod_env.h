// The production Env: real clocks, one thread with its own io_uring per executor, files with
// optional O_DIRECT, libpmem2 mappings, TCP sockets. See core/env.h for the contracts.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/env.h"
#include "io/uring_loop.h"

namespace tierkv::io {

struct ProdEnvOptions {
  std::string node_name = "node";
  int executors = 1;
  std::string log_level = "info";
  // Block SIGINT/SIGTERM in all threads and deliver them to WaitForStopRequest (servers). When
  // false, only RequestStop() ends WaitForStopRequest (tests).
  bool handle_signals = false;
};

class ProdClock final : public Clock {
 public:
  TimePoint Now() const override;
  int64_t UnixMicros() const override;
};

class ProdEnv final : public Env {
 public:
  explicit ProdEnv(ProdEnvOptions options);
  ~ProdEnv() override;

  // Starts the executor threads, runs `main` in a fiber on executor 0, and returns when it
  // returns; then stops every executor (destroying fibers still alive) and joins the threads.
  void Run(std::function<void()> main);
  // Thread-safe: ends WaitForStopRequest as a signal would.
  void RequestStop() override;

  const std::string& NodeName() const override { return options_.node_name; }
  Log MakeLog(int shard) const override;
  const Clock& clock() const override { return clock_; }
  int ExecutorCount() const override { return static_cast<int>(loops_.size()); }
  Executor& GetExecutor(int index) override;
  Executor& CurrentExecutor() override;
  void Post(int to, std::function<void()> fn) override;
  uint64_t RandomU64() override;
  void ReleaseFreeMemory() override;

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

  // The loop of the calling executor thread (asserts on other threads).
  UringLoop& CurrentLoop();

 private:
  ProdEnvOptions options_;
  ProdClock clock_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<std::unique_ptr<UringLoop>> loops_;
  int stop_fd_ = -1;  // signalfd (handle_signals) or eventfd (RequestStop)

  // Ports this node listens on with SO_REUSEPORT, with their listener counts: only the first
  // listener of a port checks that no other process holds it (SO_REUSEPORT alone would let a
  // second server of the same user silently share the port).
  friend class ProdListener;
  std::mutex ports_mutex_;
  std::map<std::string, int> reuse_ports_;
  Status ClaimReusePort(const NetAddress& address, int family);
  void ReleaseReusePort(const std::string& key);
};

}  // namespace tierkv::io
