// List commands through the command harness (tests/server/command_harness.h), with the replies
// and error texts redis-server 7.0 sends, in RESP2 and RESP3. Commands with several keys (LMOVE,
// RPOPLPUSH, LMPOP, BLPOP...) run with 4 shards and keys owned by different shards, so they
// really cross shards. The dispatcher's side of blocking (parking, wake-ups, order) is covered
// by cmd_blocking_test.cc; here the blocking commands' own replies.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "net/reply.h"
#include "server/shards.h"
#include "tests/server/command_harness.h"
#include "tiers/types.h"

namespace tierkv::server {
namespace {

using testing::Client;
using testing::KeyEventsInOrder;
using testing::KeyEvents;
using testing::KeysOnDifferentShards;
using testing::ServerOptions;
using testing::WithServer;

constexpr const char* kWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr const char* kNotInteger = "-ERR value is not an integer or out of range";
constexpr const char* kSyntax = "-ERR syntax error";
constexpr int kShards = 4;

std::string Arity(const std::string& command) {
  return "-ERR wrong number of arguments for '" + command + "' command";
}

// A command on every shard after a test's multi-shard commands (the harness's Server::Stop also
// waits for their posted unlocks).
void Drain(Client& c) {
  for (const std::string& key : KeysOnDifferentShards("drain", kShards)) {
    CHECK(c.Run({"EXISTS", key}) == ":0");
  }
}

}  // namespace

TEST_CASE("lists: LPUSH RPUSH LPUSHX RPUSHX LLEN") {
  WithServer([](Client& c) {
    CHECK(c("LPUSH l b a") == ":2");  // each pushed at the head in turn: a b
    CHECK(c("RPUSH l c d") == ":4");
    CHECK(c("LRANGE l 0 -1") == "[a, b, c, d]");
    CHECK(c("LLEN l") == ":4");
    CHECK(c("LLEN nokey") == ":0");
    CHECK(c("TYPE l") == "list");
    CHECK(c("LPUSHX nokey x") == ":0");
    CHECK(c("RPUSHX nokey x y") == ":0");
    CHECK(c("EXISTS nokey") == ":0");
    CHECK(c("LPUSHX l z y") == ":6");
    CHECK(c("RPUSHX l e") == ":7");
    CHECK(c("LRANGE l 0 -1") == "[y, z, a, b, c, d, e]");
    CHECK(c.Run({"RPUSH", "bin", std::string("a\0b", 3), ""}) == ":2");
    CHECK(c.Run({"LINDEX", "bin", "0"}) == std::string("a\0b", 3));
    CHECK(c("LINDEX bin 1") == "");
    // Errors.
    CHECK(c("SET s v") == "OK");
    for (const char* command : {"LPUSH", "RPUSH", "LPUSHX", "RPUSHX"}) {
      CHECK(c.Run({command, "s", "x"}) == kWrongType);
      CHECK(c.Run({command, "l"}) == Arity(ToLower(command)));
    }
    CHECK(c("LLEN s") == kWrongType);
    CHECK(c("LLEN") == Arity("llen"));
    CHECK(c("LLEN a b") == Arity("llen"));
    CHECK(c("GET s") == "v");
  });
}

TEST_CASE("lists: LPOP RPOP with and without a count, RESP2 and RESP3") {
  WithServer([](Client& c) {
    CHECK(c("RPUSH l a b c d e") == ":5");
    CHECK(c("LPOP l") == "a");
    CHECK(c("RPOP l") == "e");
    CHECK(c("LPOP l 2") == "[b, c]");
    CHECK(c("RPUSH l x y z") == ":4");  // d x y z
    CHECK(c("RPOP l 2") == "[z, y]");   // in pop order
    CHECK(c("LPOP l 0") == "[]");       // a count of 0 on an existing list
    CHECK(c("LLEN l") == ":2");
    CHECK(c("RPOP l 10") == "[x, d]");  // more than there is: all, and the key goes
    CHECK(c("EXISTS l") == ":0");
    CHECK(c.RunRaw({"LPOP", "l"}) == "$-1\r\n");
    CHECK(c.RunRaw({"LPOP", "l", "1"}) == "*-1\r\n");  // a null array with a count
    CHECK(c.RunRaw({"RPOP", "l", "0"}) == "*-1\r\n");  // absent wins over the 0 count
    CHECK(c("RPUSH one v") == ":1");
    CHECK(c("RPOP one") == "v");
    CHECK(c("EXISTS one") == ":0");
    CHECK(c("RPUSH one v w") == ":2");
    CHECK(c("LPOP one 1") == "[v]");
    CHECK(c("LRANGE one 0 -1") == "[w]");
    // Errors: Redis words a non-integer count like a negative one.
    CHECK(c("LPOP one -1") == "-ERR value is out of range, must be positive");
    CHECK(c("RPOP one x") == "-ERR value is out of range, must be positive");
    CHECK(c("LPOP nokey -1") == "-ERR value is out of range, must be positive");
    CHECK(c("LPOP one 1 2") == Arity("lpop"));
    CHECK(c("RPOP") == Arity("rpop"));
    CHECK(c("SET s v") == "OK");
    CHECK(c("LPOP s") == kWrongType);
    CHECK(c("RPOP s 2") == kWrongType);
    CHECK(c("LPOP s 0") == kWrongType);
    // RESP3: nulls are "_"; arrays stay arrays.
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c.RunRaw({"LPOP", "nokey"}) == "_\r\n");
    CHECK(c.RunRaw({"LPOP", "nokey", "3"}) == "_\r\n");
    CHECK(c.RunRaw({"LPOP", "one", "0"}) == "*0\r\n");
    CHECK(c.RunRaw({"RPOP", "one", "1"}) == "*1\r\n$1\r\nw\r\n");
  });
}

TEST_CASE("lists: LRANGE and LINDEX with Redis's index rules") {
  WithServer([](Client& c) {
    CHECK(c("RPUSH l a b c d e") == ":5");
    CHECK(c("LRANGE l 0 -1") == "[a, b, c, d, e]");
    CHECK(c("LRANGE l 1 2") == "[b, c]");
    CHECK(c("LRANGE l -2 -1") == "[d, e]");
    CHECK(c("LRANGE l -100 1") == "[a, b]");
    CHECK(c("LRANGE l 3 100") == "[d, e]");
    CHECK(c("LRANGE l 3 2") == "[]");
    CHECK(c("LRANGE l 5 10") == "[]");
    CHECK(c("LRANGE l -1 -2") == "[]");
    CHECK(c("LRANGE l -9223372036854775808 9223372036854775807") == "[a, b, c, d, e]");
    CHECK(c("LRANGE nokey 0 -1") == "[]");
    CHECK(c("LINDEX l 0") == "a");
    CHECK(c("LINDEX l 4") == "e");
    CHECK(c("LINDEX l -1") == "e");
    CHECK(c("LINDEX l -5") == "a");
    CHECK(c("LINDEX l 5") == "(nil)");
    CHECK(c("LINDEX l -6") == "(nil)");
    CHECK(c("LINDEX nokey 0") == "(nil)");
    CHECK(c("LINDEX nokey x") == "(nil)");  // Redis looks the key up before parsing the index
    // Errors.
    CHECK(c("LRANGE l x 1") == kNotInteger);
    CHECK(c("LRANGE l 0 1.5") == kNotInteger);
    CHECK(c("LRANGE nokey x 1") == kNotInteger);  // the indexes are parsed first
    CHECK(c("LINDEX l x") == kNotInteger);
    CHECK(c("SET s v") == "OK");
    CHECK(c("LRANGE s 0 -1") == kWrongType);
    CHECK(c("LINDEX s 0") == kWrongType);
    CHECK(c("LINDEX s x") == kWrongType);
    CHECK(c("LRANGE l 0") == Arity("lrange"));
    CHECK(c("LINDEX l") == Arity("lindex"));
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c.RunRaw({"LINDEX", "l", "9"}) == "_\r\n");
    CHECK(c.RunRaw({"LRANGE", "l", "0", "0"}) == "*1\r\n$1\r\na\r\n");
  });
}

TEST_CASE("lists: LSET and LINSERT") {
  WithServer([](Client& c) {
    CHECK(c("RPUSH l a b c") == ":3");
    CHECK(c("LSET l 0 A") == "OK");
    CHECK(c("LSET l -1 C") == "OK");
    CHECK(c("LRANGE l 0 -1") == "[A, b, C]");
    CHECK(c("LSET l 3 x") == "-ERR index out of range");
    CHECK(c("LSET l -4 x") == "-ERR index out of range");
    CHECK(c("LSET nokey 0 x") == "-ERR no such key");
    CHECK(c("LSET nokey x x") == "-ERR no such key");  // the key before the index
    CHECK(c("LSET l x v") == kNotInteger);
    CHECK(c("LINSERT l BEFORE b x") == ":4");
    CHECK(c("LINSERT l after b y") == ":5");
    CHECK(c("LINSERT l AFTER C z") == ":6");
    CHECK(c("LINSERT l BEFORE A w") == ":7");
    CHECK(c("LRANGE l 0 -1") == "[w, A, x, b, y, C, z]");
    CHECK(c("LINSERT l BEFORE nothere v") == ":-1");
    CHECK(c("LINSERT nokey BEFORE a v") == ":0");
    CHECK(c("EXISTS nokey") == ":0");
    CHECK(c("RPUSH dup p p") == ":2");
    CHECK(c("LINSERT dup AFTER p q") == ":3");  // the first match is the pivot
    CHECK(c("LRANGE dup 0 -1") == "[p, q, p]");
    // Errors.
    CHECK(c("LINSERT l MIDDLE b v") == kSyntax);
    CHECK(c("LINSERT nokey MIDDLE b v") == kSyntax);  // checked before the key
    CHECK(c("SET s v") == "OK");
    CHECK(c("LSET s 0 v") == kWrongType);
    CHECK(c("LINSERT s BEFORE a v") == kWrongType);
    CHECK(c("LSET l 0") == Arity("lset"));
    CHECK(c("LINSERT l BEFORE b") == Arity("linsert"));
  });
}

TEST_CASE("lists: LREM and LTRIM") {
  WithServer([](Client& c) {
    CHECK(c("RPUSH l a x b x c x d") == ":7");
    CHECK(c("LREM l 1 x") == ":1");
    CHECK(c("LRANGE l 0 -1") == "[a, b, x, c, x, d]");
    CHECK(c("LREM l -1 x") == ":1");
    CHECK(c("LRANGE l 0 -1") == "[a, b, x, c, d]");
    CHECK(c("RPUSH l x x") == ":7");
    CHECK(c("LREM l 0 x") == ":3");
    CHECK(c("LRANGE l 0 -1") == "[a, b, c, d]");
    CHECK(c("LREM l 0 nothere") == ":0");
    CHECK(c("LREM nokey 0 x") == ":0");
    CHECK(c("RPUSH same v v v") == ":3");
    CHECK(c("LREM same -9223372036854775808 v") == ":3");  // |count| without overflow
    CHECK(c("EXISTS same") == ":0");
    CHECK(c("LREM l x a") == kNotInteger);
    CHECK(c("LREM nokey x a") == kNotInteger);  // parsed before the key
    // LTRIM
    CHECK(c("RPUSH t 0 1 2 3 4 5 6 7 8 9") == ":10");
    CHECK(c("LTRIM t 1 -2") == "OK");
    CHECK(c("LRANGE t 0 -1") == "[1, 2, 3, 4, 5, 6, 7, 8]");
    CHECK(c("LTRIM t -3 100") == "OK");
    CHECK(c("LRANGE t 0 -1") == "[6, 7, 8]");
    CHECK(c("LTRIM t 0 -1") == "OK");
    CHECK(c("LRANGE t 0 -1") == "[6, 7, 8]");
    CHECK(c("LTRIM t -100 0") == "OK");
    CHECK(c("LRANGE t 0 -1") == "[6]");
    CHECK(c("LTRIM t 1 0") == "OK");  // start after stop: empty, the key goes
    CHECK(c("EXISTS t") == ":0");
    CHECK(c("RPUSH t a b") == ":2");
    CHECK(c("LTRIM t 5 10") == "OK");  // start past the end
    CHECK(c("EXISTS t") == ":0");
    CHECK(c("LTRIM nokey 0 1") == "OK");
    CHECK(c("LTRIM t x 1") == kNotInteger);
    CHECK(c("LTRIM t 0 y") == kNotInteger);
    CHECK(c("SET s v") == "OK");
    CHECK(c("LREM s 0 v") == kWrongType);
    CHECK(c("LTRIM s 0 1") == kWrongType);
    CHECK(c("LREM l 0") == Arity("lrem"));
    CHECK(c("LTRIM l 0") == Arity("ltrim"));
  });
}

TEST_CASE("lists: LPOS with RANK COUNT MAXLEN") {
  WithServer([](Client& c) {
    CHECK(c("RPUSH l a b c 1 2 3 c c") == ":8");
    CHECK(c("LPOS l c") == ":2");
    CHECK(c("LPOS l nothere") == "(nil)");
    CHECK(c("LPOS l c RANK 2") == ":6");
    CHECK(c("LPOS l c RANK -1") == ":7");
    CHECK(c("LPOS l c RANK -3") == ":2");
    CHECK(c("LPOS l c RANK 4") == "(nil)");
    CHECK(c("LPOS l c COUNT 0") == "[:2, :6, :7]");
    CHECK(c("LPOS l c COUNT 2") == "[:2, :6]");
    CHECK(c("LPOS l c COUNT 2 RANK -1") == "[:7, :6]");
    CHECK(c("LPOS l c RANK 2 COUNT 0") == "[:6, :7]");
    CHECK(c("LPOS l nothere COUNT 1") == "[]");
    CHECK(c("LPOS l c MAXLEN 2") == "(nil)");
    CHECK(c("LPOS l c MAXLEN 3") == ":2");
    CHECK(c("LPOS l c COUNT 0 MAXLEN 7") == "[:2, :6]");
    CHECK(c("LPOS l c RANK -1 MAXLEN 1 COUNT 0") == "[:7]");
    CHECK(c("LPOS nokey c") == "(nil)");
    CHECK(c("LPOS nokey c COUNT 0") == "[]");
    CHECK(c("LPOS l c rank 1 count 1 maxlen 0") == "[:2]");
    // Errors, in Redis's parse order.
    CHECK(c("LPOS l c RANK 0") ==
          "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
          "or use negative to start from the end of the list");
    CHECK(c("LPOS l c RANK -9223372036854775808") ==
          "-ERR value is out of range, value must between -9223372036854775807 and "
          "9223372036854775807");
    CHECK(c("LPOS l c RANK x") == kNotInteger);
    CHECK(c("LPOS l c COUNT -1") == "-ERR COUNT can't be negative");
    CHECK(c("LPOS l c COUNT x") == "-ERR COUNT can't be negative");
    CHECK(c("LPOS l c MAXLEN -1") == "-ERR MAXLEN can't be negative");
    CHECK(c("LPOS l c RANK") == kSyntax);
    CHECK(c("LPOS l c FOO 1") == kSyntax);
    CHECK(c("LPOS nokey c COUNT -1") == "-ERR COUNT can't be negative");
    CHECK(c("SET s v") == "OK");
    CHECK(c("LPOS s v") == kWrongType);
    CHECK(c("LPOS l") == Arity("lpos"));
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c.RunRaw({"LPOS", "l", "zz"}) == "_\r\n");
    CHECK(c.RunRaw({"LPOS", "l", "zz", "COUNT", "0"}) == "*0\r\n");
  });
}

TEST_CASE("lists: LMOVE and RPOPLPUSH across shards and on one list") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("mv", 3);
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        CHECK(run({"RPUSH", k[0], "a", "b", "c"}) == ":3");
        CHECK(run({"LMOVE", k[0], k[1], "LEFT", "RIGHT"}) == "a");
        CHECK(run({"LMOVE", k[0], k[1], "right", "left"}) == "c");
        CHECK(run({"LRANGE", k[1], "0", "-1"}) == "[c, a]");
        CHECK(run({"LMOVE", k[1], k[0], "LEFT", "LEFT"}) == "c");
        CHECK(run({"LRANGE", k[0], "0", "-1"}) == "[c, b]");
        CHECK(run({"RPOPLPUSH", k[0], k[2]}) == "b");
        CHECK(run({"RPOPLPUSH", k[0], k[2]}) == "c");  // empties the source: the key goes
        CHECK(run({"EXISTS", k[0]}) == ":0");
        CHECK(run({"LRANGE", k[2], "0", "-1"}) == "[c, b]");
        CHECK(run({"RPOPLPUSH", k[0], k[2]}) == "(nil)");
        CHECK(run({"LMOVE", k[0], k[2], "LEFT", "LEFT"}) == "(nil)");
        // One list: rotation, and a single element stays.
        CHECK(c("RPUSH r 1 2 3") == ":3");
        CHECK(c("RPOPLPUSH r r") == "3");
        CHECK(c("LRANGE r 0 -1") == "[3, 1, 2]");
        CHECK(c("LMOVE r r LEFT RIGHT") == "3");
        CHECK(c("LRANGE r 0 -1") == "[1, 2, 3]");
        CHECK(c("LMOVE r r LEFT LEFT") == "1");
        CHECK(c("LRANGE r 0 -1") == "[1, 2, 3]");
        CHECK(c("RPUSH single x") == ":1");
        CHECK(c("LMOVE single single RIGHT LEFT") == "x");
        CHECK(c("LRANGE single 0 -1") == "[x]");
        // Errors: the source's type first; the destination's only when there is an element, and
        // then nothing moves.
        CHECK(run({"SET", k[0], "v"}) == "OK");
        CHECK(run({"LMOVE", k[0], k[1], "LEFT", "LEFT"}) == kWrongType);
        CHECK(run({"RPOPLPUSH", k[1], k[0]}) == kWrongType);
        CHECK(run({"LRANGE", k[1], "0", "-1"}) == "[a]");
        CHECK(run({"RPOPLPUSH", "nokey", k[0]}) == "(nil)");
        CHECK(run({"LMOVE", k[1], k[2], "UP", "LEFT"}) == kSyntax);
        CHECK(run({"LMOVE", k[1], k[2], "LEFT", "DOWN"}) == kSyntax);
        CHECK(run({"LMOVE", k[1], k[2], "LEFT"}) == Arity("lmove"));
        CHECK(run({"RPOPLPUSH", k[1]}) == Arity("rpoplpush"));
        CHECK(c("HELLO 3").starts_with("{"));
        CHECK(c.RunRaw({"RPOPLPUSH", "nokey", "other"}) == "_\r\n");
        Drain(c);
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("lists: LMPOP across shards") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("mp", 3);
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        CHECK(run({"RPUSH", k[1], "a", "b", "c"}) == ":3");
        CHECK(run({"RPUSH", k[2], "x"}) == ":1");
        CHECK(run({"LMPOP", "3", k[0], k[1], k[2], "LEFT"}) == "[" + k[1] + ", [a]]");
        CHECK(run({"LMPOP", "3", k[0], k[1], k[2], "RIGHT", "COUNT", "5"}) ==
              "[" + k[1] + ", [c, b]]");
        CHECK(run({"EXISTS", k[1]}) == ":0");
        CHECK(run({"LMPOP", "2", k[1], k[2], "left", "count", "1"}) == "[" + k[2] + ", [x]]");
        CHECK(run({"LMPOP", "3", k[0], k[1], k[2], "LEFT"}) == "(nil)");
        CHECK(c.RunRaw({"LMPOP", "1", "nokey", "LEFT"}) == "*-1\r\n");
        // Errors.
        CHECK(c("LMPOP 0 a LEFT") == "-ERR numkeys should be greater than 0");
        CHECK(c("LMPOP -1 a LEFT") == "-ERR numkeys should be greater than 0");
        CHECK(c("LMPOP x a LEFT") == "-ERR numkeys should be greater than 0");
        CHECK(c("LMPOP 2 a LEFT") == kSyntax);  // the keys run into LEFT|RIGHT's place
        CHECK(c("LMPOP 5 a b LEFT") == kSyntax);
        CHECK(c("LMPOP 1 a MIDDLE") == kSyntax);
        CHECK(c("LMPOP 1 a LEFT COUNT 0") == "-ERR count should be greater than 0");
        CHECK(c("LMPOP 1 a LEFT COUNT x") == "-ERR count should be greater than 0");
        CHECK(c("LMPOP 1 a LEFT COUNT 1 COUNT 1") == kSyntax);
        CHECK(c("LMPOP 1 a LEFT COUNT") == kSyntax);
        CHECK(c("LMPOP 1 a LEFT FOO") == kSyntax);
        CHECK(c("LMPOP 1 a") == Arity("lmpop"));
        CHECK(run({"SET", k[0], "v"}) == "OK");
        CHECK(run({"RPUSH", k[1], "y"}) == ":1");
        CHECK(run({"LMPOP", "2", k[0], k[1], "LEFT"}) == kWrongType);  // the first key decides
        CHECK(run({"LMPOP", "2", k[1], k[0], "LEFT"}) == "[" + k[1] + ", [y]]");
        CHECK(c("HELLO 3").starts_with("{"));
        CHECK(c.RunRaw({"LMPOP", "1", "nokey", "RIGHT"}) == "_\r\n");
        CHECK(run({"RPUSH", k[1], "z"}) == ":1");
        CHECK(c.RunRaw({"LMPOP", "1", k[1], "RIGHT"}) ==
              "*2\r\n$" + std::to_string(k[1].size()) + "\r\n" + k[1] + "\r\n*1\r\n$1\r\nz\r\n");
        Drain(c);
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("lists: keyspace events as Redis names them") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("ev", 2);
        auto other = c.Connect(1);
        Client& s = *other;
        CHECK(s("PSUBSCRIBE __keyevent@0__:*") == "[psubscribe, __keyevent@0__:*, :1]");
        CHECK(c("CONFIG SET notify-keyspace-events EA") == "OK");
        using Seen = std::vector<std::string>;
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        CHECK(run({"LPUSH", k[0], "a"}) == ":1");
        CHECK(run({"RPUSH", k[0], "b", "c", "d"}) == ":4");
        CHECK(run({"LPUSHX", k[1], "a"}) == ":0");  // nothing pushed: no event
        CHECK(KeyEventsInOrder(s) == Seen{"lpush " + k[0], "rpush " + k[0]});
        CHECK(run({"LSET", k[0], "0", "A"}) == "OK");
        CHECK(run({"LINSERT", k[0], "AFTER", "A", "x"}) == ":5");
        CHECK(run({"LINSERT", k[0], "AFTER", "nothere", "x"}) == ":-1");
        CHECK(run({"LREM", k[0], "0", "x"}) == ":1");
        CHECK(run({"LREM", k[0], "0", "nothere"}) == ":0");
        CHECK(run({"LTRIM", k[0], "0", "-1"}) == "OK");  // Redis signals it even when nothing goes
        CHECK(KeyEventsInOrder(s) == Seen{"lset " + k[0], "linsert " + k[0], "lrem " + k[0],
                                       "ltrim " + k[0]});
        CHECK(run({"LPOP", k[0]}) == "A");
        CHECK(run({"RPOP", k[0], "2"}) == "[d, c]");
        CHECK(run({"LPOP", k[0], "0"}) == "[]");
        CHECK(run({"LPOP", k[0]}) == "b");  // the last one
        CHECK(KeyEventsInOrder(s) ==
              Seen{"lpop " + k[0], "rpop " + k[0], "lpop " + k[0], "del " + k[0]});
        // LMOVE: the push on the destination, then the pop (and del) on the source.
        CHECK(run({"RPUSH", k[0], "m"}) == ":1");
        (void)KeyEventsInOrder(s);
        CHECK(run({"LMOVE", k[0], k[1], "LEFT", "RIGHT"}) == "m");
        CHECK(KeyEvents(s) == Seen{"del " + k[0], "lpop " + k[0], "rpush " + k[1]});
        CHECK(run({"LMOVE", k[1], k[1], "RIGHT", "LEFT"}) == "m");  // one list: no del
        CHECK(KeyEventsInOrder(s) == Seen{"lpush " + k[1], "rpop " + k[1]});
        CHECK(run({"LMPOP", "2", k[0], k[1], "RIGHT"}) == "[" + k[1] + ", [m]]");
        CHECK(KeyEventsInOrder(s) == Seen{"rpop " + k[1], "del " + k[1]});
        CHECK(run({"RPUSH", k[0], "a", "b"}) == ":2");
        CHECK(run({"LTRIM", k[0], "5", "6"}) == "OK");
        CHECK(run({"RPUSH", k[0], "v"}) == ":1");
        CHECK(run({"LREM", k[0], "1", "v"}) == ":1");
        CHECK(KeyEventsInOrder(s) == Seen{"rpush " + k[0], "ltrim " + k[0], "del " + k[0],
                                       "rpush " + k[0], "lrem " + k[0], "del " + k[0]});
        Drain(c);
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("lists: WATCH sees list changes, not failed or empty ones") {
  WithServer([](Client& c) {
    auto other = c.Connect(1);
    CHECK(c("RPUSH l a") == ":1");
    CHECK(c("WATCH l") == "OK");
    CHECK((*other)("LPUSHX nokey v") == ":0");
    CHECK((*other)("LREM l 0 nothere") == ":0");
    CHECK(c("MULTI") == "OK");
    CHECK(c("LLEN l") == "QUEUED");
    CHECK(c("EXEC") == "[:1]");
    CHECK(c("WATCH l") == "OK");
    CHECK((*other)("RPOPLPUSH l l") == "a");
    CHECK(c("MULTI") == "OK");
    CHECK(c("LLEN l") == "QUEUED");
    CHECK(c("EXEC") == "(nil)");
  });
}

TEST_CASE("lists: blocking commands answer at once when a list has elements") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("bl", 3);
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        CHECK(run({"RPUSH", k[1], "a", "b", "c"}) == ":3");
        CHECK(run({"BLPOP", k[0], k[1], "0"}) == "[" + k[1] + ", a]");
        CHECK(run({"BRPOP", k[0], k[1], "1.5"}) == "[" + k[1] + ", c]");
        CHECK(run({"BLMOVE", k[1], k[2], "LEFT", "RIGHT", "0"}) == "b");
        CHECK(run({"EXISTS", k[1]}) == ":0");
        CHECK(run({"BRPOPLPUSH", k[2], k[0], "0"}) == "b");
        CHECK(run({"BLMPOP", "0", "2", k[1], k[0], "LEFT", "COUNT", "3"}) ==
              "[" + k[0] + ", [b]]");
        // Inside MULTI they never block: the timeout's null at once.
        CHECK(c("MULTI") == "OK");
        CHECK(run({"BLPOP", k[0], "0"}) == "QUEUED");
        CHECK(run({"BRPOPLPUSH", k[0], k[1], "0"}) == "QUEUED");
        CHECK(run({"BLMOVE", k[0], k[1], "LEFT", "LEFT", "0"}) == "QUEUED");
        CHECK(run({"BLMPOP", "0", "1", k[0], "LEFT"}) == "QUEUED");
        CHECK(c("EXEC") == "[(nil), (nil), (nil), (nil)]");
        // Errors.
        CHECK(c("BLPOP q -1") == "-ERR timeout is negative");
        CHECK(c("BRPOP q x") == "-ERR timeout is not a float or out of range");
        CHECK(c("BLMOVE a b UP LEFT x") == kSyntax);  // the ends before the timeout
        CHECK(c("BLMOVE a b LEFT LEFT x") == "-ERR timeout is not a float or out of range");
        CHECK(c("BRPOPLPUSH a b -1") == "-ERR timeout is negative");
        CHECK(c("BLMPOP 0 0 a LEFT") == "-ERR numkeys should be greater than 0");
        CHECK(c("BLMPOP 0 2 a LEFT") == kSyntax);
        CHECK(c("BLMPOP x 1 a LEFT COUNT 0") == "-ERR count should be greater than 0");
        CHECK(c("BLMPOP x 1 a LEFT") == "-ERR timeout is not a float or out of range");
        CHECK(c("BLPOP q") == Arity("blpop"));
        CHECK(c("BLMPOP 0 1 a") == Arity("blmpop"));
        CHECK(c("BLMOVE a b LEFT LEFT") == Arity("blmove"));
        CHECK(run({"SET", k[0], "v"}) == "OK");
        CHECK(run({"BLPOP", k[0], k[1], "0"}) == kWrongType);
        CHECK(run({"BLMOVE", k[0], k[1], "LEFT", "LEFT", "0"}) == kWrongType);
        CHECK(run({"BLMPOP", "0", "1", k[0], "LEFT"}) == kWrongType);
        Drain(c);
      },
      ServerOptions{.shards = kShards});
}

}  // namespace tierkv::server

namespace tierkv::server {
namespace {

// Lets started commands reach their parking place (simulated time).
void Settle(Client& c) { c.Idle(milliseconds(5)); }

}  // namespace

TEST_CASE("lists: blocking commands' timeouts in RESP2 and RESP3") {
  WithServer([](Client& c) {
    CHECK(c.RunRaw({"BLPOP", "q1", "q2", "0.01"}) == "*-1\r\n");
    CHECK(c.RunRaw({"BRPOP", "q1", "0.01"}) == "*-1\r\n");
    CHECK(c.RunRaw({"BLMPOP", "0.01", "2", "q1", "q2", "LEFT"}) == "*-1\r\n");
    CHECK(c.RunRaw({"BLMOVE", "q1", "d", "LEFT", "LEFT", "0.01"}) == "$-1\r\n");
    CHECK(c.RunRaw({"BRPOPLPUSH", "q1", "d", "0.01"}) == "$-1\r\n");
    CHECK(c("EXISTS d") == ":0");
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c.RunRaw({"BLPOP", "q1", "0.01"}) == "_\r\n");
    CHECK(c.RunRaw({"BLMPOP", "0.01", "1", "q1", "RIGHT"}) == "_\r\n");
    CHECK(c.RunRaw({"BLMOVE", "q1", "d", "LEFT", "LEFT", "0.01"}) == "_\r\n");
    CHECK(c.RunRaw({"BRPOPLPUSH", "q1", "d", "0.01"}) == "_\r\n");
  });
}

TEST_CASE("lists: BLMPOP, BRPOPLPUSH and BLMOVE parked and served across shards") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("wk", 3);
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        auto a = c.Connect(2);
        // BLMPOP with a COUNT gets up to COUNT elements of the list that was pushed.
        a->Start({"BLMPOP", "0", "2", k[0], k[1], "RIGHT", "COUNT", "5"});
        Settle(c);
        CHECK_FALSE(a->finished());
        CHECK(run({"RPUSH", k[1], "x", "y", "z"}) == ":3");
        CHECK(a->Wait() == "[" + k[1] + ", [z, y, x]]");
        CHECK(run({"EXISTS", k[1]}) == ":0");
        // BRPOPLPUSH: served by a push, moves to a list on a third shard.
        a->Start({"BRPOPLPUSH", k[0], k[2], "0"});
        Settle(c);
        CHECK_FALSE(a->finished());
        CHECK(run({"LPUSH", k[0], "job"}) == ":1");
        CHECK(a->Wait() == "job");
        CHECK(run({"EXISTS", k[0]}) == ":0");
        CHECK(run({"LRANGE", k[2], "0", "-1"}) == "[job]");
        // A list filled by another list command (LMOVE's push) wakes a waiter too.
        a->Start({"BLMOVE", k[1], k[0], "LEFT", "RIGHT", "0"});
        Settle(c);
        CHECK_FALSE(a->finished());
        CHECK(run({"LMOVE", k[2], k[1], "LEFT", "LEFT"}) == "job");
        CHECK(a->Wait() == "job");
        CHECK(run({"LRANGE", k[0], "0", "-1"}) == "[job]");
        CHECK(run({"EXISTS", k[1], k[2]}) == ":0");
        // The destination turned out the wrong type when served: WRONGTYPE, nothing moved.
        CHECK(run({"SET", k[2], "v"}) == "OK");
        a->Start({"BLMOVE", k[1], k[2], "LEFT", "RIGHT", "0"});
        Settle(c);
        CHECK_FALSE(a->finished());
        CHECK(run({"RPUSH", k[1], "w"}) == ":1");
        CHECK(a->Wait() == kWrongType);
        CHECK(run({"LRANGE", k[1], "0", "-1"}) == "[w]");
        CHECK(run({"GET", k[2]}) == "v");
        // A parked BLMPOP times out with its null.
        a->Start({"BLMPOP", "0.05", "1", k[0] + "none", "LEFT"});
        Settle(c);
        CHECK_FALSE(a->finished());
        CHECK(a->Wait() == "(nil)");
        Drain(c);
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("lists: a parked BLPOP is served once by a multi-element push, the rest stays") {
  WithServer([](Client& c) {
    auto a = c.Connect(1);
    a->Start({"BRPOP", "q", "0"});
    Settle(c);
    CHECK(c("RPUSH q a b c") == ":3");
    CHECK(a->Wait() == "[q, c]");
    CHECK(c("LRANGE q 0 -1") == "[a, b]");
    // A push onto a key of another type does not serve (WRONGTYPE for the pusher).
    CHECK(c("SET s v") == "OK");
    a->Start({"BLPOP", "empty", "0"});
    Settle(c);
    CHECK(c("LPUSH s x") == kWrongType);
    Settle(c);
    CHECK_FALSE(a->finished());
    CHECK(c("LPUSH empty e") == ":1");
    CHECK(a->Wait() == "[empty, e]");
  });
}

}  // namespace tierkv::server

namespace tierkv::server {

TEST_CASE("lists: COMMAND INFO rows and GETKEYS for the movable-key commands") {
  WithServer([](Client& c) {
    CHECK(c("COMMAND GETKEYS LMPOP 2 a b LEFT") == "[a, b]");
    CHECK(c("COMMAND GETKEYS BLMPOP 0 1 a RIGHT COUNT 2") == "[a]");
    CHECK(c("COMMAND GETKEYS BLPOP a b c 0") == "[a, b, c]");
    CHECK(c("COMMAND GETKEYS LMOVE a b LEFT RIGHT") == "[a, b]");
    CHECK(c("COMMAND INFO lpush").starts_with("[[lpush, :-3, [write, denyoom, fast], :1, :1, :1"));
    CHECK(c("COMMAND INFO blpop").starts_with("[[blpop, :-3, [write, noscript, blocking], :1, :-2, :1"));
    CHECK(c("COMMAND INFO lrange").starts_with("[[lrange, :4, [readonly], :1, :1, :1"));
  });
}

}  // namespace tierkv::server

namespace tierkv::server {

// Redis's list.tcl scenarios where one served command's push serves another waiter.
TEST_CASE("lists: chained, circular and self-referential blocking moves") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("ch", 3);
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        auto a = c.Connect(1);
        auto b = c.Connect(2);
        // Linked: a moves k0 -> k1, b moves k1 -> k2.
        a->Start({"BLMOVE", k[0], k[1], "RIGHT", "LEFT", "0"});
        b->Start({"BLMOVE", k[1], k[2], "RIGHT", "LEFT", "0"});
        Settle(c);
        CHECK(run({"RPUSH", k[0], "foo"}) == ":1");
        CHECK(a->Wait() == "foo");
        CHECK(b->Wait() == "foo");
        CHECK(run({"LRANGE", k[2], "0", "-1"}) == "[foo]");
        CHECK(run({"EXISTS", k[0], k[1]}) == ":0");
        // Circular: a moves k0 -> k1, b moves k1 -> k0; the element ends where it started.
        a->Start({"BRPOPLPUSH", k[0], k[1], "0"});
        b->Start({"BRPOPLPUSH", k[1], k[0], "0"});
        Settle(c);
        CHECK(run({"RPUSH", k[0], "bar"}) == ":1");
        CHECK(a->Wait() == "bar");
        CHECK(b->Wait() == "bar");
        CHECK(run({"LRANGE", k[0], "0", "-1"}) == "[bar]");
        CHECK(run({"EXISTS", k[1]}) == ":0");
        // Self-referential.
        a->Start({"BRPOPLPUSH", k[1], k[1], "0"});
        Settle(c);
        CHECK(run({"RPUSH", k[1], "x"}) == ":1");
        CHECK(a->Wait() == "x");
        CHECK(run({"LRANGE", k[1], "0", "-1"}) == "[x]");
        // A BLPOP waiting on the destination of a blocked BLMOVE is served by the move.
        CHECK(run({"DEL", k[0], k[1], k[2]}) == ":3");
        a->Start({"BLMOVE", k[0], k[1], "LEFT", "RIGHT", "0"});
        Settle(c);
        b->Start({"BLPOP", k[1], "0"});
        Settle(c);
        CHECK(run({"RPUSH", k[0], "y"}) == ":1");
        CHECK(a->Wait() == "y");
        CHECK(b->Wait() == "[" + k[1] + ", y]");
        CHECK(run({"EXISTS", k[0], k[1]}) == ":0");
        // The same key twice (Redis issue #801).
        a->Start({"BLPOP", k[2], k[0], k[0], k[2], "0"});
        Settle(c);
        CHECK(run({"RPUSH", k[0], "z"}) == ":1");
        CHECK(a->Wait() == "[" + k[0] + ", z]");
        CHECK(run({"LMPOP", "2", k[0], k[0], "LEFT"}) == "(nil)");
        Drain(c);
      },
      ServerOptions{.shards = kShards});
}

}  // namespace tierkv::server

namespace tierkv::server {

TEST_CASE("lists: an expired list reads as absent and a push starts a fresh one") {
  WithServer([](Client& c) {
    CHECK(c("RPUSH l a b c") == ":3");
    CHECK(c("PEXPIRE l 100") == ":1");
    CHECK(c("LPOP l") == "a");
    CHECK(c("PTTL l").starts_with(":"));
    CHECK(c("PTTL l") != ":-1");  // a pop keeps the expiry
    CHECK(c("DEBUG SLEEP 0.2") == "OK");  // virtual time
    CHECK(c("LLEN l") == ":0");
    CHECK(c("LRANGE l 0 -1") == "[]");
    CHECK(c("LINDEX l 0") == "(nil)");
    CHECK(c("RPUSHX l x") == ":0");
    CHECK(c("LSET l 0 x") == "-ERR no such key");
    CHECK(c("RPOPLPUSH l d") == "(nil)");
    CHECK(c("BLPOP l 0.01") == "(nil)");
    CHECK(c("LPUSH l z") == ":1");
    CHECK(c("LRANGE l 0 -1") == "[z]");
    CHECK(c("TTL l") == ":-1");
  });
}

}  // namespace tierkv::server
