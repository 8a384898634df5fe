// Time types. Every time value in tierkv comes from an Env's clock (real or simulated); this header
// only names the types. A Deadline is an absolute TimePoint on the executor's monotonic clock;
// kNoDeadline waits forever.
#pragma once

#include <chrono>
#include <cstdint>

namespace tierkv {

using Duration = std::chrono::nanoseconds;

// Tag type for time points of an Env's monotonic clock. It is never read directly: only
// Clock::Now() (core/env.h) produces TimePoints.
struct MonotonicTag {
  using duration = Duration;
  using rep = Duration::rep;
  using period = Duration::period;
  using time_point = std::chrono::time_point<MonotonicTag, Duration>;
  static constexpr bool is_steady = true;
};

using TimePoint = MonotonicTag::time_point;
using Deadline = TimePoint;
inline constexpr Deadline kNoDeadline = TimePoint::max();

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

inline double ToSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }
inline int64_t ToNanos(TimePoint t) { return t.time_since_epoch().count(); }

// Deadline `d` from now, saturating instead of overflowing.
inline Deadline DeadlineAfter(TimePoint now, Duration d) {
  if (d >= TimePoint::max() - now) return kNoDeadline;
  return now + d;
}

}  // namespace tierkv
