// Pub/sub, keyspace notifications and MONITOR through the command harness. The harness's clients
// have no connection: what the server pushes to them is kept in ClientState::pushed.
#include <doctest/doctest.h>

#include "net/reply.h"
#include "tests/server/command_harness.h"

namespace tierkv::server {
namespace {

using testing::Client;
using testing::WithServer;

// The pushed messages in text form, then forgotten. Pushes from other executors arrive as
// messages: run a command on the client first so they have been delivered.
std::vector<std::string> Drain(Client& c) {
  (void)c("PING");  // a round trip through the client's executor: earlier posts ran before it
  std::vector<std::string> out;
  for (const std::string& raw : c.state().pushed) {
    size_t pos = 0;
    net::Reply reply;
    REQUIRE(net::ParseReply(raw, pos, reply) == net::ReplyParseStatus::kDone);
    out.push_back(reply.ToString());
  }
  c.state().pushed.clear();
  return out;
}

}  // namespace

TEST_CASE("SUBSCRIBE, PUBLISH across executors, UNSUBSCRIBE, PSUBSCRIBE, PUBSUB") {
  WithServer([](Client& c) {
    auto other = c.Connect(1);
    Client& s = *other;  // the subscriber, on executor 1
    CHECK(s("SUBSCRIBE news sport") == "[subscribe, news, :1] | [subscribe, sport, :2]");
    CHECK(s("PSUBSCRIBE n*") == "[psubscribe, n*, :3]");
    CHECK(c("PUBLISH news hello") == ":2");  // the channel and the pattern subscription
    CHECK(c("PUBLISH weather x") == ":0");
    // RESP2 subscribers may only (un)subscribe, PING, QUIT, RESET.
    CHECK(s("GET k") ==
          "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
          "are allowed in this context");
    CHECK(Drain(s) == std::vector<std::string>{"[message, news, hello]", "[pmessage, n*, news, hello]"});
    CHECK(s("PING") == "[pong, ]");
    CHECK(c("PUBSUB CHANNELS") == "[news, sport]");
    CHECK(c("PUBSUB CHANNELS s*") == "[sport]");
    CHECK(c("PUBSUB NUMSUB news nope") == "[news, :1, nope, :0]");
    CHECK(c("PUBSUB NUMPAT") == ":1");
    CHECK(s("UNSUBSCRIBE news") == "[unsubscribe, news, :2]");
    CHECK(s("UNSUBSCRIBE") == "[unsubscribe, sport, :1]");
    CHECK(s("PUNSUBSCRIBE") == "[punsubscribe, n*, :0]");
    CHECK(s("UNSUBSCRIBE") == "[unsubscribe, (nil), :0]");
    CHECK(s("GET k") == "(nil)");  // out of the subscribed context
    CHECK(c("PUBSUB NUMPAT") == ":0");
    CHECK(c("PUBSUB CHANNELS") == "[]");
    // RESP3: confirmations and messages are push messages; other commands are allowed.
    CHECK(s("HELLO 3").starts_with("{server: redis"));
    CHECK(s("SUBSCRIBE news") == ">[subscribe, news, :1]");
    CHECK(s("GET k") == "(nil)");
    CHECK(c("PUBLISH news again") == ":1");
    CHECK(Drain(s) == std::vector<std::string>{">[message, news, again]"});
    CHECK(s("RESET") == "RESET");
    CHECK(c("PUBLISH news gone") == ":0");
  });
}

TEST_CASE("keyspace notifications follow notify-keyspace-events") {
  WithServer([](Client& c) {
    auto other = c.Connect(1);
    Client& s = *other;
    CHECK(s("PSUBSCRIBE __key*__:*") == "[psubscribe, __key*__:*, :1]");
    CHECK(c("SET a 1") == "OK");
    CHECK(Drain(s).empty());  // off by default
    CHECK(c("CONFIG SET notify-keyspace-events KEA") == "OK");
    CHECK(c("SET a 2") == "OK");
    CHECK(c("DEL a") == ":1");
    CHECK(Drain(s) == std::vector<std::string>{
                          "[pmessage, __key*__:*, __keyspace@0__:a, set]",
                          "[pmessage, __key*__:*, __keyevent@0__:set, a]",
                          "[pmessage, __key*__:*, __keyspace@0__:a, del]",
                          "[pmessage, __key*__:*, __keyevent@0__:del, a]"});
    CHECK(c("CONFIG SET notify-keyspace-events E$") == "OK");  // string events, keyevent only
    CHECK(c("SELECT 3") == "OK");
    CHECK(c("SET b 1") == "OK");
    CHECK(c("DEL b") == ":1");  // generic class: not selected
    CHECK(Drain(s) == std::vector<std::string>{"[pmessage, __key*__:*, __keyevent@3__:set, b]"});
  });
}

TEST_CASE("active expiry publishes 'expired', breaks WATCH and counts in INFO") {
  WithServer([](Client& c) {
    auto other = c.Connect(1);
    Client& s = *other;
    CHECK(c("CONFIG SET notify-keyspace-events Ex") == "OK");
    CHECK(s("SUBSCRIBE __keyevent@0__:expired") == "[subscribe, __keyevent@0__:expired, :1]");
    CHECK(c("SET gone v PX 50") == "OK");
    CHECK(c("WATCH gone") == "OK");
    c.Idle(milliseconds(400));  // the expiry fiber runs every 100 ms
    CHECK(Drain(s) == std::vector<std::string>{"[message, __keyevent@0__:expired, gone]"});
    CHECK(c("MULTI") == "OK");
    CHECK(c("SET other 1") == "QUEUED");
    CHECK(c("EXEC") == "(nil)");
    CHECK(c("INFO stats").find("expired_keys:1\r\n") != std::string::npos);
  });
}

TEST_CASE("MONITOR sees every client's commands, AUTH redacted") {
  WithServer([](Client& c) {
    auto other = c.Connect(1);
    Client& m = *other;
    CHECK(m("MONITOR") == "OK");
    CHECK(c.Run({"SET", "k", "a \"b\"\n"}) == "OK");
    CHECK(c("AUTH secret").starts_with("-ERR AUTH"));
    CHECK(c("CONFIG GET port") == "[port, 6379]");  // admin: not shown
    std::vector<std::string> lines = Drain(m);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].ends_with(" [0 127.0.0.1:40000] \"SET\" \"k\" \"a \\\"b\\\"\\n\""));
    CHECK(lines[1].ends_with(" [0 127.0.0.1:40000] \"AUTH\" \"(redacted)\""));
    CHECK(lines[2].ends_with(" [0 127.0.0.1:40001] \"PING\""));  // Drain's own round trip
    CHECK(c("MULTI") == "OK");
    CHECK(c("MONITOR") == "-ERR Command not allowed inside a transaction");
    CHECK(c("DISCARD") == "OK");
  });
}

}  // namespace tierkv::server
