// Simulated network: partitions (one-way and two-way), resets, crashes, ordering under latency.
#include <doctest/doctest.h>

#include "core/sync.h"
#include "sim/sim_net.h"
#include "tests/sim/sim_helpers.h"

namespace tierkv {
namespace {

// Two nodes: "server" echoes; "client" runs `body`. Returns when the client body finishes.
void TwoNodes(sim::World& world, const std::function<void(sim::SimEnv&)>& body) {
  world.AddNode(sim::NodeSpec{"server", 1, [](sim::SimEnv& env) {
                                auto listener = env.Listen({"server", 7000}, {});
                                REQUIRE(listener.has_value());
                                Executor& ex = env.CurrentExecutor();
                                std::vector<FiberHandle> conns;
                                while (true) {
                                  auto socket = (*listener)->Accept();
                                  if (!socket) break;
                                  std::shared_ptr<Socket> s = std::move(*socket);
                                  conns.push_back(ex.Spawn("echo", [s] {
                                    std::vector<std::byte> buf(1024);
                                    while (true) {
                                      auto n = s->Read(buf);
                                      if (!n || *n == 0) break;
                                      if (!s->Write(std::span(buf).first(*n)).ok()) break;
                                    }
                                  }));
                                }
                              }});
  bool done = false;
  world.AddNode(sim::NodeSpec{"client", 1, [&](sim::SimEnv& env) {
                                (void)env.CurrentExecutor().Sleep(milliseconds(1));
                                body(env);
                                done = true;
                              }});
  TimePoint limit = world.Now() + std::chrono::hours(1);
  while (!done && world.Now() < limit && world.Step()) {
  }
  REQUIRE(done);
}

TEST_CASE("connect across a two-way partition fails; after healing it works") {
  sim::World world(5, {});
  world.network().Partition("client", "server", true);
  TwoNodes(world, [&](sim::SimEnv& env) {
    auto blocked = env.Connect({"server", 7000}, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE_FALSE(blocked.has_value());
    CHECK(blocked.error().code() == StatusCode::kUnreachable);
    env.world().network().HealAll();
    auto ok = env.Connect({"server", 7000}, DeadlineAfter(env.Now(), seconds(10)));
    CHECK(ok.has_value());
  });
}

TEST_CASE("a one-way partition stalls bytes; a long one resets the connection") {
  sim::World world(6, {});
  TwoNodes(world, [&](sim::SimEnv& env) {
    auto socket = env.Connect({"server", 7000}, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE(socket.has_value());
    env.world().network().Partition("server", "client", false);  // replies cannot come back
    REQUIRE((*socket)->Write(testing::AsBytes("ping")).ok());
    std::vector<std::byte> buf(16);
    auto stalled = (*socket)->Read(buf, DeadlineAfter(env.Now(), seconds(1)));
    REQUIRE_FALSE(stalled.has_value());
    CHECK(stalled.error().code() == StatusCode::kTimedOut);
    auto reset = (*socket)->Read(buf, DeadlineAfter(env.Now(), seconds(30)));
    REQUIRE_FALSE(reset.has_value());
    CHECK(reset.error().code() == StatusCode::kConnectionReset);
  });
}

TEST_CASE("a short partition only delays: bytes arrive in order after healing") {
  sim::World world(8, {});
  TwoNodes(world, [&](sim::SimEnv& env) {
    auto socket = env.Connect({"server", 7000}, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE(socket.has_value());
    env.world().network().Partition("client", "server", false);
    std::string sent;
    for (int i = 0; i < 20; i++) {
      std::string piece = std::to_string(i) + ",";
      sent += piece;
      REQUIRE((*socket)->Write(testing::AsBytes(piece)).ok());
    }
    REQUIRE(env.CurrentExecutor().Sleep(seconds(1)).ok());
    env.world().network().HealAll();
    std::string got;
    std::vector<std::byte> buf(256);
    while (got.size() < sent.size()) {
      auto n = (*socket)->Read(buf, DeadlineAfter(env.Now(), seconds(10)));
      REQUIRE(n.has_value());
      got.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    CHECK(got == sent);
  });
}

TEST_CASE("a crashed server resets its connections; restart accepts again") {
  sim::World world(9, {});
  TwoNodes(world, [&](sim::SimEnv& env) {
    auto socket = env.Connect({"server", 7000}, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE(socket.has_value());
    REQUIRE((*socket)->Write(testing::AsBytes("x")).ok());
    // The world crashes the server from an event (not from this fiber).
    env.world().ScheduleAfter(milliseconds(5), 0, [&] { env.world().Crash("server"); });
    std::vector<std::byte> buf(16);
    auto echo = (*socket)->Read(buf, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE(echo.has_value());
    auto reset = (*socket)->Read(buf, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE_FALSE(reset.has_value());
    CHECK(reset.error().code() == StatusCode::kConnectionReset);
    auto refused = env.Connect({"server", 7000}, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code() == StatusCode::kConnectionRefused);
    env.world().ScheduleAfter(milliseconds(1), 0, [&] { env.world().Restart("server"); });
    REQUIRE(env.CurrentExecutor().Sleep(milliseconds(10)).ok());
    CHECK(env.Connect({"server", 7000}, DeadlineAfter(env.Now(), seconds(10))).has_value());
  });
}

TEST_CASE("injected resets end connections with ConnectionReset, within the budget") {
  sim::FaultOptions faults;
  faults.net_reset_probability = 1.0;
  faults.net_reset_budget = 1;
  sim::World world(10, faults);
  TwoNodes(world, [&](sim::SimEnv& env) {
    auto socket = env.Connect({"server", 7000}, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE(socket.has_value());
    REQUIRE((*socket)->Write(testing::AsBytes("x")).ok());
    std::vector<std::byte> buf(16);
    auto reset = (*socket)->Read(buf, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE_FALSE(reset.has_value());
    CHECK(reset.error().code() == StatusCode::kConnectionReset);
    CHECK(env.world().net_reset_budget() == 0);
    auto again = env.Connect({"server", 7000}, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE(again.has_value());
    REQUIRE((*again)->Write(testing::AsBytes("y")).ok());  // budget spent: no more resets
    auto n = (*again)->Read(buf, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE(n.has_value());
  });
}

TEST_CASE("clock skew: each node's clock is offset, and stays monotonic") {
  sim::FaultOptions faults;
  faults.max_clock_skew = milliseconds(500);
  sim::World world(12, faults);
  world.AddNode(sim::NodeSpec{"a", 1, [](sim::SimEnv&) {}});
  world.AddNode(sim::NodeSpec{"b", 1, [](sim::SimEnv&) {}});
  Duration a = world.node("a").clock().offset(), b = world.node("b").clock().offset();
  CHECK(a != b);
  CHECK(std::chrono::abs(a) <= milliseconds(500));
  TimePoint before = world.node("a").clock().Now();
  world.RunFor(seconds(1));
  CHECK(world.node("a").clock().Now() - before == seconds(1));
}

}  // namespace
}  // namespace tierkv
