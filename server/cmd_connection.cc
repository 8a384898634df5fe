// Connection commands: PING ECHO QUIT SELECT HELLO AUTH, and the table rows of MULTI EXEC
// DISCARD WATCH UNWATCH RESET (the dispatcher runs those itself: server.cc).
#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

void Ping(Ctx& ctx) {
  // PING's arity is -1 in Redis, and the command itself refuses more than one argument.
  if (ctx.argc() > 2) {
    ctx.WrongArity();
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

// The password check of AUTH and HELLO ... AUTH. ACL users other than "default" come with the
// ACL commands; until then the default user's password is `requirepass`.
bool PasswordMatches(Ctx& ctx, std::string_view user, std::string_view password) {
  const std::string& required = ctx.server().local().config.String("requirepass");
  return EqualsIgnoreCase(user, "default") && !required.empty() && password == required;
}

void Auth(Ctx& ctx) {
  if (ctx.argc() > 3) {
    ctx.SyntaxError();
    return;
  }
  const bool with_user = ctx.argc() == 3;
  if (!with_user && ctx.server().local().config.String("requirepass").empty()) {
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
