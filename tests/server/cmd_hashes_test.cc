// Hash commands through the command harness (tests/server/command_harness.h), with the replies
// and error texts redis-server 7.0 sends.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "net/reply.h"
#include "tests/server/command_harness.h"

namespace tierkv::server {
namespace {

using testing::Client;
using testing::KeyEventsInOrder;
using testing::WithServer;

constexpr const char* kWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value";

// The elements of an array reply as text.
std::vector<std::string> Elements(const net::Reply& reply) {
  std::vector<std::string> out;
  for (const net::Reply& element : reply.elements) out.push_back(element.ToString());
  return out;
}

}  // namespace

TEST_CASE("hashes: HSET HMSET HGET HSETNX") {
  WithServer([](Client& c) {
    CHECK(c("HSET h a 1 b 2") == ":2");
    CHECK(c("HSET h a 10 c 3") == ":1");  // a updated, c added
    CHECK(c("HGET h a") == "10");
    CHECK(c("HGET h c") == "3");
    CHECK(c("HGET h missing") == "(nil)");
    CHECK(c("HGET nokey a") == "(nil)");
    CHECK(c.Run({"HSET", "h", "sp ace", ""}) == ":1");
    CHECK(c.Run({"HGET", "h", "sp ace"}) == "");
    CHECK(c("HSET h x 1 x 2") == ":1");  // the last value of a repeated field wins
    CHECK(c("HGET h x") == "2");
    CHECK(c("HMSET h d 4 e 5") == "OK");
    CHECK(c("HGET h e") == "5");
    CHECK(c("HSETNX h a 99") == ":0");
    CHECK(c("HGET h a") == "10");
    CHECK(c("HSETNX h new v") == ":1");
    CHECK(c("HGET h new") == "v");
    CHECK(c("HSETNX fresh f v") == ":1");
    CHECK(c("TYPE fresh") == "hash");
    // Arity: an odd field/value count is refused by the command itself.
    CHECK(c("HSET h a 1 b") == "-ERR wrong number of arguments for 'hset' command");
    CHECK(c("HMSET h a 1 b") == "-ERR wrong number of arguments for 'hmset' command");
    CHECK(c("HSET h a") == "-ERR wrong number of arguments for 'hset' command");
    CHECK(c("HGET h") == "-ERR wrong number of arguments for 'hget' command");
    CHECK(c("HSETNX h a") == "-ERR wrong number of arguments for 'hsetnx' command");
    CHECK(c("SET s v") == "OK");
    CHECK(c("HSET s a 1") == kWrongType);
    CHECK(c("HMSET s a 1") == kWrongType);
    CHECK(c("HSETNX s a 1") == kWrongType);
    CHECK(c("HGET s a") == kWrongType);
    CHECK(c("GET s") == "v");
  });
}

TEST_CASE("hashes: HMGET HEXISTS HSTRLEN HLEN") {
  WithServer([](Client& c) {
    CHECK(c("HSET h a 1 b hello") == ":2");
    CHECK(c("HMGET h a nope b") == "[1, (nil), hello]");
    CHECK(c("HMGET nokey a b") == "[(nil), (nil)]");
    CHECK(c("HEXISTS h a") == ":1");
    CHECK(c("HEXISTS h z") == ":0");
    CHECK(c("HEXISTS nokey a") == ":0");
    CHECK(c("HSTRLEN h b") == ":5");
    CHECK(c("HSTRLEN h z") == ":0");
    CHECK(c("HSTRLEN nokey z") == ":0");
    CHECK(c("HLEN h") == ":2");
    CHECK(c("HLEN nokey") == ":0");
    CHECK(c("HMGET h") == "-ERR wrong number of arguments for 'hmget' command");
    CHECK(c("HLEN h x") == "-ERR wrong number of arguments for 'hlen' command");
    CHECK(c("SET s v") == "OK");
    CHECK(c("HMGET s a") == kWrongType);
    CHECK(c("HEXISTS s a") == kWrongType);
    CHECK(c("HSTRLEN s a") == kWrongType);
    CHECK(c("HLEN s") == kWrongType);
  });
}

TEST_CASE("hashes: HDEL deletes the key with its last field") {
  WithServer([](Client& c) {
    CHECK(c("HSET h a 1 b 2 c 3") == ":3");
    CHECK(c("HDEL h a nope a") == ":1");
    CHECK(c("HLEN h") == ":2");
    CHECK(c("HDEL nokey a") == ":0");
    CHECK(c("HDEL h b c") == ":2");
    CHECK(c("EXISTS h") == ":0");
    CHECK(c("TYPE h") == "none");
    CHECK(c("HDEL h") == "-ERR wrong number of arguments for 'hdel' command");
    CHECK(c("SET s v") == "OK");
    CHECK(c("HDEL s a") == kWrongType);
  });
}

TEST_CASE("hashes: HKEYS HVALS HGETALL in RESP2 and RESP3") {
  WithServer([](Client& c) {
    CHECK(c("HSET h b 2 a 1 c 3") == ":3");
    // Fields come in byte order.
    CHECK(c("HKEYS h") == "[a, b, c]");
    CHECK(c("HVALS h") == "[1, 2, 3]");
    CHECK(c("HGETALL h") == "[a, 1, b, 2, c, 3]");
    CHECK(c("HKEYS nokey") == "[]");
    CHECK(c("HVALS nokey") == "[]");
    CHECK(c("HGETALL nokey") == "[]");
    CHECK(c.RunRaw({"HGETALL", "nokey"}) == "*0\r\n");
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c("HGETALL h") == "{a: 1, b: 2, c: 3}");
    CHECK(c.RunRaw({"HGETALL", "nokey"}) == "%0\r\n");
    CHECK(c("HKEYS h") == "[a, b, c]");
    CHECK(c("HGETALL h x") == "-ERR wrong number of arguments for 'hgetall' command");
    CHECK(c("SET s v") == "OK");
    CHECK(c("HKEYS s") == kWrongType);
    CHECK(c("HVALS s") == kWrongType);
    CHECK(c("HGETALL s") == kWrongType);
  });
}

TEST_CASE("hashes: HINCRBY") {
  WithServer([](Client& c) {
    CHECK(c("HINCRBY h n 5") == ":5");
    CHECK(c("HINCRBY h n -7") == ":-2");
    CHECK(c("HGET h n") == "-2");
    CHECK(c("HSET h big 9223372036854775806 text abc") == ":2");
    CHECK(c.Run({"HSET", "h", "sp", " 1"}) == ":1");
    CHECK(c("HINCRBY h big 1") == ":9223372036854775807");
    CHECK(c("HINCRBY h big 1") == "-ERR increment or decrement would overflow");
    CHECK(c("HSET h small -9223372036854775807") == ":1");
    CHECK(c("HINCRBY h small -1") == ":-9223372036854775808");
    CHECK(c("HINCRBY h small -1") == "-ERR increment or decrement would overflow");
    CHECK(c("HINCRBY h text 1") == "-ERR hash value is not an integer");
    CHECK(c("HINCRBY h sp 1") == "-ERR hash value is not an integer");
    CHECK(c("HINCRBY h n x") == "-ERR value is not an integer or out of range");
    CHECK(c("HINCRBY h n 1.5") == "-ERR value is not an integer or out of range");
    CHECK(c("HINCRBY h n 99999999999999999999") == "-ERR value is not an integer or out of range");
    CHECK(c("HGET h n") == "-2");
    CHECK(c("HINCRBY h n") == "-ERR wrong number of arguments for 'hincrby' command");
    CHECK(c("SET s v") == "OK");
    CHECK(c("HINCRBY s n 1") == kWrongType);
    // The increment is parsed first, as in Redis.
    CHECK(c("HINCRBY s n x") == "-ERR value is not an integer or out of range");
  });
}

TEST_CASE("hashes: HINCRBYFLOAT") {
  WithServer([](Client& c) {
    CHECK(c("HINCRBYFLOAT h f 10.5") == "10.5");
    CHECK(c("HINCRBYFLOAT h f 0.1") == "10.6");
    CHECK(c("HINCRBYFLOAT h f -10.6") == "0");
    CHECK(c("HGET h f") == "0");
    CHECK(c("HSET h i 5") == ":1");
    CHECK(c("HINCRBYFLOAT h i 2") == "7");
    CHECK(c("HINCRBYFLOAT h i 1e3") == "1007");
    CHECK(c("HINCRBYFLOAT h i -2000.25") == "-993.25");
    CHECK(c("HSET h e 5.0e3") == ":1");
    CHECK(c("HINCRBYFLOAT h e 2.0e2") == "5200");
    CHECK(c("HSET h text abc") == ":1");
    CHECK(c("HINCRBYFLOAT h text 1") == "-ERR hash value is not a float");
    CHECK(c("HINCRBYFLOAT h f abc") == "-ERR value is not a valid float");
    CHECK(c("HINCRBYFLOAT h f nan") == "-ERR value is not a valid float");
    CHECK(c("HINCRBYFLOAT h f inf") == "-ERR increment would produce NaN or Infinity");
    CHECK(c.Run({"HINCRBYFLOAT", "h", "f", " 1"}) == "-ERR value is not a valid float");
    CHECK(c("HGET h f") == "0");
    CHECK(c("SET s v") == "OK");
    CHECK(c("HINCRBYFLOAT s f 1") == kWrongType);
    CHECK(c("HINCRBYFLOAT h f") == "-ERR wrong number of arguments for 'hincrbyfloat' command");
  });
}

TEST_CASE("hashes: HRANDFIELD") {
  WithServer([](Client& c) {
    CHECK(c("HRANDFIELD nokey") == "(nil)");
    CHECK(c("HRANDFIELD nokey 5") == "[]");
    CHECK(c("HRANDFIELD nokey 5 WITHVALUES") == "[]");
    CHECK(c("HSET h a 1 b 2 c 3 d 4 e 5") == ":5");
    const std::set<std::string> fields{"a", "b", "c", "d", "e"};
    for (int i = 0; i < 20; i++) CHECK(fields.contains(c("HRANDFIELD h")));
    CHECK(c("HRANDFIELD h 0") == "[]");
    // Positive count: distinct fields, at most the hash's size.
    for (int count : {1, 2, 3, 4}) {
      std::vector<std::string> got = Elements(c.RunReply({"HRANDFIELD", "h", std::to_string(count)}));
      CHECK(got.size() == static_cast<size_t>(count));
      std::set<std::string> distinct(got.begin(), got.end());
      CHECK(distinct.size() == got.size());
      for (const std::string& field : got) CHECK(fields.contains(field));
    }
    CHECK(c("HRANDFIELD h 5") == "[a, b, c, d, e]");
    CHECK(c("HRANDFIELD h 100") == "[a, b, c, d, e]");
    // Negative count: exactly -count fields, repeats allowed.
    std::vector<std::string> repeated = Elements(c.RunReply({"HRANDFIELD", "h", "-50"}));
    CHECK(repeated.size() == 50);
    for (const std::string& field : repeated) CHECK(fields.contains(field));
    CHECK(std::set<std::string>(repeated.begin(), repeated.end()).size() > 1);
    // WITHVALUES: flat pairs in RESP2, each field with its own value.
    std::vector<std::string> pairs = Elements(c.RunReply({"HRANDFIELD", "h", "-6", "withvalues"}));
    REQUIRE(pairs.size() == 12);
    for (size_t i = 0; i < pairs.size(); i += 2) {
      CHECK(c.Run({"HGET", "h", pairs[i]}) == pairs[i + 1]);
    }
    CHECK(Elements(c.RunReply({"HRANDFIELD", "h", "3", "WITHVALUES"})).size() == 6);
    // RESP3: each pair is an array of two.
    CHECK(c("HELLO 3").starts_with("{"));
    net::Reply nested = c.RunReply({"HRANDFIELD", "h", "-3", "WITHVALUES"});
    REQUIRE(nested.elements.size() == 3);
    for (const net::Reply& pair : nested.elements) {
      REQUIRE(pair.kind == net::Reply::Kind::kArray);
      REQUIRE(pair.elements.size() == 2);
      CHECK(c.Run({"HGET", "h", pair.elements[0].text}) == pair.elements[1].text);
    }
    CHECK(c("HRANDFIELD h 10 WITHVALUES") == "[[a, 1], [b, 2], [c, 3], [d, 4], [e, 5]]");
    CHECK(c("HRANDFIELD nokey") == "(nil)");
    // Errors.
    CHECK(c("HRANDFIELD h x") == "-ERR value is not an integer or out of range");
    CHECK(c("HRANDFIELD h 1 WITHVALUE") == "-ERR syntax error");
    CHECK(c("HRANDFIELD h 1 WITHVALUES x") == "-ERR syntax error");
    CHECK(c("HRANDFIELD h -9223372036854775808") ==
          "-ERR value is out of range, must be between -9223372036854775807 and "
          "9223372036854775807");
    CHECK(c("HRANDFIELD h -9223372036854775807 WITHVALUES") == "-ERR value is out of range");
    CHECK(c("HRANDFIELD") == "-ERR wrong number of arguments for 'hrandfield' command");
    CHECK(c("SET s v") == "OK");
    CHECK(c("HRANDFIELD s") == kWrongType);
    CHECK(c("HRANDFIELD s 3") == kWrongType);
  });
}

TEST_CASE("hashes: keyspace events as Redis names them") {
  WithServer([](Client& c) {
    auto other = c.Connect(1);
    Client& s = *other;
    CHECK(s("PSUBSCRIBE __keyevent@0__:*") == "[psubscribe, __keyevent@0__:*, :1]");
    CHECK(c("CONFIG SET notify-keyspace-events EA") == "OK");
    using Seen = std::vector<std::string>;
    CHECK(c("HSET h a 1 b 2") == ":2");
    CHECK(c("HMSET h a 3") == "OK");
    CHECK(c("HSETNX h a 1") == ":0");  // nothing changed: no event
    CHECK(c("HSETNX h c 1") == ":1");
    CHECK(KeyEventsInOrder(s) == Seen{"hset h", "hset h", "hset h"});
    CHECK(c("HINCRBY h a 1") == ":4");
    CHECK(c("HINCRBYFLOAT h a 0.5") == "4.5");
    CHECK(c("HINCRBY h b x") == "-ERR value is not an integer or out of range");
    CHECK(c("HGET h a") == "4.5");
    CHECK(KeyEventsInOrder(s) == Seen{"hincrby h", "hincrbyfloat h"});
    CHECK(c("HDEL h nope") == ":0");
    CHECK(c("HDEL h a") == ":1");
    CHECK(c("HDEL h b c") == ":2");
    CHECK(KeyEventsInOrder(s) == Seen{"hdel h", "hdel h", "del h"});
  });
}

TEST_CASE("hashes: random operations agree with a model, and HSCAN pages cover it") {
  WithServer([](Client& c) {
    std::map<std::string, std::string> model;
    std::mt19937 random(777);  // fixed: the run replays
    auto pick = [&](size_t n) { return static_cast<size_t>(random() % n); };
    // Fields with long shared prefixes too, so HSCAN cursors (8 bytes) collide.
    auto field = [&] { return (pick(2) == 0 ? "f" : "longprefix:") + std::to_string(pick(40)); };
    for (int step = 0; step < 400; step++) {
      const std::string f = field();
      switch (pick(4)) {
        case 0:
        case 1: {
          const std::string v = std::to_string(pick(1000));
          CHECK(c.Run({"HSET", "h", f, v}) == (model.contains(f) ? ":0" : ":1"));
          model[f] = v;
          break;
        }
        case 2:
          CHECK(c.Run({"HDEL", "h", f}) == (model.erase(f) ? ":1" : ":0"));
          break;
        case 3: {
          const int64_t old = model.contains(f) ? std::stoll(model[f]) : 0;
          model[f] = std::to_string(old + 3);
          CHECK(c.Run({"HINCRBY", "h", f, "3"}) == ":" + model[f]);
          break;
        }
      }
      if (step % 20 != 19) continue;
      INFO("step " << step);
      CHECK(c("HLEN h") == ":" + std::to_string(model.size()));
      std::string all = "[";
      for (const auto& [k, v] : model) all += (all.size() > 1 ? ", " : "") + k + ", " + v;
      CHECK(c("HGETALL h") == all + "]");
      std::map<std::string, std::string> scanned;
      std::string cursor = "0";
      int calls = 0;
      do {
        net::Reply page = c.RunReply({"HSCAN", "h", cursor, "COUNT", "3"});
        REQUIRE(page.elements.size() == 2);
        cursor = page.elements[0].text;
        const auto& items = page.elements[1].elements;
        for (size_t i = 0; i + 1 < items.size(); i += 2) scanned[items[i].text] = items[i + 1].text;
      } while (cursor != "0" && ++calls < 200);
      CHECK(calls < 200);
      CHECK(scanned == model);
    }
  });
}

TEST_CASE("hashes: HSCAN returns every field once the cursor is back at 0") {
  WithServer([](Client& c) {
    CHECK(c("HSCAN nokey 0") == "[0, []]");
    CHECK(c("HSCAN nokey 0 COUNT 0") == "[0, []]");  // options are not read for a missing key
    // Fields sharing their first 8 bytes (the cursor's precision) and short ones.
    std::set<std::string> expected;
    std::vector<std::string> hset{"HSET", "h"};
    for (int i = 0; i < 30; i++) {
      std::string field = (i % 3 == 0 ? "samepref" : "f") + std::to_string(i);
      expected.insert(field);
      hset.push_back(field);
      hset.push_back("v" + std::to_string(i));
    }
    hset.push_back(std::string("\0", 1));
    hset.push_back("zero");
    expected.insert(std::string("\0", 1));
    CHECK(c.Run(hset) == ":31");
    for (int count : {1, 3, 10, 100}) {
      std::set<std::string> seen;
      std::string cursor = "0";
      int calls = 0;
      do {
        net::Reply page = c.RunReply({"HSCAN", "h", cursor, "COUNT", std::to_string(count)});
        REQUIRE(page.elements.size() == 2);
        cursor = page.elements[0].text;
        const auto& items = page.elements[1].elements;
        REQUIRE(items.size() % 2 == 0);
        for (size_t i = 0; i < items.size(); i += 2) {
          seen.insert(items[i].text);
          CHECK(c.Run({"HGET", "h", items[i].text}) == items[i + 1].text);
        }
      } while (cursor != "0" && ++calls < 100);
      CHECK(calls < 100);
      CHECK(seen == expected);
    }
    // MATCH filters by field.
    std::set<std::string> matched;
    std::string cursor = "0";
    int calls = 0;
    do {
      net::Reply page = c.RunReply({"HSCAN", "h", cursor, "MATCH", "samepref*", "COUNT", "4"});
      cursor = page.elements[0].text;
      const auto& items = page.elements[1].elements;
      for (size_t i = 0; i < items.size(); i += 2) matched.insert(items[i].text);
    } while (cursor != "0" && ++calls < 100);
    CHECK(matched.size() == 10);
    for (const std::string& field : matched) CHECK(field.starts_with("samepref"));
    // Errors.
    CHECK(c("HSCAN h x") == "-ERR invalid cursor");
    CHECK(c("HSCAN h 18446744073709551616") == "-ERR invalid cursor");
    CHECK(c("HSCAN h -") == "-ERR invalid cursor");
    CHECK(c("HSCAN h 1x") == "-ERR invalid cursor");
    CHECK(c.Run({"HSCAN", "h", " 1"}) == "-ERR invalid cursor");
    // strtoul's forms, as Redis takes them: a sign, a negative wrapping around, "" as 0.
    CHECK(c.Run({"HSCAN", "h", "", "COUNT", "100"}) == c("HSCAN h 0 COUNT 100"));
    CHECK(c("HSCAN h +0 COUNT 100") == c("HSCAN h 0 COUNT 100"));
    CHECK(c("HSCAN h -1") == c("HSCAN h 18446744073709551615"));
    CHECK(c("HSCAN h 0 COUNT 0") == "-ERR syntax error");
    CHECK(c("HSCAN h 0 COUNT x") == "-ERR value is not an integer or out of range");
    CHECK(c("HSCAN h 0 COUNT") == "-ERR syntax error");
    CHECK(c("HSCAN h 0 TYPE string") == "-ERR syntax error");
    CHECK(c("HSCAN h") == "-ERR wrong number of arguments for 'hscan' command");
    CHECK(c("SET s v") == "OK");
    CHECK(c("HSCAN s 0") == kWrongType);
  });
}

TEST_CASE("hashes: HSCAN misses no field present throughout while others are deleted") {
  WithServer([](Client& c) {
    std::vector<std::string> hset{"HSET", "h"};
    for (int i = 0; i < 40; i++) {
      hset.push_back("field" + std::to_string(100 + i));
      hset.push_back("v");
    }
    CHECK(c.Run(hset) == ":40");
    std::set<std::string> seen;
    std::string cursor = "0";
    int calls = 0;
    int deleted = 0;
    do {
      net::Reply page = c.RunReply({"HSCAN", "h", cursor, "COUNT", "5"});
      cursor = page.elements[0].text;
      const auto& items = page.elements[1].elements;
      for (size_t i = 0; i < items.size(); i += 2) seen.insert(items[i].text);
      // Delete an already returned field (odd ones), shifting every later position.
      for (const auto& item : items) {
        if (item.text.starts_with("field") && (item.text.back() - '0') % 2 == 1) {
          deleted += c.Run({"HDEL", "h", item.text}) == ":1" ? 1 : 0;
        }
      }
    } while (cursor != "0" && ++calls < 100);
    CHECK(deleted == 20);
    for (int i = 0; i < 40; i += 2) CHECK(seen.contains("field" + std::to_string(100 + i)));
  });
}

}  // namespace tierkv::server
