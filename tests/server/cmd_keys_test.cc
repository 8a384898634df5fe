// Generic key commands through the command harness (tests/server/command_harness.h): Redis 7.0's
// replies and errors, keys spread over 4 shards for the multi-key and keyspace commands.
// Collections are made with RESTORE of payloads built here (the format of tiers/types.cc), so these
// tests do not depend on the other families' commands.
#include <doctest/doctest.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "tests/server/command_harness.h"

namespace tierkv::server {
namespace {

using testing::Client;
using testing::KeyEventsInOrder;
using testing::ServerOptions;
using testing::WithServer;

const ServerOptions kFourShards{.shards = 4};

void PutBE(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; i--) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// A DUMP payload: type (1 string, 2 hash, 3 list, 4 set, 5 zset), element count, items.
std::string Payload(int type, const std::vector<std::string>& items, size_t per_element = 1) {
  std::string out(1, static_cast<char>(type));
  PutBE(out, items.size() / per_element, 8);
  for (const std::string& item : items) {
    PutBE(out, item.size(), 4);
    out += item;
  }
  out.push_back(1);  // format version 1, little-endian
  out.push_back(0);
  const uint64_t hash = XXH64(out.data(), out.size(), 0);
  for (int i = 0; i < 8; i++) out.push_back(static_cast<char>((hash >> (8 * i)) & 0xff));
  return out;
}

// A sorted-set score in the payload's 8-byte order-preserving form.
std::string Score(double score) {
  uint64_t bits;
  std::memcpy(&bits, &score, 8);
  bits = (bits & (uint64_t{1} << 63)) ? ~bits : bits | (uint64_t{1} << 63);
  std::string out;
  PutBE(out, bits, 8);
  return out;
}

std::string HashPayload() { return Payload(2, {"f1", "v1", "f2", "v2"}, 2); }
std::string ListPayload() { return Payload(3, {"c", "a", "b"}); }
std::string SetPayload() { return Payload(4, {"1", "2", "3"}); }
std::string ZSetPayload() { return Payload(5, {"m1", Score(1.5), "m2", Score(-2)}, 2); }

// Makes `key` a collection of `type` ("hash", "list", "set", "zset") through RESTORE.
void Make(Client& c, const std::string& key, std::string_view type) {
  std::string payload = type == "hash"   ? HashPayload()
                        : type == "list" ? ListPayload()
                        : type == "set"  ? SetPayload()
                                         : ZSetPayload();
  REQUIRE(c.Run({"RESTORE", key, "0", payload}) == "OK");
}

// The keys of a SCAN iteration, bounded by `max_calls`.
std::vector<std::string> ScanAll(Client& c, const std::vector<std::string>& options,
                                 int max_calls = 10000) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  for (int call = 0; call < max_calls; call++) {
    std::vector<std::string> args{"SCAN", cursor};
    args.insert(args.end(), options.begin(), options.end());
    net::Reply reply = c.RunReply(args);
    REQUIRE(reply.elements.size() == 2);
    for (const net::Reply& key : reply.elements[1].elements) keys.push_back(key.text);
    cursor = reply.elements[0].text;
    if (cursor == "0") return keys;
  }
  FAIL("SCAN did not finish");
  return keys;
}

// Ends a test whose last commands locked keys on other shards with a round trip to every shard
// (the harness's Server::Stop also waits for posted unlocks).
void Settle(Client& c) { CHECK(c("DBSIZE").starts_with(":")); }

}  // namespace

TEST_CASE("keys: TYPE of every type") {
  WithServer([](Client& c) {
    CHECK(c("TYPE k") == "none");
    CHECK(c("SET k v") == "OK");
    CHECK(c("TYPE k") == "string");
    for (std::string type : {"hash", "list", "set", "zset"}) {
      Make(c, type, type);
      CHECK(c.Run({"TYPE", type}) == type);
    }
    CHECK(c("TYPE") == "-ERR wrong number of arguments for 'type' command");
    CHECK(c("TYPE a b") == "-ERR wrong number of arguments for 'type' command");
  });
}

TEST_CASE("keys: DEL UNLINK EXISTS TOUCH across shards, repeated keys, any type") {
  WithServer([](Client& c) {
    for (int i = 0; i < 8; i++) REQUIRE(c.Run({"SET", "k" + std::to_string(i), "v"}) == "OK");
    Make(c, "h", "hash");
    CHECK(c("EXISTS k0 k1 k2 k3 k4 k5 k6 k7 h nope") == ":9");
    CHECK(c("EXISTS k0 k0 k0") == ":3");  // each occurrence counts
    CHECK(c("TOUCH k0 k1 nope") == ":2");
    CHECK(c("DEL k0 k1 nope k1") == ":2");
    CHECK(c("EXISTS k0 k1") == ":0");
    CHECK(c("UNLINK k2 k3 h") == ":3");
    CHECK(c("EXISTS k2 k3 h") == ":0");
    CHECK(c("TYPE h") == "none");
    CHECK(c("DEL") == "-ERR wrong number of arguments for 'del' command");
    CHECK(c("UNLINK") == "-ERR wrong number of arguments for 'unlink' command");
    CHECK(c("EXISTS") == "-ERR wrong number of arguments for 'exists' command");
    CHECK(c("TOUCH") == "-ERR wrong number of arguments for 'touch' command");
    Settle(c);
  }, kFourShards);
}

TEST_CASE("keys: EXPIRE PEXPIRE EXPIREAT PEXPIREAT, TTL PTTL EXPIRETIME PEXPIRETIME") {
  WithServer([](Client& c) {
    CHECK(c("EXPIRE nope 100") == ":0");
    CHECK(c("TTL nope") == ":-2");
    CHECK(c("PTTL nope") == ":-2");
    CHECK(c("EXPIRETIME nope") == ":-2");
    CHECK(c("PEXPIRETIME nope") == ":-2");
    CHECK(c("SET k v") == "OK");
    CHECK(c("TTL k") == ":-1");
    CHECK(c("PTTL k") == ":-1");
    CHECK(c("EXPIRETIME k") == ":-1");
    CHECK(c("PEXPIRETIME k") == ":-1");
    CHECK(c("EXPIRE k 100") == ":1");
    CHECK(c("TTL k") == ":100");
    const int64_t pttl = std::stoll(c("PTTL k").substr(1));
    CHECK(pttl > 99000);
    CHECK(pttl <= 100000);
    // EXPIRETIME in seconds and PEXPIRETIME in ms name the same instant.
    const int64_t at_ms = std::stoll(c("PEXPIRETIME k").substr(1));
    CHECK(std::stoll(c("EXPIRETIME k").substr(1)) == (at_ms + 500) / 1000);
    CHECK(c("PEXPIRE k 5000") == ":1");
    CHECK(c("TTL k") == ":5");
    // The AT forms: absolute times.
    const int64_t future_s = at_ms / 1000 + 1000;
    CHECK(c.Run({"EXPIREAT", "k", std::to_string(future_s)}) == ":1");
    CHECK(c("EXPIRETIME k") == ":" + std::to_string(future_s));
    CHECK(c.Run({"PEXPIREAT", "k", std::to_string(future_s * 1000 + 7)}) == ":1");
    CHECK(c("PEXPIRETIME k") == ":" + std::to_string(future_s * 1000 + 7));
    // A time in the past deletes the key at once (and counts as set).
    CHECK(c("EXPIRE k -1") == ":1");
    CHECK(c("EXISTS k") == ":0");
    CHECK(c("SET k v") == "OK");
    CHECK(c("PEXPIREAT k 0") == ":1");
    CHECK(c("TTL k") == ":-2");
    Make(c, "h", "hash");
    CHECK(c("EXPIREAT h 1") == ":1");
    CHECK(c("TYPE h") == "none");
    // Errors.
    CHECK(c("EXPIRE k abc") == "-ERR value is not an integer or out of range");
    CHECK(c("EXPIRE k 1.5") == "-ERR value is not an integer or out of range");
    CHECK(c("EXPIRE k 9223372036854775") == "-ERR invalid expire time in 'expire' command");
    CHECK(c("EXPIREAT k -9223372036854776") == "-ERR invalid expire time in 'expireat' command");
    CHECK(c("PEXPIRE k 9223372036854775807") == "-ERR invalid expire time in 'pexpire' command");
    CHECK(c("EXPIRE k") == "-ERR wrong number of arguments for 'expire' command");
    CHECK(c("TTL") == "-ERR wrong number of arguments for 'ttl' command");
    CHECK(c("PTTL a b") == "-ERR wrong number of arguments for 'pttl' command");
  });
}

TEST_CASE("keys: keys expire as time passes (lazily and actively), collections too") {
  WithServer([](Client& c) {
    for (int i = 0; i < 10; i++) REQUIRE(c.Run({"SET", "k" + std::to_string(i), "v"}) == "OK");
    Make(c, "h", "hash");
    CHECK(c("PEXPIRE k0 100") == ":1");
    CHECK(c("PEXPIRE k1 100") == ":1");
    CHECK(c("PEXPIRE h 100") == ":1");
    CHECK(c("EXPIRE k2 100") == ":1");
    CHECK(c("DBSIZE") == ":11");
    CHECK(c("DEBUG SLEEP 0.5") == "OK");  // virtual time
    CHECK(c("TTL k0") == ":-2");
    CHECK(c("GET k1") == "(nil)");
    CHECK(c("TYPE h") == "none");
    CHECK(c("EXISTS k2 k3") == ":2");
    CHECK(c("DBSIZE") == ":8");
    CHECK(ScanAll(c, {}).size() == 8);
    Settle(c);
  }, kFourShards);
}

TEST_CASE("keys: EXPIRE options NX XX GT LT and their errors") {
  WithServer([](Client& c) {
    CHECK(c("SET k v") == "OK");
    CHECK(c("EXPIRE k 100 XX") == ":0");  // no expiry yet
    CHECK(c("EXPIRE k 100 GT") == ":0");  // no expiry counts as infinite
    CHECK(c("TTL k") == ":-1");
    CHECK(c("EXPIRE k 100 NX") == ":1");
    CHECK(c("EXPIRE k 200 NX") == ":0");
    CHECK(c("TTL k") == ":100");
    CHECK(c("EXPIRE k 200 xx") == ":1");
    CHECK(c("EXPIRE k 150 GT") == ":0");
    CHECK(c("EXPIRE k 300 gt") == ":1");
    CHECK(c("EXPIRE k 400 LT") == ":0");
    CHECK(c("EXPIRE k 50 LT") == ":1");
    CHECK(c("TTL k") == ":50");
    CHECK(c("EXPIRE k 60 XX GT") == ":1");
    CHECK(c("PERSIST k") == ":1");
    CHECK(c("EXPIRE k 10 LT") == ":1");  // no expiry: any time is less than infinite
    CHECK(c("TTL k") == ":10");
    CHECK(c("EXPIRE nope 10 NX") == ":0");
    CHECK(c("EXPIRE k 10 NX XX") ==
          "-ERR NX and XX, GT or LT options at the same time are not compatible");
    CHECK(c("EXPIRE k 10 NX GT") ==
          "-ERR NX and XX, GT or LT options at the same time are not compatible");
    CHECK(c("EXPIRE k 10 GT LT") == "-ERR GT and LT options at the same time are not compatible");
    CHECK(c("EXPIRE k 10 FOO") == "-ERR Unsupported option FOO");
    // Options are checked before the time.
    CHECK(c("EXPIRE k abc FOO") == "-ERR Unsupported option FOO");
  });
}

TEST_CASE("keys: PERSIST") {
  WithServer([](Client& c) {
    CHECK(c("PERSIST nope") == ":0");
    CHECK(c("SET k v") == "OK");
    CHECK(c("PERSIST k") == ":0");
    CHECK(c("PEXPIRE k 100000") == ":1");
    CHECK(c("PERSIST k") == ":1");
    CHECK(c("TTL k") == ":-1");
    CHECK(c("GET k") == "v");
    CHECK(c("PERSIST") == "-ERR wrong number of arguments for 'persist' command");
  });
}

TEST_CASE("keys: RENAME and RENAMENX of every type, within and across shards, with TTL") {
  WithServer([](Client& c) {
    CHECK(c("RENAME nope x") == "-ERR no such key");
    CHECK(c("RENAMENX nope x") == "-ERR no such key");
    CHECK(c("RENAME nope nope") == "-ERR no such key");
    CHECK(c("SET a 1") == "OK");
    CHECK(c("RENAME a a") == "OK");
    CHECK(c("RENAMENX a a") == ":0");
    CHECK(c("EXPIRE a 100") == ":1");
    // Many names, so some land on the same shard as the source and some on others.
    for (int i = 0; i < 6; i++) {
      const std::string to = "b" + std::to_string(i);
      const std::string from = i == 0 ? "a" : "b" + std::to_string(i - 1);
      CHECK(c.Run({"RENAME", from, to}) == "OK");
      CHECK(c.Run({"EXISTS", from}) == ":0");
      CHECK(c.Run({"GET", to}) == "1");
      CHECK(c.Run({"TTL", to}) == ":100");
    }
    CHECK(c("SET c 2") == "OK");
    CHECK(c("RENAME b5 c") == "OK");  // replaces, and takes the source's TTL
    CHECK(c("GET c") == "1");
    CHECK(c("TTL c") == ":100");
    for (std::string type : {"hash", "list", "set", "zset"}) {
      Make(c, type, type);
      const std::string payload = c.Run({"DUMP", type});
      for (int i = 0; i < 5; i++) {
        const std::string to = type + "-" + std::to_string(i);
        const std::string from = i == 0 ? type : type + "-" + std::to_string(i - 1);
        CHECK(c.Run({"RENAMENX", from, to}) == ":1");
        CHECK(c.Run({"DUMP", to}) == payload);
        CHECK(c.Run({"TYPE", from}) == "none");
      }
    }
    CHECK(c("SET x 1") == "OK");
    CHECK(c("SET y 2") == "OK");
    CHECK(c("RENAMENX x y") == ":0");
    CHECK(c("GET x") == "1");
    CHECK(c("RENAME hash-4 y") == "OK");  // any type replaces any type
    CHECK(c("TYPE y") == "hash");
    CHECK(c("RENAME x") == "-ERR wrong number of arguments for 'rename' command");
    CHECK(c("RENAMENX x y z") == "-ERR wrong number of arguments for 'renamenx' command");
    Settle(c);
  }, kFourShards);
}

TEST_CASE("keys: COPY with DB and REPLACE, every type, across shards") {
  WithServer([](Client& c) {
    CHECK(c("COPY nope x") == ":0");
    CHECK(c("SET s v") == "OK");
    CHECK(c("PEXPIRE s 100000") == ":1");
    CHECK(c("COPY s s") == "-ERR source and destination objects are the same");
    CHECK(c("COPY s s DB 0") == "-ERR source and destination objects are the same");
    for (int i = 0; i < 6; i++) {
      const std::string to = "s" + std::to_string(i);
      CHECK(c.Run({"COPY", "s", to}) == ":1");
      CHECK(c.Run({"GET", to}) == "v");
      const int64_t pttl = std::stoll(c.Run({"PTTL", to}).substr(1));
      CHECK(pttl > 0);
      CHECK(pttl <= 100000);
    }
    CHECK(c("GET s") == "v");
    CHECK(c("SET t other") == "OK");
    CHECK(c("COPY s t") == ":0");
    CHECK(c("GET t") == "other");
    CHECK(c("COPY s t REPLACE") == ":1");
    CHECK(c("GET t") == "v");
    for (std::string type : {"hash", "list", "set", "zset"}) {
      Make(c, type, type);
      const std::string payload = c.Run({"DUMP", type});
      for (int i = 0; i < 4; i++) {
        const std::string to = type + "-copy" + std::to_string(i);
        CHECK(c.Run({"COPY", type, to}) == ":1");
        CHECK(c.Run({"DUMP", to}) == payload);
      }
      CHECK(c.Run({"DUMP", type}) == payload);
    }
    // Another database: the same name may be copied there.
    CHECK(c("COPY s s DB 1") == ":1");
    CHECK(c("COPY hash s DB 1") == ":0");
    CHECK(c("COPY hash s DB 1 REPLACE") == ":1");
    CHECK(c("SELECT 1") == "OK");
    CHECK(c("TYPE s") == "hash");
    CHECK(c("SELECT 0") == "OK");
    CHECK(c("TYPE s") == "string");
    // Errors.
    CHECK(c("COPY s x DB") == "-ERR syntax error");
    CHECK(c("COPY s x FOO") == "-ERR syntax error");
    CHECK(c("COPY s x DB abc") == "-ERR value is not an integer or out of range");
    CHECK(c("COPY s x DB 16") == "-ERR DB index is out of range");
    CHECK(c("COPY s x DB -1") == "-ERR DB index is out of range");
    CHECK(c("COPY s") == "-ERR wrong number of arguments for 'copy' command");
    Settle(c);
  }, kFourShards);
}

TEST_CASE("keys: MOVE between databases") {
  WithServer([](Client& c) {
    CHECK(c("MOVE nope 1") == ":0");
    CHECK(c("SET k v") == "OK");
    CHECK(c("EXPIRE k 100") == ":1");
    CHECK(c("MOVE k 0") == "-ERR source and destination objects are the same");
    CHECK(c("MOVE k 1") == ":1");
    CHECK(c("EXISTS k") == ":0");
    CHECK(c("SELECT 1") == "OK");
    CHECK(c("GET k") == "v");
    CHECK(c("TTL k") == ":100");
    CHECK(c("SET k2 w") == "OK");
    CHECK(c("SELECT 0") == "OK");
    CHECK(c("SET k2 mine") == "OK");
    CHECK(c("MOVE k2 1") == ":0");  // exists there
    CHECK(c("GET k2") == "mine");
    Make(c, "l", "list");
    const std::string payload = c("DUMP l");
    CHECK(c("MOVE l 2") == ":1");
    CHECK(c("SELECT 2") == "OK");
    CHECK(c("DUMP l") == payload);
    CHECK(c("MOVE l abc") == "-ERR value is not an integer or out of range");
    CHECK(c("MOVE l 16") == "-ERR DB index is out of range");
    CHECK(c("MOVE l") == "-ERR wrong number of arguments for 'move' command");
  });
}

TEST_CASE("keys: KEYS DBSIZE RANDOMKEY across shards and databases") {
  WithServer([](Client& c) {
    CHECK(c("DBSIZE") == ":0");
    CHECK(c("KEYS *") == "[]");
    CHECK(c("RANDOMKEY") == "(nil)");
    std::set<std::string> names;
    for (int i = 0; i < 40; i++) {
      const std::string key = (i % 2 ? "odd:" : "even:") + std::to_string(i);
      names.insert(key);
      REQUIRE(c.Run({"SET", key, "v"}) == "OK");
    }
    Make(c, "odd:h", "hash");
    names.insert("odd:h");
    CHECK(c("SELECT 3") == "OK");
    CHECK(c("SET other v") == "OK");
    CHECK(c("DBSIZE") == ":1");
    CHECK(c("KEYS *") == "[other]");
    CHECK(c("SELECT 0") == "OK");
    CHECK(c("DBSIZE") == ":41");
    net::Reply all = c.RunReply({"KEYS", "*"});
    std::set<std::string> seen;
    for (const net::Reply& key : all.elements) seen.insert(key.text);
    CHECK(seen == names);
    CHECK(all.elements.size() == names.size());
    net::Reply odd = c.RunReply({"KEYS", "odd:*"});
    CHECK(odd.elements.size() == 21);
    net::Reply teens = c.RunReply({"KEYS", "even:1?"});
    std::set<std::string> teen_keys;
    for (const net::Reply& key : teens.elements) teen_keys.insert(key.text);
    CHECK(teen_keys == std::set<std::string>{"even:10", "even:12", "even:14", "even:16", "even:18"});
    CHECK(c("PEXPIREAT even:0 1") == ":1");  // expired keys are not counted
    CHECK(c("DBSIZE") == ":40");
    for (int i = 0; i < 20; i++) {
      const std::string key = c("RANDOMKEY");
      CHECK(names.contains(key));
      CHECK(key != "even:0");
    }
    CHECK(c("KEYS") == "-ERR wrong number of arguments for 'keys' command");
    CHECK(c("DBSIZE x") == "-ERR wrong number of arguments for 'dbsize' command");
    CHECK(c("RANDOMKEY x") == "-ERR wrong number of arguments for 'randomkey' command");
    Settle(c);
  }, kFourShards);
}

TEST_CASE("keys: SCAN returns every key, with MATCH, COUNT and TYPE; errors") {
  WithServer([](Client& c) {
    CHECK(c("SCAN 0") == "[0, []]");
    std::set<std::string> names;
    for (int i = 0; i < 150; i++) {
      const std::string key = "key:" + std::to_string(i);
      names.insert(key);
      REQUIRE(c.Run({"SET", key, "v"}) == "OK");
    }
    // Keys sharing a long prefix in one slot (hashtag): more than COUNT of them share the cursor's
    // 6 bytes, so one reply must return them all.
    for (int i = 0; i < 30; i++) {
      const std::string key = "{tag}aaaaaaaa" + std::to_string(i);
      names.insert(key);
      REQUIRE(c.Run({"SET", key, "v"}) == "OK");
    }
    std::string zero_key("\0\0\0x", 4);  // zero bytes: the cursor must not read as 0
    names.insert(zero_key);
    REQUIRE(c.Run({"SET", zero_key, "v"}) == "OK");
    Make(c, "key:hash", "hash");
    names.insert("key:hash");
    for (std::string count : {"1", "3", "10", "1000"}) {
      std::vector<std::string> keys = ScanAll(c, {"COUNT", count});
      std::set<std::string> seen(keys.begin(), keys.end());
      CHECK(seen == names);
    }
    std::vector<std::string> matched = ScanAll(c, {"MATCH", "key:1?", "COUNT", "5"});
    CHECK(std::set<std::string>(matched.begin(), matched.end()).size() == 10);
    for (const std::string& key : matched) CHECK(key.starts_with("key:1"));
    CHECK(ScanAll(c, {"TYPE", "hash"}) == std::vector<std::string>{"key:hash"});
    CHECK(ScanAll(c, {"TYPE", "HASH", "MATCH", "x*"}).empty());
    CHECK(ScanAll(c, {"TYPE", "list"}).empty());
    // Another database sees none of them.
    CHECK(c("SELECT 1") == "OK");
    CHECK(c("SCAN 0 COUNT 1000") == "[0, []]");
    CHECK(c("SELECT 0") == "OK");
    // Errors.
    CHECK(c("SCAN abc") == "-ERR invalid cursor");
    CHECK(c("SCAN -") == "-ERR invalid cursor");
    CHECK(c("SCAN 1x") == "-ERR invalid cursor");
    CHECK(c.Run({"SCAN", " 1"}) == "-ERR invalid cursor");
    CHECK(c("SCAN -1") == "[0, []]");  // strtoul wraps it to 2^64 - 1: past the end
    CHECK(c.Run({"SCAN", "+0", "COUNT", "1000"}) == c("SCAN 0 COUNT 1000"));
    CHECK(c("SCAN 18446744073709551616") == "-ERR invalid cursor");
    CHECK(c("SCAN 0 COUNT 0") == "-ERR syntax error");
    CHECK(c("SCAN 0 COUNT x") == "-ERR value is not an integer or out of range");
    CHECK(c("SCAN 0 COUNT") == "-ERR syntax error");
    CHECK(c("SCAN 0 FOO bar") == "-ERR syntax error");
    CHECK(c("SCAN 18446744073709551615") == "[0, []]");  // a cursor past the end
    CHECK(c("SCAN") == "-ERR wrong number of arguments for 'scan' command");
    Settle(c);
  }, kFourShards);
}

TEST_CASE("keys: FLUSHDB and FLUSHALL, SYNC and ASYNC; WATCH breaks") {
  WithServer([](Client& c) {
    for (int i = 0; i < 20; i++) REQUIRE(c.Run({"SET", "k" + std::to_string(i), "v"}) == "OK");
    Make(c, "h", "hash");
    CHECK(c("SELECT 1") == "OK");
    CHECK(c("SET other v") == "OK");
    CHECK(c("SELECT 0") == "OK");
    CHECK(c("WATCH k3") == "OK");
    CHECK(c("FLUSHDB") == "OK");
    CHECK(c("MULTI") == "OK");
    CHECK(c("SET k3 x") == "QUEUED");
    CHECK(c("EXEC") == "(nil)");  // the flush touched the watched key
    CHECK(c("DBSIZE") == ":0");
    CHECK(c("TYPE h") == "none");
    CHECK(c("SELECT 1") == "OK");
    CHECK(c("DBSIZE") == ":1");
    CHECK(c("FLUSHDB ASYNC") == "OK");
    CHECK(c("DBSIZE") == ":0");
    CHECK(c("SET other v") == "OK");
    CHECK(c("SELECT 0") == "OK");
    CHECK(c("SET mine v") == "OK");
    CHECK(c("FLUSHALL sync") == "OK");
    CHECK(c("DBSIZE") == ":0");
    CHECK(c("SELECT 1") == "OK");
    CHECK(c("DBSIZE") == ":0");
    CHECK(c("FLUSHDB FOO") == "-ERR syntax error");
    CHECK(c("FLUSHALL ASYNC SYNC") == "-ERR syntax error");
    Settle(c);
  }, kFourShards);
}

TEST_CASE("keys: OBJECT ENCODING REFCOUNT IDLETIME FREQ HELP") {
  WithServer([](Client& c) {
    CHECK(c("OBJECT ENCODING nope") == "(nil)");
    CHECK(c("SET n 12345") == "OK");
    CHECK(c("OBJECT ENCODING n") == "int");
    CHECK(c("SET s hello") == "OK");
    CHECK(c("OBJECT ENCODING s") == "embstr");
    CHECK(c.Run({"SET", "r", std::string(45, 'x')}) == "OK");
    CHECK(c("OBJECT encoding r") == "raw");
    Make(c, "h", "hash");
    CHECK(c("OBJECT ENCODING h") == "listpack");
    CHECK(c.Run({"RESTORE", "bigh", "0", Payload(2, {"f", std::string(65, 'v')}, 2)}) == "OK");
    CHECK(c("OBJECT ENCODING bigh") == "hashtable");
    Make(c, "l", "list");
    CHECK(c("OBJECT ENCODING l") == "quicklist");
    Make(c, "set", "set");
    CHECK(c("OBJECT ENCODING set") == "intset");
    CHECK(c.Run({"RESTORE", "strset", "0", Payload(4, {"1", "a"})}) == "OK");
    CHECK(c("OBJECT ENCODING strset") == "hashtable");
    Make(c, "z", "zset");
    CHECK(c("OBJECT ENCODING z") == "listpack");
    CHECK(c.Run({"RESTORE", "bigz", "0", Payload(5, {std::string(65, 'm'), Score(1)}, 2)}) ==
          "OK");
    CHECK(c("OBJECT ENCODING bigz") == "skiplist");
    CHECK(c("OBJECT REFCOUNT s") == ":1");
    CHECK(c("OBJECT IDLETIME s") == ":0");
    CHECK(c("OBJECT REFCOUNT nope") == "(nil)");
    CHECK(c("OBJECT FREQ s").starts_with("-ERR An LFU maxmemory policy is not selected"));
    net::Reply help = c.RunReply({"OBJECT", "HELP"});
    REQUIRE(help.elements.size() == 15);
    CHECK(help.elements[0].text == "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    CHECK(help.elements[13].text == "HELP");
    CHECK(c("OBJECT") == "-ERR wrong number of arguments for 'object' command");
    CHECK(c("OBJECT ENCODING") == "-ERR wrong number of arguments for 'object|encoding' command");
    CHECK(c("OBJECT FOO k") == "-ERR unknown subcommand 'FOO'. Try OBJECT HELP.");
  });
}

TEST_CASE("keys: DUMP and RESTORE: round trips, TTL, REPLACE, ABSTTL, IDLETIME, FREQ, errors") {
  WithServer([](Client& c) {
    CHECK(c("DUMP nope") == "(nil)");
    CHECK(c("SET s hello") == "OK");
    const std::string payload = c("DUMP s");
    CHECK(payload == Payload(1, {"hello"}));
    CHECK(c.Run({"RESTORE", "s", "0", payload}) == "-BUSYKEY Target key name already exists.");
    CHECK(c.Run({"RESTORE", "s2", "0", payload}) == "OK");
    CHECK(c("GET s2") == "hello");
    CHECK(c("TTL s2") == ":-1");
    CHECK(c.Run({"RESTORE", "s3", "100000", payload}) == "OK");
    CHECK(c("TTL s3") == ":100");
    const int64_t at = std::stoll(c("PEXPIRETIME s3").substr(1)) + 5000;
    CHECK(c.Run({"RESTORE", "s4", std::to_string(at), payload, "ABSTTL"}) == "OK");
    CHECK(c("PEXPIRETIME s4") == ":" + std::to_string(at));
    // REPLACE of any type by any type.
    Make(c, "h", "hash");
    CHECK(c.Run({"RESTORE", "h", "0", payload, "REPLACE"}) == "OK");
    CHECK(c("GET h") == "hello");
    CHECK(c.Run({"RESTORE", "s", "0", ZSetPayload(), "REPLACE", "IDLETIME", "10"}) == "OK");
    CHECK(c("TYPE s") == "zset");
    CHECK(c("DUMP s") == ZSetPayload());
    CHECK(c.Run({"RESTORE", "f", "0", SetPayload(), "FREQ", "255"}) == "OK");
    CHECK(c("DUMP f") == SetPayload());
    // An expired TTL: OK, no key; with REPLACE the old key goes.
    CHECK(c.Run({"RESTORE", "gone", "1", payload, "ABSTTL"}) == "OK");
    CHECK(c("EXISTS gone") == ":0");
    CHECK(c.Run({"RESTORE", "s2", "1", payload, "ABSTTL", "REPLACE"}) == "OK");
    CHECK(c("EXISTS s2") == ":0");
    // Errors, in Redis's order: options, BUSYKEY, TTL, payload.
    CHECK(c.Run({"RESTORE", "s", "0", payload, "FOO"}) == "-ERR syntax error");
    CHECK(c.Run({"RESTORE", "s", "-1", payload}) == "-BUSYKEY Target key name already exists.");
    CHECK(c.Run({"RESTORE", "x", "-1", payload}) == "-ERR Invalid TTL value, must be >= 0");
    CHECK(c.Run({"RESTORE", "x", "abc", payload}) ==
          "-ERR value is not an integer or out of range");
    CHECK(c.Run({"RESTORE", "x", "0", "junk"}) ==
          "-ERR DUMP payload version or checksum are wrong");
    std::string damaged = payload;
    damaged[1] ^= 1;
    CHECK(c.Run({"RESTORE", "x", "0", damaged}) ==
          "-ERR DUMP payload version or checksum are wrong");
    CHECK(c.Run({"RESTORE", "x", "0", Payload(2, {"f"}, 1)}) == "-ERR Bad data format");
    CHECK(c.Run({"RESTORE", "x", "0", Payload(4, {"a", "a"})}) == "-ERR Bad data format");
    CHECK(c.Run({"RESTORE", "x", "0", Payload(9, {"a"})}) == "-ERR Bad data format");
    CHECK(c.Run({"RESTORE", "x", "0", payload, "IDLETIME", "-1"}) ==
          "-ERR Invalid IDLETIME value, must be >= 0");
    CHECK(c.Run({"RESTORE", "x", "0", payload, "FREQ", "256"}) ==
          "-ERR Invalid FREQ value, must be >= 0 and <= 255");
    CHECK(c.Run({"RESTORE", "x", "0", payload, "FREQ", "1", "IDLETIME", "1"}) ==
          "-ERR syntax error");
    CHECK(c.Run({"RESTORE", "x", "0", payload, "IDLETIME"}) == "-ERR syntax error");
    CHECK(c("EXISTS x") == ":0");
    CHECK(c("RESTORE x 0") == "-ERR wrong number of arguments for 'restore' command");
    CHECK(c("DUMP") == "-ERR wrong number of arguments for 'dump' command");
  });
}

}  // namespace tierkv::server

namespace tierkv::server {

TEST_CASE("keys: nulls in RESP2 and RESP3 (RANDOMKEY, DUMP, OBJECT)") {
  WithServer([](Client& c) {
    CHECK(c.RunRaw({"RANDOMKEY"}) == "$-1\r\n");
    CHECK(c.RunRaw({"DUMP", "nope"}) == "$-1\r\n");
    CHECK(c.RunRaw({"OBJECT", "ENCODING", "nope"}) == "$-1\r\n");
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c.RunRaw({"RANDOMKEY"}) == "_\r\n");
    CHECK(c.RunRaw({"DUMP", "nope"}) == "_\r\n");
    CHECK(c.RunRaw({"OBJECT", "ENCODING", "nope"}) == "_\r\n");
    CHECK(c.RunRaw({"SCAN", "0"}) == "*2\r\n$1\r\n0\r\n*0\r\n");  // arrays in both protocols
    CHECK(c("SET k v") == "OK");
    CHECK(c("RANDOMKEY") == "k");
    CHECK(c("TTL k") == ":-1");
  });
}

}  // namespace tierkv::server

namespace tierkv::server {

TEST_CASE("keys: SCAN returns every key present throughout while others come and go") {
  WithServer([](Client& c) {
    std::set<std::string> stable;
    for (int i = 0; i < 120; i++) {
      const std::string key = "stable:" + std::to_string(i * 7919 % 1000);
      stable.insert(key);
      REQUIRE(c.Run({"SET", key, "v"}) == "OK");
    }
    std::set<std::string> seen;
    std::string cursor = "0";
    int added = 0;
    for (int call = 0; call < 1000; call++) {
      net::Reply reply = c.RunReply({"SCAN", cursor, "COUNT", "7"});
      REQUIRE(reply.elements.size() == 2);
      for (const net::Reply& key : reply.elements[1].elements) seen.insert(key.text);
      cursor = reply.elements[0].text;
      if (cursor == "0") break;
      // Between calls: new keys everywhere (before and after the cursor) and deletions of them.
      for (int j = 0; j < 3; j++, added++) {
        REQUIRE(c.Run({"SET", "volatile:" + std::to_string(added), "v"}) == "OK");
      }
      if (added > 6) REQUIRE(c.Run({"DEL", "volatile:" + std::to_string(added - 6)}) == ":1");
    }
    CHECK(cursor == "0");
    for (const std::string& key : stable) CHECK_MESSAGE(seen.contains(key), key);
    for (const std::string& key : seen) {
      CHECK((key.starts_with("stable:") || key.starts_with("volatile:")));
    }
    Settle(c);
  }, kFourShards);
}

}  // namespace tierkv::server

namespace tierkv::server {

TEST_CASE("keys: keyspace events as Redis names them") {
  WithServer([](Client& c) {
    auto other = c.Connect(1);
    Client& s = *other;
    CHECK(s("PSUBSCRIBE __keyevent@0__:*") == "[psubscribe, __keyevent@0__:*, :1]");
    CHECK(c("CONFIG SET notify-keyspace-events Eg") == "OK");
    using Seen = std::vector<std::string>;
    CHECK(c("SET {a}1 v") == "OK");
    CHECK(c("EXPIRE {a}1 100") == ":1");
    CHECK(c("EXPIRE {a}1 200 NX") == ":0");  // nothing changed: no event
    CHECK(c("PERSIST {a}1") == ":1");
    CHECK(c("PERSIST {a}1") == ":0");
    CHECK(KeyEventsInOrder(s) == Seen{"expire {a}1", "persist {a}1"});
    CHECK(c("RENAME {a}1 {a}2") == "OK");  // one shard: Redis's order
    CHECK(c("COPY {a}2 {a}3") == ":1");
    CHECK(c("MOVE {a}3 1") == ":1");  // move_to is db 1's event
    CHECK(KeyEventsInOrder(s) == Seen{"rename_from {a}1", "rename_to {a}2", "copy_to {a}3", "move_from {a}3"});
    const std::string payload = c("DUMP {a}2");
    CHECK(c.Run({"RESTORE", "{a}4", "0", payload}) == "OK");
    CHECK(c("DEL {a}4 {a}5") == ":1");
    CHECK(c("PEXPIREAT {a}2 1") == ":1");
    CHECK(KeyEventsInOrder(s) == Seen{"restore {a}4", "del {a}4", "del {a}2"});
    // Across shards: both events come (from two shards, so compared as a set).
    for (int i = 0; i < 4; i++) REQUIRE(c.Run({"SET", "x" + std::to_string(i), "v"}) == "OK");
    CHECK(c("RENAME x0 y0") == "OK");
    CHECK(c("RENAME x1 y1") == "OK");
    Seen seen = KeyEventsInOrder(s);
    std::sort(seen.begin(), seen.end());
    CHECK(seen == Seen{"rename_from x0", "rename_from x1", "rename_to y0", "rename_to y1"});
    CHECK(c("FLUSHDB") == "OK");  // no per-key events, as in Redis
    CHECK(KeyEventsInOrder(s).empty());
    Settle(c);
  });
}

}  // namespace tierkv::server
