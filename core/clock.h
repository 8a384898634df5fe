// The clock part of the Env seam (see core/env.h for the whole seam).
#pragma once

#include <cstdint>

#include "core/time_point.h"

namespace tierkv {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time. Never goes backwards; in simulation it is virtual time plus the node's skew.
  // Never suspends; thread-safe.
  virtual TimePoint Now() const = 0;
  // Wall-clock time in microseconds since the Unix epoch (for TIME, expiry timestamps, logs).
  // May jump; in simulation derived from virtual time and the node's skew. Never suspends.
  virtual int64_t UnixMicros() const = 0;
};

}  // namespace tierkv
