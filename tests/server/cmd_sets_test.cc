// Set commands through the command harness (tests/server/command_harness.h), with the replies
// and error texts redis-server 7.0 sends. Multi-key commands run with 4 shards and keys chosen on
// different shards, so they really cross shards.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
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
using testing::KeyEvents;
using testing::KeysOnDifferentShards;
using testing::ServerOptions;
using testing::WithServer;

constexpr const char* kWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr int kShards = 4;

std::vector<std::string> Elements(const net::Reply& reply) {
  std::vector<std::string> out;
  for (const net::Reply& element : reply.elements) out.push_back(element.ToString());
  return out;
}

}  // namespace

TEST_CASE("sets: SADD SREM SCARD SISMEMBER SMISMEMBER") {
  WithServer([](Client& c) {
    CHECK(c("SADD s a b c a") == ":3");
    CHECK(c("SADD s c d") == ":1");
    CHECK(c("SCARD s") == ":4");
    CHECK(c("SCARD nokey") == ":0");
    CHECK(c("SISMEMBER s a") == ":1");
    CHECK(c("SISMEMBER s z") == ":0");
    CHECK(c("SISMEMBER nokey a") == ":0");
    CHECK(c("SMISMEMBER s a z d") == "[:1, :0, :1]");
    CHECK(c("SMISMEMBER nokey a b") == "[:0, :0]");
    CHECK(c("SREM s a z a") == ":1");
    CHECK(c("SREM nokey a") == ":0");
    CHECK(c("SCARD s") == ":3");
    CHECK(c("SREM s b c d") == ":3");
    CHECK(c("EXISTS s") == ":0");  // the last member removed deletes the key
    CHECK(c.Run({"SADD", "e", ""}) == ":1");
    CHECK(c.Run({"SISMEMBER", "e", ""}) == ":1");
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c("SISMEMBER e x") == ":0");  // an integer in RESP3 too
    CHECK(c("SADD s") == "-ERR wrong number of arguments for 'sadd' command");
    CHECK(c("SREM s") == "-ERR wrong number of arguments for 'srem' command");
    CHECK(c("SCARD") == "-ERR wrong number of arguments for 'scard' command");
    CHECK(c("SISMEMBER s") == "-ERR wrong number of arguments for 'sismember' command");
    CHECK(c("SMISMEMBER s") == "-ERR wrong number of arguments for 'smismember' command");
    CHECK(c("SET str v") == "OK");
    CHECK(c("SADD str a") == kWrongType);
    CHECK(c("SREM str a") == kWrongType);
    CHECK(c("SCARD str") == kWrongType);
    CHECK(c("SISMEMBER str a") == kWrongType);
    CHECK(c("SMISMEMBER str a") == kWrongType);
    CHECK(c("HSET h f v") == ":1");
    CHECK(c("SADD h a") == kWrongType);
  });
}

TEST_CASE("sets: SMEMBERS in RESP2 and RESP3") {
  WithServer([](Client& c) {
    CHECK(c("SADD s c a b") == ":3");
    CHECK(c("SMEMBERS s") == "[a, b, c]");
    CHECK(c("SMEMBERS nokey") == "[]");
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c("SMEMBERS s") == "~[a, b, c]");
    CHECK(c.RunRaw({"SMEMBERS", "nokey"}) == "~0\r\n");
    CHECK(c("SMEMBERS") == "-ERR wrong number of arguments for 'smembers' command");
    CHECK(c("SET str v") == "OK");
    CHECK(c("SMEMBERS str") == kWrongType);
  });
}

TEST_CASE("sets: SPOP") {
  WithServer([](Client& c) {
    CHECK(c("SPOP nokey") == "(nil)");
    CHECK(c("SPOP nokey 3") == "[]");
    CHECK(c("SADD s a b c d e") == ":5");
    const std::set<std::string> all{"a", "b", "c", "d", "e"};
    std::string popped = c("SPOP s");
    CHECK(all.contains(popped));
    CHECK(c.Run({"SISMEMBER", "s", popped}) == ":0");
    CHECK(c("SCARD s") == ":4");
    CHECK(c("SPOP s 0") == "[]");
    std::vector<std::string> two = Elements(c.RunReply({"SPOP", "s", "2"}));
    REQUIRE(two.size() == 2);
    CHECK(two[0] != two[1]);
    for (const std::string& member : two) {
      CHECK(all.contains(member));
      CHECK(member != popped);
      CHECK(c.Run({"SISMEMBER", "s", member}) == ":0");
    }
    CHECK(c("SCARD s") == ":2");
    // A count >= the size pops everything and deletes the key.
    CHECK(Elements(c.RunReply({"SPOP", "s", "10"})).size() == 2);
    CHECK(c("EXISTS s") == ":0");
    CHECK(c("SADD one x") == ":1");
    CHECK(c("SPOP one") == "x");
    CHECK(c("EXISTS one") == ":0");
    // RESP3: a set.
    CHECK(c("SADD s a b c") == ":3");
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c("SPOP s 1").starts_with("~["));
    CHECK(c.RunRaw({"SPOP", "nokey", "1"}) == "~0\r\n");
    CHECK(c.RunRaw({"SPOP", "s", "0"}) == "~0\r\n");
    CHECK(c("SPOP nokey") == "(nil)");
    // Errors.
    CHECK(c("SPOP s -1") == "-ERR value is out of range, must be positive");
    CHECK(c("SPOP s x") == "-ERR value is not an integer or out of range");
    CHECK(c("SPOP s 1 2") == "-ERR syntax error");
    CHECK(c("SPOP") == "-ERR wrong number of arguments for 'spop' command");
    CHECK(c("SET str v") == "OK");
    CHECK(c("SPOP str") == kWrongType);
    CHECK(c("SPOP str 2") == kWrongType);
    CHECK(c("SCARD s") == ":2");
  });
}

TEST_CASE("sets: SRANDMEMBER") {
  WithServer([](Client& c) {
    CHECK(c("SRANDMEMBER nokey") == "(nil)");
    CHECK(c("SRANDMEMBER nokey 3") == "[]");
    CHECK(c("SRANDMEMBER nokey -3") == "[]");
    CHECK(c("SADD s a b c d e") == ":5");
    const std::set<std::string> all{"a", "b", "c", "d", "e"};
    for (int i = 0; i < 20; i++) CHECK(all.contains(c("SRANDMEMBER s")));
    CHECK(c("SRANDMEMBER s 0") == "[]");
    for (int count : {1, 2, 4}) {
      std::vector<std::string> got = Elements(c.RunReply({"SRANDMEMBER", "s", std::to_string(count)}));
      CHECK(got.size() == static_cast<size_t>(count));
      CHECK(std::set<std::string>(got.begin(), got.end()).size() == got.size());
      for (const std::string& member : got) CHECK(all.contains(member));
    }
    CHECK(c("SRANDMEMBER s 5") == "[a, b, c, d, e]");
    CHECK(c("SRANDMEMBER s 50") == "[a, b, c, d, e]");
    std::vector<std::string> repeated = Elements(c.RunReply({"SRANDMEMBER", "s", "-40"}));
    CHECK(repeated.size() == 40);
    for (const std::string& member : repeated) CHECK(all.contains(member));
    CHECK(std::set<std::string>(repeated.begin(), repeated.end()).size() > 1);
    CHECK(c("SCARD s") == ":5");  // nothing removed
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c("SRANDMEMBER s 2").starts_with("[")); // an array, not a set, in RESP3
    CHECK(c("SRANDMEMBER nokey") == "(nil)");
    CHECK(c("SRANDMEMBER s x") == "-ERR value is not an integer or out of range");
    CHECK(c("SRANDMEMBER s -9223372036854775808") ==
          "-ERR value is out of range, must be between -9223372036854775807 and "
          "9223372036854775807");
    CHECK(c("SRANDMEMBER s 1 2") == "-ERR syntax error");
    CHECK(c("SRANDMEMBER") == "-ERR wrong number of arguments for 'srandmember' command");
    CHECK(c("SET str v") == "OK");
    CHECK(c("SRANDMEMBER str") == kWrongType);
    CHECK(c("SRANDMEMBER str -2") == kWrongType);
  });
}

TEST_CASE("sets: SRANDMEMBER and SPOP draw members uniformly") {
  WithServer([](Client& c) {
    CHECK(c("SADD s m0 m1 m2 m3 m4 m5 m6 m7 m8 m9") == ":10");
    // With repeats: 10000 draws, about 1000 each.
    std::map<std::string, int> seen;
    for (const std::string& member : Elements(c.RunReply({"SRANDMEMBER", "s", "-10000"}))) {
      seen[member]++;
    }
    CHECK(seen.size() == 10);
    for (const auto& [member, count] : seen) {
      INFO(member);
      CHECK(count > 850);
      CHECK(count < 1150);
    }
    // Distinct: 400 draws of 3, about 120 each.
    seen.clear();
    for (int i = 0; i < 400; i++) {
      for (const std::string& member : Elements(c.RunReply({"SRANDMEMBER", "s", "3"}))) {
        seen[member]++;
      }
    }
    CHECK(seen.size() == 10);
    for (const auto& [member, count] : seen) {
      INFO(member);
      CHECK(count > 80);
      CHECK(count < 160);
    }
    // SPOP of one member from a fresh copy, 300 times: about 30 each.
    seen.clear();
    for (int i = 0; i < 300; i++) {
      CHECK(c("SUNIONSTORE t s") == ":10");
      seen[c("SPOP t")]++;
    }
    CHECK(seen.size() == 10);
    for (const auto& [member, count] : seen) {
      INFO(member);
      CHECK(count > 12);
      CHECK(count < 50);
    }
  });
}

TEST_CASE("sets: SMOVE across shards") {
  WithServer(
      [](Client& c) {
        const auto keys = KeysOnDifferentShards("mv", 3);
        const std::string& src = keys[0];
        const std::string& dst = keys[1];
        const std::string& str = keys[2];
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        CHECK(run({"SADD", src, "a", "b"}) == ":2");
        CHECK(run({"SMOVE", src, dst, "a"}) == ":1");
        CHECK(run({"SMEMBERS", src}) == "[b]");
        CHECK(run({"SMEMBERS", dst}) == "[a]");
        CHECK(run({"SMOVE", src, dst, "zz"}) == ":0");
        CHECK(run({"SMOVE", "nokey", dst, "a"}) == ":0");
        // Already in the destination: removed from the source only.
        CHECK(run({"SADD", src, "a"}) == ":1");
        CHECK(run({"SMOVE", src, dst, "a"}) == ":1");
        CHECK(run({"SMEMBERS", src}) == "[b]");
        CHECK(run({"SMEMBERS", dst}) == "[a]");
        // The last member moved deletes the source.
        CHECK(run({"SMOVE", src, dst, "b"}) == ":1");
        CHECK(run({"EXISTS", src}) == ":0");
        CHECK(run({"SMEMBERS", dst}) == "[a, b]");
        // To itself: 1 when a member, nothing changes.
        CHECK(run({"SMOVE", dst, dst, "a"}) == ":1");
        CHECK(run({"SMOVE", dst, dst, "z"}) == ":0");
        CHECK(run({"SMEMBERS", dst}) == "[a, b]");
        // Types: a missing source answers 0 before the destination's type is checked.
        CHECK(run({"SET", str, "v"}) == "OK");
        CHECK(run({"SMOVE", "nokey", str, "a"}) == ":0");
        CHECK(run({"SMOVE", dst, str, "a"}) == kWrongType);
        CHECK(run({"SMOVE", str, dst, "a"}) == kWrongType);
        CHECK(run({"SMEMBERS", dst}) == "[a, b]");
        CHECK(run({"SMOVE", dst, src}) == "-ERR wrong number of arguments for 'smove' command");
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("sets: SINTER SINTERSTORE SINTERCARD across shards") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("in", 4);
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        CHECK(run({"SADD", k[0], "a", "b", "c", "d", "e"}) == ":5");
        CHECK(run({"SADD", k[1], "b", "c", "d", "x"}) == ":4");
        CHECK(run({"SADD", k[2], "d", "c", "y"}) == ":3");
        CHECK(run({"SINTER", k[0], k[1], k[2]}) == "[c, d]");
        CHECK(run({"SINTER", k[0], k[1]}) == "[b, c, d]");
        CHECK(run({"SINTER", k[0]}) == "[a, b, c, d, e]");
        CHECK(run({"SINTER", k[0], k[0]}) == "[a, b, c, d, e]");
        CHECK(run({"SINTER", k[0], "nokey"}) == "[]");
        CHECK(run({"SINTERCARD", "3", k[0], k[1], k[2]}) == ":2");
        CHECK(run({"SINTERCARD", "2", k[0], k[1]}) == ":3");
        CHECK(run({"SINTERCARD", "2", k[0], k[1], "LIMIT", "2"}) == ":2");
        CHECK(run({"SINTERCARD", "2", k[0], k[1], "limit", "0"}) == ":3");
        CHECK(run({"SINTERCARD", "2", k[0], "nokey"}) == ":0");
        // STORE into a key of another shard, overwriting any type.
        CHECK(run({"SET", k[3], "string"}) == "OK");
        CHECK(run({"SINTERSTORE", k[3], k[0], k[1], k[2]}) == ":2");
        CHECK(run({"SMEMBERS", k[3]}) == "[c, d]");
        CHECK(run({"SINTERSTORE", k[3], k[3], k[1]}) == ":2");  // a source may be the destination
        CHECK(run({"SMEMBERS", k[3]}) == "[c, d]");
        CHECK(run({"SINTERSTORE", k[3], k[0], "nokey"}) == ":0");  // empty: deletes it
        CHECK(run({"EXISTS", k[3]}) == ":0");
        CHECK(run({"SINTERSTORE", k[3], k[1], k[2], "nokey"}) == ":0");
        CHECK(run({"EXISTS", k[3]}) == ":0");
        CHECK(run({"SADD", k[3], "q"}) == ":1");
        CHECK(run({"SINTERSTORE", k[3], k[0], k[2], k[1]}) == ":2");
        CHECK(run({"SMEMBERS", k[3]}) == "[c, d]");
        // RESP3: a set.
        CHECK(c("HELLO 3").starts_with("{"));
        CHECK(run({"SINTER", k[0], k[2]}) == "~[c, d]");
        CHECK(run({"SINTER", "nokey", k[2]}) == "~[]");
        CHECK(run({"SINTERCARD", "1", k[0]}) == ":5");
        // Types are checked in key order, even after a missing key.
        CHECK(run({"SET", "str", "v"}) == "OK");
        CHECK(run({"SINTER", "nokey", "str"}) == kWrongType);
        CHECK(run({"SINTER", k[0], "str"}) == kWrongType);
        CHECK(run({"SINTERSTORE", k[3], k[0], "str"}) == kWrongType);
        CHECK(run({"SMEMBERS", k[3]}) == "~[c, d]");  // untouched by the failed STORE
        CHECK(run({"SINTERCARD", "2", k[0], "str"}) == kWrongType);
        // SINTERCARD's arguments.
        CHECK(run({"SINTERCARD", "0", k[0]}) == "-ERR numkeys should be greater than 0");
        CHECK(run({"SINTERCARD", "x", k[0]}) == "-ERR numkeys should be greater than 0");
        CHECK(run({"SINTERCARD", "-1", k[0]}) == "-ERR numkeys should be greater than 0");
        CHECK(run({"SINTERCARD", "3", k[0], k[1]}) ==
              "-ERR Number of keys can't be greater than number of args");
        CHECK(run({"SINTERCARD", "1", k[0], "LIMIT", "-1"}) == "-ERR LIMIT can't be negative");
        CHECK(run({"SINTERCARD", "1", k[0], "LIMIT", "x"}) == "-ERR LIMIT can't be negative");
        CHECK(run({"SINTERCARD", "1", k[0], "LIMIT"}) == "-ERR syntax error");
        CHECK(run({"SINTERCARD", "1", k[0], k[1]}) == "-ERR syntax error");
        CHECK(run({"SINTERCARD", "1"}) == "-ERR wrong number of arguments for 'sintercard' command");
        CHECK(run({"SINTER"}) == "-ERR wrong number of arguments for 'sinter' command");
        CHECK(run({"SINTERSTORE", k[3]}) ==
              "-ERR wrong number of arguments for 'sinterstore' command");
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("sets: SINTERCARD LIMIT over sets larger than one chunk") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("big", 3);
        std::vector<std::string> small{"SADD", k[0]};
        std::vector<std::string> large{"SADD", k[1]};
        for (int i = 0; i < 3000; i++) {
          const std::string member = "m" + std::to_string(i);
          if (i % 3 != 0) small.push_back(member);  // 2000 members
          large.push_back(member);
        }
        large.push_back("only-large");
        CHECK(c.Run(small) == ":2000");
        CHECK(c.Run(large) == ":3001");
        CHECK(c.Run({"SINTERCARD", "2", k[0], k[1]}) == ":2000");
        CHECK(c.Run({"SINTERCARD", "2", k[1], k[0], "LIMIT", "0"}) == ":2000");
        CHECK(c.Run({"SINTERCARD", "2", k[0], k[1], "LIMIT", "5"}) == ":5");
        CHECK(c.Run({"SINTERCARD", "2", k[0], k[1], "LIMIT", "1500"}) == ":1500");
        CHECK(c.Run({"SINTERCARD", "2", k[0], k[1], "LIMIT", "1999"}) == ":1999");
        CHECK(c.Run({"SINTERCARD", "2", k[0], k[1], "LIMIT", "2000"}) == ":2000");
        CHECK(c.Run({"SINTERCARD", "2", k[0], k[1], "LIMIT", "5000"}) == ":2000");
        CHECK(c.Run({"SINTERSTORE", k[2], k[1], k[0]}) == ":2000");
        CHECK(c.Run({"SINTERCARD", "3", k[0], k[1], k[2], "LIMIT", "1100"}) == ":1100");
        CHECK(c.Run({"SDIFF", k[1], k[2], k[0]}).starts_with("[m0, m1002, m1005,"));
        CHECK(c.Run({"SCARD", k[2]}) == ":2000");
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("sets: SUNION SUNIONSTORE across shards") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("un", 4);
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        CHECK(run({"SADD", k[0], "a", "b"}) == ":2");
        CHECK(run({"SADD", k[1], "b", "c"}) == ":2");
        CHECK(run({"SADD", k[2], "d"}) == ":1");
        CHECK(run({"SUNION", k[0], k[1], k[2], "nokey"}) == "[a, b, c, d]");
        CHECK(run({"SUNION", "nokey"}) == "[]");
        CHECK(run({"HSET", k[3], "f", "v"}) == ":1");
        CHECK(run({"SUNIONSTORE", k[3], k[0], k[1]}) == ":3");
        CHECK(run({"TYPE", k[3]}) == "set");
        CHECK(run({"SMEMBERS", k[3]}) == "[a, b, c]");
        CHECK(run({"SUNIONSTORE", k[3], k[3], k[2]}) == ":4");
        CHECK(run({"SMEMBERS", k[3]}) == "[a, b, c, d]");
        CHECK(run({"SUNIONSTORE", k[3], "nokey", "nokey2"}) == ":0");
        CHECK(run({"EXISTS", k[3]}) == ":0");
        CHECK(c("HELLO 3").starts_with("{"));
        CHECK(run({"SUNION", k[0], k[2]}) == "~[a, b, d]");
        CHECK(run({"SET", "str", "v"}) == "OK");
        CHECK(run({"SUNION", k[0], "str"}) == kWrongType);
        CHECK(run({"SUNIONSTORE", k[3], k[0], "str"}) == kWrongType);
        CHECK(run({"EXISTS", k[3]}) == ":0");
        CHECK(run({"SUNION"}) == "-ERR wrong number of arguments for 'sunion' command");
        CHECK(run({"SUNIONSTORE", k[3]}) ==
              "-ERR wrong number of arguments for 'sunionstore' command");
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("sets: SDIFF SDIFFSTORE across shards") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("df", 4);
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        CHECK(run({"SADD", k[0], "a", "b", "c", "d"}) == ":4");
        CHECK(run({"SADD", k[1], "b"}) == ":1");          // smaller than the candidates
        CHECK(run({"SADD", k[2], "c", "x", "y", "z", "w"}) == ":5");  // larger
        CHECK(run({"SDIFF", k[0], k[1], k[2]}) == "[a, d]");
        CHECK(run({"SDIFF", k[0], "nokey"}) == "[a, b, c, d]");
        CHECK(run({"SDIFF", k[0]}) == "[a, b, c, d]");
        CHECK(run({"SDIFF", k[0], k[0]}) == "[]");
        CHECK(run({"SDIFF", "nokey", k[0]}) == "[]");
        CHECK(run({"SDIFF", k[1], k[0]}) == "[]");
        CHECK(run({"SDIFFSTORE", k[3], k[0], k[1], k[2]}) == ":2");
        CHECK(run({"SMEMBERS", k[3]}) == "[a, d]");
        CHECK(run({"SDIFFSTORE", k[3], k[3], k[0]}) == ":0");
        CHECK(run({"EXISTS", k[3]}) == ":0");
        CHECK(run({"SDIFFSTORE", k[3], k[2], k[0]}) == ":4");
        CHECK(run({"SMEMBERS", k[3]}) == "[w, x, y, z]");
        CHECK(c("HELLO 3").starts_with("{"));
        CHECK(run({"SDIFF", k[0], k[2]}) == "~[a, b, d]");
        CHECK(run({"SET", "str", "v"}) == "OK");
        CHECK(run({"SDIFF", "nokey", "str"}) == kWrongType);
        CHECK(run({"SDIFF", "str", k[0]}) == kWrongType);
        CHECK(run({"SDIFFSTORE", k[3], k[0], "str"}) == kWrongType);
        CHECK(run({"SDIFF"}) == "-ERR wrong number of arguments for 'sdiff' command");
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("sets: random operations across shards agree with a model") {
  WithServer(
      [](Client& c) {
        const auto keys = KeysOnDifferentShards("model", kShards);
        std::vector<std::set<std::string>> model(keys.size());
        std::mt19937 random(12345);  // fixed: the run replays
        auto pick = [&](size_t n) { return static_cast<size_t>(random() % n); };
        auto member = [&] { return std::string(1, static_cast<char>('a' + pick(8))); };
        // The model's set as the server prints it (members in byte order).
        auto text = [](const std::set<std::string>& set) {
          std::string out = "[";
          for (const std::string& m : set) out += (out.size() > 1 ? ", " : "") + m;
          return out + "]";
        };
        for (int step = 0; step < 300; step++) {
          const size_t a = pick(keys.size());
          const size_t b = pick(keys.size());
          const size_t d = pick(keys.size());
          std::set<std::string> inter;
          std::set<std::string> uni;
          std::set<std::string> diff;
          auto compute = [&] {
            inter.clear();
            diff.clear();
            uni = model[a];
            uni.insert(model[b].begin(), model[b].end());
            for (const std::string& m : model[a]) (model[b].contains(m) ? inter : diff).insert(m);
          };
          compute();
          switch (pick(7)) {
            case 0:
            case 1: {
              const std::string m = member();
              CHECK(c.Run({"SADD", keys[a], m}) == (model[a].insert(m).second ? ":1" : ":0"));
              break;
            }
            case 2: {
              const std::string m = member();
              CHECK(c.Run({"SREM", keys[a], m}) == (model[a].erase(m) ? ":1" : ":0"));
              break;
            }
            case 3: {
              const std::string m = member();
              const bool moves = model[a].contains(m);
              CHECK(c.Run({"SMOVE", keys[a], keys[b], m}) == (moves ? ":1" : ":0"));
              if (moves) {
                model[a].erase(m);
                model[b].insert(m);
              }
              break;
            }
            case 4:
              CHECK(c.Run({"SINTERSTORE", keys[d], keys[a], keys[b]}) ==
                    ":" + std::to_string(inter.size()));
              model[d] = inter;
              break;
            case 5:
              CHECK(c.Run({"SUNIONSTORE", keys[d], keys[a], keys[b]}) ==
                    ":" + std::to_string(uni.size()));
              model[d] = uni;
              break;
            case 6:
              CHECK(c.Run({"SDIFFSTORE", keys[d], keys[a], keys[b]}) ==
                    ":" + std::to_string(diff.size()));
              model[d] = diff;
              break;
          }
          compute();  // after the change
          CHECK(c.Run({"SINTER", keys[a], keys[b]}) == text(inter));
          CHECK(c.Run({"SUNION", keys[a], keys[b]}) == text(uni));
          CHECK(c.Run({"SDIFF", keys[a], keys[b]}) == text(diff));
          CHECK(c.Run({"SINTERCARD", "2", keys[a], keys[b], "LIMIT", "2"}) ==
                ":" + std::to_string(std::min<size_t>(inter.size(), 2)));
          for (size_t i = 0; i < keys.size(); i++) {
            INFO("step " << step << " key " << i);
            CHECK(c.Run({"SMEMBERS", keys[i]}) == text(model[i]));
            CHECK(c.Run({"EXISTS", keys[i]}) == (model[i].empty() ? ":0" : ":1"));
          }
        }
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("sets: STORE and SMOVE invalidate WATCH on the destination's shard") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("w", 3);
        auto run = [&](Client& client, std::vector<std::string> args) {
          return client.Run(std::move(args));
        };
        auto other = c.Connect(1);
        CHECK(run(c, {"SADD", k[0], "a"}) == ":1");
        CHECK(run(c, {"WATCH", k[1]}) == "OK");
        CHECK(run(*other, {"SUNIONSTORE", k[1], k[0]}) == ":1");
        CHECK(run(c, {"MULTI"}) == "OK");
        CHECK(run(c, {"SCARD", k[1]}) == "QUEUED");
        CHECK(run(c, {"EXEC"}) == "(nil)");
        CHECK(run(c, {"WATCH", k[2]}) == "OK");
        CHECK(run(*other, {"SMOVE", k[0], k[2], "a"}) == ":1");
        CHECK(run(c, {"MULTI"}) == "OK");
        CHECK(run(c, {"SCARD", k[2]}) == "QUEUED");
        CHECK(run(c, {"EXEC"}) == "(nil)");
        // Inside MULTI the commands run atomically across shards.
        CHECK(run(c, {"MULTI"}) == "OK");
        CHECK(run(c, {"SINTERSTORE", k[1], k[2], k[1]}) == "QUEUED");
        CHECK(run(c, {"SMEMBERS", k[1]}) == "QUEUED");
        CHECK(run(c, {"EXEC"}) == "[:1, [a]]");
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("sets: keyspace events as Redis names them, across shards") {
  WithServer(
      [](Client& c) {
        const auto k = KeysOnDifferentShards("ev", 3);
        auto other = c.Connect(1);
        Client& s = *other;
        CHECK(s("PSUBSCRIBE __keyevent@0__:*") == "[psubscribe, __keyevent@0__:*, :1]");
        CHECK(c("CONFIG SET notify-keyspace-events EA") == "OK");
        using Seen = std::vector<std::string>;
        auto run = [&](std::vector<std::string> args) { return c.Run(std::move(args)); };
        CHECK(run({"SADD", k[0], "a", "b", "c"}) == ":3");
        CHECK(run({"SADD", k[0], "a"}) == ":0");
        CHECK(run({"SREM", k[0], "zz"}) == ":0");
        CHECK(KeyEvents(s) == Seen{"sadd " + k[0]});
        CHECK(run({"SREM", k[0], "a"}) == ":1");
        CHECK(KeyEvents(s) == Seen{"srem " + k[0]});
        CHECK(run({"SMOVE", k[0], k[1], "b"}) == ":1");
        CHECK(KeyEvents(s) == Seen{"sadd " + k[1], "srem " + k[0]});
        CHECK(run({"SMOVE", k[0], k[1], "c"}) == ":1");  // empties the source
        CHECK(KeyEvents(s) == Seen{"del " + k[0], "sadd " + k[1], "srem " + k[0]});
        CHECK(run({"SPOP", k[1]}).size() == 1);
        CHECK(KeyEvents(s) == Seen{"spop " + k[1]});
        CHECK(run({"SPOP", k[1], "5"}).size() == 3);  // the last one: the key goes
        CHECK(KeyEvents(s) == Seen{"del " + k[1], "spop " + k[1]});
        CHECK(run({"SADD", k[0], "x"}) == ":1");
        CHECK(run({"SUNIONSTORE", k[2], k[0], k[1]}) == ":1");
        CHECK(run({"SINTERSTORE", k[2], k[0], k[2]}) == ":1");
        CHECK(run({"SDIFFSTORE", k[2], k[0], k[1]}) == ":1");
        CHECK(KeyEvents(s) == Seen{"sadd " + k[0], "sdiffstore " + k[2], "sinterstore " + k[2],
                                "sunionstore " + k[2]});
        CHECK(run({"SDIFFSTORE", k[2], k[0], k[0]}) == ":0");  // empty result: deleted
        CHECK(run({"SDIFFSTORE", k[2], k[0], k[0]}) == ":0");  // nothing to delete: no event
        CHECK(KeyEvents(s) == Seen{"del " + k[2]});
      },
      ServerOptions{.shards = kShards});
}

TEST_CASE("sets: SSCAN") {
  WithServer([](Client& c) {
    CHECK(c("SSCAN nokey 0") == "[0, []]");
    std::vector<std::string> sadd{"SADD", "s"};
    std::set<std::string> expected;
    for (int i = 0; i < 25; i++) {
      std::string member = "member:" + std::to_string(i);  // 8-byte prefixes shared by many
      sadd.push_back(member);
      expected.insert(member);
    }
    CHECK(c.Run(sadd) == ":25");
    for (int count : {1, 7, 1000}) {
      std::set<std::string> seen;
      std::string cursor = "0";
      int calls = 0;
      do {
        net::Reply page = c.RunReply({"SSCAN", "s", cursor, "COUNT", std::to_string(count)});
        REQUIRE(page.elements.size() == 2);
        cursor = page.elements[0].text;
        for (const auto& item : page.elements[1].elements) seen.insert(item.text);
      } while (cursor != "0" && ++calls < 100);
      CHECK(calls < 100);
      CHECK(seen == expected);
    }
    CHECK(c("SSCAN s 0 MATCH member:1? COUNT 1000") ==
          "[0, [member:10, member:11, member:12, member:13, member:14, member:15, member:16, "
          "member:17, member:18, member:19]]");
    CHECK(c("SSCAN s 0 COUNT -1") == "-ERR syntax error");
    CHECK(c("SSCAN s abc") == "-ERR invalid cursor");
    CHECK(c("SSCAN s 0 MATCH") == "-ERR syntax error");
    CHECK(c("SSCAN s") == "-ERR wrong number of arguments for 'sscan' command");
    CHECK(c("SET str v") == "OK");
    CHECK(c("SSCAN str 0") == kWrongType);
  });
}

}  // namespace tierkv::server
