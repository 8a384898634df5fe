// Sorted-set commands through the command harness (tests/server/command_harness.h).
#include <doctest/doctest.h>

#include <algorithm>
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
using testing::KeyEvents;
using testing::KeysOnDifferentShards;
using testing::ServerOptions;
using testing::WithServer;

constexpr char kWrongType[] = "-WRONGTYPE Operation against a key holding the wrong kind of value";

void Settle(Client& c) { c.Idle(milliseconds(5)); }

constexpr int kShards = 4;

}  // namespace

TEST_CASE("sorted sets: ZADD options, replies and errors") {
  WithServer([](Client& c) {
    CHECK(c("ZADD z 1 a 2 b 3 c") == ":3");
    CHECK(c("ZCARD z") == ":3");
    CHECK(c("TYPE z") == "zset");
    CHECK(c("ZADD z 1 a 5 b") == ":0");  // b updated, not added
    CHECK(c("ZSCORE z b") == "5");
    CHECK(c("ZADD z CH 1 a 6 b 7 d") == ":2");  // b changed, d added; a unchanged
    CHECK(c("ZADD z NX 100 a 8 e") == ":1");
    CHECK(c("ZSCORE z a") == "1");
    CHECK(c("ZADD z XX 9 f 2 a") == ":0");
    CHECK(c("ZSCORE z f") == "(nil)");
    CHECK(c("ZSCORE z a") == "2");
    CHECK(c("ZADD z GT CH 1 a 3 a") == ":1");  // 1 refused (lower), 3 taken
    CHECK(c("ZSCORE z a") == "3");
    CHECK(c("ZADD z LT CH 10 a") == ":0");
    CHECK(c("ZADD z LT CH 0.5 a") == ":1");
    CHECK(c("ZSCORE z a") == "0.5");
    CHECK(c("ZADD z 1 x 2 x") == ":1");  // duplicates apply in order
    CHECK(c("ZSCORE z x") == "2");
    // INCR
    CHECK(c("ZADD z INCR 2.5 a") == "3");
    CHECK(c("ZADD z NX INCR 1 a") == "(nil)");
    CHECK(c("ZADD z XX INCR 1 nothere") == "(nil)");
    CHECK(c("ZADD z GT INCR -1 a") == "(nil)");
    CHECK(c("ZADD z INCR 0 a") == "3");
    CHECK(c("ZADD inf 0 +inf") == ":1");
    CHECK(c("ZADD inf INCR +inf m") == "inf");
    CHECK(c("ZADD inf INCR -inf m") == "-ERR resulting score is not a number (NaN)");
    // errors
    CHECK(c("ZADD z XX NX 1 a") == "-ERR XX and NX options at the same time are not compatible");
    CHECK(c("ZADD z GT LT 1 a") ==
          "-ERR GT, LT, and/or NX options at the same time are not compatible");
    CHECK(c("ZADD z NX GT 1 a") ==
          "-ERR GT, LT, and/or NX options at the same time are not compatible");
    CHECK(c("ZADD z INCR 1 a 2 b") == "-ERR INCR option supports a single increment-element pair");
    CHECK(c("ZADD z 1 a 2") == "-ERR syntax error");
    CHECK(c("ZADD z NX 1") == "-ERR syntax error");
    CHECK(c("ZADD z x a") == "-ERR value is not a valid float");
    CHECK(c("ZADD z nan a") == "-ERR value is not a valid float");
    CHECK(c("ZADD z 1") == "-ERR wrong number of arguments for 'zadd' command");
    CHECK(c("SET s v") == "OK");
    CHECK(c("ZADD s 1 a") == kWrongType);
    CHECK(c("ZADD nokey XX 1 a") == ":0");
    CHECK(c("EXISTS nokey") == ":0");
    // RESP3: INCR's double.
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c("ZADD z INCR 1 a") == ",4");
    CHECK(c("ZSCORE z nothere") == "(nil)");
  });
}

TEST_CASE("sorted sets: ZINCRBY ZREM ZCARD ZSCORE ZMSCORE") {
  WithServer([](Client& c) {
    CHECK(c("ZINCRBY z 2 a") == "2");
    CHECK(c("ZINCRBY z 1.5 a") == "3.5");
    CHECK(c("ZINCRBY z x a") == "-ERR value is not a valid float");
    CHECK(c("ZINCRBY z 1") == "-ERR wrong number of arguments for 'zincrby' command");
    CHECK(c("ZADD z 1 b 2 c") == ":2");
    CHECK(c("ZMSCORE z a nothere c") == "[3.5, (nil), 2]");
    CHECK(c("ZMSCORE nokey a") == "[(nil)]");
    CHECK(c("ZREM z a nothere a") == ":1");
    CHECK(c("ZCARD z") == ":2");
    CHECK(c("ZREM nokey a") == ":0");
    CHECK(c("ZREM z b c") == ":2");
    CHECK(c("EXISTS z") == ":0");  // emptied: deleted
    CHECK(c("ZCARD z") == ":0");
    CHECK(c("SET s v") == "OK");
    for (const char* command : {"ZINCRBY s 1 a", "ZREM s a", "ZCARD s", "ZSCORE s a",
                                "ZMSCORE s a"}) {
      CHECK(c(command) == kWrongType);
    }
    CHECK(c("ZADD z 1.5 a") == ":1");
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c("ZSCORE z a") == ",1.5");
    CHECK(c("ZMSCORE z a b") == "[,1.5, (nil)]");
  });
}

TEST_CASE("sorted sets: ZRANGE by rank, REV, WITHSCORES in RESP2 and RESP3") {
  WithServer([](Client& c) {
    CHECK(c("ZADD z 1 a 2 b 3 c 3 d 4 e") == ":5");
    CHECK(c("ZRANGE z 0 -1") == "[a, b, c, d, e]");
    CHECK(c("ZRANGE z 1 2") == "[b, c]");
    CHECK(c("ZRANGE z -2 -1") == "[d, e]");
    CHECK(c("ZRANGE z -100 0") == "[a]");
    CHECK(c("ZRANGE z 3 1") == "[]");
    CHECK(c("ZRANGE z 5 10") == "[]");
    CHECK(c("ZRANGE z 0 1 WITHSCORES") == "[a, 1, b, 2]");
    CHECK(c("ZRANGE z 0 1 REV") == "[e, d]");
    CHECK(c("ZREVRANGE z 0 2 WITHSCORES") == "[e, 4, d, 3, c, 3]");
    CHECK(c("ZRANGE nokey 0 -1") == "[]");
    CHECK(c("ZRANGE z a 1") == "-ERR value is not an integer or out of range");
    CHECK(c("ZRANGE z 0 1 LIMIT 0 1") ==
          "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    CHECK(c("ZRANGE z 0 1 LIMIT 5 -1") == "[a, b]");  // Redis only refuses a limit other than -1
    CHECK(c("ZRANGE z 0 1 FOO") == "-ERR syntax error");
    CHECK(c("ZREVRANGE z 0 1 REV") == "-ERR syntax error");
    CHECK(c("SET s v") == "OK");
    CHECK(c("ZRANGE s 0 1") == kWrongType);
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c("ZRANGE z 0 1 WITHSCORES") == "[[a, ,1], [b, ,2]]");
    CHECK(c("ZRANGE z 0 1") == "[a, b]");
  });
}

TEST_CASE("sorted sets: ranges by score") {
  WithServer([](Client& c) {
    CHECK(c("ZADD z -inf n 1 a 2 b 2 c 3 d +inf p") == ":6");
    CHECK(c("ZRANGEBYSCORE z 1 2") == "[a, b, c]");
    CHECK(c("ZRANGEBYSCORE z (1 2") == "[b, c]");
    CHECK(c("ZRANGEBYSCORE z (1 (3") == "[b, c]");
    CHECK(c("ZRANGEBYSCORE z -inf +inf") == "[n, a, b, c, d, p]");
    CHECK(c("ZRANGEBYSCORE z 2 1") == "[]");
    CHECK(c("ZRANGEBYSCORE z (2 2") == "[]");
    CHECK(c("ZRANGEBYSCORE z 1 3 WITHSCORES LIMIT 1 2") == "[b, 2, c, 2]");
    CHECK(c("ZRANGEBYSCORE z 1 3 LIMIT 1 -1") == "[b, c, d]");
    CHECK(c("ZRANGEBYSCORE z 1 3 LIMIT -1 2") == "[]");
    CHECK(c("ZREVRANGEBYSCORE z 2 1") == "[c, b, a]");
    CHECK(c("ZREVRANGEBYSCORE z (3 -inf LIMIT 0 2") == "[c, b]");
    CHECK(c("ZREVRANGEBYSCORE z +inf (2 WITHSCORES") == "[p, inf, d, 3]");
    CHECK(c("ZRANGE z 1 2 BYSCORE") == "[a, b, c]");
    CHECK(c("ZRANGE z 2 1 BYSCORE REV") == "[c, b, a]");
    CHECK(c("ZRANGE z (1 +inf BYSCORE LIMIT 0 1") == "[b]");
    CHECK(c("ZCOUNT z 1 2") == ":3");
    CHECK(c("ZCOUNT z (1 +inf") == ":4");
    CHECK(c("ZCOUNT nokey 1 2") == ":0");
    CHECK(c("ZRANGEBYSCORE z x 1") == "-ERR min or max is not a float");
    CHECK(c("ZRANGEBYSCORE z 1 (") == "-ERR min or max is not a float");
    CHECK(c("ZCOUNT z 1 nan") == "-ERR min or max is not a float");
    CHECK(c("ZRANGEBYSCORE z 1 2 LIMIT 1") == "-ERR syntax error");
    CHECK(c("ZRANGEBYSCORE z 1 2 LIMIT a 1") == "-ERR value is not an integer or out of range");
    CHECK(c("ZRANGEBYSCORE z 1 2 BYSCORE") == "-ERR syntax error");
    CHECK(c("SET s v") == "OK");
    CHECK(c("ZCOUNT s 1 2") == kWrongType);
    CHECK(c("ZRANGEBYSCORE s 1 2") == kWrongType);
  });
}

TEST_CASE("sorted sets: ranges by lex") {
  WithServer([](Client& c) {
    CHECK(c("ZADD z 0 a 0 b 0 c 0 d 0 e") == ":5");
    CHECK(c("ZRANGEBYLEX z - +") == "[a, b, c, d, e]");
    CHECK(c("ZRANGEBYLEX z [b (d") == "[b, c]");
    CHECK(c("ZRANGEBYLEX z (b [d") == "[c, d]");
    CHECK(c("ZRANGEBYLEX z - + LIMIT 1 2") == "[b, c]");
    CHECK(c("ZRANGEBYLEX z + -") == "[]");
    CHECK(c("ZREVRANGEBYLEX z + -") == "[e, d, c, b, a]");
    CHECK(c("ZREVRANGEBYLEX z [d (a LIMIT 1 2") == "[c, b]");
    CHECK(c("ZRANGE z [c + BYLEX") == "[c, d, e]");
    CHECK(c("ZRANGE z (c - BYLEX REV") == "[b, a]");
    CHECK(c("ZLEXCOUNT z - +") == ":5");
    CHECK(c("ZLEXCOUNT z (a [c") == ":2");
    CHECK(c("ZLEXCOUNT nokey - +") == ":0");
    CHECK(c("ZRANGEBYLEX z a c") == "-ERR min or max not valid string range item");
    CHECK(c("ZLEXCOUNT z [a c") == "-ERR min or max not valid string range item");
    CHECK(c("ZRANGE z - + BYLEX WITHSCORES") ==
          "-ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    CHECK(c("ZRANGEBYLEX z - + WITHSCORES") ==
          "-ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  });
}

TEST_CASE("sorted sets: ZRANK ZREVRANK") {
  WithServer([](Client& c) {
    CHECK(c("ZADD z 1 a 2 b 2 c 3 d") == ":4");
    CHECK(c("ZRANK z a") == ":0");
    CHECK(c("ZRANK z c") == ":2");
    CHECK(c("ZREVRANK z c") == ":1");
    CHECK(c("ZREVRANK z a") == ":3");
    CHECK(c("ZRANK z nothere") == "(nil)");
    CHECK(c("ZRANK nokey a") == "(nil)");
    CHECK(c("ZRANK z") == "-ERR wrong number of arguments for 'zrank' command");
    CHECK(c("SET s v") == "OK");
    CHECK(c("ZRANK s a") == kWrongType);
  });
}

TEST_CASE("sorted sets: ZREMRANGEBYRANK BYSCORE BYLEX") {
  WithServer([](Client& c) {
    CHECK(c("ZADD z 1 a 2 b 3 c 4 d 5 e") == ":5");
    CHECK(c("ZREMRANGEBYRANK z 0 1") == ":2");
    CHECK(c("ZRANGE z 0 -1") == "[c, d, e]");
    CHECK(c("ZREMRANGEBYRANK z 5 10") == ":0");
    CHECK(c("ZREMRANGEBYSCORE z (3 4") == ":1");
    CHECK(c("ZRANGE z 0 -1") == "[c, e]");
    CHECK(c("ZREMRANGEBYRANK z -1 -1") == ":1");
    CHECK(c("ZREMRANGEBYSCORE z -inf +inf") == ":1");
    CHECK(c("EXISTS z") == ":0");
    CHECK(c("ZADD l 0 a 0 b 0 c") == ":3");
    CHECK(c("ZREMRANGEBYLEX l [a (c") == ":2");
    CHECK(c("ZRANGE l 0 -1") == "[c]");
    CHECK(c("ZREMRANGEBYLEX nokey - +") == ":0");
    CHECK(c("ZREMRANGEBYRANK l a 1") == "-ERR value is not an integer or out of range");
    CHECK(c("ZREMRANGEBYSCORE l a 1") == "-ERR min or max is not a float");
    CHECK(c("ZREMRANGEBYLEX l a 1") == "-ERR min or max not valid string range item");
    CHECK(c("SET s v") == "OK");
    CHECK(c("ZREMRANGEBYRANK s 0 1") == kWrongType);
  });
}

TEST_CASE("sorted sets: ZPOPMIN ZPOPMAX") {
  WithServer([](Client& c) {
    CHECK(c("ZADD z 1 a 2 b 3 c") == ":3");
    CHECK(c("ZPOPMIN z") == "[a, 1]");
    CHECK(c("ZPOPMAX z") == "[c, 3]");
    CHECK(c("ZADD z 4 d 5 e") == ":2");
    CHECK(c("ZPOPMAX z 2") == "[e, 5, d, 4]");
    CHECK(c("ZPOPMIN z 0") == "[]");
    CHECK(c("ZPOPMIN z 10") == "[b, 2]");
    CHECK(c("EXISTS z") == ":0");
    CHECK(c("ZPOPMIN z") == "[]");
    CHECK(c("ZPOPMIN z -1") == "-ERR value is out of range, must be positive");
    CHECK(c("ZPOPMIN z x") == "-ERR value is not an integer or out of range");
    CHECK(c("ZPOPMIN z 1 2") == "-ERR syntax error");
    CHECK(c("SET s v") == "OK");
    CHECK(c("ZPOPMIN s") == kWrongType);
    CHECK(c("ZADD z 1 a 2 b") == ":2");
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c("ZPOPMIN z") == "[a, ,1]");
    CHECK(c("ZPOPMIN z 1") == "[[b, ,2]]");
  });
}

TEST_CASE("sorted sets: ZMPOP across shards") {
  ServerOptions options{.shards = 4};
  WithServer(
      [](Client& c) {
        CHECK(c("ZADD k2 1 a 2 b 3 c") == ":3");
        CHECK(c("ZMPOP 2 k1 k2 MIN") == "[k2, [[a, 1]]]");
        CHECK(c("ZMPOP 2 k1 k2 MAX COUNT 5") == "[k2, [[c, 3], [b, 2]]]");
        CHECK(c("EXISTS k2") == ":0");
        CHECK(c("ZMPOP 2 k1 k2 MIN") == "(nil)");
        CHECK(c("ZMPOP 0 k1 MIN") == "-ERR numkeys should be greater than 0");
        CHECK(c("ZMPOP 1 k1 FOO") == "-ERR syntax error");
        CHECK(c("ZMPOP 2 k1 MIN") == "-ERR syntax error");
        CHECK(c("ZMPOP 1 k1 MIN COUNT 0") == "-ERR count should be greater than 0");
        CHECK(c("ZMPOP 1 k1 MIN COUNT x") == "-ERR count should be greater than 0");
        CHECK(c("ZMPOP x k1 MIN") == "-ERR numkeys should be greater than 0");
        CHECK(c("ZMPOP 1 k1 MIN COUNT 1 COUNT 1") == "-ERR syntax error");
        CHECK(c("SET s v") == "OK");
        CHECK(c("ZMPOP 1 s MIN") == kWrongType);
      },
      options);
}

TEST_CASE("sorted sets: BZPOPMIN BZPOPMAX BZMPOP block and wake") {
  WithServer([](Client& c) {
    CHECK(c("ZADD z 1 a 2 b") == ":2");
    CHECK(c("BZPOPMIN nokey z 0") == "[z, a, 1]");
    CHECK(c("BZPOPMAX z 0") == "[z, b, 2]");
    auto a = c.Connect(1);
    a->Start({"BZPOPMIN", "q", "0"});
    Settle(c);
    CHECK_FALSE(a->finished());
    CHECK(c("ZADD q 5 x 3 y") == ":2");
    CHECK(a->Wait() == "[q, y, 3]");
    CHECK(c("ZRANGE q 0 -1") == "[x]");
    a->Start({"BZMPOP", "0", "2", "other", "q2", "MAX", "COUNT", "2"});
    Settle(c);
    CHECK_FALSE(a->finished());
    CHECK(c("ZINCRBY q2 7 m") == "7");
    CHECK(a->Wait() == "[q2, [[m, 7]]]");
    a->Start({"BZPOPMAX", "empty", "0.01"});
    CHECK(a->Wait() == "(nil)");
    CHECK(c("BZPOPMIN z -1") == "-ERR timeout is negative");
    CHECK(c("BZPOPMIN z x") == "-ERR timeout is not a float or out of range");
    CHECK(c("SET s v") == "OK");
    CHECK(c("BZPOPMIN s 0") == kWrongType);
    // Inside MULTI a blocking pop answers as timed out.
    CHECK(c("MULTI") == "OK");
    CHECK(c("BZPOPMIN empty 0") == "QUEUED");
    CHECK(c("EXEC") == "[(nil)]");
  });
}

TEST_CASE("sorted sets: ZRANGESTORE across shards") {
  ServerOptions options{.shards = 4};
  WithServer(
      [](Client& c) {
        CHECK(c("ZADD src 1 a 2 b 3 c") == ":3");
        CHECK(c("ZRANGESTORE dst src 0 1") == ":2");
        CHECK(c("ZRANGE dst 0 -1 WITHSCORES") == "[a, 1, b, 2]");
        CHECK(c("ZRANGESTORE dst src (1 +inf BYSCORE REV") == ":0");  // REV takes max first
        CHECK(c("ZRANGESTORE dst src +inf (1 BYSCORE REV LIMIT 0 1") == ":1");
        CHECK(c("ZRANGE dst 0 -1 WITHSCORES") == "[c, 3]");
        CHECK(c("ZRANGESTORE dst src 5 10") == ":0");
        CHECK(c("EXISTS dst") == ":0");
        CHECK(c("ZRANGESTORE dst src 0 1 WITHSCORES") == "-ERR syntax error");
        CHECK(c("SET s v") == "OK");
        CHECK(c("ZRANGESTORE dst s 0 1") == kWrongType);
        CHECK(c("ZRANGESTORE s src 0 0") == ":1");  // the destination is replaced
        CHECK(c("TYPE s") == "zset");
      },
      options);
}

TEST_CASE("sorted sets: ZUNION ZINTER ZDIFF and STORE forms across shards") {
  ServerOptions options{.shards = 4};
  WithServer(
      [](Client& c) {
        CHECK(c("ZADD z1 1 a 2 b 3 c") == ":3");
        CHECK(c("ZADD z2 10 b 20 c 30 d") == ":3");
        CHECK(c("SADD s1 a d") == ":2");
        CHECK(c("ZUNION 2 z1 z2 WITHSCORES") == "[a, 1, b, 12, c, 23, d, 30]");
        CHECK(c("ZUNION 2 z1 z2 AGGREGATE MAX WITHSCORES") == "[a, 1, b, 10, c, 20, d, 30]");
        CHECK(c("ZUNION 2 z1 z2 WEIGHTS 2 0.5 AGGREGATE MIN WITHSCORES") ==
              "[a, 2, b, 4, c, 6, d, 15]");
        CHECK(c("ZINTER 2 z1 z2") == "[b, c]");
        CHECK(c("ZINTER 2 z1 z2 WITHSCORES") == "[b, 12, c, 23]");
        CHECK(c("ZINTER 3 z1 z2 nokey") == "[]");
        CHECK(c("ZINTER 2 z2 s1 WITHSCORES") == "[d, 31]");  // a set counts with score 1
        CHECK(c("ZDIFF 2 z1 z2 WITHSCORES") == "[a, 1]");
        CHECK(c("ZDIFF 2 z1 s1") == "[b, c]");
        CHECK(c("ZDIFF 1 nokey") == "[]");
        CHECK(c("ZUNIONSTORE out 2 z1 z2") == ":4");
        CHECK(c("ZRANGE out 0 -1 WITHSCORES") == "[a, 1, b, 12, c, 23, d, 30]");
        CHECK(c("ZINTERSTORE out 2 z1 z2 WEIGHTS 1 0") == ":2");
        CHECK(c("ZRANGE out 0 -1 WITHSCORES") == "[b, 2, c, 3]");
        CHECK(c("ZDIFFSTORE out 2 z1 z1") == ":0");
        CHECK(c("EXISTS out") == ":0");
        CHECK(c("ZINTERCARD 2 z1 z2") == ":2");
        CHECK(c("ZINTERCARD 2 z1 z2 LIMIT 1") == ":1");
        CHECK(c("ZINTERCARD 2 z1 z2 LIMIT -1") == "-ERR LIMIT can't be negative");
        CHECK(c("ZINTERCARD 0 z1") == "-ERR numkeys should be greater than 0");
        CHECK(c("ZINTERCARD 3 z1 z2") == "-ERR Number of keys can't be greater than number of args");
        // errors
        CHECK(c("ZUNION 0 z1") == "-ERR at least 1 input key is needed for 'zunion' command");
        CHECK(c("ZUNIONSTORE out 0 z1") ==
              "-ERR at least 1 input key is needed for 'zunionstore' command");
        CHECK(c("ZUNION 3 z1 z2") == "-ERR syntax error");
        CHECK(c("ZUNION x z1") == "-ERR value is not an integer or out of range");
        CHECK(c("ZUNION 2 z1 z2 WEIGHTS 1 x") == "-ERR weight value is not a float");
        CHECK(c("ZUNION 2 z1 z2 WEIGHTS 1") == "-ERR syntax error");
        CHECK(c("ZUNION 2 z1 z2 AGGREGATE AVG") == "-ERR syntax error");
        CHECK(c("ZDIFF 2 z1 z2 WEIGHTS 1 1") == "-ERR syntax error");
        CHECK(c("ZUNIONSTORE out 2 z1 z2 WITHSCORES") == "-ERR syntax error");
        CHECK(c("SET str v") == "OK");
        CHECK(c("ZUNION 2 z1 str") == kWrongType);
        CHECK(c("ZINTERSTORE out 2 str z1") == kWrongType);
        CHECK(c("HELLO 3").starts_with("{"));
        CHECK(c("ZINTER 2 z1 z2 WITHSCORES") == "[[b, ,12], [c, ,23]]");
      },
      options);
}

TEST_CASE("sorted sets: ZRANDMEMBER") {
  WithServer([](Client& c) {
    CHECK(c("ZRANDMEMBER nokey") == "(nil)");
    CHECK(c("ZRANDMEMBER nokey 3") == "[]");
    CHECK(c("ZADD z 1 a 2 b 3 c") == ":3");
    const std::string one = c("ZRANDMEMBER z");
    CHECK((one == "a" || one == "b" || one == "c"));
    CHECK(c("ZRANDMEMBER z 5") == "[a, b, c]");  // count >= size: the whole set
    CHECK(c("ZRANDMEMBER z 5 WITHSCORES") == "[a, 1, b, 2, c, 3]");
    CHECK(c("ZRANDMEMBER z 0") == "[]");
    auto distinct = c.RunReply({"ZRANDMEMBER", "z", "2"});
    REQUIRE(distinct.elements.size() == 2);
    CHECK(distinct.elements[0].text != distinct.elements[1].text);
    auto repeats = c.RunReply({"ZRANDMEMBER", "z", "-7", "WITHSCORES"});
    CHECK(repeats.elements.size() == 14);
    CHECK(c("ZRANDMEMBER z 1 FOO") == "-ERR syntax error");
    CHECK(c("ZRANDMEMBER z x") == "-ERR value is not an integer or out of range");
    CHECK(c("ZRANDMEMBER z x FOO") == "-ERR value is not an integer or out of range");
    CHECK(c("ZRANDMEMBER z 4611686018427387904 WITHSCORES") == "-ERR value is out of range");
    CHECK(c("ZRANDMEMBER z 4611686018427387903 WITHSCORES") == "[a, 1, b, 2, c, 3]");
    CHECK(c("SET s v") == "OK");
    CHECK(c("ZRANDMEMBER s") == kWrongType);
  });
}

TEST_CASE("sorted sets: ZSCAN") {
  WithServer([](Client& c) {
    CHECK(c("ZSCAN nokey 0") == "[0, []]");
    CHECK(c("ZADD z 1 a 2.5 b 3 c") == ":3");
    CHECK(c("ZSCAN z 0") == "[0, [a, 1, b, 2.5, c, 3]]");
    CHECK(c("ZSCAN z 0 MATCH b*") == "[0, [b, 2.5]]");
    // A full iteration with COUNT 1 visits every member once.
    std::string cursor = "0";
    int visited = 0;
    for (int round = 0; round < 10; round++) {
      auto page = c.RunReply({"ZSCAN", "z", cursor, "COUNT", "1"});
      REQUIRE(page.elements.size() == 2);
      visited += static_cast<int>(page.elements[1].elements.size() / 2);
      cursor = page.elements[0].text;
      if (cursor == "0") break;
    }
    CHECK(cursor == "0");
    CHECK(visited == 3);
    CHECK(c("ZSCAN z x") == "-ERR invalid cursor");
    CHECK(c("ZSCAN z 0 COUNT 0") == "-ERR syntax error");
    CHECK(c("ZSCAN z 0 FOO 1") == "-ERR syntax error");
    CHECK(c("SET s v") == "OK");
    CHECK(c("ZSCAN s 0") == kWrongType);
  });
}

TEST_CASE("sorted sets: keyspace events as Redis names them, WATCH across shards") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("ev", 3);
        auto other = c.Connect(1);
        Client& s = *other;
        CHECK(s("PSUBSCRIBE __keyevent@0__:*") == "[psubscribe, __keyevent@0__:*, :1]");
        CHECK(c("CONFIG SET notify-keyspace-events EA") == "OK");
        using Seen = std::vector<std::string>;
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        CHECK(run({"ZADD", k[0], "1", "a", "2", "b", "3", "c"}) == ":3");
        CHECK(run({"ZADD", k[0], "1", "a"}) == ":0");  // unchanged: no event
        CHECK(run({"ZREM", k[0], "zz"}) == ":0");
        CHECK(KeyEvents(s) == Seen{"zadd " + k[0]});
        CHECK(run({"ZINCRBY", k[0], "1", "a"}) == "2");
        CHECK(run({"ZREM", k[0], "a"}) == ":1");
        CHECK(KeyEvents(s) == Seen{"zincr " + k[0], "zrem " + k[0]});
        CHECK(run({"ZPOPMIN", k[0]}) == "[b, 2]");
        CHECK(run({"ZREMRANGEBYSCORE", k[0], "-inf", "+inf"}) == ":1");
        CHECK(KeyEvents(s) == Seen{"del " + k[0], "zpopmin " + k[0], "zremrangebyscore " + k[0]});
        CHECK(run({"ZADD", k[0], "1", "a"}) == ":1");
        CHECK(run({"ZUNIONSTORE", k[2], "2", k[0], k[1]}) == ":1");
        CHECK(run({"ZRANGESTORE", k[1], k[0], "0", "-1"}) == ":1");
        CHECK(KeyEvents(s) == Seen{"zadd " + k[0], "zrangestore " + k[1], "zunionstore " + k[2]});
        CHECK(run({"ZDIFFSTORE", k[2], "2", k[0], k[1]}) == ":0");  // empty: deleted
        CHECK(KeyEvents(s) == Seen{"del " + k[2]});
        // A ZADD on another shard breaks a WATCH on that key.
        CHECK(run({"WATCH", k[1]}) == "OK");
        auto writer = c.Connect(2);
        CHECK(writer->Run({"ZADD", k[1], "5", "x"}) == ":1");
        CHECK(c("MULTI") == "OK");
        CHECK(run({"ZCARD", k[1]}) == "QUEUED");
        CHECK(c("EXEC") == "(nil)");
      },
      ServerOptions{.shards = kShards});
}

}  // namespace tierkv::server
