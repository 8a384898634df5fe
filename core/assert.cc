#include "core/assert.h"

#include <cstdio>
#include <cstdlib>

namespace tierkv::detail {

void AssertFail(const char* expr, const char* file, int line, const char* message) {
  std::fprintf(stderr, "tierkv: assertion failed: %s at %s:%d%s%s\n", expr, file, line,
               message ? ": " : "", message ? message : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace tierkv::detail
