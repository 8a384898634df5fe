// Connection commands and the dispatcher's errors, byte for byte as redis-server 7.0.15 sends
// them, through the command harness (tests/server/command_harness.h).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "server/command.h"
#include "tests/server/command_harness.h"

namespace tierkv::server {
namespace {

using namespace std::string_literals;
using testing::Client;
using testing::WithServer;

}  // namespace

TEST_CASE("PING") {
  WithServer([](Client& c) {
  auto Wire = [&](std::vector<std::string> args) { return c.RunRaw(std::move(args)); };
  CHECK(Wire({"PING"}) == "+PONG\r\n");
  CHECK(Wire({"ping"}) == "+PONG\r\n");
  CHECK(Wire({"PiNg", "hello"}) == "$5\r\nhello\r\n");
  CHECK(Wire({"PING", "a", "b"}) == "-ERR wrong number of arguments for 'ping' command\r\n");
  CHECK_FALSE(c.closed());
  });
}

TEST_CASE("ECHO") {
  WithServer([](Client& c) {
  auto Wire = [&](std::vector<std::string> args) { return c.RunRaw(std::move(args)); };
  CHECK(Wire({"ECHO", "x"}) == "$1\r\nx\r\n");
  CHECK(Wire({"echo", ""}) == "$0\r\n\r\n");
  CHECK(Wire({"ECHO", "a\r\n\0"s}) == "$4\r\na\r\n\0\r\n"s);
  CHECK(Wire({"ECHO"}) == "-ERR wrong number of arguments for 'echo' command\r\n");
  CHECK(Wire({"ECHO", "a", "b"}) == "-ERR wrong number of arguments for 'echo' command\r\n");
  });
}

TEST_CASE("QUIT replies OK and closes, whatever its arguments") {
  WithServer([](Client& c) {
    CHECK(c.RunRaw({"QUIT"}) == "+OK\r\n");
    CHECK(c.closed());
    auto other = c.Connect(1);
    CHECK((*other)({"quit a b"}) == "OK");
    CHECK(other->closed());
  });
}

TEST_CASE("unknown commands") {
  WithServer([](Client& c) {
  auto Wire = [&](std::vector<std::string> args) { return c.RunRaw(std::move(args)); };
  CHECK(Wire({"foo"}) == "-ERR unknown command 'foo', with args beginning with: \r\n");
  CHECK(Wire({"foo", "a", "b"}) ==
        "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
  CHECK(Wire({"foo", "", ""}) ==
        "-ERR unknown command 'foo', with args beginning with: '' '' \r\n");
  CHECK(Wire({""}) == "-ERR unknown command '', with args beginning with: \r\n");
  // Line breaks become spaces; NUL ends a string (Redis formats with %s).
  CHECK(Wire({"f\roo", "a\nb"}) ==
        "-ERR unknown command 'f oo', with args beginning with: 'a b' \r\n");
  CHECK(Wire({"fo\0o"s, "b\0c"s}) ==
        "-ERR unknown command 'fo', with args beginning with: 'b' \r\n");
  CHECK_FALSE(c.closed());
  });
}

TEST_CASE("unknown command texts are cut at 128 bytes like Redis's") {
  const std::string kPrefix = "ERR unknown command '";
  std::string name(200, 'n');
  CHECK(UnknownCommandError({name}) ==
        kPrefix + std::string(128, 'n') + "', with args beginning with: ");
  // One long argument: cut to 128 bytes, then its closing quote and space.
  CHECK(UnknownCommandError({"foo", std::string(200, 'x'), "y"}) ==
        kPrefix + "foo', with args beginning with: '" + std::string(128, 'x') + "' ");
  // Arguments are added while the list is shorter than 128 bytes: 32 of "'a' " fill it exactly.
  std::vector<std::string> many{"foo"};
  for (int i = 0; i < 100; i++) many.push_back("a");
  std::string listed;
  for (int i = 0; i < 32; i++) listed += "'a' ";
  CHECK(UnknownCommandError(many) == kPrefix + "foo', with args beginning with: " + listed);
  // The last argument is cut to the room left.
  std::vector<std::string> two{"foo", std::string(120, 'x'), "abcdefghij"};
  CHECK(UnknownCommandError(two) ==
        kPrefix + "foo', with args beginning with: '" + std::string(120, 'x') + "' 'abcde' ");
}

TEST_CASE("SELECT, HELLO, AUTH") {
  WithServer([](Client& c) {
    CHECK(c("SET k v0") == "OK");
    CHECK(c("SELECT 1") == "OK");
    CHECK(c("GET k") == "(nil)");
    CHECK(c("SET k v1") == "OK");
    CHECK(c("SELECT 16") == "-ERR DB index is out of range");
    CHECK(c("SELECT x") == "-ERR value is not an integer or out of range");
    CHECK(c("SELECT 0") == "OK");
    CHECK(c("GET k") == "v0");
    CHECK(c("HELLO 4") == "-NOPROTO unsupported protocol version");
    CHECK(c("HELLO x") == "-ERR Protocol version is not an integer or out of range");
    CHECK(c("HELLO 3 SETNAME a b") == "-ERR Syntax error in HELLO option 'b'");
    CHECK(c("AUTH pw") ==
          "-ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?");
    std::string hello = c("HELLO 3 SETNAME me");
    CHECK(hello.starts_with("{server: redis, version: 7.0.15, proto: :3, id: :"));
    CHECK(c.state().name == "me");
    CHECK(c.RunRaw({"GET", "missing"}) == "_\r\n");  // RESP3 null
    CHECK(c("HELLO 2").starts_with("[server, redis, version, 7.0.15, proto, :2"));
    CHECK(c.RunRaw({"GET", "missing"}) == "$-1\r\n");
  });
  testing::ServerOptions options;
  REQUIRE(options.config.Set("requirepass", "secret").ok());
  WithServer([](Client& c) {
    CHECK(c("GET k") == "-NOAUTH Authentication required.");
    CHECK(c("PING") == "-NOAUTH Authentication required.");
    CHECK(c("AUTH nope") == "-WRONGPASS invalid username-password pair or user is disabled.");
    CHECK(c("HELLO 3").starts_with("-NOAUTH HELLO must be called"));
    CHECK(c("HELLO 3 AUTH default secret").starts_with("{server: redis"));
    CHECK(c("GET k") == "(nil)");
    auto other = c.Connect(1);
    CHECK((*other)("AUTH secret") == "OK");
    CHECK((*other)("RESET") == "RESET");
    CHECK((*other)("GET k") == "-NOAUTH Authentication required.");
  }, options);
}

TEST_CASE("subcommand and arity errors of the dispatcher") {
  WithServer([](Client& c) {
    CHECK(c("GET") == "-ERR wrong number of arguments for 'get' command");
    CHECK(c("GET a b") == "-ERR wrong number of arguments for 'get' command");
  });
}

TEST_CASE("MULTI/EXEC/DISCARD/WATCH across shards") {
  WithServer([](Client& c) {
    auto other = c.Connect(1);
    Client& d = *other;
    CHECK(c("EXEC") == "-ERR EXEC without MULTI");
    CHECK(c("DISCARD") == "-ERR DISCARD without MULTI");
    CHECK(c("MULTI") == "OK");
    CHECK(c("MULTI") == "-ERR MULTI calls can not be nested");
    CHECK(c("WATCH a") == "-ERR WATCH inside MULTI is not allowed");
    CHECK(c("SET a 1") == "QUEUED");
    CHECK(c("SET b 2") == "QUEUED");
    CHECK(c("GET a") == "QUEUED");
    CHECK(c("EXEC") == "[OK, OK, 1]");
    // An unknown command while queuing aborts the transaction.
    CHECK(c("MULTI") == "OK");
    CHECK(c("SET a 3") == "QUEUED");
    CHECK(c("NOSUCH") == "-ERR unknown command 'NOSUCH', with args beginning with: ");
    CHECK(c("EXEC") == "-EXECABORT Transaction discarded because of previous errors.");
    CHECK(c("GET a") == "1");
    // DISCARD drops the queue.
    CHECK(c("MULTI") == "OK");
    CHECK(c("SET a 4") == "QUEUED");
    CHECK(c("DISCARD") == "OK");
    CHECK(c("GET a") == "1");
    // WATCH: a change by another client (on another executor) aborts EXEC with a null array.
    CHECK(c("WATCH a b") == "OK");
    CHECK(d("SET b x") == "OK");
    CHECK(c("MULTI") == "OK");
    CHECK(c("SET a 5") == "QUEUED");
    CHECK(c("EXEC") == "(nil)");
    CHECK(c("GET a") == "1");
    // EXEC unwatches: the next transaction runs.
    CHECK(d("SET b y") == "OK");
    CHECK(c("MULTI") == "OK");
    CHECK(c("SET a 6") == "QUEUED");
    CHECK(c("EXEC") == "[OK]");
    // UNWATCH forgets; the client's own writes after WATCH also abort (Redis does the same).
    CHECK(c("WATCH a") == "OK");
    CHECK(c("UNWATCH") == "OK");
    CHECK(d("SET a z") == "OK");
    CHECK(c("MULTI") == "OK");
    CHECK(c("GET a") == "QUEUED");
    CHECK(c("EXEC") == "[z]");
    // Errors inside EXEC are replies of their own; the rest runs.
    CHECK(c("MULTI") == "OK");
    CHECK(c("SET a 1 2") == "QUEUED");
    CHECK(c("GET a") == "QUEUED");
    CHECK(c("EXEC") == "[-ERR syntax error, z]");
  });
}

TEST_CASE("multi-key commands span shards") {
  WithServer([](Client& c) {
    std::vector<std::string> set{"DEL"};
    for (int i = 0; i < 20; i++) {
      std::string key = "key" + std::to_string(i);
      CHECK(c.Run({"SET", key, "v"}) == "OK");
      set.push_back(key);
    }
    set.push_back("missing");
    CHECK(c.Run({"EXISTS", "key1", "key2", "key1", "missing"}) == ":3");
    CHECK(c.Run(set) == ":20");
    CHECK(c.Run({"EXISTS", "key1"}) == ":0");
  }, testing::ServerOptions{.shards = 4});
}

TEST_CASE("CLIENT ID, SETNAME, GETNAME, INFO, LIST, KILL, REPLY, PAUSE") {
  WithServer([](Client& c) {
    auto other = c.Connect(1);
    Client& d = *other;
    CHECK(c("CLIENT ID") == ":" + std::to_string(c.state().id));
    CHECK(c("CLIENT GETNAME") == "(nil)");
    CHECK(c("CLIENT SETNAME a b") == "-ERR wrong number of arguments for 'client|setname' command");
    CHECK(c.Run({"CLIENT", "SETNAME", "a b"}) ==
          "-ERR Client names cannot contain spaces, newlines or special characters.");
    CHECK(c("CLIENT SETNAME alpha") == "OK");
    CHECK(c("CLIENT GETNAME") == "alpha");
    std::string info = c("CLIENT INFO");
    CHECK(info.starts_with("id=" + std::to_string(c.state().id) + " addr=127.0.0.1:40000 "));
    CHECK(info.find(" name=alpha ") != std::string::npos);
    CHECK(info.find(" cmd=client|info ") != std::string::npos);
    CHECK(info.ends_with(" resp=2\n"));
    // LIST sees the clients of every executor, oldest first.
    std::string list = d("CLIENT LIST");
    CHECK(list.find("name=alpha") < list.find("addr=127.0.0.1:40001"));
    CHECK(d("CLIENT LIST ID " + std::to_string(d.state().id)).find("alpha") == std::string::npos);
    CHECK(d("CLIENT LIST TYPE pubsub") == "");
    CHECK(d("CLIENT LIST TYPE bogus") == "-ERR Unknown client type 'bogus'");
    CHECK(d("CLIENT LIST ID x") == "-ERR Invalid client ID");
    // REPLY OFF / SKIP: the commands run, their replies are dropped.
    CHECK(c("CLIENT REPLY SKIP") == "");
    CHECK(c("SET k 1") == "");
    CHECK(c("GET k") == "1");
    CHECK(c("CLIENT REPLY OFF") == "");
    CHECK(c("SET k 2") == "");
    CHECK(c("CLIENT REPLY ON") == "OK");
    CHECK(c("GET k") == "2");
    CHECK(c("CLIENT REPLY maybe") == "-ERR syntax error");
    CHECK(c("CLIENT NO-EVICT on") == "OK");
    // PAUSE WRITE holds writes, not reads, until it ends.
    CHECK(c("CLIENT PAUSE 50 WRITE") == "OK");
    CHECK(d("GET k") == "2");
    CHECK(d("SET k 3") == "OK");  // waited for the pause to end
    CHECK(c("CLIENT PAUSE x") == "-ERR timeout is not an integer or out of range");
    CHECK(c("CLIENT PAUSE 100000") == "OK");
    CHECK(c("CLIENT UNPAUSE") == "OK");
    CHECK(d("GET k") == "3");
    // KILL: by address (old form) and by filters; the harness's clients have no connection, so
    // a killed one is marked and its next command closes it.
    CHECK(c("CLIENT KILL 1.2.3.4:5") == "-ERR No such client");
    CHECK(c("CLIENT KILL ID " + std::to_string(d.state().id)) == ":1");
    CHECK(d.state().killed);
    CHECK(c("CLIENT KILL ID 0") == "-ERR client-id should be greater than 0");
    CHECK(c("CLIENT KILL TYPE normal") == ":1");  // d again, never c itself (SKIPME yes)
    CHECK(c("CLIENT KILL BOGUS x") == "-ERR syntax error");
    CHECK(c("CLIENT NOSUCH") == "-ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.");
  });
}

TEST_CASE("glob matching as Redis's stringmatchlen") {
  CHECK(GlobMatch("*", "", false));
  CHECK(GlobMatch("h?llo", "hello", false));
  CHECK(GlobMatch("h*llo", "heeeello", false));
  CHECK(GlobMatch("h[ae]llo", "hallo", false));
  CHECK_FALSE(GlobMatch("h[^e]llo", "hello", false));
  CHECK(GlobMatch("h[a-b]llo", "hbllo", false));
  CHECK(GlobMatch("h\\*llo", "h*llo", false));
  CHECK_FALSE(GlobMatch("h\\*llo", "hxllo", false));
  CHECK(GlobMatch("user:*", "USER:1", true));
  CHECK_FALSE(GlobMatch("user:*", "USER:1", false));
  CHECK_FALSE(GlobMatch("a", "ab", false));
  CHECK(GlobMatch("a*", "a", false));
}

}  // namespace tierkv::server
