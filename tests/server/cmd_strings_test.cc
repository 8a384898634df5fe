// String commands through the command harness (tests/server/command_harness.h), against the
// replies and errors of redis-server 7.0 (its tests/unit/type/string.tcl and the redis.io
// examples); bitmap commands are in cmd_bits_test.cc.
// Expiry is checked on the store itself (the TTL commands belong to the keys family), in the
// simulator's virtual time.
#include <doctest/doctest.h>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "tests/server/string_test_helpers.h"

namespace tierkv::server {
namespace {

using namespace std::string_literals;
using namespace string_tests;
using testing::Client;
}  // namespace

TEST_CASE("strings: SET and GET") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("GET k") == "(nil)");
    CHECK(c("SET k v") == "OK");
    CHECK(c("GET k") == "v");
    CHECK(c.Run({"SET", "k", "a b\r\n\0c"s}) == "OK");
    CHECK(c.Run({"GET", "k"}) == "a b\r\n\0c"s);
    CHECK(c.Run({"SET", "empty", ""}) == "OK");
    CHECK(c.Run({"GET", "empty"}) == "");
    CHECK(c.RunRaw({"GET", "nothing"}) == "$-1\r\n");
    CHECK(c("set K2 v2") == "OK");
    CHECK(c("GET K2") == "v2");
    CHECK(c("GET k2") == "(nil)");  // keys are case-sensitive
    // SET replaces another type.
    node.MakeHash("h");
    CHECK(c("GET h") == kWrongType);
    CHECK(c("SET h s") == "OK");
    CHECK(c("GET h") == "s");
    CHECK(c("GET") == Arity("get"));
    CHECK(c("GET a b") == Arity("get"));
    CHECK(c("SET k") == Arity("set"));
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c.RunRaw({"GET", "nothing"}) == "_\r\n");
    CHECK(c("GET k2") == "(nil)");
  });
}

TEST_CASE("strings: SET NX XX GET") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("SET k v NX") == "OK");
    CHECK(c("SET k w NX") == "(nil)");
    CHECK(c("GET k") == "v");
    CHECK(c("SET k w xx") == "OK");
    CHECK(c("GET k") == "w");
    CHECK(c("SET missing v XX") == "(nil)");
    CHECK(c("GET missing") == "(nil)");
    // GET answers the old value, or nil.
    CHECK(c("SET g 1 GET") == "(nil)");
    CHECK(c("SET g 2 GET") == "1");
    CHECK(c("GET g") == "2");
    // NX/XX with GET: the old value whether or not the set happened.
    CHECK(c("SET g 3 NX GET") == "2");
    CHECK(c("GET g") == "2");
    CHECK(c("SET g 3 GET XX") == "2");
    CHECK(c("GET g") == "3");
    CHECK(c("SET g2 3 XX GET") == "(nil)");
    CHECK(c("GET g2") == "(nil)");
    CHECK(c("SET g2 3 NX GET") == "(nil)");
    CHECK(c("GET g2") == "3");
    // GET against another type: WRONGTYPE and nothing set; without GET the type is replaced.
    node.MakeHash("h");
    CHECK(c("SET h v GET") == kWrongType);
    CHECK(c("GET h") == kWrongType);
    CHECK(c("SET h v NX") == "(nil)");
    CHECK(c("SET h v XX") == "OK");
    CHECK(c("GET h") == "v");
    // Repeated options are accepted; conflicting ones are not.
    CHECK(c("SET k v NX NX") == "(nil)");
    CHECK(c("SET k v GET GET") == "w");
    CHECK(c("SET k v NX XX") == kSyntax);
    CHECK(c("SET k v XX NX") == kSyntax);
    CHECK(c("SET k v FOO") == kSyntax);
    CHECK(c("SET k v NX FOO") == kSyntax);
    CHECK(c("SET k v PERSIST") == kSyntax);
    CHECK(c("SET k v nxx") == kSyntax);
    CHECK(c("GET k") == "v");
  });
}

TEST_CASE("strings: SET expiry options") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("SET k v EX 100") == "OK");
    CHECK(node.TtlMs("k") > 99'000);
    CHECK(node.TtlMs("k") <= 100'000);
    CHECK(c("SET k v PX 5000") == "OK");
    CHECK(node.TtlMs("k") > 4'000);
    CHECK(node.TtlMs("k") <= 5'000);
    const int64_t at_s = node.NowMs() / 1000 + 200;
    CHECK(c.Run({"SET", "k", "v", "EXAT", std::to_string(at_s)}) == "OK");
    CHECK(node.TtlMs("k") > 190'000);
    CHECK(node.TtlMs("k") <= 200'000);
    const int64_t at_ms = node.NowMs() + 300'000;
    CHECK(c.Run({"SET", "k", "v", "pxat", std::to_string(at_ms)}) == "OK");
    CHECK(node.TtlMs("k") > 299'000);
    CHECK(node.TtlMs("k") <= 300'000);
    // KEEPTTL keeps it; a plain SET clears it.
    CHECK(c("SET k w KEEPTTL") == "OK");
    CHECK(c("GET k") == "w");
    CHECK(node.TtlMs("k") > 299'000);
    CHECK(c("SET k x") == "OK");
    CHECK(node.TtlMs("k") == kNoExpiry);
    CHECK(c("SET fresh v KEEPTTL") == "OK");
    CHECK(node.TtlMs("fresh") == kNoExpiry);
    // The key really expires.
    CHECK(c("SET short v PX 50") == "OK");
    node.Sleep(std::chrono::milliseconds(100));
    CHECK(c("GET short") == "(nil)");
    CHECK(node.TtlMs("short") == kNoKey);
    // A timestamp in the past: OK, and the key is gone (also with GET).
    CHECK(c("SET k v EXAT 1") == "OK");
    CHECK(c("GET k") == "(nil)");
    CHECK(c("SET k v") == "OK");
    CHECK(c("SET k v2 PXAT 1 GET") == "v");
    CHECK(c("GET k") == "(nil)");
    CHECK(node.TtlMs("k") == kNoKey);
    // Errors.
    const std::string invalid = "-ERR invalid expire time in 'set' command";
    CHECK(c("SET k v EX 0") == invalid);
    CHECK(c("SET k v EX -1") == invalid);
    CHECK(c("SET k v PX 0") == invalid);
    CHECK(c("SET k v EXAT 0") == invalid);
    CHECK(c("SET k v EX 9223372036854775807") == invalid);
    CHECK(c("SET k v PX 9223372036854775807") == invalid);  // overflows once now is added
    CHECK(c("SET k v EX 1.5") == kNotInteger);
    CHECK(c("SET k v EX abc") == kNotInteger);
    CHECK(c("SET k v EX") == kSyntax);
    CHECK(c("SET k v EX 10 PX 100") == kSyntax);
    CHECK(c("SET k v PX 10 EXAT 100") == kSyntax);
    CHECK(c("SET k v EX 10 KEEPTTL") == kSyntax);
    CHECK(c("SET k v KEEPTTL PXAT 100") == kSyntax);
    CHECK(c("GET k") == "(nil)");             // nothing was set by a failed SET
    CHECK(c("SET k v EX 10 EX 20") == "OK");  // the last one wins
    CHECK(node.TtlMs("k") > 19'000);
  });
}

TEST_CASE("strings: SETNX SETEX PSETEX") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("SETNX k v") == ":1");
    CHECK(c("SETNX k w") == ":0");
    CHECK(c("GET k") == "v");
    node.MakeHash("h");
    CHECK(c("SETNX h v") == ":0");
    CHECK(c("SETNX k") == Arity("setnx"));
    CHECK(c("SETEX k 10 w") == "OK");
    CHECK(c("GET k") == "w");
    CHECK(node.TtlMs("k") > 9'000);
    CHECK(node.TtlMs("k") <= 10'000);
    CHECK(c("PSETEX k 1500 x") == "OK");
    CHECK(c("GET k") == "x");
    CHECK(node.TtlMs("k") > 1'000);
    CHECK(node.TtlMs("k") <= 1'500);
    CHECK(c("SETEX k 0 v") == "-ERR invalid expire time in 'setex' command");
    CHECK(c("SETEX k -10 v") == "-ERR invalid expire time in 'setex' command");
    CHECK(c("PSETEX k 0 v") == "-ERR invalid expire time in 'psetex' command");
    CHECK(c("SETEX k ten v") == kNotInteger);
    CHECK(c("SETEX k 10") == Arity("setex"));
    CHECK(c("GET k") == "x");
    CHECK(c("SETEX h 10 v") == "OK");  // replaces another type, like SET
    CHECK(c("GET h") == "v");
  });
}

TEST_CASE("strings: GETEX") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("GETEX missing") == "(nil)");
    CHECK(c("GETEX missing EX -1") == "(nil)");  // nil before the expiry is checked
    CHECK(c("SET k v EX 100") == "OK");
    CHECK(c("GETEX k") == "v");
    CHECK(node.TtlMs("k") > 99'000);
    CHECK(c("GETEX k PERSIST") == "v");
    CHECK(node.TtlMs("k") == kNoExpiry);
    CHECK(c("GETEX k EX 10") == "v");
    CHECK(node.TtlMs("k") > 9'000);
    CHECK(node.TtlMs("k") <= 10'000);
    CHECK(c("GETEX k px 20000") == "v");
    CHECK(node.TtlMs("k") > 19'000);
    CHECK(c.Run({"GETEX", "k", "EXAT", std::to_string(node.NowMs() / 1000 + 50)}) == "v");
    CHECK(node.TtlMs("k") > 40'000);
    CHECK(c.Run({"GETEX", "k", "PXAT", std::to_string(node.NowMs() + 60'000)}) == "v");
    CHECK(node.TtlMs("k") > 59'000);
    // A past timestamp deletes the key after answering its value.
    CHECK(c("GETEX k PXAT 1") == "v");
    CHECK(c("GET k") == "(nil)");
    CHECK(node.TtlMs("k") == kNoKey);
    // Errors.
    CHECK(c("SET k v") == "OK");
    CHECK(c("GETEX k EX 0") == "-ERR invalid expire time in 'getex' command");
    CHECK(c("GETEX k EX x") == kNotInteger);
    CHECK(c("GETEX k EX") == kSyntax);
    CHECK(c("GETEX k PERSIST EX 10") == kSyntax);
    CHECK(c("GETEX k EX 10 PX 10") == kSyntax);
    CHECK(c("GETEX k KEEPTTL") == kSyntax);
    CHECK(c("GETEX k NX") == kSyntax);
    CHECK(c("GETEX k GET") == kSyntax);
    CHECK(node.TtlMs("k") == kNoExpiry);
    node.MakeHash("h");
    CHECK(c("GETEX h") == kWrongType);
    CHECK(c("GETEX h EX 0") == kWrongType);  // the type is checked before the expiry
    CHECK(c("GETEX") == Arity("getex"));
  });
}

TEST_CASE("strings: GETDEL and GETSET") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("GETDEL k") == "(nil)");
    CHECK(c("SET k v") == "OK");
    CHECK(c("GETDEL k") == "v");
    CHECK(c("GET k") == "(nil)");
    CHECK(c("GETDEL k") == "(nil)");
    node.MakeHash("h");
    CHECK(c("GETDEL h") == kWrongType);
    CHECK(c("GETDEL") == Arity("getdel"));
    CHECK(c("GETSET k a") == "(nil)");
    CHECK(c("GET k") == "a");
    CHECK(c("SET k b EX 100") == "OK");
    CHECK(c("GETSET k c") == "b");
    CHECK(c("GET k") == "c");
    CHECK(node.TtlMs("k") == kNoExpiry);  // GETSET clears the expiry, like SET
    CHECK(c("GETSET h x") == kWrongType);
    CHECK(c("GETSET k") == Arity("getset"));
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c.RunRaw({"GETSET", "new", "v"}) == "_\r\n");
    CHECK(c.RunRaw({"GETDEL", "gone"}) == "_\r\n");
  });
}

TEST_CASE("strings: MGET MSET MSETNX across shards") {
  WithNode(
      [](Client& c, Node&) {
        CHECK(c("MSET a 1 b 2 c 3 d 4 e 5 f 6") == "OK");
        CHECK(c("MGET a b c d e f") == "[1, 2, 3, 4, 5, 6]");
        CHECK(c("MGET f missing a a") == "[6, (nil), 1, 1]");
        CHECK(c("MSET a x a y") == "OK");  // the last value wins
        CHECK(c("GET a") == "y");
        CHECK(c("MSET a 1 b") == Arity("mset"));
        CHECK(c("MSET a") == Arity("mset"));
        CHECK(c("MGET") == Arity("mget"));
        CHECK(c("SET s v EX 100") == "OK");
        CHECK(c("MSET s w") == "OK");
        // MSETNX: all or nothing, whatever shards the keys are on.
        CHECK(c("MSETNX n1 1 n2 2 n3 3 n4 4") == ":1");
        CHECK(c("MGET n1 n2 n3 n4") == "[1, 2, 3, 4]");
        CHECK(c("MSETNX m1 1 m2 2 m3 3 n4 x") == ":0");
        CHECK(c("MGET m1 m2 m3 n4") == "[(nil), (nil), (nil), 4]");
        CHECK(c("MSETNX m1 1 m1 2") == ":1");
        CHECK(c("GET m1") == "2");
        CHECK(c("MSETNX m1 1 m2") == Arity("msetnx"));
        CHECK(c("HELLO 3").starts_with("{"));
        CHECK(c("MGET a zz") == "[y, (nil)]");
        CHECK(c.RunRaw({"MGET", "zz", "b"}) == "*2\r\n_\r\n$1\r\n2\r\n");
      },
      4);
}

TEST_CASE("strings: MGET answers nil for another type, MSETNX sees other types") {
  WithNode(
      [](Client& c, Node& node) {
        node.MakeHash("h");
        CHECK(c("SET s v") == "OK");
        CHECK(c("MGET s h x") == "[v, (nil), (nil)]");
        CHECK(c("MSETNX x 1 h 2") == ":0");
        CHECK(c("GET x") == "(nil)");
        CHECK(c("MSET h 3") == "OK");  // MSET replaces the hash
        CHECK(c("MGET h") == "[3]");
      },
      4);
}

TEST_CASE("strings: APPEND and STRLEN") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("STRLEN k") == ":0");
    CHECK(c("APPEND k hello") == ":5");
    CHECK(c.Run({"APPEND", "k", " world\0"s}) == ":12");
    CHECK(c.Run({"GET", "k"}) == "hello world\0"s);
    CHECK(c("STRLEN k") == ":12");
    CHECK(c("APPEND k ") == ":12");  // an empty suffix
    CHECK(c("APPEND e ") == ":0");   // creates an empty string
    CHECK(c("EXISTS e") == ":1");
    // APPEND keeps the expiry.
    CHECK(c("SET t a EX 100") == "OK");
    CHECK(c("APPEND t b") == ":2");
    CHECK(node.TtlMs("t") > 99'000);
    node.MakeHash("h");
    CHECK(c("APPEND h x") == kWrongType);
    CHECK(c("STRLEN h") == kWrongType);
    CHECK(c("APPEND k") == Arity("append"));
    CHECK(c("STRLEN") == Arity("strlen"));
    CHECK(c("SET n 12345") == "OK");
    CHECK(c("STRLEN n") == ":5");
  });
}

TEST_CASE("strings: GETRANGE and SUBSTR") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("GETRANGE missing 0 -1") == "");
    CHECK(c.RunRaw({"GETRANGE", "missing", "0", "-1"}) == "$0\r\n\r\n");
    CHECK(c.Run({"SET", "k", "Hello World"}) == "OK");
    CHECK(c("GETRANGE k 0 3") == "Hell");
    CHECK(c("GETRANGE k 0 -1") == "Hello World");
    CHECK(c("GETRANGE k -4 -1") == "orld");
    CHECK(c("GETRANGE k 5 3") == "");
    CHECK(c("GETRANGE k 5 5000") == " World");
    CHECK(c("GETRANGE k -5000 10000") == "Hello World");
    CHECK(c("GETRANGE k -1 -5") == "");
    CHECK(c("GETRANGE k 20 30") == "");
    CHECK(c("GETRANGE k -20 -12") == "H");  // both clamp to 0
    CHECK(c("SUBSTR k 6 -1") == "World");
    CHECK(c("SET e ") == "OK");
    CHECK(c("GETRANGE e 0 -1") == "");
    CHECK(c("GETRANGE k a 1") == kNotInteger);
    CHECK(c("GETRANGE k 0 1.5") == kNotInteger);
    CHECK(c("GETRANGE missing x 1") == kNotInteger);  // arguments first, then the key
    node.MakeHash("h");
    CHECK(c("GETRANGE h 0 1") == kWrongType);
    CHECK(c("GETRANGE k 0") == Arity("getrange"));
    CHECK(c("SUBSTR k 0") == Arity("substr"));
  });
}

TEST_CASE("strings: SETRANGE") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("SETRANGE k 0 foo") == ":3");
    CHECK(c("GET k") == "foo");
    CHECK(c("SETRANGE e 0 ") == ":0");  // nothing to set: no key
    CHECK(c("EXISTS e") == ":0");
    CHECK(c("SETRANGE e 1 foo") == ":4");
    CHECK(c.Run({"GET", "e"}) == "\0foo"s);
    CHECK(c("SETRANGE k 0 b") == ":3");
    CHECK(c("GET k") == "boo");
    CHECK(c("SETRANGE k 0 ") == ":3");
    CHECK(c("SETRANGE k 1 a") == ":3");
    CHECK(c("GET k") == "bao");
    CHECK(c("SETRANGE k 4 bar") == ":7");
    CHECK(c.Run({"GET", "k"}) == "bao\0bar"s);
    CHECK(c("SETRANGE k 2 XYZW") == ":7");
    CHECK(c.Run({"GET", "k"}) == "baXYZWr"s);
    // Keeps the expiry.
    CHECK(c("SET t abc PX 100000") == "OK");
    CHECK(c("SETRANGE t 1 Z") == ":3");
    CHECK(node.TtlMs("t") > 99'000);
    // Errors.
    CHECK(c("SETRANGE k -1 bar") == "-ERR offset is out of range");
    CHECK(c("SETRANGE k x bar") == kNotInteger);
    CHECK(c("SETRANGE k 536870911 bar") ==
          "-ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    CHECK(c("SETRANGE new 536870911 ab") ==
          "-ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    CHECK(c("SETRANGE new 9223372036854775807 ab") ==
          "-ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    CHECK(c("EXISTS new") == ":0");
    CHECK(c("SETRANGE k 536870911 ") == ":7");  // nothing to set: no size check
    node.MakeHash("h");
    CHECK(c("SETRANGE h 0 x") == kWrongType);
    CHECK(c("SETRANGE h 0 ") == kWrongType);
    CHECK(c("SETRANGE k 0") == Arity("setrange"));
  });
}

TEST_CASE("strings: INCR DECR INCRBY DECRBY") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("INCR n") == ":1");
    CHECK(c("INCR n") == ":2");
    CHECK(c("DECR n") == ":1");
    CHECK(c("DECR m") == ":-1");
    CHECK(c("INCRBY n 10") == ":11");
    CHECK(c("INCRBY n -20") == ":-9");
    CHECK(c("DECRBY n 1") == ":-10");
    CHECK(c("DECRBY n -10") == ":0");
    CHECK(c("GET n") == "0");
    CHECK(c("SET big 17179869184") == "OK");
    CHECK(c("INCR big") == ":17179869185");
    CHECK(c("INCRBY big 17179869184") == ":34359738369");
    CHECK(c("DECRBY big 34359738370") == ":-1");
    CHECK(c("GET big") == "-1");
    // Keeps the expiry.
    CHECK(c("SET t 5 EX 100") == "OK");
    CHECK(c("INCR t") == ":6");
    CHECK(node.TtlMs("t") > 99'000);
    // Overflow.
    CHECK(c("SET x 9223372036854775807") == "OK");
    CHECK(c("INCR x") == "-ERR increment or decrement would overflow");
    CHECK(c("INCRBY x 0") == ":9223372036854775807");
    CHECK(c("SET x -9223372036854775808") == "OK");
    CHECK(c("DECR x") == "-ERR increment or decrement would overflow");
    CHECK(c("INCRBY x -1") == "-ERR increment or decrement would overflow");
    CHECK(c("SET x 0") == "OK");
    CHECK(c("DECRBY x -9223372036854775808") == "-ERR decrement would overflow");
    CHECK(c("INCRBY x -9223372036854775808") == ":-9223372036854775808");
    // Values that are not Redis integers.
    for (const char* bad :
         {" 11", "11 ", "1.5", "abc", "", "+1", "01", "-0", "9223372036854775808"}) {
      CHECK(c.Run({"SET", "bad", bad}) == "OK");
      CHECK(c("INCR bad") == kNotInteger);
    }
    CHECK(c("INCRBY n abc") == kNotInteger);
    CHECK(c("INCRBY n 1.0") == kNotInteger);
    CHECK(c("INCRBY n 9223372036854775808") == kNotInteger);
    CHECK(c("DECRBY n x") == kNotInteger);
    node.MakeHash("h");
    CHECK(c("INCR h") == kWrongType);
    CHECK(c("INCRBY h x") == kNotInteger);  // the increment is parsed first
    CHECK(c("DECRBY h 1") == kWrongType);
    CHECK(c("INCR") == Arity("incr"));
    CHECK(c("INCRBY n") == Arity("incrby"));
    CHECK(c("DECR a b") == Arity("decr"));
  });
}

TEST_CASE("strings: INCRBYFLOAT") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("INCRBYFLOAT f 1") == "1");
    CHECK(c("INCRBYFLOAT f 0.25") == "1.25");
    CHECK(c("SET f 10.50") == "OK");
    CHECK(c("INCRBYFLOAT f 0.1") == "10.6");
    CHECK(c("INCRBYFLOAT f -5") == "5.6");
    CHECK(c("GET f") == "5.6");
    CHECK(c("SET f 5.0e3") == "OK");
    CHECK(c("INCRBYFLOAT f 2.0e2") == "5200");
    CHECK(c("SET f 3.0") == "OK");
    CHECK(c("INCRBYFLOAT f 0") == "3");
    CHECK(c("SET f 0.5") == "OK");
    CHECK(c("INCRBYFLOAT f -0.5") == "0");
    CHECK(c("SET f 17179869184") == "OK");
    CHECK(c("INCRBYFLOAT f 1.5") == "17179869185.5");
    CHECK(c("INCRBYFLOAT f -17179869185.5") == "0");
    CHECK(c("INCRBYFLOAT f 1e-5") == "0.00001");
    // 1e20 + 1e-5 needs more digits than a long double has: Redis loses the fraction too.
    CHECK(c("INCRBYFLOAT f 1e20") == "100000000000000000000");
    // Keeps the expiry.
    CHECK(c("SET t 1 EX 100") == "OK");
    CHECK(c("INCRBYFLOAT t 1.5") == "2.5");
    CHECK(node.TtlMs("t") > 99'000);
    // Errors.
    CHECK(c("SET z 0") == "OK");
    CHECK(c("INCRBYFLOAT z +inf") == "-ERR increment would produce NaN or Infinity");
    CHECK(c("INCRBYFLOAT z nan") == "-ERR value is not a valid float");
    CHECK(c("INCRBYFLOAT z 1e5000") == "-ERR value is not a valid float");
    CHECK(c("INCRBYFLOAT z abc") == "-ERR value is not a valid float");
    CHECK(c("INCRBYFLOAT z 1x") == "-ERR value is not a valid float");
    CHECK(c.Run({"INCRBYFLOAT", "z", " 1"}) == "-ERR value is not a valid float");
    CHECK(c.Run({"INCRBYFLOAT", "z", ""}) == "-ERR value is not a valid float");
    CHECK(c("GET z") == "0");
    CHECK(c.Run({"SET", "bad", "1 "}) == "OK");
    CHECK(c("INCRBYFLOAT bad 1") == "-ERR value is not a valid float");
    CHECK(c.Run({"SET", "bad", "1.5.5"}) == "OK");
    CHECK(c("INCRBYFLOAT bad 1") == "-ERR value is not a valid float");
    node.MakeHash("h");
    CHECK(c("INCRBYFLOAT h 1") == kWrongType);
    CHECK(c("INCRBYFLOAT h x") == kWrongType);  // the type is checked first
    CHECK(c("INCRBYFLOAT f") == Arity("incrbyfloat"));
    // A bulk string in RESP3 too.
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c.RunRaw({"INCRBYFLOAT", "r", "1.5"}) == "$3\r\n1.5\r\n");
  });
}

TEST_CASE("strings: LCS") {
  WithNode(
      [](Client& c, Node&) {
        CHECK(c("MSET key1 ohmytext key2 mynewtext") == "OK");
        CHECK(c("LCS key1 key2") == "mytext");
        CHECK(c("LCS key1 key2 LEN") == ":6");
        CHECK(c("LCS key1 key2 IDX") ==
              "[matches, [[[:4, :7], [:5, :8]], [[:2, :3], [:0, :1]]], len, :6]");
        CHECK(c("LCS key1 key2 IDX MINMATCHLEN 4") == "[matches, [[[:4, :7], [:5, :8]]], len, :6]");
        CHECK(c("LCS key1 key2 IDX MINMATCHLEN -3 WITHMATCHLEN") ==
              "[matches, [[[:4, :7], [:5, :8], :4], [[:2, :3], [:0, :1], :2]], len, :6]");
        CHECK(c("LCS key1 missing") == "");
        CHECK(c("LCS missing key2 LEN") == ":0");
        CHECK(c("LCS missing missing2 IDX") == "[matches, [], len, :0]");
        CHECK(c("MSET a ABCBDAB b BDCABA") == "OK");
        CHECK(c("LCS a b LEN") == ":4");
        CHECK(c("LCS a a") == "ABCBDAB");
        CHECK(c("LCS a a IDX WITHMATCHLEN") == "[matches, [[[:0, :6], [:0, :6], :7]], len, :7]");
        // Errors.
        CHECK(c("LCS key1 key2 LEN IDX") ==
              "-ERR If you want both the length and indexes, please just use IDX.");
        CHECK(c("LCS key1 key2 FOO") == kSyntax);
        CHECK(c("LCS key1 key2 MINMATCHLEN") == kSyntax);
        CHECK(c("LCS key1 key2 MINMATCHLEN x") == kNotInteger);
        CHECK(c("LCS key1") == Arity("lcs"));
        CHECK(c("HELLO 3").starts_with("{"));
        CHECK(c("LCS key1 key2 IDX") ==
              "{matches: [[[:4, :7], [:5, :8]], [[:2, :3], [:0, :1]]], len: :6}");
      },
      4);
}

TEST_CASE("strings: LCS against another type") {
  WithNode(
      [](Client& c, Node& node) {
        node.MakeHash("h");
        CHECK(c("SET s abc") == "OK");
        CHECK(c("LCS s h") == "-ERR The specified keys must contain string values");
        CHECK(c("LCS h s FOO") == "-ERR The specified keys must contain string values");
      },
      4);
}

TEST_CASE("strings: writes invalidate WATCH, on every shard they touch") {
  WithNode(
      [](Client& c, Node&) {
        auto other = c.Connect(1);
        for (const std::vector<std::string>& write :
             std::vector<std::vector<std::string>>{{"SET", "w1", "5"},
                                                   {"INCR", "w1"},
                                                   {"APPEND", "w1", "x"},
                                                   {"SETRANGE", "w1", "0", "y"},
                                                   {"SETBIT", "w1", "0", "1"},
                                                   {"BITFIELD", "w1", "SET", "u8", "0", "1"},
                                                   {"GETDEL", "w1"},
                                                   {"MSET", "w0", "1", "w1", "2", "w2", "3"},
                                                   {"BITOP", "OR", "w1", "w0"},
                                                   {"INCRBYFLOAT", "w1", "1"},
                                                   {"GETEX", "w1", "EX", "100"}}) {
          CAPTURE(write[0]);
          CHECK(c("WATCH w1") == "OK");
          CHECK(other->Run(write).substr(0, 1) != "-");
          CHECK(c("MULTI") == "OK");
          CHECK(c("GET w1") == "QUEUED");
          CHECK(c("EXEC") == "(nil)");
        }
        // Writes that change nothing (a bit or a field set to its value) and reads keep the
        // WATCH, as in Redis 7.0.
        CHECK(other->Run({"SET", "w1", "\x80"}) == "OK");
        CHECK(c("WATCH w1") == "OK");
        CHECK(other->Run({"SETBIT", "w1", "0", "1"}) == ":1");
        CHECK(other->Run({"BITFIELD", "w1", "SET", "u8", "0", "128"}) == "[:128]");
        CHECK(other->Run({"BITFIELD", "w1", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "200"}) ==
              "[(nil)]");
        CHECK(other->Run({"GETBIT", "w1", "0"}) == ":1");
        CHECK(other->Run({"BITFIELD_RO", "w1", "GET", "u8", "0"}) == "[:128]");
        CHECK(c("MULTI") == "OK");
        CHECK(c("GET w1") == "QUEUED");
        CHECK(c("EXEC") == "[\x80]");
      },
      4);
}

TEST_CASE("strings: multi-key commands inside MULTI/EXEC across shards") {
  WithNode(
      [](Client& c, Node&) {
        CHECK(c("MULTI") == "OK");
        CHECK(c("MSET a 1 b 2 c 3 d 4") == "QUEUED");
        CHECK(c("INCR a") == "QUEUED");
        CHECK(c("MSETNX a 9 e 5") == "QUEUED");
        CHECK(c("MGET a b c d e") == "QUEUED");
        CHECK(c("BITOP OR dest a b c d") == "QUEUED");
        CHECK(c("LCS a b") == "QUEUED");
        CHECK(c("EXEC") == "[OK, :2, :0, [2, 2, 3, 4, (nil)], :1, 2]");
        // A syntax error inside the transaction is that command's reply only.
        CHECK(c("MULTI") == "OK");
        CHECK(c("SET a x EX 0") == "QUEUED");
        CHECK(c("GET a") == "QUEUED");
        CHECK(c("EXEC") == "[-ERR invalid expire time in 'set' command, 2]");
      },
      4);
}

TEST_CASE("strings: large values") {
  WithNode([](Client& c, Node&) {
    const std::string chunk(4096, 'x');
    for (int i = 0; i < 64; i++)
      REQUIRE(c.Run({"APPEND", "big", chunk}) == ":" + std::to_string(4096 * (i + 1)));
    CHECK(c("STRLEN big") == ":262144");
    CHECK(c("GETRANGE big 262140 -1") == "xxxx");
    CHECK(c("BITCOUNT big") == ":1048576");  // 'x' = 0x78 has 4 bits set
    CHECK(c("SETRANGE big 262144 y") == ":262145");
    CHECK(c("GETRANGE big -2 -1") == "xy");
    // SETBIT far away pads with zeros.
    CHECK(c("SETBIT sparse 8000000 1") == ":0");
    CHECK(c("STRLEN sparse") == ":1000001");
    CHECK(c("BITCOUNT sparse") == ":1");
    CHECK(c("BITPOS sparse 1") == ":8000000");
    CHECK(c("BITPOS sparse 0 -1") == ":8000001");  // no end: past the string
    CHECK(c("GETBIT sparse 8000000") == ":1");
    CHECK(c("BITFIELD sparse GET u8 7999999 GET u8 #1000000") == "[:64, :128]");
  });
}

TEST_CASE("strings: cases from Redis's string.tcl and incr.tcl") {
  WithNode([](Client& c, Node& node) {
    // SETNX against an expired key.
    CHECK(c("SETEX x 1 10") == "OK");
    node.Sleep(std::chrono::milliseconds(1100));
    CHECK(c("SETNX x 20") == ":1");
    CHECK(c("GET x") == "20");
    // GETRANGE with huge ranges (github issue #1844).
    CHECK(c("SET foo bar") == "OK");
    CHECK(c("GETRANGE foo 0 4294967297") == "bar");
    CHECK(c("GETRANGE foo -9223372036854775808 9223372036854775807") == "bar");
    // Integer-looking values are plain strings to SETRANGE and STRLEN.
    CHECK(c("SET n -555") == "OK");
    CHECK(c("STRLEN n") == ":4");
    CHECK(c("SET n 1234") == "OK");
    CHECK(c("SETRANGE n 0 2") == ":4");
    CHECK(c("SETRANGE n 4 2") == ":5");
    CHECK(c("GET n") == "22342");
    CHECK(c("INCR n") == ":22343");
    // INCRBYFLOAT: a decrement below zero, no negative zero, a NUL inside the value.
    CHECK(c("SET f 1") == "OK");
    CHECK(c("INCRBYFLOAT f -1.1") == "-0.1");
    CHECK(c("INCRBYFLOAT z 0.024390243902439025") == "0.02439024390243902");
    CHECK(c("INCRBYFLOAT z -0.024390243902439025") == "0");
    CHECK(c("SET g 1") == "OK");
    CHECK(c("SETRANGE g 2 2") == ":3");
    CHECK(c("INCRBYFLOAT g 1") == "-ERR value is not a valid float");
    CHECK(c("SET big 17179869184") == "OK");
    CHECK(c("INCRBYFLOAT big 17179869184") == "34359738368");
    // Expiry arguments out of range.
    CHECK(c("SET foo bar EX 10000000000000000") == "-ERR invalid expire time in 'set' command");
    CHECK(c("SET foo bar EX -9999999999999999") == "-ERR invalid expire time in 'set' command");
    CHECK(c("GETEX foo EX 10000000000000000") == "-ERR invalid expire time in 'getex' command");
    CHECK(c("GET foo") == "bar");
  });
}

}  // namespace tierkv::server
