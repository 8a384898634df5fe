// ACL commands: ACL SETUSER DELUSER GETUSER LIST USERS WHOAMI CAT DRYRUN GENPASS LOG LOAD SAVE
// HELP, in Redis 7.0's words (acl.c's aclCommand). The users themselves and the check of every
// command are in server/acl.{h,cc}.
// Changes are validated on the calling executor's copy of the users, then the resulting user is
// stored on every executor (Server::ForEachExecutor), so all copies stay equal.
// ACL LOG: each executor keeps its own clients' entries (acl.h); LOG merges them by time.
// Not kept: an ACL file (LOAD and SAVE answer Redis's "not configured" error).
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "server/acl.h"
#include "server/command.h"
#include "server/config_syntax.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

// Redis formats user text with "%s": it ends at a NUL byte.
std::string_view CText(std::string_view text) { return text.substr(0, text.find('\0')); }

// Redis's addReplySubcommandSyntaxError (arity fits, arguments do not).
std::string SubcommandSyntaxError(Ctx& ctx) {
  return "ERR unknown subcommand or wrong number of arguments for '" +
         std::string(CText(ctx.arg(1)).substr(0, 128)) + "'. Try ACL HELP.";
}

AclState& LocalAcl(Ctx& ctx) { return AclOf(ctx.server().local()); }

// Redis's ACLMergeSelectorArguments: a "(...)" selector may be spread over several arguments.
// On an unmatched "(" returns false with the index (among the rules) where it started.
bool MergeSelectors(const std::vector<std::string>& rules, std::vector<std::string>& merged,
                    size_t& invalid) {
  std::string selector;
  bool open = false;
  for (size_t j = 0; j < rules.size(); j++) {
    const std::string& op = rules[j];
    if (!op.empty() && op.front() == '(' && op.back() != ')') {
      selector = op;
      open = true;
      invalid = j;
      continue;
    }
    if (open) {
      selector += " " + std::string(CText(op));
      if (!op.empty() && op.back() == ')') {
        open = false;
        merged.push_back(std::move(selector));
      }
      continue;
    }
    merged.push_back(op);
  }
  return !open;
}

// Redis's ACLKillPubsubClientsIfNeeded, first part: whether `after` may have lost a channel
// `before` had (no selector with all channels, and a channel of before missing from after).
bool RevokesChannels(const AclUser& before, const AclUser& after) {
  for (const AclSelector& s : after.selectors) {
    if (s.all_channels) return false;
  }
  for (const AclSelector& old : before.selectors) {
    for (const std::string& channel : old.channels) {
      bool kept = false;
      for (const AclSelector& s : after.selectors) {
        kept = kept || std::find(s.channels.begin(), s.channels.end(), channel) != s.channels.end();
      }
      if (!kept) return true;
    }
  }
  // All channels before were kept; a before-selector with all channels counts as lost ones.
  return std::any_of(before.selectors.begin(), before.selectors.end(),
                     [](const AclSelector& s) { return s.all_channels; });
}

// Ends this executor's subscribers of `user` with a subscription the user may no longer make
// (patterns are matched literally, as PSUBSCRIBE's check does). The caller's own connection
// ends after its reply.
void KillRevokedSubscribers(ExecutorState& state, const AclUser& user, uint64_t me) {
  auto allowed = [&user](const std::string& channel, bool is_pattern) {
    for (const AclSelector& s : user.selectors) {
      for (const std::string& pattern : s.channels) {
        if (is_pattern ? pattern == channel : GlobMatch(pattern, channel, false)) return true;
      }
    }
    return false;
  };
  for (const auto& [id, client] : state.clients) {
    if (client->user != user.name || client->subscriptions() == 0) continue;
    bool revoked = false;
    for (const std::string& pattern : client->patterns) revoked = revoked || !allowed(pattern, true);
    for (const std::string& channel : client->channels) revoked = revoked || !allowed(channel, false);
    if (!revoked) continue;
    client->killed = true;
    if (id != me && client->kill) client->kill();
  }
}

void SetUser(Ctx& ctx) {
  const std::string& name = ctx.arg(2);
  for (char c : name) {
    if (c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      return ctx.reply().Error("ERR Usernames can't contain spaces or null characters");
    }
  }
  const std::vector<std::string> rules(ctx.args().begin() + 3, ctx.args().end());
  std::vector<std::string> merged;
  size_t invalid = 0;
  if (!MergeSelectors(rules, merged, invalid)) {
    // Redis names argv[index among the rules] here, not the rule itself: kept byte for byte.
    return ctx.reply().Error("ERR Unmatched parenthesis in acl selector starting at '" +
                             std::string(CText(ctx.arg(invalid))) + "'.");
  }
  AclState& acl = LocalAcl(ctx);
  const AclUser* existing = acl.Find(name);
  AclUser user = existing != nullptr ? *existing : acl.NewUser(name);
  for (const std::string& op : merged) {
    if (std::optional<std::string> failed = acl.Apply(user, op)) {
      return ctx.reply().Error("ERR Error in ACL SETUSER modifier '" + std::string(CText(op)) +
                               "': " + *failed);
    }
  }
  const bool may_revoke = existing != nullptr && RevokesChannels(*existing, user);
  const uint64_t me = ctx.client() != nullptr ? ctx.client()->id : 0;
  ctx.server().ForEachExecutor([&user, may_revoke, me](ExecutorState& state) {
    AclOf(state).Put(user);
    if (may_revoke) KillRevokedSubscribers(state, user, me);
  });
  ctx.Ok();
}

void DelUser(Ctx& ctx) {
  for (size_t i = 2; i < ctx.argc(); i++) {
    if (ctx.arg(i) == "default") return ctx.reply().Error("ERR The 'default' user cannot be removed");
  }
  std::vector<std::string> names;
  for (size_t i = 2; i < ctx.argc(); i++) {
    if (LocalAcl(ctx).Find(ctx.arg(i)) != nullptr &&
        std::find(names.begin(), names.end(), ctx.arg(i)) == names.end()) {
      names.push_back(ctx.arg(i));
    }
  }
  const uint64_t me = ctx.client() != nullptr ? ctx.client()->id : 0;
  ctx.server().ForEachExecutor([&names, me](ExecutorState& state) {
    for (const std::string& name : names) (void)AclOf(state).Erase(name);
    // The deleted users' connections end (Redis's ACLFreeUserAndKillClients); the caller's own
    // one after this reply.
    for (const auto& [id, client] : state.clients) {
      if (std::find(names.begin(), names.end(), client->user) == names.end()) continue;
      client->user = "default";
      client->authenticated = false;
      client->killed = true;
      if (id != me && client->kill) client->kill();
    }
  });
  ctx.reply().Integer(static_cast<int64_t>(names.size()));
}

void ReplySelector(Ctx& ctx, const AclState& acl, const AclSelector& selector) {
  ctx.reply().Bulk("commands");
  ctx.reply().Bulk(acl.DescribeCommands(selector));
  ctx.reply().Bulk("keys");
  ctx.reply().Bulk(AclState::DescribeKeys(selector));
  ctx.reply().Bulk("channels");
  ctx.reply().Bulk(AclState::DescribeChannels(selector));
}

void GetUser(Ctx& ctx) {
  const AclState& acl = LocalAcl(ctx);
  const AclUser* user = acl.Find(ctx.arg(2));
  if (user == nullptr) return ctx.reply().NullBulk();
  net::ReplyWriter& reply = ctx.reply();
  reply.MapHeader(6);
  reply.Bulk("flags");
  const std::vector<std::string_view> flags = AclState::FlagNames(*user);
  reply.SetHeader(static_cast<int64_t>(flags.size()));
  for (std::string_view flag : flags) reply.Bulk(flag);
  reply.Bulk("passwords");
  reply.ArrayHeader(static_cast<int64_t>(user->passwords.size()));
  for (const std::string& hash : user->passwords) reply.Bulk(hash);
  ReplySelector(ctx, acl, user->selectors.front());
  reply.Bulk("selectors");
  reply.ArrayHeader(static_cast<int64_t>(user->selectors.size() - 1));
  for (size_t i = 1; i < user->selectors.size(); i++) {
    reply.MapHeader(3);
    ReplySelector(ctx, acl, user->selectors[i]);
  }
}

void List(Ctx& ctx) {
  const AclState& acl = LocalAcl(ctx);
  ctx.reply().ArrayHeader(static_cast<int64_t>(acl.users().size()));
  for (const auto& [name, user] : acl.users()) {
    ctx.reply().Bulk("user " + name + " " + acl.Describe(user));
  }
}

void Users(Ctx& ctx) {
  const AclState& acl = LocalAcl(ctx);
  ctx.reply().ArrayHeader(static_cast<int64_t>(acl.users().size()));
  for (const auto& [name, user] : acl.users()) ctx.reply().Bulk(name);
}

void WhoAmI(Ctx& ctx) { ctx.reply().Bulk(ctx.client()->user); }

void Cat(Ctx& ctx) {
  const auto categories = AclCategoryNames();
  if (ctx.argc() == 2) {
    ctx.reply().ArrayHeader(static_cast<int64_t>(categories.size()));
    for (const AclCategoryName& category : categories) ctx.reply().Bulk(category.name);
    return;
  }
  if (ctx.argc() > 3) return ctx.reply().Error(SubcommandSyntaxError(ctx));
  uint64_t bit = 0;
  for (const AclCategoryName& category : categories) {
    if (EqualsIgnoreCase(category.name, ctx.arg(2))) bit = category.bit;
  }
  if (bit == 0) {
    return ctx.reply().Error("ERR Unknown category '" + std::string(CText(ctx.arg(2)).substr(0, 128)) + "'");
  }
  const AclCommandIndex& index = LocalAcl(ctx).index();
  std::vector<std::string_view> names;
  for (size_t id = 0; id < index.size(); id++) {
    const AclCommandIndex::Entry& entry = index.entry(static_cast<int>(id));
    if ((entry.categories & bit) != 0) names.push_back(entry.full_name);
  }
  ctx.reply().ArrayHeader(static_cast<int64_t>(names.size()));
  for (std::string_view name : names) ctx.reply().Bulk(name);
}

void DryRun(Ctx& ctx) {
  const AclState& acl = LocalAcl(ctx);
  const AclUser* user = acl.Find(ctx.arg(2));
  if (user == nullptr) {
    return ctx.reply().Error("ERR User '" + std::string(CText(ctx.arg(2))) + "' not found");
  }
  const std::vector<std::string> args(ctx.args().begin() + 3, ctx.args().end());
  // Redis's lookupCommand: the subcommand when the command has some and one is given.
  const CommandSpec* spec = ctx.server().table().Find(args[0]);
  const CommandSpec* parent = nullptr;
  if (spec != nullptr && !spec->subcommands.empty() && args.size() >= 2) {
    parent = spec;
    spec = nullptr;
    for (const CommandSpec& sub : parent->subcommands) {
      if (EqualsIgnoreCase(sub.name, args[1])) spec = &sub;
    }
  }
  if (spec == nullptr) {
    return ctx.reply().Error("ERR Command '" + std::string(CText(args[0])) + "' not found");
  }
  const auto argc = static_cast<int64_t>(args.size());
  if ((spec->arity > 0 && spec->arity != argc) || argc < -spec->arity) {
    return ctx.reply().Error("ERR wrong number of arguments for '" + FullName(*spec, parent) + "' command");
  }
  KeyPositionList positions;
  std::string keys_error;
  if (!Server::KeysOf(*spec, args, positions, keys_error)) positions.clear();
  size_t index = 0;
  switch (acl.Check(*user, *spec, args, {positions.data(), positions.size()}, index)) {
    case AclDenied::kNone:
      return ctx.Ok();
    case AclDenied::kCommand:
      return ctx.reply().Bulk("This user has no permissions to run the '" + FullName(*spec, parent) +
                              "' command");
    case AclDenied::kKey:
      return ctx.reply().Bulk("This user has no permissions to access the '" +
                              std::string(CText(args[index])) + "' key");
    case AclDenied::kChannel:
      return ctx.reply().Bulk("This user has no permissions to access the '" +
                              std::string(CText(args[index])) + "' channel");
  }
}

void GenPass(Ctx& ctx) {
  constexpr int64_t kMaxBits = 4096;  // Redis's GENPASS_MAX_BITS
  int64_t bits = 256;
  if (ctx.argc() == 3) {
    std::optional<int64_t> parsed = ctx.Int(2);
    if (!parsed) return;
    bits = *parsed;
  } else if (ctx.argc() > 3) {
    return ctx.reply().Error(SubcommandSyntaxError(ctx));
  }
  if (bits <= 0 || bits > kMaxBits) {
    return ctx.reply().Error(
        "ERR ACL GENPASS argument must be the number of bits for the output password, a positive "
        "number up to 4096");
  }
  const auto chars = static_cast<size_t>((bits + 3) / 4);
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string password;
  password.reserve(chars + 16);
  while (password.size() < chars) {  // 16 hex digits per draw
    uint64_t random = ctx.env().RandomU64();
    for (int i = 0; i < 16; i++, random >>= 4) password += kHex[random & 0xF];
  }
  password.resize(chars);
  ctx.reply().Bulk(password);
}

void Log(Ctx& ctx) {
  if (ctx.argc() > 3) return ctx.reply().Error(SubcommandSyntaxError(ctx));
  int64_t count = 10;
  if (ctx.argc() == 3) {
    if (ctx.Is(2, "RESET")) {
      ctx.server().ForEachExecutor([](ExecutorState& state) { state.acl.ClearLog(); });
      return ctx.Ok();
    }
    std::optional<int64_t> parsed = ctx.Int(2);
    if (!parsed) return;
    count = std::max<int64_t>(*parsed, 0);
  }
  // Each executor logs its own clients' denials; newest first across all of them.
  std::vector<AclLogEntry> entries;
  ctx.server().ForEachExecutor([&entries](ExecutorState& state) {
    entries.insert(entries.end(), state.acl.log().begin(), state.acl.log().end());
  });
  std::stable_sort(entries.begin(), entries.end(), [](const AclLogEntry& a, const AclLogEntry& b) {
    return a.unix_ms > b.unix_ms;
  });
  const size_t shown = std::min(entries.size(), static_cast<size_t>(count));
  const int64_t now_ms = ctx.env().clock().UnixMicros() / 1000;
  net::ReplyWriter& reply = ctx.reply();
  reply.ArrayHeader(static_cast<int64_t>(shown));
  for (size_t i = 0; i < shown; i++) {
    const AclLogEntry& entry = entries[i];
    reply.MapHeader(7);
    reply.Bulk("count");
    reply.Integer(entry.count);
    reply.Bulk("reason");
    reply.Bulk(entry.reason);
    reply.Bulk("context");
    reply.Bulk(entry.context);
    reply.Bulk("object");
    reply.Bulk(entry.object);
    reply.Bulk("username");
    reply.Bulk(entry.username);
    reply.Bulk("age-seconds");
    reply.Double(static_cast<double>(now_ms - entry.unix_ms) / 1000);
    reply.Bulk("client-info");
    reply.Bulk(entry.client_info);
  }
}

void NoAclFile(Ctx& ctx) {
  ctx.reply().Error(
      "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
      "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
      "Redis configuration file set) in order to store users in the Redis configuration.");
}

void Help(Ctx& ctx) {
  const std::initializer_list<std::string_view> lines = {
      "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CAT [<category>]",
      "    List all commands that belong to <category>, or all command categories",
      "    when no category is specified.",
      "DELUSER <username> [<username> ...]",
      "    Delete a list of users.",
      "DRYRUN <username> <command> [<arg> ...]",
      "    Returns whether the user can execute the given command without executing the command.",
      "GETUSER <username>",
      "    Get the user's details.",
      "GENPASS [<bits>]",
      "    Generate a secure 256-bit user password. The optional `bits` argument can",
      "    be used to specify a different size.",
      "LIST",
      "    Show users details in config file format.",
      "LOAD",
      "    Reload users from the ACL file.",
      "LOG [<count> | RESET]",
      "    Show the ACL log entries.",
      "SAVE",
      "    Save the current config to the ACL file.",
      "SETUSER <username> <attribute> [<attribute> ...]",
      "    Create or modify a user with the specified attributes.",
      "USERS",
      "    List all the registered usernames.",
      "WHOAMI",
      "    Return the current connection username.",
      "HELP",
      "    Print this help."};
  ctx.reply().ArrayHeader(static_cast<int64_t>(lines.size()));
  for (std::string_view line : lines) ctx.reply().SimpleString(line);
}

}  // namespace

void RegisterAclCommands(CommandTable& table) {
  CommandSpec acl = MakeCommand("acl", -2, 0, 0, {}, nullptr, "server", "6.0.0",
                                "A container for Access List Control commands");
  constexpr uint32_t kBase = kCmdNoScript | kCmdLoading | kCmdStale;
  auto sub = [&acl](std::string_view name, int arity, uint32_t flags, Handler handler,
                    std::string_view since, std::string_view summary) {
    acl.subcommands.push_back(MakeCommand(name, arity, flags, 0, {}, handler, "server", since, summary));
  };
  sub("cat", -2, kBase, Cat, "6.0.0",
      "List the ACL categories or the commands inside a category");
  sub("deluser", -3, kBase | kCmdAdmin, DelUser, "6.0.0",
      "Remove the specified ACL users and the associated rules");
  sub("dryrun", -4, kBase | kCmdAdmin, DryRun, "7.0.0",
      "Returns whether the user can execute the given command without executing the command.");
  sub("genpass", -2, kBase, GenPass, "6.0.0",
      "Generate a pseudorandom secure password to use for ACL users");
  sub("getuser", 3, kBase | kCmdAdmin, GetUser, "6.0.0", "Get the rules for a specific ACL user");
  sub("help", 2, kCmdLoading | kCmdStale, Help, "6.0.0", "Show helpful text about the different subcommands");
  sub("list", 2, kBase | kCmdAdmin, List, "6.0.0", "List the current ACL rules in ACL config file format");
  sub("load", 2, kBase | kCmdAdmin, NoAclFile, "6.0.0", "Reload the ACLs from the configured ACL file");
  sub("log", -2, kBase | kCmdAdmin, Log, "6.0.0", "List latest events denied because of ACLs in place");
  sub("save", 2, kBase | kCmdAdmin, NoAclFile, "6.0.0", "Save the current ACL rules in the configured ACL file");
  sub("setuser", -3, kBase | kCmdAdmin, SetUser, "6.0.0", "Modify or create the rules for a specific ACL user");
  sub("users", 2, kBase | kCmdAdmin, Users, "6.0.0", "List the username of all the configured ACL rules");
  sub("whoami", 2, kBase | kCmdClientState, WhoAmI, "6.0.0", "Return the name of the user associated to the current connection");
  table.Add(std::move(acl));
}

}  // namespace tierkv::server
