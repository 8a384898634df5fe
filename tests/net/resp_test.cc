// Tests of net/resp: the RESP2 request parser against Redis 7.0's accepted inputs and exact error
// texts (checked against redis-server 7.0.15), fed whole, pipelined and one byte at a time; and
// the reply writer.
#include "net/resp.h"

#include <doctest/doctest.h>

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/limits.h"

namespace tierkv::net {
namespace {

using namespace std::string_literals;

using Command = std::vector<std::string>;

struct Parsed {
  std::vector<Command> commands;
  std::optional<std::string> error;
  std::string unconsumed;  // input left when the parser wanted more
};

// Parses `input` delivered in pieces of `chunk` bytes (0: all at once), the way a connection
// does: append what arrived, parse until the parser needs more, drop what it consumed.
Parsed ParseInChunks(std::string_view input, size_t chunk = 0) {
  if (chunk == 0) chunk = input.size() + 1;
  RequestParser parser;
  Parsed out;
  std::string buffer;
  size_t fed = 0;
  // Bounded: one pass per chunk, plus one when the input is empty.
  for (size_t round = 0; round <= input.size() / chunk + 1; round++) {
    size_t piece = std::min(chunk, input.size() - fed);
    buffer.append(input.substr(fed, piece));
    fed += piece;
    for (size_t guard = 0; guard <= input.size(); guard++) {
      ParseResult result = parser.Parse(buffer);
      REQUIRE(result.consumed <= buffer.size());
      buffer.erase(0, result.consumed);
      if (result.status == ParseStatus::kCommand) {
        REQUIRE(!parser.command().empty());
        out.commands.push_back(parser.command());
        continue;
      }
      if (result.status == ParseStatus::kError) {
        out.error = parser.error();
        return out;
      }
      break;  // kNeedMore
    }
    if (fed == input.size()) break;
  }
  out.unconsumed = buffer;
  return out;
}

// Parses `input` whole, in two pieces split at every position, and one byte at a time (big
// inputs: in two pieces at a few positions, and in chunks); checks that all agree and returns the
// whole-input result.
Parsed ParseEveryWay(std::string_view input) {
  constexpr size_t kExhaustiveBytes = 4096;  // above this, every split would be quadratic
  const bool small = input.size() <= kExhaustiveBytes;
  Parsed whole = ParseInChunks(input);
  for (size_t split = 1; split < input.size(); split += small ? 1 : input.size() / 7) {
    RequestParser parser;
    Parsed two;
    std::string buffer(input.substr(0, split));
    bool failed = false;
    for (int piece = 0; piece < 2 && !failed; piece++) {
      if (piece == 1) buffer.append(input.substr(split));
      for (size_t guard = 0; guard <= input.size(); guard++) {
        ParseResult result = parser.Parse(buffer);
        buffer.erase(0, result.consumed);
        if (result.status == ParseStatus::kCommand) {
          two.commands.push_back(parser.command());
        } else {
          if (result.status == ParseStatus::kError) {
            two.error = parser.error();
            failed = true;
          }
          break;
        }
      }
    }
    CHECK_MESSAGE(two.commands == whole.commands, "split at ", split);
    CHECK_MESSAGE(two.error == whole.error, "split at ", split);
  }
  Parsed bytewise = ParseInChunks(input, small ? 1 : 1000);
  CHECK(bytewise.commands == whole.commands);
  CHECK(bytewise.error == whole.error);
  CHECK(bytewise.unconsumed == whole.unconsumed);
  return whole;
}

std::string ErrorOf(std::string_view input) {
  Parsed parsed = ParseEveryWay(input);
  REQUIRE_MESSAGE(parsed.error.has_value(), "no error for input of ", input.size(), " bytes");
  return *parsed.error;
}

std::vector<Command> CommandsOf(std::string_view input) {
  Parsed parsed = ParseEveryWay(input);
  REQUIRE_MESSAGE(!parsed.error.has_value(), *parsed.error);
  return parsed.commands;
}

}  // namespace

TEST_CASE("multibulk: a complete command") {
  RequestParser parser;
  std::string input = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
  ParseResult result = parser.Parse(input);
  CHECK(result.status == ParseStatus::kCommand);
  CHECK(result.consumed == input.size());
  CHECK(parser.command() == Command{"SET", "key", "value"});
  CHECK(parser.Parse("").status == ParseStatus::kNeedMore);
}

TEST_CASE("multibulk: binary-safe and empty arguments") {
  std::string input = "*4\r\n$4\r\nECHO\r\n$0\r\n\r\n$5\r\na\r\nb\0\r\n$3\r\n\0\0\0\r\n"s;
  CHECK(CommandsOf(input) == std::vector<Command>{{"ECHO", "", "a\r\nb\0"s, "\0\0\0"s}});
}

TEST_CASE("multibulk: split at every byte") {
  std::string input = "*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n*1\r\n$4\r\nPING\r\n";
  CHECK(CommandsOf(input) == std::vector<Command>{{"ECHO", "hello world"}, {"PING"}});
}

TEST_CASE("multibulk: a half-read command keeps its arguments across calls") {
  RequestParser parser;
  std::string first = "*2\r\n$4\r\nECHO\r\n$5\r\nhel";
  ParseResult result = parser.Parse(first);
  CHECK(result.status == ParseStatus::kNeedMore);
  CHECK(result.consumed == first.size() - 3);  // header and first argument taken, payload not
  CHECK(parser.BulkBytesWanted(3) == 4);       // "lo\r\n"
  result = parser.Parse("hello\r\n");
  CHECK(result.status == ParseStatus::kCommand);
  CHECK(result.consumed == 7);
  CHECK(parser.command() == Command{"ECHO", "hello"});
  CHECK(parser.BulkBytesWanted(0) == 0);
}

TEST_CASE("multibulk: the two bytes after a payload are skipped unchecked, like Redis") {
  CHECK(CommandsOf("*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n") ==
        std::vector<Command>{{"PING"}, {"PING"}});
}

TEST_CASE("multibulk: empty and negative counts are skipped") {
  CHECK(CommandsOf("*0\r\n*-1\r\n*-10\r\n*1\r\n$4\r\nPING\r\n") == std::vector<Command>{{"PING"}});
}

TEST_CASE("multibulk: the largest count and bulk length are accepted") {
  Parsed count = ParseInChunks("*1048576\r\n");
  CHECK(!count.error);
  CHECK(count.commands.empty());
  Parsed length = ParseInChunks("*1\r\n$536870912\r\n");
  CHECK(!length.error);
  CHECK(length.commands.empty());
}

TEST_CASE("pipelined commands come out one per call, in order") {
  std::string input;
  for (int i = 0; i < 100; i++) {
    std::string arg = std::to_string(i);
    input += "*2\r\n$4\r\nECHO\r\n$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  }
  input += "PING\r\n*1\r\n$4\r\nPI";
  RequestParser parser;
  std::string_view rest = input;
  for (int i = 0; i < 100; i++) {
    ParseResult result = parser.Parse(rest);
    REQUIRE(result.status == ParseStatus::kCommand);
    CHECK(parser.command() == Command{"ECHO", std::to_string(i)});
    rest.remove_prefix(result.consumed);
  }
  ParseResult result = parser.Parse(rest);
  REQUIRE(result.status == ParseStatus::kCommand);
  CHECK(parser.command() == Command{"PING"});
  rest.remove_prefix(result.consumed);
  result = parser.Parse(rest);
  CHECK(result.status == ParseStatus::kNeedMore);
  CHECK(rest.substr(result.consumed) == "PI");
}

TEST_CASE("strings lent back by the caller are reused and never leak into a command") {
  // The connection swaps its previous command's vector in for each parsed one: the parser then
  // holds stale strings (more or fewer than the next command needs, one with a big buffer) and
  // must produce exactly the next command's arguments, across split input and inline commands.
  RequestParser parser;
  Command held{"STALE-0", "STALE-1", std::string(8192, 'x'), "STALE-3", "STALE-4"};
  const std::string input =
      "*3\r\n$3\r\nSET\r\n$16\r\nkey:000000012345\r\n$3\r\nabc\r\n"
      "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
      "PING\r\n"
      "*4\r\n$4\r\nECHO\r\n$0\r\n\r\n$1\r\na\r\n$5\r\nhello\r\n"
      "*1\r\n$4\r\nQUIT\r\n";
  const std::vector<Command> want{{"SET", "key:000000012345", "abc"},
                                  {"GET", "k"},
                                  {"PING"},
                                  {"ECHO", "", "a", "hello"},
                                  {"QUIT"}};
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{7}}) {
    CAPTURE(chunk);
    std::vector<Command> got;
    std::string buffer;
    size_t fed = 0;
    const size_t step = chunk == 0 ? input.size() : chunk;
    while (fed < input.size()) {  // bounded: each pass feeds at least one byte
      buffer.append(input.substr(fed, step));
      fed = std::min(input.size(), fed + step);
      for (int guard = 0; guard < 10; guard++) {
        ParseResult result = parser.Parse(buffer);
        buffer.erase(0, result.consumed);
        REQUIRE(result.status != ParseStatus::kError);
        if (result.status != ParseStatus::kCommand) break;
        held.swap(parser.command());  // lend the previous command's strings back
        got.push_back(held);
      }
    }
    CHECK(got == want);
    CHECK(buffer.empty());
  }
}

TEST_CASE("inline commands") {
  CHECK(CommandsOf("PING\r\n") == std::vector<Command>{{"PING"}});
  CHECK(CommandsOf("PING\nPING\n") == std::vector<Command>{{"PING"}, {"PING"}});
  CHECK(CommandsOf("  SET   key \t value  \r\n") == std::vector<Command>{{"SET", "key", "value"}});
  // Blank lines are skipped; '\r' also separates arguments; only one '\r' before '\n' is dropped.
  CHECK(CommandsOf("\r\n\n   \r\nPING\r\n") == std::vector<Command>{{"PING"}});
  CHECK(CommandsOf("ECHO a\rb\r\n") == std::vector<Command>{{"ECHO", "a", "b"}});
  CHECK(CommandsOf("PING\r\r\n") == std::vector<Command>{{"PING"}});
  // \v and \f separate arguments only at their start (sdssplitargs's isspace vs. its switch).
  CHECK(CommandsOf("PING a\vb\r\n") == std::vector<Command>{{"PING", "a\vb"}});
  CHECK(CommandsOf("ECHO \v\fa\r\n") == std::vector<Command>{{"ECHO", "a"}});
  // A NUL ends the line, as it ends the C string sdssplitargs reads.
  CHECK(CommandsOf("ECHO a\0b c\r\nPING\r\n"s) == std::vector<Command>{{"ECHO", "a"}, {"PING"}});
  // Inline and multibulk mix freely.
  CHECK(CommandsOf("PING\r\n*1\r\n$4\r\nPING\r\nPING\r\n") ==
        std::vector<Command>{{"PING"}, {"PING"}, {"PING"}});
  Parsed incomplete = ParseInChunks("PING");
  CHECK(incomplete.commands.empty());
  CHECK(incomplete.unconsumed == "PING");
}

TEST_CASE("inline commands with quotes") {
  CHECK(CommandsOf("SET \"a b\" 'c d'\r\n") == std::vector<Command>{{"SET", "a b", "c d"}});
  CHECK(CommandsOf("ECHO \"\\x41\\x6a\\n\\r\\t\\b\\a\\\\\\\"\\q\"\r\n") ==
        std::vector<Command>{{"ECHO", "Aj\n\r\t\b\a\\\"q"}});
  CHECK(CommandsOf("ECHO \"\\x4\" \"\\xzz\"\r\n") == std::vector<Command>{{"ECHO", "x4", "xzz"}});
  CHECK(CommandsOf("ECHO \"\\x00\\xff\"\r\n") == std::vector<Command>{{"ECHO", "\0\xff"s}});
  CHECK(CommandsOf("ECHO 'it\\'s' 'a\\nb'\r\n") == std::vector<Command>{{"ECHO", "it's", "a\\nb"}});
  CHECK(CommandsOf("ECHO a\"b c\" d'e f'\r\n") == std::vector<Command>{{"ECHO", "ab c", "de f"}});
  CHECK(CommandsOf("ECHO \"\" ''\r\n") == std::vector<Command>{{"ECHO", "", ""}});
  CHECK(CommandsOf("ECHO \"a\"\t\r\n") == std::vector<Command>{{"ECHO", "a"}});
  CHECK(CommandsOf("ECHO \"a\rb\"\r\n") == std::vector<Command>{{"ECHO", "a\rb"}});
}

TEST_CASE("SplitInlineArgs leaves the vector alone on unbalanced quotes") {
  std::vector<std::string> args{"keep"};
  CHECK_FALSE(SplitInlineArgs("a \"b", args));
  CHECK(args == std::vector<std::string>{"keep"});
  CHECK(SplitInlineArgs("", args));
  CHECK(args == std::vector<std::string>{"keep"});
}

TEST_CASE("protocol error: invalid multibulk length") {
  const std::string kText = "ERR Protocol error: invalid multibulk length";
  CHECK(ErrorOf("*x\r\n") == kText);
  CHECK(ErrorOf("*\r\n") == kText);
  CHECK(ErrorOf("*2147483648\r\n") == kText);
  CHECK(ErrorOf("*2147483648\r\n") == kText);
  CHECK(ErrorOf("*99999999999999999999\r\n") == kText);
  CHECK(ErrorOf("*01\r\n") == kText);
  CHECK(ErrorOf("*+1\r\n") == kText);
  CHECK(ErrorOf("*-0\r\n") == kText);
  CHECK(ErrorOf("* 1\r\n") == kText);
  CHECK(ErrorOf("*1 \r\n") == kText);
  CHECK(ErrorOf("*1\0\r\n"s) == kText);
}

TEST_CASE("protocol error: invalid bulk length") {
  const std::string kText = "ERR Protocol error: invalid bulk length";
  CHECK(ErrorOf("*1\r\n$-1\r\n") == kText);
  CHECK(ErrorOf("*1\r\n$-5\r\n") == kText);
  CHECK(ErrorOf("*1\r\n$536870913\r\n") == kText);
  CHECK(ErrorOf("*1\r\n$99999999999999999999\r\n") == kText);
  CHECK(ErrorOf("*1\r\n$x\r\n") == kText);
  CHECK(ErrorOf("*1\r\n$\r\n") == kText);
  CHECK(ErrorOf("*1\r\n$01\r\n") == kText);
  CHECK(ErrorOf("*1\r\n$-0\r\n") == kText);
  CHECK(ErrorOf("*2\r\n$4\r\nECHO\r\n$1x\r\n") == kText);
}

TEST_CASE("protocol error: expected '$'") {
  CHECK(ErrorOf("*1\r\nfoo\r\n") == "ERR Protocol error: expected '$', got 'f'");
  CHECK(ErrorOf("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n") ==
        "ERR Protocol error: expected '$', got 'f'");
  // Line breaks in error texts become spaces, as in Redis.
  CHECK(ErrorOf("*1\r\n\r\n") == "ERR Protocol error: expected '$', got ' '");
  CHECK(ErrorOf("*1\r\n\n\r\n") == "ERR Protocol error: expected '$', got ' '");
}

TEST_CASE("protocol error: too big inline request") {
  const size_t kMax = limits::kMaxInlineRequestBytes;
  CHECK(ErrorOf(std::string(kMax + 1, 'x')) == "ERR Protocol error: too big inline request");
  Parsed at_limit = ParseInChunks(std::string(kMax, 'x'));
  CHECK(!at_limit.error);
  CHECK(at_limit.unconsumed.size() == kMax);
  // A long line is fine once its end has arrived.
  Parsed long_line = ParseInChunks("ECHO " + std::string(kMax * 2, 'y') + "\r\n");
  REQUIRE(long_line.commands.size() == 1);
  CHECK(long_line.commands[0][1].size() == kMax * 2);
}

TEST_CASE("protocol error: too big mbulk count string") {
  const size_t kMax = limits::kMaxInlineRequestBytes;
  CHECK(ErrorOf("*" + std::string(kMax, '1')) == "ERR Protocol error: too big mbulk count string");
  CHECK(!ParseInChunks("*" + std::string(kMax - 1, '1')).error);
}

TEST_CASE("protocol error: too big bulk count string") {
  const size_t kMax = limits::kMaxInlineRequestBytes;
  const std::string kText = "ERR Protocol error: too big bulk count string";
  CHECK(ErrorOf("*1\r\n$" + std::string(kMax, '1')) == kText);
  CHECK(ErrorOf("*1\r\n" + std::string(kMax + 1, 'x')) == kText);
  CHECK(ErrorOf("*2\r\n$4\r\nECHO\r\n" + std::string(kMax + 1, 'x')) == kText);
  CHECK(!ParseInChunks("*1\r\n" + std::string(kMax, 'x')).error);
}

TEST_CASE("protocol error: unbalanced quotes in request") {
  const std::string kText = "ERR Protocol error: unbalanced quotes in request";
  CHECK(ErrorOf("ECHO \"abc\r\n") == kText);
  CHECK(ErrorOf("ECHO \"abc\"d\r\n") == kText);
  CHECK(ErrorOf("ECHO 'abc\r\n") == kText);
  CHECK(ErrorOf("ECHO 'abc'd\r\n") == kText);
  CHECK(ErrorOf("ECHO \"a\\\"\r\n") == kText);
  CHECK(ErrorOf("ECHO 'a\\'\r\n") == kText);
  CHECK(ErrorOf("ECHO \"a\"\"b\"\r\n") == kText);
}

TEST_CASE("commands before a protocol error are still returned") {
  Parsed parsed = ParseEveryWay("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$-5\r\nPING\r\n");
  CHECK(parsed.commands == std::vector<Command>{{"PING"}, {"PING"}});
  CHECK(parsed.error == "ERR Protocol error: invalid bulk length");
}

TEST_CASE("a protocol error is final") {
  RequestParser parser;
  CHECK(parser.Parse("*x\r\n").status == ParseStatus::kError);
  CHECK(parser.failed());
  ParseResult again = parser.Parse("PING\r\n");
  CHECK(again.status == ParseStatus::kError);
  CHECK(again.consumed == 0);
  CHECK(parser.error() == "ERR Protocol error: invalid multibulk length");
}

TEST_CASE("ReplyWriter") {
  std::string out;
  ReplyWriter reply(out);
  reply.SimpleString("PONG");
  reply.Error("ERR bad\r\nthing");
  reply.Integer(-42);
  reply.Integer(std::numeric_limits<int64_t>::min());
  reply.Bulk("a\r\n\0"s);
  reply.Bulk("");
  reply.NullBulk();
  reply.ArrayHeader(2);
  reply.ArrayHeader(0);
  CHECK(out ==
        "+PONG\r\n-ERR bad  thing\r\n:-42\r\n:-9223372036854775808\r\n$4\r\na\r\n\0\r\n$0\r\n\r\n"
        "$-1\r\n*2\r\n*0\r\n"s);
}

TEST_CASE("ReplyWriter: RESP3 types, and what a RESP2 client gets instead (as Redis 7.0)") {
  auto write = [](int protocol) {
    std::string out;
    ReplyWriter reply(out, protocol);
    reply.NullBulk();
    reply.NullArray();
    reply.MapHeader(2);
    reply.SetHeader(3);
    reply.PushHeader(3);
    reply.Double(3.5);
    reply.Double(0.1);
    reply.Double(-std::numeric_limits<double>::infinity());
    reply.Bool(true);
    reply.Bool(false);
    reply.Verbatim("txt", "Some string");
    return out;
  };
  CHECK(write(3) ==
        "_\r\n_\r\n%2\r\n~3\r\n>3\r\n,3.5\r\n,0.10000000000000001\r\n,-inf\r\n#t\r\n#f\r\n"
        "=15\r\ntxt:Some string\r\n");
  CHECK(write(2) ==
        "$-1\r\n*-1\r\n*4\r\n*3\r\n*3\r\n$3\r\n3.5\r\n$19\r\n0.10000000000000001\r\n"
        "$4\r\n-inf\r\n:1\r\n:0\r\n$11\r\nSome string\r\n");
}

}  // namespace tierkv::net
