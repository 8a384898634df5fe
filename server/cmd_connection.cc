// Connection commands: PING ECHO QUIT SELECT HELLO AUTH, and the table rows of MULTI EXEC
// DISCARD WATCH UNWATCH RESET (the dispatcher runs those itself: server.cc).
#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

void Ping(Ctx& ctx) {
  // PING's arity is -1 in Redis, and the command itself refuses more than one argument.
  if (ctx.argc() > 2) {
    ctx.WrongArity();
  } else if (ctx.client() != nullptr && ctx.client()->protocol == 2 &&
             ctx.client()->subscriptions() > 0) {
    // A RESP2 subscriber gets its PONG in the shape of a message.
    ctx.reply().ArrayHeader(2);
    ctx.reply().Bulk("pong");
    ctx.reply().Bulk(ctx.argc() == 2 ? std::string_view(ctx.arg(1)) : std::string_view());
  } else if (ctx.argc() == 2) {
    ctx.reply().Bulk(ctx.arg(1));
  } else {
    ctx.reply().SimpleString("PONG");
  }
}

void Echo(Ctx& ctx) { ctx.reply().Bulk(ctx.arg(1)); }

void Quit(Ctx& ctx) {
  ctx.Ok();
  ctx.close_after = true;
}

void Select(Ctx& ctx) {
  int64_t index = 0;
  if (!ParseInt64(ctx.arg(1), index)) {
    ctx.reply().Error("ERR value is not an integer or out of range");
    return;
  }
  if (index < 0 || index >= ctx.server().local().config.Int("databases")) {
    ctx.reply().Error("ERR DB index is out of range");
    return;
  }
  ctx.client()->db = static_cast<int>(index);
  ctx.Ok();
}

// The password check of AUTH and HELLO ... AUTH against the ACL users (server/acl.h): the user
// exists, is on, and is nopass or has this password. User names are case-sensitive, as in Redis.
// A failure goes to the ACL LOG.
bool PasswordMatches(Ctx& ctx, std::string_view user, std::string_view password) {
  ExecutorState& state = ctx.server().local();
  if (AclOf(state).CheckCredentials(user, password)) return true;
  AclLogAuthFailure(state, ctx.env(), *ctx.client(), ctx.arg(0), user);
  return false;
}

void Auth(Ctx& ctx) {
  if (ctx.argc() > 3) {
    ctx.SyntaxError();
    return;
  }
  const bool with_user = ctx.argc() == 3;
  if (!with_user && AclOf(ctx.server().local()).Find("default")->nopass) {
    ctx.reply().Error(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?");
    return;
  }
  const std::string_view user = with_user ? std::string_view(ctx.arg(1)) : "default";
  if (!PasswordMatches(ctx, user, ctx.arg(ctx.argc() - 1))) {
    ctx.reply().Error("WRONGPASS invalid username-password pair or user is disabled.");
    return;
  }
  ctx.client()->authenticated = true;
  ctx.client()->user = std::string(user);
  ctx.Ok();
}

void Hello(Ctx& ctx) {
  ClientState& client = *ctx.client();
  int64_t protocol = client.protocol;
  size_t next = 1;
  if (ctx.argc() >= 2) {
    if (!ParseInt64(ctx.arg(1), protocol)) {
      ctx.reply().Error("ERR Protocol version is not an integer or out of range");
      return;
    }
    next = 2;
    if (protocol < 2 || protocol > 3) {
      ctx.reply().Error("NOPROTO unsupported protocol version");
      return;
    }
  }
  std::string_view user, password, name;
  bool auth = false, setname = false;
  for (; next < ctx.argc(); next++) {
    const bool more = next + 1 < ctx.argc();
    if (ctx.Is(next, "AUTH") && next + 2 < ctx.argc()) {
      auth = true;
      user = ctx.arg(next + 1);
      password = ctx.arg(next + 2);
      next += 2;
    } else if (ctx.Is(next, "SETNAME") && more) {
      setname = true;
      name = ctx.arg(next + 1);
      next += 1;
    } else {
      ctx.reply().Error("ERR Syntax error in HELLO option '" + ctx.arg(next).substr(0, 128) + "'");
      return;
    }
  }
  if (auth && !PasswordMatches(ctx, user, password)) {
    ctx.reply().Error("WRONGPASS invalid username-password pair or user is disabled.");
    return;
  }
  if (!auth && !client.authenticated) {
    ctx.reply().Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "<proto> AUTH <user> <pass> option can be used to authenticate the client and select "
        "the RESP protocol version at the same time");
    return;
  }
  if (setname) {
    for (char c : name) {
      if (c < '!' || c > '~') {
        ctx.reply().Error("ERR Client names cannot contain spaces, newlines or special characters.");
        return;
      }
    }
  }
  if (auth) {
    client.authenticated = true;
    client.user = std::string(user);
  }
  if (setname) client.name = std::string(name);
  client.protocol = static_cast<int>(protocol);
  net::ReplyWriter& reply = ctx.reply();
  reply.set_protocol(client.protocol);
  reply.MapHeader(7);
  reply.Bulk("server");
  reply.Bulk("redis");
  reply.Bulk("version");
  reply.Bulk(kRedisCompatVersion);
  reply.Bulk("proto");
  reply.Integer(client.protocol);
  reply.Bulk("id");
  reply.Integer(static_cast<int64_t>(client.id));
  reply.Bulk("mode");
  reply.Bulk("standalone");
  reply.Bulk("role");
  reply.Bulk("master");
  reply.Bulk("modules");
  reply.ArrayHeader(0);
}

// --- CLIENT ---

bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

// One line of CLIENT LIST / CLIENT INFO, with Redis 7.0's fields (buffer figures tierkv does not
// keep per client are 0).
std::string ClientLine(const ClientState& c, TimePoint now) {
  auto since = [now](TimePoint t) {
    return std::chrono::duration_cast<seconds>(now - t).count();
  };
  std::string flags;
  if (c.in_multi) flags += 'x';
  if (c.subscriptions() > 0) flags += 'P';
  if (c.monitor) flags += 'O';
  if (c.no_evict) flags += 'e';
  if (flags.empty()) flags = "N";
  return fmt::format(
      "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags={} db={} sub={} psub={} ssub=0 "
      "multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 "
      "tot-mem=0 events=r cmd={} user={} redir=-1 resp={}\n",
      c.id, c.peer, c.local_address, c.name, since(c.created), since(c.last_interaction), flags,
      c.db, c.channels.size(), c.patterns.size(),
      c.in_multi ? static_cast<int64_t>(c.queued.size()) : -1,
      c.last_command.empty() ? "NULL" : c.last_command, c.user, c.protocol);
}

std::string_view ClientType(const ClientState& c) {
  return c.subscriptions() > 0 ? "pubsub" : "normal";
}

void ClientId(Ctx& ctx) { ctx.reply().Integer(static_cast<int64_t>(ctx.client()->id)); }

void ClientSetName(Ctx& ctx) {
  if (!ValidClientName(ctx.arg(2))) {
    return ctx.reply().Error("ERR Client names cannot contain spaces, newlines or special characters.");
  }
  ctx.client()->name = ctx.arg(2);
  ctx.Ok();
}

void ClientGetName(Ctx& ctx) {
  if (ctx.client()->name.empty()) return ctx.reply().NullBulk();
  ctx.reply().Bulk(ctx.client()->name);
}

void ClientInfo(Ctx& ctx) {
  ctx.reply().Verbatim("txt", ClientLine(*ctx.client(), ctx.env().Now()));
}

void ClientList(Ctx& ctx) {
  std::optional<std::string> type;
  std::vector<uint64_t> ids;
  for (size_t i = 2; i < ctx.argc(); i++) {
    if (ctx.Is(i, "TYPE") && i + 1 < ctx.argc()) {
      type = ToLower(ctx.arg(++i));
      if (*type != "normal" && *type != "pubsub" && *type != "master" && *type != "replica" &&
          *type != "slave") {
        return ctx.reply().Error("ERR Unknown client type '" + ctx.arg(i) + "'");
      }
    } else if (ctx.Is(i, "ID") && i + 1 < ctx.argc()) {
      for (i++; i < ctx.argc(); i++) {
        int64_t id = 0;
        if (!ParseInt64(ctx.arg(i), id) || id <= 0) {
          return ctx.reply().Error("ERR Invalid client ID");
        }
        ids.push_back(static_cast<uint64_t>(id));
      }
    } else {
      return ctx.SyntaxError();
    }
  }
  std::map<uint64_t, std::string> lines;  // by id, as Redis lists them (oldest first)
  const TimePoint now = ctx.env().Now();
  ctx.server().ForEachExecutor([&](ExecutorState& state) {
    for (const auto& [id, client] : state.clients) {
      if (type && ClientType(*client) != *type) continue;
      if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
      lines.emplace(id, ClientLine(*client, now));
    }
  });
  std::string text;
  for (const auto& [id, line] : lines) text += line;
  ctx.reply().Verbatim("txt", text);
}

struct KillFilter {
  std::optional<uint64_t> id;
  std::optional<std::string> type, user, addr, laddr;
  bool skip_me = true;
  bool Matches(const ClientState& c, uint64_t me) const {
    if (skip_me && c.id == me) return false;
    if (id && c.id != *id) return false;
    if (type && ClientType(c) != *type) return false;
    if (user && c.user != *user) return false;
    if (addr && c.peer != *addr) return false;
    if (laddr && c.local_address != *laddr) return false;
    return true;
  }
};

// Ends the matching clients on every executor; returns how many.
int64_t KillClients(Ctx& ctx, const KillFilter& filter) {
  const uint64_t me = ctx.client()->id;
  int64_t killed = 0;
  ctx.server().ForEachExecutor([&](ExecutorState& state) {
    for (const auto& [id, client] : state.clients) {
      if (!filter.Matches(*client, me)) continue;
      killed++;
      client->killed = true;
      // The caller's own connection ends after this reply; another one ends now.
      if (id != me && client->kill) client->kill();
    }
  });
  return killed;
}

void ClientKill(Ctx& ctx) {
  KillFilter filter;
  if (ctx.argc() == 3) {  // the old form: CLIENT KILL addr:port
    filter.addr = ctx.arg(2);
    filter.skip_me = false;
    if (KillClients(ctx, filter) == 0) return ctx.reply().Error("ERR No such client");
    return ctx.Ok();
  }
  if (ctx.argc() % 2 != 0) return ctx.SyntaxError();
  for (size_t i = 2; i + 1 < ctx.argc(); i += 2) {
    const std::string& value = ctx.arg(i + 1);
    if (ctx.Is(i, "ID")) {
      int64_t id = 0;
      if (!ParseInt64(value, id) || id <= 0) return ctx.reply().Error("ERR client-id should be greater than 0");
      filter.id = static_cast<uint64_t>(id);
    } else if (ctx.Is(i, "TYPE")) {
      filter.type = ToLower(value);
      if (*filter.type != "normal" && *filter.type != "pubsub" && *filter.type != "master" &&
          *filter.type != "replica" && *filter.type != "slave") {
        return ctx.reply().Error("ERR Unknown client type '" + value + "'");
      }
    } else if (ctx.Is(i, "USER")) {
      filter.user = value;
    } else if (ctx.Is(i, "ADDR")) {
      filter.addr = value;
    } else if (ctx.Is(i, "LADDR")) {
      filter.laddr = value;
    } else if (ctx.Is(i, "SKIPME")) {
      if (EqualsIgnoreCase(value, "yes")) {
        filter.skip_me = true;
      } else if (EqualsIgnoreCase(value, "no")) {
        filter.skip_me = false;
      } else {
        return ctx.SyntaxError();
      }
    } else {
      return ctx.SyntaxError();
    }
  }
  ctx.reply().Integer(KillClients(ctx, filter));
}

void ClientReply(Ctx& ctx) {
  using Mode = ClientState::ReplyMode;
  if (ctx.Is(2, "ON")) {
    ctx.client()->reply_mode = Mode::kOn;
    ctx.Ok();
  } else if (ctx.Is(2, "OFF")) {
    ctx.client()->reply_mode = Mode::kOff;
  } else if (ctx.Is(2, "SKIP")) {
    if (ctx.client()->reply_mode != Mode::kOff) ctx.client()->reply_mode = Mode::kSkip;
  } else {
    ctx.SyntaxError();
  }
}

void ClientNoEvict(Ctx& ctx) {
  if (ctx.Is(2, "ON")) {
    ctx.client()->no_evict = true;
  } else if (ctx.Is(2, "OFF")) {
    ctx.client()->no_evict = false;
  } else {
    return ctx.SyntaxError();
  }
  ctx.Ok();
}

void ClientPause(Ctx& ctx) {
  int64_t timeout_ms = 0;
  if (!ParseInt64(ctx.arg(2), timeout_ms) || timeout_ms < 0) {
    return ctx.reply().Error("ERR timeout is not an integer or out of range");
  }
  bool all = true;
  if (ctx.argc() == 4) {
    if (ctx.Is(3, "WRITE")) {
      all = false;
    } else if (!ctx.Is(3, "ALL")) {
      return ctx.SyntaxError();
    }
  } else if (ctx.argc() > 4) {
    return ctx.SyntaxError();
  }
  const TimePoint until = DeadlineAfter(ctx.env().Now(), milliseconds(timeout_ms));
  ctx.server().ForEachExecutor([until, all](ExecutorState& state) {
    state.paused_until = std::max(state.paused_until, until);
    state.pause_all = all || state.pause_all;
  });
  ctx.Ok();
}

void ClientUnpause(Ctx& ctx) {
  ctx.server().ForEachExecutor([](ExecutorState& state) {
    state.paused_until = TimePoint{};
    state.pause_all = false;
  });
  ctx.Ok();
}

void ClientHelp(Ctx& ctx) {
  const std::initializer_list<std::string_view> lines = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GETNAME", "    Return the name of the current connection.",
      "ID", "    Return the ID of the current connection.",
      "INFO", "    Return information about the current client connection.",
      "KILL <ip:port>", "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are: ID, TYPE, USER, ADDR, LADDR, SKIPME.",
      "LIST [options ...]", "    Return information about client connections (TYPE, ID).",
      "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
      "PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
      "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
      "SETNAME <name>", "    Assign the name <name> to the current connection.",
      "UNPAUSE", "    Stop the current client pause, resuming traffic.",
      "HELP", "    Print this help."};
  ctx.reply().ArrayHeader(static_cast<int64_t>(lines.size()));
  for (std::string_view line : lines) ctx.reply().SimpleString(line);
}

}  // namespace

void RegisterConnectionCommands(CommandTable& table) {
  constexpr uint64_t kConn = kAclConnection;
  constexpr uint64_t kTx = kAclTransaction;
  constexpr uint32_t kClient = kCmdClientState;
  auto add = [&table](std::string_view name, int arity, uint32_t flags, uint64_t categories,
                      Handler handler, std::string_view group, std::string_view since,
                      std::string_view summary) {
    table.Add(MakeCommand(name, arity, flags, categories, {}, handler, group, since, summary));
  };
  add("ping", -1, kCmdFast, kConn, Ping, "connection", "1.0.0", "Ping the server");
  add("echo", 2, kCmdFast, kConn, Echo, "connection", "1.0.0", "Echo the given string");
  add("quit", -1, kCmdAllowBusy | kCmdNoAuth | kCmdFast | kClient, kConn, Quit, "connection",
      "1.0.0", "Close the connection");
  add("select", 2, kCmdLoading | kCmdStale | kCmdFast | kClient, kConn, Select, "connection",
      "1.0.0", "Change the selected database for the current connection");
  add("auth", -2, kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdNoAuth | kClient, kConn,
      Auth, "connection", "1.0.0", "Authenticate to the server");
  add("hello", -1, kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdNoAuth | kClient,
      kConn, Hello, "connection", "6.0.0", "Handshake with Redis");
  constexpr uint32_t kClientFlags = kCmdNoScript | kCmdLoading | kCmdStale | kClient;
  CommandSpec client_command = MakeCommand("client", -2, 0, kConn, {}, nullptr, "connection",
                                           "2.4.0", "A container for client connection commands");
  auto sub = [&](std::string_view name, int arity, uint32_t flags, Handler handler,
                 std::string_view since, std::string_view summary) {
    client_command.subcommands.push_back(
        MakeCommand(name, arity, flags | kClientFlags, kConn, {}, handler, "connection", since, summary));
  };
  sub("id", 2, 0, ClientId, "5.0.0", "Returns the client ID for the current connection");
  sub("setname", 3, 0, ClientSetName, "2.6.9", "Set the current connection name");
  sub("getname", 2, 0, ClientGetName, "2.6.9", "Get the current connection name");
  sub("info", 2, 0, ClientInfo, "6.2.0", "Returns information about the current client connection.");
  sub("list", -2, kCmdAdmin, ClientList, "2.4.0", "Get the list of client connections");
  sub("kill", -3, kCmdAdmin, ClientKill, "2.4.0", "Kill the connection of a client");
  sub("reply", 3, 0, ClientReply, "3.2.0", "Instruct the server whether to reply to commands");
  sub("no-evict", 3, kCmdAdmin, ClientNoEvict, "7.0.0", "Set client eviction mode for the current connection");
  sub("pause", -3, kCmdAdmin, ClientPause, "2.9.50", "Stop processing commands from clients for some time");
  sub("unpause", 2, kCmdAdmin, ClientUnpause, "6.2.0", "Resume processing of clients that were paused");
  sub("help", 2, 0, ClientHelp, "5.0.0", "Show helpful text about the different subcommands");
  table.Add(std::move(client_command));
  // Run by the dispatcher (Server::Transactional): no handler.
  add("multi", 1, kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdAllowBusy, kTx, nullptr,
      "transactions", "1.2.0", "Mark the start of a transaction block");
  add("exec", 1, kCmdNoScript | kCmdLoading | kCmdStale | kCmdSkipSlowlog, kTx, nullptr,
      "transactions", "1.2.0", "Execute all commands issued after MULTI");
  add("discard", 1, kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdAllowBusy, kTx,
      nullptr, "transactions", "2.0.0", "Discard all commands issued after MULTI");
  add("watch", -2, kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdAllowBusy, kTx,
      nullptr, "transactions", "2.2.0",
      "Watch the given keys to determine execution of the MULTI/EXEC block");
  add("unwatch", 1, kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdAllowBusy, kTx,
      nullptr, "transactions", "2.2.0", "Forget about all watched keys");
  add("reset", 1, kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdNoAuth | kCmdAllowBusy,
      kConn, nullptr, "connection", "6.2.0", "Reset the connection");
}

}  // namespace tierkv::server
