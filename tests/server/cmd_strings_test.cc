// strings commands through the command harness (tests/server/command_harness.h).
#include <doctest/doctest.h>

#include "tests/server/command_harness.h"

namespace tierkv::server {
namespace {

using testing::Client;
using testing::WithServer;

}  // namespace

TEST_CASE("strings: GET and SET") {
  WithServer([](Client& c) {
    CHECK(c("GET k") == "(nil)");
    CHECK(c("SET k v") == "OK");
    CHECK(c("GET k") == "v");
  });
}

}  // namespace tierkv::server
