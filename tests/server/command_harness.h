// The command tests' harness: the real command layer (server/server.h) over real shards, in the
// simulator, driven one command at a time and answering the reply in net/reply.h's text form:
//
//   WithServer([](Client& c) {
//     CHECK(c.Run({"SET", "k", "v"}) == "OK");
//     CHECK(c("GET k") == "v");           // split at spaces
//     CHECK(c("INCR k") == "-ERR value is not an integer or out of range");
//   });
//
// A Client is a connection's state on one executor; its commands run on that executor exactly
// as a connection's would (keys on other shards are reached through messages).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "net/reply.h"
#include "server/config.h"
#include "server/server.h"
#include "sim/world.h"

namespace tierkv::testing {

class Client {
 public:
  Client(server::Server& server, int executor);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs one command; returns the reply's text form (net::Reply::ToString), or, when the
  // command's output holds several replies (it should not), all of them joined by " | ".
  std::string Run(std::vector<std::string> args);
  // The same with the arguments split at single spaces.
  std::string operator()(std::string_view line);
  // The reply parsed.
  net::Reply RunReply(std::vector<std::string> args);
  // The raw RESP bytes of the reply.
  std::string RunRaw(std::vector<std::string> args);
  // Starts the command in a new fiber on the test's executor and returns at once; Wait() gives
  // its reply (text form). For blocking commands: start one, act with another client, wait.
  void Start(std::vector<std::string> args);
  std::string Wait();
  bool finished() const { return pending_ && pending_->done; }
  // Lets other fibers run for `duration` of (simulated) time: started commands get going.
  void Idle(Duration duration);
  // Whether the last command asked to close the connection.
  bool closed() const { return closed_; }

  server::ClientState& state() { return *state_; }
  server::Server& server() { return server_; }
  Env& env() { return server_.env(); }
  int executor() const { return executor_; }
  // A new client on `executor` of the same server.
  std::unique_ptr<Client> Connect(int executor);

 private:
  server::Server& server_;
  int executor_;
  std::unique_ptr<server::ClientState> state_;
  bool closed_ = false;
  struct Pending {
    bool done = false;
    std::string reply;
    FiberHandle fiber;
  };
  std::shared_ptr<Pending> pending_;
};

struct ServerOptions {
  int shards = 2;
  server::Config config;
  uint64_t seed = 1;
  // Disk and network faults of the simulated node; a test that makes an engine fail sets
  // engines_may_fail (closing the shards then reports that failure).
  sim::FaultOptions faults;
  bool engines_may_fail = false;
};

// Opens shards and a Server in a simulated node and runs `body` with a client on executor 0.
void WithServer(const std::function<void(Client& client)>& body, const ServerOptions& options = {});

// `count` key names ("<prefix>0", "<prefix>1"...) owned by pairwise different shards of
// `shards` (for multi-shard variants of a family's tests).
std::vector<std::string> KeysOnDifferentShards(const std::string& prefix, int count, int shards = 4);

// The keyspace events pushed to subscriber `s` (subscribed to __keyevent@<db>__:*) since the last
// call, as "event key", in arrival order (events of one shard arrive in the order published).
// The PING is a round trip through s's executor: earlier pushes have run before it.
std::vector<std::string> KeyEventsInOrder(Client& s);
// The same sorted: two shards' events may interleave either way.
std::vector<std::string> KeyEvents(Client& s);

// Splits at single spaces ("SET k v" -> {"SET", "k", "v"}).
std::vector<std::string> Words(std::string_view line);

}  // namespace tierkv::testing
