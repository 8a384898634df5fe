// ACL users and the permission check of every command (Redis 7.0's acl.c).
//
// A user has flags (on/off, nopass, sanitize-payload), password hashes (SHA-256 in lower-case
// hex, as Redis keeps and shows them) and selectors: the root selector plus any "(...)" ones.
// A selector allows commands (a bit per command and subcommand, indexed by AclCommandIndex in
// command-table order, plus first-argument exceptions), key patterns with read/write flags and
// channel patterns. A command runs when one selector allows the command and all its keys and
// channels.
// Users are node-wide, but every executor keeps its own copy (ExecutorState::acl): the check on
// every command then reads only its own executor's memory. The ACL commands validate once and
// apply the result on every executor (Server::ForEachExecutor), as CONFIG SET does.
// The default user follows `requirepass` lazily: AclOf() compares the executor's config with the
// value it last applied, so CONFIG SET requirepass needs no hook of its own.
// Rejected: one shared user table behind a lock (a lock on every command of every shard), and
// keeping rules as the 7.2 rule string (7.0 describes users from the bitmap, which is what
// ACL LIST / GETUSER print here).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/env.h"
#include "server/command.h"

namespace tierkv::server {

class ExecutorState;
struct ClientState;

// The command table's commands and subcommands, numbered in table order (a command, then its
// subcommands). Immutable once built; shared by every executor.
class AclCommandIndex {
 public:
  struct Entry {
    const CommandSpec* spec = nullptr;
    const CommandSpec* parent = nullptr;
    std::string full_name;  // "get", "config|get"
    uint64_t categories = 0;
  };
  explicit AclCommandIndex(const CommandTable& table);
  size_t size() const { return entries_.size(); }
  const Entry& entry(int id) const { return entries_[static_cast<size_t>(id)]; }
  int IdOf(const CommandSpec& spec) const;
  // Redis's ACLLookupCommand: "name" or "name|sub", case-insensitive; -1 when unknown.
  int Find(std::string_view name) const;
  // The ids of a container's subcommands (empty for others).
  const std::vector<int>& SubcommandsOf(int id) const { return subcommands_[static_cast<size_t>(id)]; }

 private:
  std::vector<Entry> entries_;
  std::vector<std::vector<int>> subcommands_;
  std::unordered_map<const CommandSpec*, int> ids_;
};

enum AclKeyFlag : int { kAclKeyRead = 1, kAclKeyWrite = 2, kAclKeyAll = 3 };

struct AclKeyPattern {
  std::string pattern;
  int flags = kAclKeyAll;
};

struct AclSelector {
  bool all_keys = false;
  bool all_channels = false;
  bool all_commands = false;
  bool future_commands = false;  // Redis's reserved bit: set by +@all only
  std::vector<bool> allowed;     // by command id
  std::map<int, std::vector<std::string>> first_args;  // "+select|0": allowed first arguments
  std::vector<AclKeyPattern> keys;
  std::vector<std::string> channels;
};

struct AclUser {
  std::string name;
  bool enabled = false;
  bool nopass = false;
  bool skip_sanitize_payload = false;  // else sanitize-payload (new users get that flag)
  std::vector<std::string> passwords;  // SHA-256 hex
  std::vector<AclSelector> selectors;  // [0] is the root selector
};

// Why a command was refused, in Redis's order of preference when selectors disagree.
enum class AclDenied { kNone = 0, kCommand = 1, kKey = 2, kChannel = 4 };

// One ACL LOG entry: a refused command or a failed AUTH; repeats within the last 10 entries
// are counted on the older one.
struct AclLogEntry {
  int64_t count = 1;
  std::string_view reason;   // "command", "key", "channel", "auth"
  std::string_view context;  // "toplevel", "multi"
  std::string object;        // the command's full name, the key, the channel, or "AUTH"
  std::string username;
  int64_t unix_ms = 0;       // when it last happened
  std::string client_info;   // the client's CLIENT LIST line (without its newline)
};

// The SHA-256 of `text` in lower-case hex.
std::string AclHashPassword(std::string_view text);

// One executor's users.
class AclState {
 public:
  // Creates the default user ("on nopass ~* &* +@all", or with `requirepass`'s password).
  void Init(std::shared_ptr<const AclCommandIndex> index, std::string_view requirepass);
  // Brings the default user's password in line with `requirepass` when it changed since the
  // last call (Redis's ACLUpdateDefaultUserPassword).
  void Sync(std::string_view requirepass);

  const AclCommandIndex& index() const { return *index_; }
  const std::map<std::string, AclUser, std::less<>>& users() const { return users_; }
  const AclUser* Find(std::string_view name) const;
  // A new user as ACL SETUSER creates it ("off sanitize-payload resetchannels -@all").
  AclUser NewUser(std::string_view name) const;
  // Applies one ACL SETUSER rule to `user`; on failure returns Redis's reason ("Syntax error",
  // "Unknown command or category name in ACL"...) and leaves `user` partly changed (callers work
  // on a copy).
  std::optional<std::string> Apply(AclUser& user, std::string_view op) const;
  void Put(AclUser user);
  bool Erase(std::string_view name) { return users_.erase(std::string(name)) > 0; }

  // AUTH: the user exists, is on, and has no password or one that matches.
  bool CheckCredentials(std::string_view name, std::string_view password) const;
  // Whether a new connection starts authenticated (the default user is on and nopass).
  bool DefaultNeedsNoAuth() const;

  // ACLCheckAllUserCommandPerm: `positions` are the command's key positions. On refusal,
  // `denied_index` is the argument that was refused (key or channel).
  AclDenied Check(const AclUser& user, const CommandSpec& spec, const std::vector<std::string>& args,
                  std::span<const int> positions, size_t& denied_index) const;

  // ACL LIST's line without "user <name> " and GETUSER's parts.
  std::string Describe(const AclUser& user) const;
  std::string DescribeCommands(const AclSelector& selector) const;

  // This executor's part of the ACL LOG, newest first (ACL LOG merges every executor's).
  void AddLog(AclLogEntry entry);
  const std::vector<AclLogEntry>& log() const { return log_; }
  void ClearLog() { log_.clear(); }
  static std::string DescribeKeys(const AclSelector& selector);
  static std::string DescribeChannels(const AclSelector& selector);
  static std::vector<std::string_view> FlagNames(const AclUser& user);

 private:
  std::optional<std::string> ApplySelector(AclSelector& selector, std::string_view op) const;
  AclSelector NewSelector() const;
  void SetBit(AclSelector& selector, int id, bool allow) const;
  void ChangePerm(AclSelector& selector, int id, bool allow) const;
  void SetCategory(AclSelector& selector, uint64_t category, bool allow) const;
  AclDenied CheckSelector(const AclSelector& selector, const CommandSpec& spec, int id,
                          const std::vector<std::string>& args, std::span<const int> positions,
                          size_t& denied_index) const;

  std::shared_ptr<const AclCommandIndex> index_;
  std::map<std::string, AclUser, std::less<>> users_;
  std::string requirepass_;  // the value the default user was last set from
  std::vector<AclLogEntry> log_;
};

// The calling code's view of an executor's users, synced with its config's requirepass first.
AclState& AclOf(ExecutorState& state);

// The dispatcher's check (Redis's processCommand after authentication): nullopt when `client`'s
// user may run the command, else the NOPERM error to reply (and an ACL LOG entry).
std::optional<std::string> AclCheckClient(ExecutorState& state, Env& env, const ClientState& client,
                                          const CommandSpec& spec, const CommandSpec* parent,
                                          const std::vector<std::string>& args);
// The same check at EXEC, for each queued command (the rules may have changed since it was
// queued): Redis 7.0's "NOPERM ACLs rules changed between the moment the transaction was
// accumulated and the EXEC call. This command is no longer allowed for the following reason:
// ..." when denied.
std::optional<std::string> AclCheckAtExec(ExecutorState& state, Env& env, const ClientState& client,
                                          const CommandSpec& spec, const CommandSpec* parent,
                                          const std::vector<std::string>& args);
// A failed AUTH / HELLO AUTH in the ACL LOG.
void AclLogAuthFailure(ExecutorState& state, Env& env, const ClientState& client,
                       std::string_view command, std::string_view username);

}  // namespace tierkv::server
