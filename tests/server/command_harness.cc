#include "tests/server/command_harness.h"

#include <doctest/doctest.h>
#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "tests/env_harness.h"

namespace tierkv::testing {

using server::Server;
using server::Shard;

Client::Client(Server& server, int executor) : server_(server), executor_(executor) {
  auto made = server_.shards().RunOn<bool>(executor_, [this](Shard&) -> Result<bool> {
    state_ = server_.Register("127.0.0.1:" + std::to_string(40000 + executor_));
    return true;
  });
  REQUIRE(made.has_value());
}

Client::~Client() {
  auto done = server_.shards().RunOn<bool>(executor_, [this](Shard&) -> Result<bool> {
    server_.Unregister(*state_);
    return true;
  });
  CHECK(done.has_value());
}

std::string Client::RunRaw(std::vector<std::string> args) {
  auto out = server_.shards().RunOn<std::string>(
      executor_, [this, &args](Shard&) -> Result<std::string> {
        std::string out;
        if (server_.Execute(*state_, args, out) == net::AfterReply::kClose) closed_ = true;
        // As the connection does: the reply waits for the durability of what it shows.
        if (server_.BeforeReply(*state_, out) == net::AfterReply::kClose) closed_ = true;
        return out;
      });
  REQUIRE_MESSAGE(out.has_value(), out.error().ToString());
  return *out;
}

net::Reply Client::RunReply(std::vector<std::string> args) {
  std::string raw = RunRaw(std::move(args));
  size_t pos = 0;
  net::Reply reply;
  REQUIRE_MESSAGE(net::ParseReply(raw, pos, reply) == net::ReplyParseStatus::kDone, raw);
  CHECK_MESSAGE(pos == raw.size(), (std::string("more than one reply: ") + raw));
  return reply;
}

std::string Client::Run(std::vector<std::string> args) {
  std::string raw = RunRaw(std::move(args));
  std::string text;
  size_t pos = 0;
  while (pos < raw.size()) {
    net::Reply reply;
    if (net::ParseReply(raw, pos, reply) != net::ReplyParseStatus::kDone) {
      FAIL("not RESP: " << raw);
      break;
    }
    if (!text.empty()) text += " | ";
    text += reply.ToString();
  }
  return text;
}

std::string Client::operator()(std::string_view line) { return Run(Words(line)); }

void Client::Start(std::vector<std::string> args) {
  const bool idle = !pending_ || pending_->done;
  REQUIRE_MESSAGE(idle, "one started command at a time");
  auto pending = std::make_shared<Pending>();
  pending_ = pending;
  Executor& executor = server_.env().CurrentExecutor();
  pending->fiber = executor.Spawn("test-client", [this, pending, args = std::move(args)]() mutable {
    pending->reply = Run(std::move(args));
    pending->done = true;
  });
}

void Client::Idle(Duration duration) {
  Status slept = server_.env().CurrentExecutor().Sleep(duration);
  REQUIRE(slept.ok());
}

std::string Client::Wait() {
  REQUIRE(pending_ != nullptr);
  Status joined = pending_->fiber.Join();
  REQUIRE(joined.ok());
  std::string reply = pending_->reply;
  pending_.reset();
  return reply;
}

std::unique_ptr<Client> Client::Connect(int executor) {
  return std::make_unique<Client>(server_, executor);
}

std::vector<std::string> KeysOnDifferentShards(const std::string& prefix, int count, int shards) {
  REQUIRE(count <= shards);
  std::vector<std::string> keys;
  std::set<int> owners;
  for (int i = 0; i < 1000 && static_cast<int>(keys.size()) < count; i++) {
    std::string key = prefix + std::to_string(i);
    if (owners.insert(server::ShardOfSlot(tiers::KeySlot(key), shards)).second) keys.push_back(key);
  }
  REQUIRE(static_cast<int>(keys.size()) == count);
  return keys;
}

std::vector<std::string> KeyEventsInOrder(Client& s) {
  (void)s("PING");
  std::vector<std::string> out;
  for (const std::string& raw : s.state().pushed) {
    size_t pos = 0;
    net::Reply reply;
    REQUIRE(net::ParseReply(raw, pos, reply) == net::ReplyParseStatus::kDone);
    REQUIRE(reply.elements.size() == 4);
    const std::string& channel = reply.elements[2].text;
    out.push_back(channel.substr(channel.find(':') + 1) + " " + reply.elements[3].text);
  }
  s.state().pushed.clear();
  return out;
}

std::vector<std::string> KeyEvents(Client& s) {
  std::vector<std::string> out = KeyEventsInOrder(s);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    words.emplace_back(line.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

void WithServer(const std::function<void(Client& client)>& body, const ServerOptions& options) {
  RunInEnv(
      EnvKind::kSimulation, options.shards,
      [&](Env& env, const std::string& dir) {
        auto shards = server::ShardSet::Open(env, [&](int shard) {
          tiers::EngineOptions engine;
          engine.dir = JoinPath(dir, fmt::format("shard-{}", shard));
          engine.memory_bytes = 8 << 20;
          return engine;
        });
        REQUIRE_MESSAGE(shards.has_value(), shards.error().ToString());
        {
          Server server(env, **shards, options.config);
          server.Start();
          {
            Client client(server, 0);
            body(client);
          }
          server.Stop();
        }
        Status closed = (*shards)->Close();
        if (!options.engines_may_fail) CHECK(closed.ok());
      },
      options.seed, options.faults);
}

}  // namespace tierkv::testing
