#include "server/commands.h"

#include <array>
#include <string_view>

#include "core/assert.h"

namespace tierkv::server {
namespace {

// Redis formats user strings into error texts with "%s" / "%.128s": they end at a NUL byte.
std::string_view AsCString(std::string_view text) { return text.substr(0, text.find('\0')); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

void WrongArity(net::ReplyWriter& reply, std::string_view name) {
  reply.Error("ERR wrong number of arguments for '" + std::string(name) + "' command");
}

AfterReply Ping(std::vector<std::string>& args, net::ReplyWriter& reply) {
  // PING's arity is -1 in Redis, and the command itself refuses more than one argument.
  if (args.size() > 2) {
    WrongArity(reply, "ping");
  } else if (args.size() == 2) {
    reply.Bulk(args[1]);
  } else {
    reply.SimpleString("PONG");
  }
  return AfterReply::kKeepOpen;
}

AfterReply Echo(std::vector<std::string>& args, net::ReplyWriter& reply) {
  reply.Bulk(args[1]);
  return AfterReply::kKeepOpen;
}

AfterReply Quit(std::vector<std::string>&, net::ReplyWriter& reply) {
  reply.SimpleString("OK");
  return AfterReply::kClose;
}

AfterReply Command(std::vector<std::string>&, net::ReplyWriter& reply) {
  // No command introspection yet; an empty table is enough for redis-cli to start.
  reply.ArrayHeader(0);
  return AfterReply::kKeepOpen;
}

struct CommandSpec {
  std::string_view name;  // lower case, as Redis prints it in errors
  int arity;              // Redis's convention, see commands.h
  AfterReply (*run)(std::vector<std::string>& args, net::ReplyWriter& reply);
};

constexpr std::array kCommands = {
    CommandSpec{"ping", -1, Ping},
    CommandSpec{"echo", 2, Echo},
    CommandSpec{"quit", -1, Quit},
    CommandSpec{"command", -1, Command},
};

const CommandSpec* Lookup(std::string_view name) {
  for (const CommandSpec& spec : kCommands) {
    if (EqualsIgnoreCase(spec.name, name)) return &spec;
  }
  return nullptr;
}

}  // namespace

std::string UnknownCommandError(const std::vector<std::string>& args) {
  TK_ASSERT(!args.empty());
  constexpr size_t kMaxShownBytes = 128;  // Redis's "%.128s" and its 128-byte argument list
  std::string listed;
  for (size_t i = 1; i < args.size() && listed.size() < kMaxShownBytes; i++) {
    const size_t room = kMaxShownBytes - listed.size();
    listed += '\'';
    listed += AsCString(args[i]).substr(0, room);
    listed += "' ";
  }
  return "ERR unknown command '" + std::string(AsCString(args[0]).substr(0, kMaxShownBytes)) +
         "', with args beginning with: " + listed;
}

AfterReply ExecuteCommand(std::vector<std::string>& args, net::ReplyWriter& reply) {
  TK_ASSERT(!args.empty());
  const CommandSpec* spec = Lookup(args[0]);
  if (spec == nullptr) {
    reply.Error(UnknownCommandError(args));
    return AfterReply::kKeepOpen;
  }
  const int64_t argc = static_cast<int64_t>(args.size());
  if ((spec->arity > 0 && spec->arity != argc) || argc < -spec->arity) {
    WrongArity(reply, spec->name);
    return AfterReply::kKeepOpen;
  }
  return spec->run(args, reply);
}

}  // namespace tierkv::server
