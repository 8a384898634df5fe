// The dispatcher's blocking commands (server/blocking.cc), driven through BLPOP/BRPOP/BLMOVE:
// parking, wake-up by a push on another executor, arrival order, timeouts, multi-shard waits,
// MULTI. The list family's own tests cover each command's replies.
#include <doctest/doctest.h>

#include "tests/server/command_harness.h"

namespace tierkv::server {
namespace {

using testing::Client;
using testing::WithServer;

// Lets the started commands reach their parking place.
void Settle(Client& c) { c.Idle(milliseconds(5)); }

}  // namespace

TEST_CASE("blocking: a push on another executor serves the parked client") {
  WithServer([](Client& c) {
    auto a = c.Connect(1);
    a->Start({"BLPOP", "queue", "0"});
    Settle(c);
    CHECK_FALSE(a->finished());
    CHECK(c("INFO clients").find("blocked_clients:1") != std::string::npos);
    CHECK(c("RPUSH queue job1") == ":1");
    CHECK(a->Wait() == "[queue, job1]");
    CHECK(c("LLEN queue") == ":0");
  });
}

TEST_CASE("blocking: waiters are served in arrival order, one element each") {
  WithServer([](Client& c) {
    auto first = c.Connect(1);
    auto second = c.Connect(0);
    auto third = c.Connect(1);
    first->Start({"BLPOP", "q", "0"});
    Settle(c);
    second->Start({"BLPOP", "q", "0"});
    Settle(c);
    third->Start({"BLPOP", "q", "0"});
    Settle(c);
    CHECK(c("RPUSH q a b") == ":2");
    CHECK(first->Wait() == "[q, a]");
    CHECK(second->Wait() == "[q, b]");
    Settle(c);
    CHECK_FALSE(third->finished());
    CHECK(c("LPUSH q c") == ":1");
    CHECK(third->Wait() == "[q, c]");
  });
}

TEST_CASE("blocking: timeouts, errors, and MULTI never blocks") {
  WithServer([](Client& c) {
    CHECK(c("BLPOP q 0.05") == "(nil)");
    CHECK(c("BLPOP q -1") == "-ERR timeout is negative");
    CHECK(c("BLPOP q x") == "-ERR timeout is not a float or out of range");
    CHECK(c("MULTI") == "OK");
    CHECK(c("BLPOP q 0") == "QUEUED");
    CHECK(c("EXEC") == "[(nil)]");
    CHECK(c("SET s v") == "OK");
    CHECK(c("BLPOP s 0") == "-WRONGTYPE Operation against a key holding the wrong kind of value");
    // RESP3: a timed-out BLPOP is a null.
    c("HELLO 3");
    CHECK(c.RunRaw({"BLPOP", "q", "0.01"}) == "_\r\n");
  });
}

TEST_CASE("blocking: keys on several shards, the first to get an element serves") {
  WithServer([](Client& c) {
    // Find two keys on different shards.
    std::string k1 = "a", k2;
    for (int i = 0; k2.empty(); i++) {
      std::string candidate = "b" + std::to_string(i);
      if (ShardOfSlot(tiers::KeySlot(candidate), 4) != ShardOfSlot(tiers::KeySlot(k1), 4)) k2 = candidate;
    }
    auto a = c.Connect(2);
    a->Start({"BLPOP", k1, k2, "0"});
    Settle(c);
    CHECK_FALSE(a->finished());
    CHECK(c.Run({"RPUSH", k2, "x"}) == ":1");
    CHECK(a->Wait() == "[" + k2 + ", x]");
    // Parked again on both: a push to the first key serves it; the other key is untouched.
    a->Start({"BRPOP", k1, k2, "0"});
    Settle(c);
    CHECK(c.Run({"RPUSH", k1, "y"}) == ":1");
    CHECK(a->Wait() == "[" + k1 + ", y]");
    CHECK(c.Run({"RPUSH", k2, "z"}) == ":1");
    Settle(c);
    CHECK(c.Run({"LRANGE", k2, "0", "-1"}) == "[z]");
  }, testing::ServerOptions{.shards = 4});
}

TEST_CASE("blocking: BLMOVE parks and moves when served") {
  WithServer([](Client& c) {
    auto a = c.Connect(1);
    a->Start({"BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"});
    Settle(c);
    CHECK(c("RPUSH src v") == ":1");
    CHECK(a->Wait() == "v");
    CHECK(c("LRANGE dst 0 -1") == "[v]");
    CHECK(c("BLMOVE src dst LEFT RIGHT 0.01") == "(nil)");
  });
}

}  // namespace tierkv::server
