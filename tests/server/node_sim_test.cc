// ServeNode in the simulated world: the production server code on the simulator's Env, with two
// executors sharing a port, clients on another node, a graceful stop, and replay by seed.
#include <doctest/doctest.h>

#include <span>
#include <string>
#include <vector>

#include "server/node.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace tierkv {
namespace {

std::span<const std::byte> Bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// Reads until `count` bytes, end of stream, an error or the deadline. Suspends.
std::string ReadUpTo(Env& env, Socket& socket, size_t count) {
  Deadline deadline = DeadlineAfter(env.Now(), seconds(10));
  std::string data;
  std::vector<std::byte> buffer(4096);
  while (data.size() < count) {  // bounded by the deadline: every read waits at most until it
    Result<size_t> read = socket.Read(buffer, deadline);
    if (!read || *read == 0) break;
    data.append(reinterpret_cast<const char*>(buffer.data()), *read);
  }
  return data;
}

// Sends `request` on a new connection and returns what comes back: `count` bytes, or less if
// the server closes first.
std::string Exchange(Env& env, uint16_t port, std::string_view request, size_t count) {
  auto socket = env.Connect({"server", port}, DeadlineAfter(env.Now(), seconds(10)));
  if (!socket) return "<" + socket.error().ToString() + ">";
  if (!(*socket)->Write(Bytes(request)).ok()) return "<write failed>";
  return ReadUpTo(env, **socket, count);
}

struct Outcome {
  Status served = Status(StatusCode::kIoError, "ServeNode did not return");
  bool client_done = false;
  uint64_t trace_hash = 0;
};

// The client node's program. `port` is set by the server once it listens.
void RunClient(sim::SimEnv& env, const uint16_t& port, Outcome& outcome) {
  for (int i = 0; i < 1000 && port == 0; i++) {
    (void)env.CurrentExecutor().Sleep(milliseconds(1));
  }
  CHECK(port != 0);
  if (port == 0) return;
  // Enough connections that both executors' listeners get some.
  const std::string kRequest =
      "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nfoo bar\r\nSET k1 v\r\nGET k1\r\nGET k2\r\n";
  const std::string kReply =
      "+PONG\r\n$2\r\nhi\r\n-ERR unknown command 'foo', with args beginning with: 'bar' \r\n"
      "+OK\r\n$1\r\nv\r\n$-1\r\n";
  for (int i = 0; i < 8; i++) CHECK(Exchange(env, port, kRequest, kReply.size() + 1) == kReply);
  CHECK(Exchange(env, port, "*1\r\n$-1\r\nPING\r\n", 1000) ==
        "-ERR Protocol error: invalid bulk length\r\n");
  CHECK(Exchange(env, port, "QUIT\r\nPING\r\n", 1000) == "+OK\r\n");
  // An idle connection is closed by the stop.
  auto idle = env.Connect({"server", port}, DeadlineAfter(env.Now(), seconds(10)));
  CHECK(idle.has_value());
  if (!idle) return;
  CHECK(Exchange(env, port, "PING\r\n", 7) == "+PONG\r\n");
  env.world().RequestStop("server");
  CHECK(ReadUpTo(env, **idle, 1).empty());
  outcome.client_done = true;
}

Outcome RunScenario(uint64_t seed) {
  sim::World world(seed, {});
  Outcome outcome;
  bool server_returned = false;
  uint16_t port = 0;
  world.AddNode(sim::NodeSpec{"server", 2, [&](sim::SimEnv& env) {
                                server::NodeOptions options;
                                options.bind = "server";
                                options.port = 0;
                                options.dir = "data";
                                REQUIRE(env.CreateDir("data").ok());
                                options.on_listening = [&port](uint16_t bound) { port = bound; };
                                outcome.served = server::ServeNode(env, options);
                                server_returned = true;
                              }});
  world.AddNode(
      sim::NodeSpec{"client", 1, [&](sim::SimEnv& env) { RunClient(env, port, outcome); }});
  TimePoint limit = world.Now() + std::chrono::hours(1);
  while (!(outcome.client_done && server_returned) && world.Now() < limit && world.Step()) {
  }
  CHECK(server_returned);
  outcome.trace_hash = world.trace_hash();
  return outcome;
}

}  // namespace

TEST_CASE("ServeNode serves clients and stops on request, in simulation") {
  for (uint64_t seed : {1, 2, 3}) {
    CAPTURE(seed);
    Outcome outcome = RunScenario(seed);
    CHECK(outcome.client_done);
    CHECK_MESSAGE(outcome.served.ok(), outcome.served.ToString());
  }
}

TEST_CASE("ServeNode in simulation replays exactly by seed") {
  CHECK(RunScenario(7).trace_hash == RunScenario(7).trace_hash);
}

TEST_CASE("ServeNode reports a busy port") {
  sim::World world(11, {});
  bool done = false;
  world.AddNode(sim::NodeSpec{"server", 2, [&](sim::SimEnv& env) {
                                auto holder = env.Listen({"server", 6379}, {});  // no reuse_port
                                CHECK(holder.has_value());
                                server::NodeOptions options;
                                options.bind = "server";
                                options.port = 6379;
                                Status served = server::ServeNode(env, options);
                                CHECK(served.code() == StatusCode::kBusy);
                                done = true;
                              }});
  TimePoint limit = world.Now() + std::chrono::hours(1);
  while (!done && world.Now() < limit && world.Step()) {
  }
  CHECK(done);
}

}  // namespace tierkv
