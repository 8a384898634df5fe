// Logging through spdlog, with the node, the shard (executor) and the Env's time in every line:
//   [n1:0 12.345678s] recovered 123 records
// The time is the Env's monotonic clock, so in simulation lines carry virtual time and a run's
// log is as deterministic as its trace. A Log is a cheap value: copy it into each component.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/clock.h"

namespace tierkv {

class Log {
 public:
  Log() = default;
  Log(std::shared_ptr<spdlog::logger> logger, std::string node, int shard, const Clock* clock)
      : logger_(std::move(logger)), node_(std::move(node)), shard_(shard), clock_(clock) {}

  // The same sink and node, another shard.
  Log ForShard(int shard) const { return Log(logger_, node_, shard, clock_); }
  bool Enabled(spdlog::level::level_enum level) const {
    return logger_ && logger_->should_log(level);
  }
  const std::string& node() const { return node_; }
  int shard() const { return shard_; }

  template <typename... Args>
  void Write(spdlog::level::level_enum level, fmt::format_string<Args...> format,
             Args&&... args) const {
    if (!Enabled(level)) return;
    double t = clock_ ? ToSeconds(clock_->Now().time_since_epoch()) : 0.0;
    logger_->log(level, "[{}:{} {:.6f}s] {}", node_, shard_, t,
                 fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Debug(fmt::format_string<Args...> f, Args&&... a) const {
    Write(spdlog::level::debug, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void Info(fmt::format_string<Args...> f, Args&&... a) const {
    Write(spdlog::level::info, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void Warn(fmt::format_string<Args...> f, Args&&... a) const {
    Write(spdlog::level::warn, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void Error(fmt::format_string<Args...> f, Args&&... a) const {
    Write(spdlog::level::err, f, std::forward<Args>(a)...);
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::string node_;
  int shard_ = 0;
  const Clock* clock_ = nullptr;
};

// A logger writing to stderr with tierkv's pattern, at `level` ("debug", "info", "warn"...).
// Loggers are registered with spdlog by name, so one process can hold many simulated nodes.
std::shared_ptr<spdlog::logger> MakeStderrLogger(const std::string& name, const std::string& level);

}  // namespace tierkv
