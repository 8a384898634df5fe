// ServeConnection over a real (or simulated) socket: a pipelined batch runs in order, the
// prefetch hook sees each next command before the current one runs, and a protocol error after
// a valid command answers that command first.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "net/connection.h"
#include "tests/env_harness.h"

namespace tierkv::net {
namespace {

using testing::RunInBoth;

// Serves one connection on the current executor, recording "run:<name>" and "next:<name>".
// Returns the client's received bytes after it sent `request` and the server closed or answered
// `replies` replies.
std::string Exchange(Env& env, const std::string& request, std::vector<std::string>& trace) {
  Executor& executor = env.CurrentExecutor();
  auto listener = env.Listen({"127.0.0.1", 0}, {});
  REQUIRE(listener.has_value());
  const NetAddress address = (*listener)->LocalAddress();
  FiberHandle server = executor.Spawn("server", [&] {
    auto socket = (*listener)->Accept(DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE(socket.has_value());
    Connection connection(**socket, executor);
    ConnectionOptions options;
    options.prefetch = [&](const std::vector<std::string>& current, const std::vector<std::string>& next) {
      trace.push_back("next:" + next[0] + "@" + current[0]);
    };
    ServeConnection(
        connection,
        [&](std::vector<std::string>& args, std::string& out) {
          trace.push_back("run:" + args[0]);
          out += "+OK\r\n";
          return args[0] == "quit" ? AfterReply::kClose : AfterReply::kKeepOpen;
        },
        executor.log(), options);
    connection.Finish();
  });
  auto client = env.Connect(address, DeadlineAfter(env.Now(), seconds(10)));
  REQUIRE(client.has_value());
  REQUIRE((*client)->Write(std::as_bytes(std::span(request.data(), request.size()))).ok());
  std::string received;
  std::vector<std::byte> buf(4096);
  while (true) {  // until the server closes: bounded by the read deadline
    auto n = (*client)->Read(buf, DeadlineAfter(env.Now(), seconds(10)));
    if (!n || *n == 0) break;
    received.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
  REQUIRE(server.Join().ok());
  return received;
}

TEST_CASE("ServeConnection: the prefetch hook sees the next command before the current one runs") {
  RunInBoth(1, [](Env& env, const std::string&) {
    std::vector<std::string> trace;
    const std::string request =
        "*1\r\n$1\r\na\r\n*2\r\n$1\r\nb\r\n$1\r\nk\r\n*1\r\n$1\r\nc\r\n*1\r\n$4\r\nquit\r\n";
    CHECK(Exchange(env, request, trace) == "+OK\r\n+OK\r\n+OK\r\n+OK\r\n");
    CHECK(trace == std::vector<std::string>{"next:b@a", "run:a", "next:c@b", "run:b",
                                            "next:quit@c", "run:c", "run:quit"});
  });
}

TEST_CASE("ServeConnection: a protocol error after a command answers the command first") {
  RunInBoth(1, [](Env& env, const std::string&) {
    std::vector<std::string> trace;
    const std::string reply = Exchange(env, "*1\r\n$1\r\na\r\n*x\r\n", trace);
    CHECK(reply == "+OK\r\n-ERR Protocol error: invalid multibulk length\r\n");
    CHECK(trace == std::vector<std::string>{"run:a"});
  });
}

}  // namespace
}  // namespace tierkv::net
