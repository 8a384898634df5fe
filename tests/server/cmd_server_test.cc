// Server commands (COMMAND, CONFIG, INFO, TIME, SAVE, SLOWLOG, LATENCY, MEMORY, scripting, DEBUG)
// through the command harness.
#include <doctest/doctest.h>

#include "sim/sim_env.h"
#include "tests/server/command_harness.h"

namespace tierkv::server {
namespace {

using testing::Client;
using testing::WithServer;

TEST_CASE("a write the WAL cannot make durable is answered with an error, never acknowledged") {
  testing::ServerOptions options;
  options.shards = 1;
  options.faults.disk_error_probability = 1.0;  // every disk operation fails while budget lasts
  options.engines_may_fail = true;
  WithServer([](Client& c) {
    CHECK(c("SET a 1") == "OK");
    auto& sim_env = static_cast<sim::SimEnv&>(c.env());
    sim_env.world().disk_error_budget() = 1;  // the next disk operation: the WAL's write
    // The SET is applied in memory, but its reply waits for the WAL, whose write fails: the
    // reply is replaced by the error and the connection closes.
    const std::string reply = c("SET b 2");
    CHECK(reply.starts_with("-ERR write not durable"));
    CHECK(c.closed());
    // The engine now refuses every write at once (the node's watchdog would stop it), and a
    // reader of the unacknowledged value cannot be answered either.
    auto other = c.Connect(0);
    CHECK((*other)("SET c 3").starts_with("-ERR write not durable"));
    CHECK((*other)("GET b").starts_with("-ERR write not durable"));
  }, options);
}

}  // namespace

TEST_CASE("COMMAND: COUNT, INFO, DOCS, LIST, GETKEYS") {
  WithServer([](Client& c) {
    net::Reply count = c.RunReply({"COMMAND", "COUNT"});
    REQUIRE(count.kind == net::Reply::Kind::kInteger);
    CHECK(count.integer > 20);
    net::Reply all = c.RunReply({"COMMAND"});
    CHECK(static_cast<int64_t>(all.elements.size()) == count.integer);
    // COMMAND INFO get: name, arity, flags, first, last, step, categories, tips, key specs, subs.
    std::string get = c("COMMAND INFO get");
    CHECK(get == "[[get, :2, [readonly, fast], :1, :1, :1, [@read, @string, @fast], [], "
                 "[[flags, [RO, access], begin_search, [type, index, spec, [index, :1]], find_keys, "
                 "[type, range, spec, [lastkey, :0, keystep, :1, limit, :0]]]], []]]");
    CHECK(c("COMMAND INFO nosuch") == "[(nil)]");
    net::Reply config = c.RunReply({"COMMAND", "INFO", "config"});
    REQUIRE(config.elements.size() == 1);
    CHECK(config.elements[0].elements[9].elements.size() == 5);  // its subcommands
    CHECK(c("COMMAND INFO config|get").starts_with("[[config|get, :-3, [admin, noscript, loading, stale]"));
    CHECK(c("COMMAND DOCS get") ==
          "[get, [summary, Get the value of a key, since, 1.0.0, group, string]]");
    std::string list = c("COMMAND LIST FILTERBY PATTERN config*");
    CHECK(list.find("config|get") != std::string::npos);
    CHECK(list.find(", get,") == std::string::npos);
    CHECK_FALSE(list.starts_with("[get,"));
    CHECK(c("COMMAND LIST FILTERBY ACLCAT transaction").find("multi") != std::string::npos);
    CHECK(c("COMMAND GETKEYS get k") == "[k]");
    CHECK(c("COMMAND GETKEYS ping") == "-ERR The command has no key arguments");
    CHECK(c("COMMAND GETKEYS nosuch a") == "-ERR Invalid command specified");
    CHECK(c("COMMAND GETKEYS get") == "-ERR Invalid number of arguments specified for command");
    CHECK(c("COMMAND NOSUCH") == "-ERR unknown subcommand 'NOSUCH'. Try COMMAND HELP.");
    CHECK(c("COMMAND HELP").starts_with("[COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
  });
}

TEST_CASE("CONFIG GET, SET on every executor, REWRITE without a file, RESETSTAT") {
  WithServer([](Client& c) {
    CHECK(c("CONFIG GET maxclients") == "[maxclients, 10000]");
    CHECK(c("CONFIG SET maxclients 50 slowlog-max-len 7") == "OK");
    auto other = c.Connect(1);
    CHECK((*other)("CONFIG GET maxclients") == "[maxclients, 50]");
    CHECK((*other)("CONFIG GET slowlog-max-len") == "[slowlog-max-len, 7]");
    CHECK(c("CONFIG SET maxclients x").starts_with(
        "-ERR CONFIG SET failed (possibly related to argument 'maxclients')"));
    CHECK(c("CONFIG SET maxclients") == "-ERR wrong number of arguments for 'config|set' command");
    CHECK(c("CONFIG SET port 1") ==
          "-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config");
    CHECK(c("CONFIG REWRITE") == "-ERR The server is running without a config file");
    CHECK(c("CONFIG RESETSTAT") == "OK");
    CHECK(c("CONFIG") == "-ERR wrong number of arguments for 'config' command");
    CHECK(c("CONFIG FOO") == "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.");
    c("HELLO 3");
    CHECK(c("CONFIG GET databases") == "{databases: 16}");
  });
}

TEST_CASE("INFO: Redis's sections and tierkv's") {
  WithServer([](Client& c) {
    CHECK(c("SET k v") == "OK");
    std::string info = c("INFO");
    CHECK(info.starts_with("# Server\r\nredis_version:7.0.15\r\n"));
    for (std::string_view section : {"# Clients", "# Memory", "# Persistence", "# Stats",
                                     "# Replication", "# Tiers", "# WAL", "# Threads",
                                     "# Keyspace"}) {
      CHECK_MESSAGE(info.find(section) != std::string::npos, section);
    }
    CHECK(info.find("connected_clients:1\r\n") != std::string::npos);
    CHECK(info.find("cache_hit_ratio:") != std::string::npos);
    CHECK(info.find("thread0:slots=0-8191,") != std::string::npos);
    CHECK(info.find("thread1:slots=8192-16383,") != std::string::npos);
    std::string clients = c("INFO clients");
    CHECK(clients.starts_with("# Clients\r\n"));
    CHECK(clients.find("# Server") == std::string::npos);
    CHECK(c("INFO nosuch") == "");
  });
}

TEST_CASE("TIME, LASTSAVE, SAVE, BGSAVE, SHUTDOWN ABORT") {
  WithServer([](Client& c) {
    net::Reply time = c.RunReply({"TIME"});
    REQUIRE(time.elements.size() == 2);
    CHECK(std::stoll(time.elements[0].text) > 1'600'000'000);
    CHECK(std::stoll(time.elements[1].text) < 1'000'000);
    CHECK(c("SET k v") == "OK");
    CHECK(c("SAVE") == "OK");
    net::Reply last = c.RunReply({"LASTSAVE"});
    CHECK(last.integer >= std::stoll(time.elements[0].text));
    CHECK(c("BGSAVE") == "Background saving started");
    CHECK(c("BGSAVE x") == "-ERR syntax error");
    CHECK(c("SHUTDOWN ABORT") == "-ERR No shutdown in progress.");
    CHECK(c("SHUTDOWN BOGUS") == "-ERR syntax error");
  });
}

TEST_CASE("SLOWLOG records slow commands from every executor; LATENCY records events") {
  WithServer([](Client& c) {
    CHECK(c("SLOWLOG LEN") == ":0");
    CHECK(c("CONFIG SET slowlog-log-slower-than 0") == "OK");  // every command
    CHECK(c("SET k v") == "OK");
    auto other = c.Connect(1);
    CHECK((*other)("GET k") == "v");
    net::Reply entries = c.RunReply({"SLOWLOG", "GET", "-1"});
    REQUIRE(entries.elements.size() >= 3);
    // Newest first: the GET from executor 1 after the SET.
    std::string newest = entries.elements[0].ToString();
    CHECK(newest.find("[GET, k], 127.0.0.1:40001") != std::string::npos);
    CHECK(c("SLOWLOG GET -2") == "-ERR count should be greater than or equal to -1");
    CHECK(c("CONFIG SET slowlog-log-slower-than -1") == "OK");
    CHECK(c("SLOWLOG RESET") == "OK");
    CHECK(c("SLOWLOG LEN") == ":0");
    // A long argument list is cut at 32 entries, long arguments at 128 bytes.
    CHECK(c("CONFIG SET slowlog-log-slower-than 0") == "OK");
    std::vector<std::string> many{"ECHO"};
    many.push_back(std::string(200, 'x'));
    CHECK(c.Run(many) == std::string(200, 'x'));
    std::string cut = c("SLOWLOG GET 1");
    CHECK(cut.find(std::string(128, 'x') + "... (72 more bytes)") != std::string::npos);
    CHECK(c("AUTH someone secret").starts_with("-WRONGPASS"));
    std::string redacted = c("SLOWLOG GET 1");
    CHECK(redacted.find("[AUTH, (redacted), (redacted)]") != std::string::npos);
    CHECK(redacted.find("secret") == std::string::npos);
    CHECK(c("LATENCY LATEST") == "[]");
    CHECK(c("CONFIG SET latency-monitor-threshold 1") == "OK");
    CHECK(c("DEBUG SLEEP 0.01") == "OK");
    net::Reply latest = c.RunReply({"LATENCY", "LATEST"});
    REQUIRE(latest.elements.size() == 1);
    CHECK(latest.elements[0].elements[0].text == "command");
    CHECK(latest.elements[0].elements[2].integer >= 10);
    CHECK(c.RunReply({"LATENCY", "HISTORY", "command"}).elements.size() >= 1);
    CHECK(c("LATENCY RESET") == ":1");
    CHECK(c("LATENCY LATEST") == "[]");
  });
}

TEST_CASE("MEMORY USAGE, scripting not supported, DEBUG") {
  WithServer([](Client& c) {
    CHECK(c("MEMORY USAGE nosuch") == "(nil)");
    CHECK(c.Run({"SET", "k", std::string(1000, 'v')}) == "OK");
    net::Reply usage = c.RunReply({"MEMORY", "USAGE", "k"});
    CHECK(usage.integer > 1000);
    CHECK(usage.integer < 1200);
    CHECK(c("MEMORY USAGE k SAMPLES x") == "-ERR value is not an integer or out of range");
    CHECK(c("EVAL return 0").starts_with("-ERR eval is not supported by tierkv"));
    CHECK(c("FUNCTION FLUSH") == "OK");
    CHECK(c("FUNCTION LIST").starts_with("-ERR FUNCTION list is not supported"));
    CHECK(c("DEBUG RELOAD") == "-ERR unknown subcommand 'RELOAD'. Try DEBUG HELP.");
    CHECK(c("DEBUG SLEEP x") == "-ERR value is not a valid float");
  });
}

}  // namespace tierkv::server
