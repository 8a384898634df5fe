// Tests of server/commands: replies and error texts of the connection-level commands, byte for
// byte as redis-server 7.0.15 sends them.
#include "server/commands.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace tierkv::server {
namespace {

using namespace std::string_literals;

struct Reply {
  std::string wire;
  AfterReply after;
};

Reply Run(std::vector<std::string> args) {
  std::string out;
  net::ReplyWriter writer(out);
  AfterReply after = ExecuteCommand(args, writer);
  return {out, after};
}

std::string Wire(std::vector<std::string> args) { return Run(std::move(args)).wire; }

}  // namespace

TEST_CASE("PING") {
  CHECK(Wire({"PING"}) == "+PONG\r\n");
  CHECK(Wire({"ping"}) == "+PONG\r\n");
  CHECK(Wire({"PiNg", "hello"}) == "$5\r\nhello\r\n");
  CHECK(Wire({"PING", "a", "b"}) == "-ERR wrong number of arguments for 'ping' command\r\n");
  CHECK(Run({"PING"}).after == AfterReply::kKeepOpen);
}

TEST_CASE("ECHO") {
  CHECK(Wire({"ECHO", "x"}) == "$1\r\nx\r\n");
  CHECK(Wire({"echo", ""}) == "$0\r\n\r\n");
  CHECK(Wire({"ECHO", "a\r\n\0"s}) == "$4\r\na\r\n\0\r\n"s);
  CHECK(Wire({"ECHO"}) == "-ERR wrong number of arguments for 'echo' command\r\n");
  CHECK(Wire({"ECHO", "a", "b"}) == "-ERR wrong number of arguments for 'echo' command\r\n");
}

TEST_CASE("QUIT replies OK and closes, whatever its arguments") {
  Reply quit = Run({"QUIT"});
  CHECK(quit.wire == "+OK\r\n");
  CHECK(quit.after == AfterReply::kClose);
  CHECK(Run({"quit", "a", "b"}).after == AfterReply::kClose);
}

TEST_CASE("COMMAND replies an empty array") {
  CHECK(Wire({"COMMAND"}) == "*0\r\n");
  CHECK(Wire({"COMMAND", "DOCS"}) == "*0\r\n");
}

TEST_CASE("unknown commands") {
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
  CHECK(Run({"foo"}).after == AfterReply::kKeepOpen);
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

}  // namespace tierkv::server
