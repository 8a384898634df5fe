// sorted set commands through the command harness (tests/server/command_harness.h).
#include <doctest/doctest.h>

#include "tests/server/command_harness.h"

namespace tierkv::server {
namespace {

using testing::Client;
using testing::WithServer;

}  // namespace

TEST_CASE("sorted sets: TYPE of a string") {
  WithServer([](Client& c) {
    CHECK(c("SET k v") == "OK");
    CHECK(c("TYPE k") == "string");
  });
}

}  // namespace tierkv::server
