// Pub/sub, keyspace notifications and MONITOR.
//
// Channels are node-wide, subscribers are not: each executor keeps the subscriptions of its own
// clients (ExecutorState::channels/patterns), so SUBSCRIBE never leaves the client's executor
// and a PUBLISH is one message to every executor, each delivering to its own subscribers
// through their connections' push queues (net::Connection::Push, bounded by the pubsub class of
// client-output-buffer-limit: a subscriber that stops reading is disconnected, as in Redis).
// PUBLISH waits for every executor's count (Redis replies with the number of receivers);
// keyspace notifications, published by the shard that changed the key, do not wait.
// MONITOR is the same fan-out of one formatted line per command, only paid for while a monitor
// is connected (an atomic count checked per command).
// Rejected: a node-wide subscriber table (every SUBSCRIBE would cross threads, and delivery
// would still have to go to each client's own executor).
#include <fmt/core.h>

#include "core/limits.h"
#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

// Redis's sdscatrepr: the quoted form MONITOR shows arguments in.
std::string Repr(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += fmt::format("\\x{:02x}", c);
        }
    }
  }
  return out + "\"";
}

// ["message", channel, payload] or ["pmessage", pattern, channel, payload] in `protocol`.
std::string MessageBytes(int protocol, const std::string* pattern, const std::string& channel,
                         const std::string& message) {
  std::string out;
  net::ReplyWriter writer(out, protocol);
  writer.PushHeader(pattern == nullptr ? 3 : 4);
  writer.Bulk(pattern == nullptr ? "message" : "pmessage");
  if (pattern != nullptr) writer.Bulk(*pattern);
  writer.Bulk(channel);
  writer.Bulk(message);
  return out;
}

// The confirmation of one (un)subscription: [kind, name or nil, subscriptions left].
void Confirm(Ctx& ctx, std::string_view kind, const std::string* name, size_t count) {
  ctx.reply().PushHeader(3);
  ctx.reply().Bulk(kind);
  if (name == nullptr) {
    ctx.reply().NullBulk();
  } else {
    ctx.reply().Bulk(*name);
  }
  ctx.reply().Integer(static_cast<int64_t>(count));
}

void Subscribe(Ctx& ctx, bool pattern) {
  ClientState& client = *ctx.client();
  ExecutorState& state = ctx.server().local();
  for (size_t i = 1; i < ctx.argc(); i++) {
    const std::string& name = ctx.arg(i);
    if (pattern) {
      if (client.patterns.insert(name).second) state.patterns[name].insert(client.id);
    } else {
      if (client.channels.insert(name).second) state.channels[name].insert(client.id);
    }
    Confirm(ctx, pattern ? "psubscribe" : "subscribe", &name, client.subscriptions());
  }
}

void Unsubscribe(Ctx& ctx, bool pattern) {
  ClientState& client = *ctx.client();
  ExecutorState& state = ctx.server().local();
  std::set<std::string>& mine = pattern ? client.patterns : client.channels;
  std::vector<std::string> names(ctx.args().begin() + 1, ctx.args().end());
  if (names.empty()) names.assign(mine.begin(), mine.end());
  const std::string_view kind = pattern ? "punsubscribe" : "unsubscribe";
  if (names.empty()) return Confirm(ctx, kind, nullptr, client.subscriptions());
  for (const std::string& name : names) {
    if (mine.erase(name) > 0) {
      auto drop = [&](auto& table) {
        auto it = table.find(name);
        if (it == table.end()) return;
        it->second.erase(client.id);
        if (it->second.empty()) table.erase(it);
      };
      if (pattern) {
        drop(state.patterns);
      } else {
        drop(state.channels);
      }
    }
    Confirm(ctx, kind, &name, client.subscriptions());
  }
}

void SubscribeCommand(Ctx& ctx) { Subscribe(ctx, false); }
void PSubscribeCommand(Ctx& ctx) { Subscribe(ctx, true); }
void UnsubscribeCommand(Ctx& ctx) { Unsubscribe(ctx, false); }
void PUnsubscribeCommand(Ctx& ctx) { Unsubscribe(ctx, true); }

void PublishCommand(Ctx& ctx) {
  ctx.reply().Integer(ctx.server().Publish(ctx.arg(1), ctx.arg(2)));
}

void PubsubChannels(Ctx& ctx) {
  std::set<std::string> channels;
  ctx.server().ForEachExecutor([&](ExecutorState& state) {
    for (const auto& [channel, subscribers] : state.channels) {
      if (ctx.argc() < 3 || GlobMatch(ctx.arg(2), channel, false)) channels.insert(channel);
    }
  });
  ctx.reply().ArrayHeader(static_cast<int64_t>(channels.size()));
  for (const std::string& channel : channels) ctx.reply().Bulk(channel);
}

void PubsubNumsub(Ctx& ctx) {
  std::vector<int64_t> counts(ctx.argc() - 2, 0);
  ctx.server().ForEachExecutor([&](ExecutorState& state) {
    for (size_t i = 2; i < ctx.argc(); i++) {
      auto it = state.channels.find(ctx.arg(i));
      if (it != state.channels.end()) counts[i - 2] += static_cast<int64_t>(it->second.size());
    }
  });
  ctx.reply().ArrayHeader(static_cast<int64_t>(counts.size() * 2));  // an array, not a map, in 7.0
  for (size_t i = 2; i < ctx.argc(); i++) {
    ctx.reply().Bulk(ctx.arg(i));
    ctx.reply().Integer(counts[i - 2]);
  }
}

void PubsubNumpat(Ctx& ctx) {
  std::set<std::string> patterns;
  ctx.server().ForEachExecutor([&](ExecutorState& state) {
    for (const auto& [pattern, subscribers] : state.patterns) patterns.insert(pattern);
  });
  ctx.reply().Integer(static_cast<int64_t>(patterns.size()));
}

void PubsubHelp(Ctx& ctx) {
  const std::initializer_list<std::string_view> lines = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> (default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, excluding",
      "    pattern subscriptions(default: no channels).",
      "HELP",
      "    Print this help."};
  ctx.reply().ArrayHeader(static_cast<int64_t>(lines.size()));
  for (std::string_view line : lines) ctx.reply().SimpleString(line);
}

void Monitor(Ctx& ctx) {
  ClientState& client = *ctx.client();
  if (client.monitor) return;  // Redis answers nothing to a second MONITOR
  client.monitor = true;
  ctx.server().local().monitors.insert(client.id);
  ctx.server().monitor_count().fetch_add(1);
  ctx.Ok();
}

}  // namespace

// --- Server's pub/sub side ---

int64_t Server::DeliverLocal(const std::string& channel, const std::string& message) {
  ExecutorState& state = local();
  int64_t receivers = 0;
  std::vector<std::pair<uint64_t, const std::string*>> targets;  // (client, pattern or null)
  if (auto it = state.channels.find(channel); it != state.channels.end()) {
    for (uint64_t id : it->second) targets.emplace_back(id, nullptr);
  }
  for (const auto& [pattern, subscribers] : state.patterns) {
    if (!GlobMatch(pattern, channel, false)) continue;
    for (uint64_t id : subscribers) targets.emplace_back(id, &pattern);
  }
  for (const auto& [id, pattern] : targets) {
    auto client = state.clients.find(id);
    if (client == state.clients.end()) continue;
    PushTo(*client->second, MessageBytes(client->second->protocol, pattern, channel, message));
    receivers++;
  }
  return receivers;
}

int64_t Server::Publish(const std::string& channel, const std::string& message) {
  int64_t receivers = 0;
  ForEachExecutor([&](ExecutorState&) { receivers += DeliverLocal(channel, message); });
  return receivers;
}

void Server::PublishAsync(const std::string& channel, const std::string& message) {
  for (int i = 0; i < env_.ExecutorCount(); i++) {
    PostTracked(i, [this, channel, message] { (void)DeliverLocal(channel, message); });
  }
}

void Server::PushTo(ClientState& client, std::string bytes) {
  if (client.killed) return;
  if (!client.push) {  // the command harness: keep them for the test to read
    client.pushed.push_back(std::move(bytes));
    return;
  }
  if (!client.push(std::move(bytes))) {
    env_.CurrentExecutor().log().Warn(
        "client {} closed for overcoming of output buffer limits", client.peer);
    client.killed = true;
    if (client.kill) client.kill();
  }
}

void Server::UnsubscribeAll(ClientState& client) {
  ExecutorState& state = local();
  for (const std::string& channel : client.channels) {
    auto it = state.channels.find(channel);
    if (it == state.channels.end()) continue;
    it->second.erase(client.id);
    if (it->second.empty()) state.channels.erase(it);
  }
  for (const std::string& pattern : client.patterns) {
    auto it = state.patterns.find(pattern);
    if (it == state.patterns.end()) continue;
    it->second.erase(client.id);
    if (it->second.empty()) state.patterns.erase(it);
  }
  client.channels.clear();
  client.patterns.clear();
  if (client.monitor) {
    client.monitor = false;
    state.monitors.erase(client.id);
    monitor_count_.fetch_sub(1);
  }
}

void Server::FeedMonitors(const ClientState& client, const std::vector<std::string>& args) {
  const int64_t micros = env_.clock().UnixMicros();
  std::string line = fmt::format("+{}.{:06} [{} {}]", micros / 1'000'000, micros % 1'000'000,
                                 client.db, client.peer);
  const bool redact = EqualsIgnoreCase(args[0], "auth") || EqualsIgnoreCase(args[0], "hello") ||
                      EqualsIgnoreCase(args[0], "migrate");
  for (size_t i = 0; i < args.size(); i++) {
    line += ' ';
    line += redact && i > 0 ? std::string("\"(redacted)\"") : Repr(args[i]);
  }
  line += "\r\n";
  for (int i = 0; i < env_.ExecutorCount(); i++) {
    PostTracked(i, [this, line] {
      ExecutorState& state = local();
      for (uint64_t id : std::vector<uint64_t>(state.monitors.begin(), state.monitors.end())) {
        auto it = state.clients.find(id);
        if (it != state.clients.end()) PushTo(*it->second, line);
      }
    });
  }
}

void RegisterPubSubCommands(CommandTable& table) {
  constexpr uint32_t kFlags = kCmdPubsub | kCmdNoScript | kCmdLoading | kCmdStale | kCmdClientState;
  auto add = [&table](std::string_view name, int arity, uint32_t flags, Handler handler,
                      std::string_view since, std::string_view summary) {
    table.Add(MakeCommand(name, arity, flags, 0, {}, handler, "pubsub", since, summary));
  };
  add("subscribe", -2, kFlags, SubscribeCommand, "2.0.0",
      "Listen for messages published to the given channels");
  add("unsubscribe", -1, kFlags, UnsubscribeCommand, "2.0.0",
      "Stop listening for messages posted to the given channels");
  add("psubscribe", -2, kFlags, PSubscribeCommand, "2.0.0",
      "Listen for messages published to channels matching the given patterns");
  add("punsubscribe", -1, kFlags, PUnsubscribeCommand, "2.0.0",
      "Stop listening for messages posted to channels matching the given patterns");
  add("publish", 3, kCmdPubsub | kCmdLoading | kCmdStale | kCmdFast | kCmdMayReplicate,
      PublishCommand, "2.0.0", "Post a message to a channel");
  CommandSpec pubsub = MakeCommand("pubsub", -2, 0, 0, {}, nullptr, "pubsub", "2.8.0",
                                   "A container for Pub/Sub commands");
  constexpr uint32_t kSub = kCmdPubsub | kCmdLoading | kCmdStale;
  pubsub.subcommands.push_back(MakeCommand("channels", -2, kSub, 0, {}, PubsubChannels, "pubsub",
                                           "2.8.0", "List active channels"));
  pubsub.subcommands.push_back(MakeCommand("numsub", -2, kSub, 0, {}, PubsubNumsub, "pubsub",
                                           "2.8.0", "Get the count of subscribers for channels"));
  pubsub.subcommands.push_back(MakeCommand("numpat", 2, kSub, 0, {}, PubsubNumpat, "pubsub",
                                           "2.8.0", "Get the count of unique patterns pattern subscriptions"));
  pubsub.subcommands.push_back(MakeCommand("help", 2, kCmdLoading | kCmdStale, 0, {}, PubsubHelp,
                                           "pubsub", "6.2.0", "Show helpful text about the different subcommands"));
  table.Add(std::move(pubsub));
  table.Add(MakeCommand("monitor", 1,
                        kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale | kCmdNoMulti |
                            kCmdClientState,
                        0, {}, Monitor, "server", "1.0.0",
                        "Listen for all requests received by the server in real time"));
}

}  // namespace tierkv::server
